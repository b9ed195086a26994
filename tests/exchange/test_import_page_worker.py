"""The import page's jobs in the real worker: `manage.py db_worker` in a subprocess runs the check
and the import queued in the database (the backend scripts/run and production use), against the
test database, and the bar's progress is seen while the engine's transaction is still open."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, connections, transaction
from django.test import override_settings

from exchange import services
from exchange.models import ImportJob
from leads.models import Lead

ROOT = Path(__file__).resolve().parent.parent.parent
DATABASE_QUEUE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
CSV = ("Название лида;Название компании;Источник;Рабочий телефон\n"
       "Поставка ЖБИ;ООО «Бетон»;Контур.Компас;+7 912 859-87-48\n"
       "Ремонт кровли;ООО «Кровля»;Контур.Компас;+7 912 859-87-49\n")

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _postgresql(seeded_defaults, settings, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("the worker needs a database another process can open (the suite's SQLite is in memory)")
    settings.IMPORT_ROOT = tmp_path / "imports"


def worker(settings) -> subprocess.CompletedProcess:
    """One pass of the real worker over the queue, with this test's database and folder."""
    db = connection.settings_dict
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test",
           "TASKS_BACKEND": "django_tasks_db.DatabaseBackend", "TEST_IMPORT_ROOT": str(settings.IMPORT_ROOT),
           "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"}
    run = subprocess.run([sys.executable, "manage.py", "db_worker", "--batch", "--no-startup-delay", "--no-reload"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    return run


@override_settings(TASKS=DATABASE_QUEUE)
def test_it_checks_and_imports_in_the_real_worker(head, settings):
    from django_tasks_db.models import DBTaskResult

    job = services.job_upload(by=head, entity="lead", upload=SimpleUploadedFile("leads.csv", CSV.encode()), options={})
    services.job_check(job, by=head)
    assert DBTaskResult.objects.get().status == "READY"
    worker(settings)
    job.refresh_from_db()
    assert job.state == ImportJob.State.CHECKED and job.created == 2 and not Lead.objects.exists(), job.report_lines

    services.job_start(job, by=head)
    worker(settings)
    job.refresh_from_db()
    assert job.state == ImportJob.State.DONE and job.rows_done == 2 and job.report_file.exists()
    assert sorted(Lead.objects.values_list("title", flat=True)) == ["Поставка ЖБИ", "Ремонт кровли"]
    assert set(DBTaskResult.objects.values_list("status", flat=True)) == {"SUCCESSFUL"}


def test_it_shows_progress_made_inside_the_engines_transaction(head):
    """A dry run is one transaction rolled back at its end: the rows done are written beside it,
    so the page sees them at once and they survive the rollback."""
    job = services.job_upload(by=head, entity="lead", upload=SimpleUploadedFile("leads.csv", CSV.encode()), options={})
    progress = services.Progress(job.pk)
    with transaction.atomic():
        progress(1000)
        other = connections.create_connection("default")
        try:
            with other.cursor() as cursor:
                cursor.execute("SELECT rows_done FROM exchange_importjob WHERE id = %s", [job.pk])
                assert cursor.fetchone() == (1000,)
        finally:
            other.close()
        transaction.set_rollback(True)
    progress.close()
    job.refresh_from_db()
    assert job.rows_done == 1000
