"""The occurrences of an event in a range: the rule expanded with dateutil.rrule in the event's own
zone (wall-clock times: a weekly 10:00 Moscow meeting is at 10:00 before and after a DST change
anywhere), then its exceptions applied.

Only the range asked is expanded: a rule without an end starts its expansion at the last period
boundary before the range (daily and weekly rules jump there arithmetically), so a daily event
created years ago costs what a single one does. The exceptions come from `event.exceptions.all()`
(prefetch them for many events: then no query at all)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from dateutil import rrule

from .models import Event, EventException, Freq

FREQS = {Freq.DAILY: rrule.DAILY, Freq.WEEKLY: rrule.WEEKLY, Freq.MONTHLY: rrule.MONTHLY, Freq.YEARLY: rrule.YEARLY}
MAX_COUNT = 1000


@dataclass
class Occurrence:
    """One occurrence. Timed: `start`/`end` aware datetimes. All-day: dates, `end` inclusive.
    `original_start` identifies it in its series (the key of an EventException); `hidden` is set by
    the selectors for a private event the reader may see only as «Занят»."""

    event: Event
    start: dt.datetime | dt.date
    end: dt.datetime | dt.date
    original_start: dt.datetime
    all_day: bool = False
    moved: bool = False
    title: str = ""
    location: str = ""
    hidden: bool = False

    @property
    def display_title(self) -> str:
        return self.title or self.event.title


def day_key(day: dt.date) -> dt.datetime:
    """How an all-day occurrence's original start is stored (EventException.original_start)."""
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


def rule(event: Event, dtstart: dt.datetime | None = None, count: int | None = None) -> rrule.rrule:
    """The event's rule on naive local datetimes (wall clock of `event.tz`)."""
    first = dtstart or first_local_start(event)
    kwargs = {"dtstart": first, "interval": event.interval or 1}
    if event.freq == Freq.WEEKLY and event.weekdays:
        kwargs["byweekday"] = sorted(event.weekdays)
    if count is not None:
        kwargs["count"] = count
    elif event.until:
        kwargs["until"] = dt.datetime.combine(event.until, dt.time.max)
    return rrule.rrule(FREQS[event.freq], **kwargs)


def first_local_start(event: Event) -> dt.datetime:
    if event.all_day:
        return dt.datetime.combine(event.start_date, dt.time())
    return event.start.astimezone(event.zone).replace(tzinfo=None)


def _jumped_start(event: Event, first: dt.datetime, local_from: dt.datetime) -> dt.datetime:
    """A start on the rule's grid not long before `local_from`, for rules without a count (a count
    numbers the occurrences from the first one, so it must iterate from there; it is ≤ 1000)."""
    if event.count or local_from <= first or event.freq not in (Freq.DAILY, Freq.WEEKLY):
        return first
    step = dt.timedelta(days=(event.interval or 1) * (1 if event.freq == Freq.DAILY else 7))
    periods = (local_from - first) // step - 1
    if periods <= 0:
        return first
    jumped = first + step * periods
    if event.freq == Freq.WEEKLY and event.weekdays:
        # The grid's weeks start on the first start's week day; byweekday fills the week from
        # there, so jumping by whole weeks keeps every weekday of the rule (one week early is
        # harmless: `between` drops what is before the range).
        jumped -= dt.timedelta(days=7)
    return max(first, jumped)


def occurrences(event: Event, start: dt.datetime, end: dt.datetime) -> list[Occurrence]:
    """The occurrences overlapping [start, end) (aware datetimes), sorted, exceptions applied. An
    all-day one counts for its dates in the zone `start` is in (the reader's)."""
    if event.is_cancelled:
        return []
    if event.all_day:
        view_zone = start.tzinfo
        first_day, last_day = start.astimezone(view_zone).date(), (end - dt.timedelta(microseconds=1)).astimezone(view_zone).date()
    exceptions = {e.original_start: e for e in event.exceptions.all()} if event.pk else {}
    found: list[Occurrence] = []
    duration = event.duration

    def make(local_start: dt.datetime) -> Occurrence:
        if event.all_day:
            day = local_start.date()
            return Occurrence(event, day, day + duration, day_key(day), all_day=True, title=event.title,
                              location=event.location)
        aware = local_start.replace(tzinfo=event.zone)
        # A wall-clock time in the DST gap or fold: zoneinfo resolves it (fold=0), as calendars do.
        aware_utc = aware.astimezone(dt.UTC)
        return Occurrence(event, aware_utc, aware_utc + duration, aware_utc, title=event.title, location=event.location)

    if not event.is_recurring:
        candidates = [make(first_local_start(event))]
    else:
        if event.all_day:
            local_from = dt.datetime.combine(first_day, dt.time()) - duration
            local_to = dt.datetime.combine(last_day, dt.time.max)
        else:
            # A day's margin on each side covers the zone offsets; the exact test follows.
            local_from = start.astimezone(event.zone).replace(tzinfo=None) - duration - dt.timedelta(days=1)
            local_to = end.astimezone(event.zone).replace(tzinfo=None) + dt.timedelta(days=1)
        first = first_local_start(event)
        dtstart = _jumped_start(event, first, local_from)
        r = rule(event, dtstart=dtstart, count=event.count)
        candidates = [make(d) for d in r.between(local_from, local_to, inc=True)]

    def overlaps(o: Occurrence) -> bool:
        if o.all_day:
            return o.start <= last_day and o.end >= first_day
        return o.start < end and o.end > start

    seen = set()
    for o in candidates:
        seen.add(o.original_start)
        exc = exceptions.get(o.original_start)
        if exc is not None:
            o = _applied(o, exc)
            if o is None:
                continue
        if overlaps(o):
            found.append(o)
    # Moved occurrences whose original start is out of the range but whose new one is in it.
    for key, exc in exceptions.items():
        if key in seen or exc.is_cancelled or exc.new_start is None or not is_occurrence(event, key):
            continue
        o = _applied(make(local_of(event, key)), exc)
        if o is not None and overlaps(o):
            found.append(o)
    found.sort(key=lambda o: (o.start if not o.all_day else day_key(o.start)))
    return found


def local_of(event: Event, key: dt.datetime) -> dt.datetime:
    if event.all_day:
        return dt.datetime.combine(key.date(), dt.time())
    return key.astimezone(event.zone).replace(tzinfo=None)


def _applied(o: Occurrence, exc: EventException) -> Occurrence | None:
    if exc.is_cancelled:
        return None
    o.title, o.location = exc.title or o.title, exc.location or o.location
    if exc.new_start is not None:
        o.moved = True
        if o.all_day:
            o.start, o.end = exc.new_start.date(), exc.new_end.date()
        else:
            o.start, o.end = exc.new_start, exc.new_end
    return o


def is_occurrence(event: Event, key: dt.datetime) -> bool:
    """Whether the rule gives an occurrence starting at `key` (an exception outlived by an edit of
    the rule is ignored)."""
    if not event.is_recurring:
        return key == make_key(event)
    local = local_of(event, key)
    first = first_local_start(event)
    r = rule(event, dtstart=_jumped_start(event, first, local), count=event.count)
    return r.between(local, local, inc=True) == [local]


def make_key(event: Event) -> dt.datetime:
    """The original start of a single event's only occurrence."""
    return day_key(event.start_date) if event.all_day else event.start.astimezone(dt.UTC)


def first_key(event: Event) -> dt.datetime | None:
    """The original start of a series' first occurrence (a weekly rule's start need not be one)."""
    first = rule(event, count=event.count).after(first_local_start(event), inc=True)
    if first is None:
        return None
    return day_key(first.date()) if event.all_day else first.replace(tzinfo=event.zone).astimezone(dt.UTC)
