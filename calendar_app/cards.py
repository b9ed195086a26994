"""The «Встречи» panel of lead, deal, company and contact cards (registered into crm.cards when the
app is ready: the cards never import the calendar): the record's meetings to come that the user may
read — a private one of someone else as «Занят» —, each linking to its day in the calendar, and
«Запланировать встречу», the event dialog with the record bound (`?bind=leads.lead:5`).

The reading is composed of the calendar's selectors (visible → in_range → can_read_details), as
`selectors.visible_occurrences` does for a person's calendar; here the events are the record's."""

from __future__ import annotations

import datetime as dt

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.cards import Panel, register
from tasks_app.services import BINDABLE

from . import recurrence, selectors, touches
from .models import Participant

SHOWN = 10  # the next meetings; the calendar has the rest
AHEAD = dt.timedelta(days=366)


def record_occurrences(user, record: models.Model, start: dt.datetime, end: dt.datetime,
                       limit: int = SHOWN) -> list[recurrence.Occurrence]:
    """The first `limit` occurrences in [start, end) of the events bound to `record` that `user` may
    read; private ones he does not take part in come back `hidden` («Занят»). Three queries at most
    (the events, their exceptions, his part in the private ones) whatever the number of events."""
    bound = selectors.visible(user).filter(bindings__content_type=ContentType.objects.get_for_model(record),
                                           bindings__object_id=record.pk)
    events = list(selectors.in_range(bound, start, end).select_related("organizer").prefetch_related("exceptions"))
    private = [e.pk for e in events if e.is_private]
    mine = set(Participant.objects.filter(user_id=user.pk, event_id__in=private).values_list("event_id", flat=True)
               ) if private else set()
    found = []
    for event in events:
        hidden = not selectors.can_read_details(user, event, {user.pk} if event.pk in mine else set())
        for occurrence in recurrence.occurrences(event, start, end)[:limit]:
            if hidden:
                occurrence.hidden = True
                occurrence.title, occurrence.location = _("Занят"), ""
            found.append(occurrence)
    found.sort(key=lambda o: (o.start if not o.all_day else recurrence.day_key(o.start), o.event.pk))
    return found[:limit]


def panel_context(user, record: models.Model) -> dict:
    now = timezone.now()
    calendar = reverse("calendar:index")
    meetings = []
    for occurrence in record_occurrences(user, record, now, now + AHEAD):
        day = occurrence.start if occurrence.all_day else timezone.localtime(occurrence.start).date()
        meetings.append({"o": occurrence, "day_url": f"{calendar}?view=day&date={day.isoformat()}"})
    label = f"{record._meta.label_lower}:{record.pk}"
    return {
        "meetings": meetings,
        "can_plan": touches.may_plan(user, record),
        "plan_url": f"{reverse('calendar:event_create')}?bind={label}",
    }


@register
def meetings_panel(user, record) -> Panel | None:
    meta = getattr(record, "_meta", None)  # the profile's panels are asked about a user too
    if meta is None or meta.label_lower not in BINDABLE:
        return None
    return Panel("calendar_app/_meetings_panel.html", panel_context(user, record), order=6)
