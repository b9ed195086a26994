"""Background tasks of calendar_app (Django's tasks API; the worker is `manage.py db_worker`)."""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext_noop
from django_tasks import task

from crm import timeline
from notifications import services as notifications
from notifications.models import Kind as N

from . import reminders
from .models import Answer, Event


@task()
def event_reminder(event_id: int, version: int, occurrence: str, minutes: int) -> bool:
    """Remind the participants (not those who declined) of an occurrence; then queue the next one's.
    Nothing if the event changed since (its version) or was cancelled."""
    event = Event.objects.filter(pk=event_id).prefetch_related("exceptions").first()
    if event is None or event.version != version or event.is_cancelled:
        return False
    original = dt.datetime.fromisoformat(occurrence)
    current = [o for o in event.exceptions.all() if o.original_start == original and o.is_cancelled]
    if current:
        return False
    message = timeline.message(gettext_noop("Скоро событие: %(record)s"), record=event.title)
    for participant in event.participants.select_related("user").exclude(answer=Answer.DECLINED):
        notifications.notify(participant.user, N.EVENT_REMINDER, message, record=event,
                             key=f"event_reminder:{event_id}:{occurrence}:{minutes}")
    # The following occurrence's reminders (the last reminder of this one queues them).
    if minutes == min(event.reminders.values_list("minutes", flat=True), default=minutes):
        reminders.schedule(event, after=original + dt.timedelta(seconds=1))
    return True
