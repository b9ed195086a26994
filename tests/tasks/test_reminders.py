"""Deadline reminders: a deadline set or moved enqueues «Скоро крайний срок» an hour before and
«Крайний срок прошёл» at the deadline (tasks with run_after); each fires once, and a moved deadline
or a completed task makes the old one do nothing. The real worker runs them in test_reminders_worker."""

import datetime as dt

import pytest
from django.test import override_settings
from django.utils import timezone
from django_tasks import default_task_backend

from notifications.models import Kind as N
from notifications.models import Notification
from tasks_app import reminders, services
from tasks_app.models import Kind
from tasks_app.tasks import deadline_near, deadline_passed

pytestmark = pytest.mark.django_db

DUMMY_QUEUE = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}


def make_task(responsible, creator, deadline, **data):
    return services.task_create(data={"kind": Kind.CALL, "title": "Позвонить в «Альфу»", "responsible": responsible,
                                      "creator": creator, "deadline": deadline, **data}, by=None)


def queued():
    """(task name, args, run_after) of the reminders enqueued on the dummy backend (the e-mail of
    «Поставлена задача» goes there too)."""
    return [(r.task.name, list(r.args), r.task.run_after) for r in default_task_backend.results
            if r.task.name.startswith("deadline_")]


@pytest.fixture
def queue():
    with override_settings(TASKS=DUMMY_QUEUE):
        default_task_backend.clear()
        yield


def test_the_immediate_backend_of_the_tests_gets_no_reminders(owner, head, django_capture_on_commit_callbacks):
    """A backend that cannot defer would run «Крайний срок прошёл» the moment a deadline is set:
    better none (development and production use the database queue, which defers)."""
    assert not default_task_backend.supports_defer
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        make_task(owner, head, timezone.now() + dt.timedelta(hours=3))
    assert not Notification.objects.filter(kind__in=[N.DEADLINE_NEAR, N.DEADLINE_PASSED]).exists()
    assert all("enqueue" not in c.__qualname__ for c in callbacks)


def test_a_deadline_enqueues_the_reminder_an_hour_before_and_the_notice_at_the_deadline(
        queue, owner, head, django_capture_on_commit_callbacks):
    deadline = services.deadline_at(timezone.localdate() + dt.timedelta(days=3), dt.time(15, 30))
    with django_capture_on_commit_callbacks(execute=True):
        task = make_task(owner, head, deadline)
    made_for = reminders.stamp(deadline)
    assert queued() == [("deadline_near", [task.pk, made_for], deadline - dt.timedelta(hours=1)),
                        ("deadline_passed", [task.pk, made_for], deadline)]
    # What was enqueued matches the task as the worker reads it back (the deadline was set in the
    # site's time zone, +03:00; the database returns it in UTC).
    assert deadline.utcoffset() != dt.timedelta(0)
    assert deadline_near.call(*queued()[0][1]) is True


def test_nothing_is_enqueued_before_the_commit_nor_for_a_task_without_deadline(queue, owner, head,
                                                                                django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        make_task(owner, head, timezone.now() + dt.timedelta(days=1))
    make_task(owner, head, None)
    assert queued() == []


def test_a_deadline_within_the_hour_gets_only_the_overdue_notice(queue, owner, head, django_capture_on_commit_callbacks):
    deadline = timezone.now() + dt.timedelta(minutes=20)
    with django_capture_on_commit_callbacks(execute=True):
        make_task(owner, head, deadline)
    assert [name for name, _args, _at in queued()] == ["deadline_passed"]


def test_a_moved_deadline_enqueues_new_ones_and_a_completed_task_none(queue, owner, head,
                                                                       django_capture_on_commit_callbacks):
    first = timezone.now() + dt.timedelta(days=1)
    with django_capture_on_commit_callbacks(execute=True):
        task = make_task(owner, head, first)
    later = first + dt.timedelta(days=2)
    with django_capture_on_commit_callbacks(execute=True):
        task = services.task_set_deadline(task, later, by=head)
    assert [args[1] for _name, args, _at in queued()[2:]] == [reminders.stamp(later)] * 2
    default_task_backend.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.task_transition(task, "complete", by=owner)
    assert queued() == []


# --- the tasks themselves (run here with .call; the worker test runs them from the queue) ---

def test_the_reminder_tells_the_responsible_once(owner, head):
    deadline = services.deadline_at(timezone.localdate() + dt.timedelta(days=1), dt.time(10, 0))
    task = make_task(owner, head, deadline)
    # The deadline as the service set it (the site's time zone), not as the database returns it (UTC).
    assert deadline.utcoffset() != dt.timedelta(0)
    assert deadline_near.call(task.pk, reminders.stamp(deadline)) is True
    assert deadline_near.call(task.pk, reminders.stamp(deadline)) is True  # run twice (a retried task)
    [made] = Notification.objects.filter(kind=N.DEADLINE_NEAR)
    assert made.recipient == owner and made.record == task and str(made) == "Скоро крайний срок: Позвонить в «Альфу»"


def test_the_overdue_notice_tells_the_responsible_and_the_creator_once(owner, head):
    deadline = timezone.now() - dt.timedelta(minutes=1)
    task = make_task(owner, head, deadline)
    for _ in range(2):
        assert deadline_passed.call(task.pk, reminders.stamp(deadline)) is True
    made = Notification.objects.filter(kind=N.DEADLINE_PASSED)
    assert sorted(n.recipient.username for n in made) == ["head", "owner"]
    assert {str(n) for n in made} == {"Крайний срок прошёл: Позвонить в «Альфу»"}


def test_ones_own_task_is_told_overdue_once(owner):
    deadline = timezone.now() - dt.timedelta(minutes=1)
    task = make_task(owner, owner, deadline)
    deadline_passed.call(task.pk, reminders.stamp(deadline))
    assert Notification.objects.filter(kind=N.DEADLINE_PASSED, recipient=owner).count() == 1


def test_a_moved_deadline_makes_the_old_reminders_do_nothing(owner, head):
    old = timezone.now() + dt.timedelta(minutes=30)
    task = make_task(owner, head, old)
    services.task_set_deadline(task, old + dt.timedelta(days=1), by=head)
    assert deadline_near.call(task.pk, reminders.stamp(old)) is False
    assert deadline_passed.call(task.pk, reminders.stamp(old)) is False
    assert not Notification.objects.filter(kind__in=[N.DEADLINE_NEAR, N.DEADLINE_PASSED]).exists()


def test_a_completed_or_deleted_task_is_not_reminded(owner, head):
    deadline = timezone.now() + dt.timedelta(minutes=30)
    task = make_task(owner, head, deadline)
    services.task_transition(task, "complete", by=owner)
    assert deadline_near.call(task.pk, reminders.stamp(deadline)) is False
    assert deadline_passed.call(task.pk, reminders.stamp(deadline)) is False
    assert deadline_passed.call(999999, reminders.stamp(deadline)) is False
    assert not Notification.objects.filter(kind__in=[N.DEADLINE_NEAR, N.DEADLINE_PASSED]).exists()


def test_a_late_reminder_after_the_deadline_says_nothing(owner, head):
    """A worker that was down: «скоро» after the deadline would be wrong; the overdue notice says it."""
    deadline = timezone.now() - dt.timedelta(minutes=5)
    task = make_task(owner, head, deadline)
    assert deadline_near.call(task.pk, reminders.stamp(deadline)) is False
    assert not Notification.objects.filter(kind=N.DEADLINE_NEAR).exists()


def test_working_a_task_queues_no_more_reminders_only_a_new_deadline_or_a_renewal_does(
        queue, owner, head, django_capture_on_commit_callbacks):
    deadline = timezone.now() + dt.timedelta(days=2)
    with django_capture_on_commit_callbacks(execute=True):
        task = make_task(owner, head, deadline)
    assert len(queued()) == 2
    with django_capture_on_commit_callbacks(execute=True):
        task = services.task_transition(task, "start", by=owner)
        task = services.task_transition(task, "pause", by=owner)
        task = services.task_update(task, data={"description": "Уточнить бюджет"}, by=head)
    assert len(queued()) == 2  # the deadline did not move: the queued pair still holds
    with django_capture_on_commit_callbacks(execute=True):
        task = services.task_set_deadline(task, deadline + dt.timedelta(days=1), by=head)
    assert len(queued()) == 4
    with django_capture_on_commit_callbacks(execute=True):
        task = services.task_transition(task, "defer", by=owner)
        task = services.task_transition(task, "complete", by=owner)
        services.task_transition(task, "renew", by=head)
    assert len(queued()) == 6  # completed and renewed: active again, its reminders anew
