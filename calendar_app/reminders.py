"""Event reminders: background tasks enqueued with `run_after` for the next occurrence only (a
daily event without an end would otherwise fill the queue). Each carries the event's version and
the occurrence's original start; when it runs it compares them with the event now, so a moved,
edited or cancelled event makes the old reminder do nothing, and it enqueues the reminders of the
following occurrence. The notification's key makes a reminder run twice notify once."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django_tasks import default_task_backend

from . import recurrence
from .models import Event

# How far ahead the next occurrence is looked for (a yearly event's next one is within a year).
HORIZON = dt.timedelta(days=400)


def stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat()


def starts_at(occurrence: recurrence.Occurrence) -> dt.datetime:
    """When the occurrence begins (an all-day one: at midnight in the event's zone)."""
    if occurrence.all_day:
        return dt.datetime.combine(occurrence.start, dt.time(), tzinfo=occurrence.event.zone)
    return occurrence.start


def due(event: Event, after: dt.datetime) -> list[tuple[str, int, dt.datetime]]:
    """(occurrence stamp, minutes, when) of the reminders of the first occurrence starting after
    `after` that still has a reminder to come."""
    minutes = sorted(event.reminders.values_list("minutes", flat=True))
    if not minutes or event.is_cancelled:
        return []
    for occurrence in recurrence.occurrences(event, after, after + HORIZON):
        begins = starts_at(occurrence)
        if begins <= after:
            continue
        result = [(stamp(occurrence.original_start), m, begins - dt.timedelta(minutes=m)) for m in minutes
                  if begins - dt.timedelta(minutes=m) > after]
        if result:
            return result
    return []


def schedule(event: Event, after: dt.datetime | None = None) -> None:
    """After the commit, enqueue the reminders of the event's next occurrence. A backend that cannot
    defer (the immediate one of the tests) gets none: a reminder run at once would be wrong."""
    if not default_task_backend.supports_defer:
        return
    from .tasks import event_reminder

    event_id, version = event.pk, event.version

    def enqueue():
        found = Event.objects.filter(pk=event_id, version=version).prefetch_related("exceptions").first()
        if found is None:
            return
        for occurrence, minutes, when in due(found, after or timezone.now()):
            event_reminder.using(run_after=when).enqueue(event_id, version, occurrence, minutes)

    transaction.on_commit(enqueue, robust=True)
