"""Event reminders: the next occurrence's reminders are enqueued with run_after; a moved or edited
event makes the old ones do nothing; a reminder that runs queues the following occurrence's."""

import datetime as dt

import pytest
from django.test import override_settings
from django.utils import timezone
from django_tasks import default_task_backend

from calendar_app import reminders, services
from calendar_app.models import Answer
from calendar_app.tasks import event_reminder
from notifications.models import Kind as N
from notifications.models import Notification

from .helpers import MSK, make_event

pytestmark = pytest.mark.django_db

DUMMY_QUEUE = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}


def queued():
    return [(list(r.args), r.task.run_after) for r in default_task_backend.results if r.task.name == "event_reminder"]


@pytest.fixture
def queue():
    with override_settings(TASKS=DUMMY_QUEUE):
        default_task_backend.clear()
        yield


def tomorrow_at(hour):
    return dt.datetime.combine(timezone.localdate() + dt.timedelta(days=1), dt.time(hour), tzinfo=MSK)


def test_the_immediate_backend_of_the_tests_gets_no_reminders(owner, django_capture_on_commit_callbacks):
    assert not default_task_backend.supports_defer
    with django_capture_on_commit_callbacks(execute=True):
        make_event(owner, tomorrow_at(10), reminders=[15])
    assert not Notification.objects.filter(kind=N.EVENT_REMINDER).exists()


def test_a_repeating_event_queues_the_reminders_of_its_next_occurrence_only(queue, owner,
                                                                             django_capture_on_commit_callbacks):
    start = tomorrow_at(10)
    with django_capture_on_commit_callbacks(execute=True):
        event = make_event(owner, start, reminders=[15, 60], freq="daily")
    made_for = reminders.stamp(start)
    assert sorted(queued()) == sorted([([event.pk, 1, made_for, 15], start - dt.timedelta(minutes=15)),
                                       ([event.pk, 1, made_for, 60], start - dt.timedelta(minutes=60))])


def test_a_moved_event_makes_the_old_reminder_do_nothing(queue, owner, teammate, django_capture_on_commit_callbacks):
    start = tomorrow_at(10)
    with django_capture_on_commit_callbacks(execute=True):
        event = make_event(owner, start, reminders=[15], participants=[teammate])
    old = queued()[0][0]
    with django_capture_on_commit_callbacks(execute=True):
        services.event_move(event, start=tomorrow_at(16), by=owner)
    new = queued()[-1]
    assert new == ([event.pk, 2, reminders.stamp(tomorrow_at(16)), 15], tomorrow_at(16) - dt.timedelta(minutes=15))
    assert event_reminder.call(*old) is False
    assert not Notification.objects.filter(kind=N.EVENT_REMINDER).exists()
    assert event_reminder.call(*new[0]) is True
    assert event_reminder.call(*new[0]) is True  # run twice (a retried worker): one notification each
    told = Notification.objects.filter(kind=N.EVENT_REMINDER)
    assert sorted(told.values_list("recipient__username", flat=True)) == ["owner", "teammate"]


def test_a_reminder_skips_decliners_and_queues_the_next_occurrence(queue, owner, teammate,
                                                                   django_capture_on_commit_callbacks):
    start = tomorrow_at(10)
    with django_capture_on_commit_callbacks(execute=True):
        event = make_event(owner, start, reminders=[15], participants=[teammate], freq="weekly")
        services.participant_answer(event, user=teammate, answer=Answer.DECLINED)
    first = queued()[0][0]
    with django_capture_on_commit_callbacks(execute=True):
        assert event_reminder.call(*first) is True
    assert list(Notification.objects.filter(kind=N.EVENT_REMINDER).values_list("recipient__username", flat=True)) == [
        "owner"]
    following = start + dt.timedelta(days=7)
    assert queued()[-1] == ([event.pk, 1, reminders.stamp(following), 15], following - dt.timedelta(minutes=15))


def test_a_cancelled_event_reminds_nobody(queue, owner, django_capture_on_commit_callbacks):
    start = tomorrow_at(10)
    with django_capture_on_commit_callbacks(execute=True):
        event = make_event(owner, start, reminders=[15], freq="daily")
    args = queued()[0][0]
    services.event_cancel(event, by=owner)
    assert event_reminder.call(*args) is False


def test_cancelling_one_occurrence_queues_the_reminders_of_the_next_one(queue, owner,
                                                                       django_capture_on_commit_callbacks):
    start = tomorrow_at(10)
    with django_capture_on_commit_callbacks(execute=True):
        event = make_event(owner, start, reminders=[15], freq="daily")
    with django_capture_on_commit_callbacks(execute=True):
        services.event_cancel(event, by=owner, occurrence=start.astimezone(dt.UTC))
    following = start + dt.timedelta(days=1)
    assert queued()[-1] == ([event.pk, 2, reminders.stamp(following), 15], following - dt.timedelta(minutes=15))
