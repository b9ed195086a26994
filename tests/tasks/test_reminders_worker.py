"""The reminders in the real worker: `manage.py db_worker` in a subprocess runs what the services
enqueued in the database queue (the backend scripts/run and production use), against the test
database, a few seconds after the deadlines the tasks were given."""

import datetime as dt
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from notifications.models import Kind as N
from notifications.models import Notification
from tasks_app import reminders, services
from tasks_app.models import Kind
from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parent.parent.parent
DATABASE_QUEUE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
SOON = dt.timedelta(seconds=3)


def run_worker():
    db = connection.settings_dict
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test",
           "TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
           "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"}
    run = subprocess.run([sys.executable, "manage.py", "db_worker", "--batch", "--no-startup-delay", "--no-reload"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    return run


@pytest.mark.django_db(transaction=True)
@override_settings(TASKS=DATABASE_QUEUE)
def test_the_worker_reminds_once_and_the_stale_reminders_do_nothing():
    if connection.vendor != "postgresql":
        pytest.skip("the worker needs a database another process can open (the suite's SQLite is in memory)")
    from django_tasks_db.models import DBTaskResult

    manager, head = UserFactory(last_name="Иванов"), UserFactory(last_name="Смирнова")

    def make(title, deadline):
        return services.task_create(data={"kind": Kind.CALL, "title": title, "responsible": manager, "creator": head,
                                          "deadline": deadline}, by=None)

    now = timezone.now()
    soon = make("Скоро", now + dt.timedelta(hours=1) + SOON)   # its «скоро» is due in a few seconds
    late = make("Просрочена", now + SOON)                       # its deadline passes in a few seconds
    moved = make("Перенесена", now + SOON)
    services.task_set_deadline(moved, now + dt.timedelta(days=1), by=head)
    done = make("Выполнена", now + SOON)
    services.task_transition(done, "complete", by=manager)
    reminders.schedule(late)  # the same reminder queued twice (a retried request) tells once

    ours = DBTaskResult.objects.filter(task_path__startswith="tasks_app.")
    waiting = {(r.args_kwargs["args"][0], r.task_path.rsplit(".", 1)[1]) for r in ours}
    assert (soon.pk, "deadline_near") in waiting and (late.pk, "deadline_passed") in waiting
    assert {r.status for r in ours.all()} == {"READY"}

    time.sleep((now + SOON - timezone.now()).total_seconds() + 0.5)
    run_worker()

    told = {(n.recipient.last_name, n.kind, str(n)) for n in Notification.objects.filter(
        kind__in=[N.DEADLINE_NEAR, N.DEADLINE_PASSED])}
    assert told == {("Иванов", N.DEADLINE_NEAR, "Скоро крайний срок: Скоро"),
                    ("Иванов", N.DEADLINE_PASSED, "Крайний срок прошёл: Просрочена"),
                    ("Смирнова", N.DEADLINE_PASSED, "Крайний срок прошёл: Просрочена")}
    assert Notification.objects.filter(kind=N.DEADLINE_PASSED).count() == 2  # once each, though queued twice

    results = {(r.args_kwargs["args"][0], r.task_path.rsplit(".", 1)[1], r.args_kwargs["args"][1]): r for r in ours.all()}
    # The stale ones ran and did nothing; the future ones wait for their time.
    assert results[(moved.pk, "deadline_passed", reminders.stamp(now + SOON))].return_value is False
    assert results[(done.pk, "deadline_passed", reminders.stamp(now + SOON))].return_value is False
    assert results[(soon.pk, "deadline_passed", reminders.stamp(soon.deadline))].status == "READY"
    assert results[(moved.pk, "deadline_near", reminders.stamp(now + dt.timedelta(days=1)))].status == "READY"
    assert not ours.filter(status="FAILED").exists()
