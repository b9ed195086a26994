"""The only reads of events. Everything goes through the access gate (accounts.access): the
organizer's level decides, and a participant reads an event whatever his level.

A private event («Частное событие») is the exception the gate does not know: the people allowed
to see the organizer's calendar see that he is busy then, but only participants read what it is —
`visible_occurrences` returns it with `hidden=True` (title «Занят», nothing else)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext as _

from accounts import access
from accounts.models import Action, User

from . import recurrence
from .models import Answer, Event, Freq, Participant


def visible(user: User) -> QuerySet[Event]:
    """The events `user` may read (a private one included: see `can_read_details`)."""
    return access.scope(user, Event.objects.all(), Action.VIEW)


def in_range(queryset: QuerySet[Event], start: dt.datetime, end: dt.datetime) -> QuerySet[Event]:
    """The events that may have an occurrence in [start, end): single ones overlapping it, series that
    begin before its end (their rule decides the rest). All-day dates get a day's margin: the reader's
    zone decides their day."""
    day_from, day_to = (start - dt.timedelta(days=1)).date(), (end + dt.timedelta(days=1)).date()
    single = Q(freq=Freq.NONE) & (Q(all_day=False, start__lt=end, end__gt=start)
                                  | Q(all_day=True, start_date__lte=day_to, end_date__gte=day_from))
    series = ~Q(freq=Freq.NONE) & (Q(all_day=False, start__lt=end) | Q(all_day=True, start_date__lte=day_to)) & (
        Q(until__isnull=True) | Q(until__gte=day_from))
    return queryset.filter(single | series, is_cancelled=False)


def can_read_details(user: User, event: Event, participant_ids: Iterable[int] | None = None) -> bool:
    """A private event's details are for its organizer and participants (and a superuser)."""
    if not event.is_private or user.is_superuser or user.pk == event.organizer_id:
        return True
    if participant_ids is not None:
        return user.pk in participant_ids
    return event.participants.filter(user_id=user.pk).exists()


def visible_occurrences(user: User, owner_ids: Iterable[int] | None, start: dt.datetime,
                        end: dt.datetime) -> list[recurrence.Occurrence]:
    """The occurrences in [start, end) of the events `user` may read, of the calendars of `owner_ids`
    (their organizers or participants; None: every calendar he reads), sorted by start. A fixed handful
    of queries (access levels, events, their exceptions, the private ones he takes part in) whatever
    the number of events and occurrences."""
    events = in_range(visible(user), start, end)
    if owner_ids is not None:
        owners = list(owner_ids)
        events = events.filter(Q(organizer_id__in=owners) | Q(participants__user_id__in=owners)).distinct()
    events = list(events.select_related("organizer").prefetch_related("exceptions"))
    mine = set(Participant.objects.filter(user_id=user.pk, event__in=[e.pk for e in events if e.is_private])
               .values_list("event_id", flat=True)) if any(e.is_private for e in events) else set()
    found: list[recurrence.Occurrence] = []
    for event in events:
        hidden = not can_read_details(user, event, {user.pk} if event.pk in mine else set())
        for occurrence in recurrence.occurrences(event, start, end):
            if hidden:
                occurrence.hidden = True
                occurrence.title, occurrence.location = _("Занят"), ""
            found.append(occurrence)
    found.sort(key=lambda o: (o.start if not o.all_day else recurrence.day_key(o.start), o.event.pk))
    return found


def event_for(user: User, pk: int) -> Event:
    """One event the user may read in full (a private one only by its participants): else 404."""
    from django.http import Http404

    event = access.get_or_404(user, Event.objects.select_related("organizer").prefetch_related("exceptions"), pk=pk)
    if not can_read_details(user, event):
        raise Http404
    return event


def feed_events(user: User) -> QuerySet[Event]:
    """The events of a user's own calendar (organized by him or he takes part and did not decline)."""
    takes_part = Participant.objects.filter(event_id=OuterRef("pk"), user_id=user.pk).exclude(answer=Answer.DECLINED)
    return (Event.objects.filter(Q(organizer=user) | Q(Exists(takes_part)))
            .select_related("organizer")
            .prefetch_related("exceptions", "reminders", "participants__user"))
