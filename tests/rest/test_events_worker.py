"""Outgoing events in the real worker: `manage.py db_worker` in a subprocess, against the test
database, posts the event queued after the commit to a receiver on loopback, and runs the retry
the first failure queued."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection
from django.test import override_settings

from leads import services as leads
from rest.events import services
from rest.events.models import Delivery
from tests.factories import ref
from tests.rest.events_receiver import Receiver

ROOT = Path(__file__).resolve().parent.parent.parent
DATABASE_QUEUE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.mark.django_db(transaction=True)
@override_settings(TASKS=DATABASE_QUEUE, REST_EVENTS_ALLOW_PRIVATE=True)
def test_it_posts_the_queued_event_and_its_retry_in_the_real_worker(seeded_defaults, head, owner):
    if connection.vendor != "postgresql":
        pytest.skip("the worker needs a database another process can open (the suite's SQLite is in memory)")
    from django_tasks_db.models import DBTaskResult

    receiver = Receiver()
    receiver.answers = [503]  # the first attempt fails, the retry goes through
    try:
        handler = services.handler_create(name="Сайт", url=receiver.url, events=["ONCRMLEADADD"], by=head)
        lead = leads.lead_create(data={"title": "Заявка с сайта", "source": ref("Source", "Контур.Компас"),
                                       "company_name": "ООО «Вектор»", "company_phone": "+79120000001",
                                       "responsible": owner}, by=owner)
        # Committed: the delivery is queued, nothing is posted by the request itself.
        assert receiver.posts == []
        queued = DBTaskResult.objects.get()
        assert queued.status == "READY" and queued.task_path == "rest.events.tasks.deliver"

        db = connection.settings_dict
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test",
               "TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
               "REST_EVENTS_ALLOW_PRIVATE": "1", "REST_EVENTS_BACKOFF": "0",
               "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"}
        run = subprocess.run([sys.executable, "manage.py", "db_worker", "--batch", "--no-startup-delay", "--no-reload"],
                             cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
        assert run.returncode == 0, run.stderr
    finally:
        receiver.close()

    assert receiver.events() == [("ONCRMLEADADD", str(lead.pk))] * 2
    assert receiver.fields()["auth[application_token]"] == handler.application_token
    delivery = Delivery.objects.get()
    assert (delivery.state, delivery.attempts, delivery.last_status) == (Delivery.State.DELIVERED, 2, 200)
    assert DBTaskResult.objects.filter(status="SUCCESSFUL").count() == 2
