"""The calendar's pages (day, week and month, rendered by the server; htmx swaps the grid on
navigation) and the feed at its secret address. Thin: the selectors decide who reads what, the layout of the
grid (positions, the «Занят» of private events) is computed here once per page from the
occurrences, calendar_app.ical writes the files."""

from __future__ import annotations

import calendar as pycalendar
import datetime as dt
import hmac

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required, login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts import access
from accounts.models import Action, Entity, Level
from tasks_app import selectors as task_selectors
from tasks_app.models import ACTIVE

from . import ical, selectors
from .forms import CalendarNav
from .models import CalendarToken

ICS = "text/calendar; charset=utf-8"
FIRST_HOUR, LAST_HOUR = 8, 20  # the grid's hours; earlier and later events are pinned to its edges
HOUR_PX = 48


def _bounds(view: str, day: dt.date) -> tuple[dt.date, dt.date]:
    """The first day shown and the day after the last."""
    if view == "day":
        return day, day + dt.timedelta(days=1)
    if view == "month":
        first = day.replace(day=1)
        last = first.replace(day=pycalendar.monthrange(first.year, first.month)[1])
        # Whole weeks, Monday first, as a wall calendar.
        return first - dt.timedelta(days=first.weekday()), last + dt.timedelta(days=7 - last.weekday())
    monday = day - dt.timedelta(days=day.weekday())
    return monday, monday + dt.timedelta(days=7)


def _steps(view: str, day: dt.date) -> tuple[dt.date, dt.date]:
    if view == "day":
        return day - dt.timedelta(days=1), day + dt.timedelta(days=1)
    if view == "month":
        first = day.replace(day=1)
        prev = (first - dt.timedelta(days=1)).replace(day=1)
        return prev, (first + dt.timedelta(days=32)).replace(day=1)
    return day - dt.timedelta(days=7), day + dt.timedelta(days=7)


def _minutes(moment: dt.datetime) -> int:
    return moment.hour * 60 + moment.minute


def _place(start: dt.datetime, end: dt.datetime, day: dt.date) -> dict:
    """Top and height in pixels of a timed item within `day`'s column, pinned to the grid's hours."""
    low, high = FIRST_HOUR * 60, LAST_HOUR * 60
    begin = _minutes(start) if start.date() == day else 0
    finish = _minutes(end) if end.date() == day else 24 * 60
    begin, finish = min(max(begin, low), high - 15), min(max(finish, low), high)
    finish = max(finish, begin + 20)  # a short event stays clickable
    return {"top": (begin - low) * HOUR_PX // 60, "height": (finish - begin) * HOUR_PX // 60}


def _days(user, person, first: dt.date, after: dt.date) -> list[dict]:
    zone = timezone.get_current_timezone()
    start = dt.datetime.combine(first, dt.time(), tzinfo=zone)
    end = dt.datetime.combine(after, dt.time(), tzinfo=zone)
    days = {}
    day = first
    while day < after:
        days[day] = {"date": day, "all_day": [], "timed": [], "tasks": [], "today": day == timezone.localdate()}
        day += dt.timedelta(days=1)
    for o in selectors.visible_occurrences(user, [person.pk], start, end):
        if o.all_day:
            day = max(o.start, first)
            while day <= o.end and day < after:
                days[day]["all_day"].append({"o": o})
                day += dt.timedelta(days=1)
            continue
        local_start, local_end = timezone.localtime(o.start), timezone.localtime(o.end)
        day = max(local_start.date(), first)
        while day < after and (day <= local_end.date()):
            if not (local_end.date() == day and local_end.time() == dt.time() and day != local_start.date()):
                days[day]["timed"].append({"o": o, "start": local_start, "end": local_end,
                                           **_place(local_start, local_end, day)})
            day += dt.timedelta(days=1)
    # The person's active tasks with a deadline in the range that the user may read (touches are
    # tasks bound to a record).
    tasks = (task_selectors.visible(user).filter(responsible=person, status__in=ACTIVE, deadline__gte=start,
                                                 deadline__lt=end, calendar_event=None).order_by("deadline")[:200])
    for task in tasks:
        deadline = timezone.localtime(task.deadline)
        # Outside the grid's hours they would pile up on its edge: the all-day row has room for them.
        days[deadline.date()]["tasks"].append({"task": task, "at": deadline, "in_grid": FIRST_HOUR <= deadline.hour
                                               < LAST_HOUR, **_place(deadline, deadline, deadline.date())})
    return list(days.values())


@login_required
@require_GET
def index(request):
    if access.level(request.user, Entity.EVENT, Action.VIEW) == Level.NONE:
        raise Http404
    form = CalendarNav(request.GET)
    if request.GET and not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
    view, day, person = form.choices(request.user)
    first, after = _bounds(view, day)
    prev, following = _steps(view, day)
    days = _days(request.user, person, first, after)
    context = {
        "view": view, "day": day, "days": days, "prev": prev, "next": following, "today": timezone.localdate(),
        "weeks": [days[i:i + 7] for i in range(0, len(days), 7)],
        "hours": [{"hour": h, "top": (h - FIRST_HOUR) * HOUR_PX} for h in range(FIRST_HOUR, LAST_HOUR)],
        "grid_height": (LAST_HOUR - FIRST_HOUR) * HOUR_PX, "hour_px": HOUR_PX,
        "views": form.fields["view"].choices, "person": person, "own": person == request.user,
        "who": "" if person == request.user else f"&user={person.pk}",
    }
    template = "calendar_app/_calendar.html" if request.htmx and not request.htmx.boosted else "calendar_app/index.html"
    return render(request, template, context)


@login_not_required
@require_GET
def feed(request, token: str):
    """A user's feed at a secret address: no login (a calendar application subscribes to it), the
    token is the key. An unknown or revoked token is 404, as for a missing page."""
    found = CalendarToken.objects.select_related("user").filter(token=token[:64], revoked_at__isnull=True).first()
    # The lookup is by an index; the comparison that decides is constant-time all the same.
    if found is None or not hmac.compare_digest(found.token, token) or not found.user.is_active:
        raise Http404
    response = HttpResponse(ical.feed(found.user), content_type=ICS)
    response["Cache-Control"] = "private, no-store"
    return response
