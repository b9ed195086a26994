"""The real worker: `manage.py db_worker` in a subprocess runs the e-mail task enqueued in the
database queue (the backend scripts/run and production use), against the test database."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection
from django.test import override_settings

from notifications import services
from notifications.models import Kind, Notification
from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parent.parent.parent
DATABASE_QUEUE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.mark.django_db(transaction=True)
@override_settings(TASKS=DATABASE_QUEUE)
def test_it_runs_the_queued_email_task_in_the_real_worker():
    if connection.vendor != "postgresql":
        pytest.skip("the worker needs a database another process can open (the suite's SQLite is in memory)")
    from django_tasks_db.models import DBTaskResult

    actor, recipient = UserFactory(last_name="Смирнова"), UserFactory(email="petrova@example.com")
    made = services.notify(recipient, Kind.ASSIGNED, {"msgid": "Лид создан", "params": {}}, actor=actor)
    # Not in a transaction here: the e-mail task is enqueued at once, into the database queue.
    task = DBTaskResult.objects.get()
    assert task.status == "READY" and task.args_kwargs["args"] == [made.pk]

    db = connection.settings_dict
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test",
           "TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
           "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"}
    run = subprocess.run([sys.executable, "manage.py", "db_worker", "--batch", "--no-startup-delay", "--no-reload"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr

    task.refresh_from_db()
    assert task.status == "SUCCESSFUL"
    assert Notification.objects.get(pk=made.pk).emailed_at is not None
    assert "petrova@example.com" in run.stdout and "Лид создан" in run.stdout  # the console e-mail backend
