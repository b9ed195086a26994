"""iCalendar (RFC 5545) export with the `icalendar` library: one event's .ics and a user's feed for
Google Calendar, Outlook or a phone to subscribe to.

A repeating event is one VEVENT with its RRULE (times in the event's zone, with its VTIMEZONE, so
the subscriber keeps the wall-clock time across DST), EXDATE for cancelled occurrences and one more
VEVENT with RECURRENCE-ID per moved or renamed one. Reminders are VALARMs; the organizer and the
participants ORGANIZER/ATTENDEE with their PARTSTAT.

The user's active tasks and touches with a deadline are in the feed too, as VEVENTs of half an hour
ending at the deadline, not VTODOs: Google Calendar and most phones ignore VTODO in a subscription,
and the point is to see the deadline in the day's plan.
"""

from __future__ import annotations

import datetime as dt

import icalendar
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from tasks_app import selectors as task_selectors
from tasks_app.models import ACTIVE

from . import recurrence
from .models import Answer, Availability, Event, Freq, Importance

PRODID = "-//Reshenie CRM//Calendar//RU"
UID_DOMAIN = "reshenie-crm"
TASK_BLOCK = dt.timedelta(minutes=30)
# The feed keeps a year of the past: what ended before is not in it, so a feed stays small however
# long the CRM has been used (calendar applications fetch it every few hours).
FEED_PAST = dt.timedelta(days=365)
PARTSTAT = {Answer.INVITED: "NEEDS-ACTION", Answer.ACCEPTED: "ACCEPTED", Answer.DECLINED: "DECLINED"}
WEEKDAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
RRULE_FREQ = {Freq.DAILY: "DAILY", Freq.WEEKLY: "WEEKLY", Freq.MONTHLY: "MONTHLY", Freq.YEARLY: "YEARLY"}
PRIORITY = {Importance.HIGH: 1, Importance.NORMAL: 5, Importance.LOW: 9}


def _calendar(name: str = "") -> icalendar.Calendar:
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    if name:
        cal.add("x-wr-calname", name)
    return cal


def uid(event: Event) -> str:
    return f"event-{event.pk}@{UID_DOMAIN}"


def _local(event: Event, moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(event.zone)


def _person(user) -> icalendar.vCalAddress:
    address = icalendar.vCalAddress(f"mailto:{user.email}" if user.email else f"urn:uuid:crm-user-{user.pk}")
    address.params["cn"] = icalendar.vText(user.get_full_name() or user.username)
    return address


def _times(component: icalendar.Event, event: Event, start, end) -> None:
    """DTSTART/DTEND: dates for an all-day event (DTEND exclusive: the day after the last), else
    times in the event's zone."""
    if event.all_day:
        component.add("dtstart", start)
        component.add("dtend", end + dt.timedelta(days=1))
    else:
        component.add("dtstart", _local(event, start))
        component.add("dtend", _local(event, end))


def _rrule(event: Event) -> dict:
    rule = {"freq": RRULE_FREQ[event.freq]}
    if event.interval and event.interval > 1:
        rule["interval"] = event.interval
    if event.freq == Freq.WEEKLY and event.weekdays:
        rule["byday"] = [WEEKDAYS[d] for d in event.weekdays]
    if event.count:
        rule["count"] = event.count
    elif event.until:
        if event.all_day:
            rule["until"] = event.until
        else:
            # With a zoned DTSTART, UNTIL is in UTC (RFC 5545): the end of the last day in the event's zone.
            last = dt.datetime.combine(event.until, dt.time(23, 59, 59), tzinfo=event.zone)
            rule["until"] = last.astimezone(dt.UTC)
    return rule


def _key_value(event: Event, key: dt.datetime):
    return key.date() if event.all_day else _local(event, key)


def _components(event: Event) -> list[icalendar.Event]:
    main = icalendar.Event()
    main.add("uid", uid(event))
    main.add("dtstamp", event.updated_at or timezone.now())
    main.add("sequence", event.version)
    main.add("summary", event.title)
    if event.description:
        main.add("description", event.description)
    if event.location:
        main.add("location", event.location)
    if event.all_day:
        _times(main, event, event.start_date, event.end_date)
    else:
        _times(main, event, event.start, event.end)
    main.add("transp", "TRANSPARENT" if event.availability == Availability.FREE else "OPAQUE")
    main.add("class", "PRIVATE" if event.is_private else "PUBLIC")
    main.add("priority", PRIORITY.get(event.importance, 5))
    main.add("status", "CANCELLED" if event.is_cancelled else "CONFIRMED")
    main.add("organizer", _person(event.organizer))
    for participant in event.participants.all():
        attendee = _person(participant.user)
        attendee.params["partstat"] = icalendar.vText(PARTSTAT[participant.answer])
        attendee.params["role"] = icalendar.vText("REQ-PARTICIPANT")
        main.add("attendee", attendee)
    alarms = []
    for reminder in event.reminders.all():
        alarm = icalendar.Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", event.title)
        alarm.add("trigger", -dt.timedelta(minutes=reminder.minutes))
        main.add_component(alarm)
        alarms.append(reminder.minutes)
    components = [main]
    if not event.is_recurring:
        return components
    main.add("rrule", _rrule(event))
    for exc in sorted(event.exceptions.all(), key=lambda e: e.original_start):
        if not recurrence.is_occurrence(event, exc.original_start):
            continue
        if exc.is_cancelled:
            main.add("exdate", _key_value(event, exc.original_start))
            continue
        override = icalendar.Event()
        override.add("uid", uid(event))
        override.add("dtstamp", event.updated_at or timezone.now())
        override.add("sequence", event.version)
        override.add("recurrence-id", _key_value(event, exc.original_start))
        override.add("summary", exc.title or event.title)
        if exc.location or event.location:
            override.add("location", exc.location or event.location)
        if exc.new_start is not None:
            start, end = exc.new_start, exc.new_end
        else:
            start, end = exc.original_start, exc.original_start + event.duration
        if event.all_day:
            _times(override, event, start.date(), end.date())
        else:
            _times(override, event, start, end)
        override.add("organizer", _person(event.organizer))
        for minutes in alarms:
            alarm = icalendar.Alarm()
            alarm.add("action", "DISPLAY")
            alarm.add("description", exc.title or event.title)
            alarm.add("trigger", -dt.timedelta(minutes=minutes))
            override.add_component(alarm)
        components.append(override)
    return components


def _finish(cal: icalendar.Calendar) -> bytes:
    cal.add_missing_timezones()
    return cal.to_ical()


def event_to_ical(event: Event, method: str = "PUBLISH") -> bytes:
    """One event's file: PUBLISH to download; REQUEST (an invitation or its update) and CANCEL for
    the e-mail, which a mail program offers to add to, update in or remove from its calendar."""
    cal = _calendar()
    cal.add("method", method)
    for component in _components(event):
        cal.add_component(component)
    return _finish(cal)


def _task_component(task) -> icalendar.Event:
    component = icalendar.Event()
    component.add("uid", f"task-{task.pk}@{UID_DOMAIN}")
    component.add("dtstamp", task.updated_at or timezone.now())
    component.add("sequence", task.version)
    component.add("summary", _("Крайний срок: %(title)s") % {"title": task.title})
    if task.description:
        component.add("description", task.description)
    deadline = timezone.localtime(task.deadline)
    component.add("dtstart", deadline - TASK_BLOCK)
    component.add("dtend", deadline)
    component.add("transp", "TRANSPARENT")
    return component


def _recent(events, since: dt.datetime):
    """The events not over before `since`: single ones that end after it, series without an end or
    whose `until` is after it; a series of a `count` ends with its last occurrence (≤ MAX_COUNT)."""
    day = since.date()
    single = Q(freq=Freq.NONE) & (Q(all_day=False, end__gte=since) | Q(all_day=True, end_date__gte=day))
    series = ~Q(freq=Freq.NONE) & (Q(until__isnull=True) | Q(until__gte=day))
    for event in events.filter(single | series):
        if event.count and not event.until:
            last = list(recurrence.rule(event, count=event.count))[-1]
            if last.date() < since.astimezone(event.zone).date():
                continue
        yield event


def feed(user) -> bytes:
    """The user's calendar: the events he organizes or takes part in (not declined), and his active
    tasks and touches with a deadline."""
    from . import selectors

    cal = _calendar(_("Календарь CRM — %(name)s") % {"name": user.get_full_name() or user.username})
    since = timezone.now() - FEED_PAST
    for event in _recent(selectors.feed_events(user), since):
        for component in _components(event):
            cal.add_component(component)
    tasks = (task_selectors.by_role(user, task_selectors.ROLE_DOING)
             .filter(status__in=ACTIVE, deadline__isnull=False).order_by("deadline"))
    for task in tasks:
        cal.add_component(_task_component(task))
    return _finish(cal)
