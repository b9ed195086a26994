"""The «Встречи» panel of lead, deal, company and contact cards (registered into crm.cards when the
app is ready: the cards never import the calendar): the record's meetings to come that the user may
read — a private one of someone else as «Занят» —, each linking to its day in the calendar, and
«Запланировать встречу», the event dialog with the record bound (`?bind=leads.lead:5`).

The reading is `selectors.record_occurrences`."""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.urls import reverse
from django.utils import timezone

from crm.cards import Panel, register
from tasks_app.services import BINDABLE

from . import selectors, touches

SHOWN = 10  # the next meetings; the calendar has the rest
AHEAD = dt.timedelta(days=366)


def panel_context(user, record: models.Model) -> dict:
    now = timezone.now()
    calendar = reverse("calendar:index")
    meetings = []
    for occurrence in selectors.record_occurrences(user, record, now, now + AHEAD, SHOWN):
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
