"""The only reads of events. Everything goes through the access gate (accounts.access): the
organizer's level decides, and a participant reads an event whatever his level.

A private event («Частное событие») is the exception the gate does not know: the people allowed
to see the organizer's calendar see that he is busy then, but only participants read what it is —
`visible_occurrences` returns it with `hidden=True` (title «Занят», nothing else)."""

from __future__ import annotations

import datetime as dt
import hmac
from collections.abc import Iterable

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext as _

from accounts import access
from accounts.models import Action, User

from . import recurrence
from .models import Answer, Availability, CalendarToken, Event, EventBinding, Freq, Participant


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
    """A private event's details are for its organizer and participants only: a superuser who is
    neither sees «Занят» too (the grid, the card and the admin alike), as «частное» promises."""
    if not event.is_private or user.pk == event.organizer_id:
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


def occurrence_of(event: Event, key: dt.datetime) -> recurrence.Occurrence | None:
    """The occurrence of `event` whose original start is `key` (moved or renamed as its exception
    says), or None: no such occurrence, or it is cancelled. No query when the exceptions are prefetched."""
    if not recurrence.is_occurrence(event, key):
        return None
    exception = next((e for e in event.exceptions.all() if e.original_start == key), None)
    # The occurrence lies within a day of its original start, or where its exception moved it.
    moments = [key] + ([exception.new_start, exception.new_end] if exception and exception.new_start else [])
    low, high = min(moments) - dt.timedelta(days=1), max(moments) + event.duration + dt.timedelta(days=2)
    return next((o for o in recurrence.occurrences(event, low, high) if o.original_start == key), None)


def card_people(event: Event) -> tuple[list[Participant], list[int]]:
    """The card's participants, the organizer first, then by name; and its reminders' minutes,
    earliest first. Two queries."""
    participants = sorted(event.participants.select_related("user"),
                          key=lambda p: (p.user_id != event.organizer_id, p.user.last_name, p.user.first_name,
                                         p.user.username))
    return participants, list(event.reminders.order_by("-minutes").values_list("minutes", flat=True))


def card_bindings(user: User, event: Event) -> tuple[list[models.Model], int]:
    """The records the event is bound to that `user` may see (each through its own app's access
    rules), and how many others there are (counted, never named). One query for the links and one
    per kind of record."""
    pairs = list(EventBinding.objects.filter(event=event).values_list("content_type_id", "object_id"))
    records = access.visible_targets(user, pairs)
    shown = [records[pair] for pair in sorted(pairs) if pair in records]
    return shown, len(pairs) - len(shown)


# --- conflicts and free slots (the event dialog) ---

Interval = tuple[dt.datetime, dt.datetime]
DAY_FROM, DAY_TO = 8, 20  # the working day the common free slots are looked for in
MIN_SLOT = dt.timedelta(minutes=15)  # a shorter gap between meetings is no slot to offer


def busy(user_ids: Iterable[int], start: dt.datetime, end: dt.datetime, *,
         exclude_event_id: int | None = None) -> dict[int, list[Interval]]:
    """user id → the times in [start, end) when he is busy: the occurrences of the events he
    organizes or takes part in, except those he declined, those marked «Свободен», cancelled ones
    and `exclude_event_id` (the event being edited). Merged and sorted; an all-day event is busy
    the whole day(s) in `start`'s zone. Whoever the reader is, only times come out (shown as
    «Занят»): what those events are stays behind the access gate. Two queries whatever the number
    of users and events (the participations with their events, the events' exceptions)."""
    ids = sorted(set(user_ids))
    found: dict[int, list[Interval]] = {pk: [] for pk in ids}
    if not ids:
        return found
    events = in_range(Event.objects.filter(availability=Availability.BUSY), start, end)
    if exclude_event_id is not None:
        events = events.exclude(pk=exclude_event_id)
    rows = (Participant.objects.filter(user_id__in=ids, event__in=events).exclude(answer=Answer.DECLINED)
            .select_related("event").prefetch_related("event__exceptions"))
    zone = start.tzinfo
    expanded: dict[int, list[Interval]] = {}
    for row in rows:
        if row.event_id not in expanded:
            times = []
            for o in recurrence.occurrences(row.event, start, end):
                if o.all_day:
                    times.append((dt.datetime.combine(o.start, dt.time(), tzinfo=zone),
                                  dt.datetime.combine(o.end + dt.timedelta(days=1), dt.time(), tzinfo=zone)))
                else:
                    times.append((o.start, o.end))
            expanded[row.event_id] = times
        found[row.user_id].extend(expanded[row.event_id])
    return {pk: _merged(times) for pk, times in found.items()}


def _merged(times: Iterable[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for begin, finish in sorted(times):
        if merged and begin <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], finish))
        else:
            merged.append((begin, finish))
    return merged


def free_slots(busy_times: dict[int, list[Interval]], day: dt.date, zone: dt.tzinfo) -> list[Interval]:
    """The times of `day` within DAY_FROM–DAY_TO (in `zone`) when none of them is busy (`busy()`'s
    answer for that day), gaps shorter than MIN_SLOT left out. No query."""
    begin = dt.datetime.combine(day, dt.time(DAY_FROM), tzinfo=zone)
    finish = dt.datetime.combine(day, dt.time(DAY_TO), tzinfo=zone)
    slots: list[Interval] = []
    cursor = begin
    for low, high in _merged(t for times in busy_times.values() for t in times):
        if high <= cursor or low >= finish:
            continue
        if low - cursor >= MIN_SLOT:
            slots.append((cursor, low))
        cursor = max(cursor, high)
    if finish - cursor >= MIN_SLOT:
        slots.append((cursor, finish))
    return slots


def feed_events(user: User) -> QuerySet[Event]:
    """The events of a user's own calendar (organized by him or he takes part and did not decline)."""
    takes_part = Participant.objects.filter(event_id=OuterRef("pk"), user_id=user.pk).exclude(answer=Answer.DECLINED)
    return (Event.objects.filter(Q(organizer=user) | Q(Exists(takes_part)))
            .select_related("organizer")
            .prefetch_related("exceptions", "reminders", "participants__user"))


def record_occurrences(user, record: models.Model, start: dt.datetime, end: dt.datetime,
                       limit: int = 10) -> list[recurrence.Occurrence]:
    """The first `limit` occurrences in [start, end) of the events bound to `record` that `user` may
    read; private ones he does not take part in come back `hidden` («Занят»). Four queries at most
    (the bound events' ids, the events, their exceptions, his part in the private ones) whatever
    the number of events; one for a record with none bound (most records: the events query's
    access condition costs more to build, in Python, than to run)."""
    ids = list(EventBinding.objects.filter(content_type=ContentType.objects.get_for_model(record),
                                           object_id=record.pk).values_list("event_id", flat=True))
    if not ids:
        return []
    bound = visible(user).filter(pk__in=ids)
    events = list(in_range(bound, start, end).select_related("organizer").prefetch_related("exceptions"))
    private = [e.pk for e in events if e.is_private]
    mine = set(Participant.objects.filter(user_id=user.pk, event_id__in=private).values_list("event_id", flat=True)
               ) if private else set()
    found = []
    for event in events:
        hidden = not can_read_details(user, event, {user.pk} if event.pk in mine else set())
        for occurrence in recurrence.occurrences(event, start, end)[:limit]:
            if hidden:
                occurrence.hidden = True
                occurrence.title, occurrence.location = _("Занят"), ""
            found.append(occurrence)
    found.sort(key=lambda o: (o.start if not o.all_day else recurrence.day_key(o.start), o.event.pk))
    return found[:limit]


def participations(event_ids, user_ids) -> list[tuple[int, int]]:
    """(event, user) of those of `user_ids` who take part in `event_ids`: whose calendars an event is in."""
    return list(Participant.objects.filter(event_id__in=event_ids, user_id__in=user_ids).values_list("event_id", "user_id"))


def feed_owner(token: str) -> User | None:
    """Whose feed a secret address opens: an active user's token in force, else None."""
    found = CalendarToken.objects.select_related("user").filter(token=token[:64], revoked_at__isnull=True).first()
    # The lookup is by an index; the comparison that decides is constant-time all the same.
    if found is None or not hmac.compare_digest(found.token, token) or not found.user.is_active:
        return None
    return found.user


def live_token(user: User) -> CalendarToken | None:
    """The user's feed address in force (the profile's panel), if any."""
    return CalendarToken.objects.filter(user=user, revoked_at__isnull=True).order_by("-pk").first()
