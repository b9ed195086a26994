"""Deadline reminders and overdue notices: background tasks enqueued with `run_after` when a
deadline is set or moved. Each carries the deadline it was made for; when it runs it compares
that with the task's deadline now, so a moved deadline (or a completed task) makes the old one do
nothing, and the notification's key makes a reminder run twice notify once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django_tasks import default_task_backend

from .models import Task

# How long before the deadline «Скоро крайний срок» comes.
REMIND_BEFORE = timedelta(hours=1)


# Tasks another app reminds of in its own way (a calendar meeting's touch: the event's reminders,
# chosen by its organizer); registered by that app, so tasks never import it.
_reminded_elsewhere: list[Callable[[int], bool]] = []


def reminded_elsewhere(predicate: Callable[[int], bool]) -> Callable[[int], bool]:
    """Decorator: `predicate(task_id)` True — no deadline reminders for that task."""
    if predicate not in _reminded_elsewhere:
        _reminded_elsewhere.append(predicate)
    return predicate


def stamp(deadline: datetime) -> str:
    """The deadline a reminder is made for, as text: in UTC, because the deadline set in the site's
    time zone (+03:00) reads back from the database in UTC, and the two must compare equal."""
    return deadline.astimezone(UTC).isoformat()


def schedule(task: Task) -> None:
    """After the commit, enqueue the reminder and the overdue notice for the task's deadline.
    A backend that cannot defer (the immediate one some tests use) gets none: a reminder run at
    once would be wrong, and the worker-backed tests check them for real."""
    if task.deadline is None or not task.is_active or not default_task_backend.supports_defer:
        return
    from .tasks import deadline_near, deadline_passed

    task_id, deadline = task.pk, task.deadline
    made_for = stamp(deadline)

    def enqueue():
        # Asked after the commit: the other app links the task to its record after creating it.
        if any(elsewhere(task_id) for elsewhere in _reminded_elsewhere):
            return
        now = timezone.now()
        if deadline - REMIND_BEFORE > now:
            deadline_near.using(run_after=deadline - REMIND_BEFORE).enqueue(task_id, made_for)
        deadline_passed.using(run_after=max(deadline, now)).enqueue(task_id, made_for)

    transaction.on_commit(enqueue, robust=True)
