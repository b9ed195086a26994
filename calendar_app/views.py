"""The calendar's pages (day, week and month, rendered by the server; htmx swaps the grid on
navigation), the drop of a dragged event (calendar.js → `event_move` → services.event_move), the
feed at its secret address and the profile's buttons for that address. Thin: the selectors decide
who reads what, the layout of the grid (positions, overlapping events side by side, one colour per
calendar shown, the «Занят» of private events, what the reader may drag) is computed here once per
page from the occurrences, calendar_app.ical writes the files."""

from __future__ import annotations

import calendar as pycalendar
import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required, login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts import access
from accounts.models import Action, Entity, Level
from tasks_app import selectors as task_selectors
from tasks_app.models import ACTIVE

from . import ical, selectors, services
from .forms import MAX_CALENDARS, CalendarNav, MoveForm

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


def _side_by_side(items: list[dict]) -> None:
    """Overlapping timed items of one column share its width: each cluster of items that overlap
    (directly or through one another) is split into as many lanes as it needs at most at once;
    an item takes the first lane free at its top. Sets its `lane_style` (left and width)."""
    cluster: list[dict] = []
    lanes: list[int] = []  # where the last item of each lane of the cluster ends
    for item in sorted(items, key=lambda i: (i["top"], -i["height"])):
        if cluster and item["top"] >= max(lanes):
            _split(cluster, len(lanes))
            cluster, lanes = [], []
        lane = next((n for n, end in enumerate(lanes) if end <= item["top"]), len(lanes))
        if lane == len(lanes):
            lanes.append(0)
        lanes[lane] = item["top"] + item["height"]
        item["lane"] = lane
        cluster.append(item)
    if cluster:
        _split(cluster, len(lanes))


def _split(cluster: list[dict], lanes: int) -> None:
    # A string: a float in a template is localised («33,333»), which CSS does not read.
    width = 100 / lanes
    for item in cluster:
        item["lane_style"] = f"left: calc({item['lane'] * width:.3f}% + 1px); width: calc({width:.3f}% - 2px)"


def _owners(occurrences, people: list) -> dict[int, list[int]]:
    """Event → the indexes in `people` of the calendars it is in (organizer or participant), for its
    colour. One query however many people and events; none for one calendar (one colour)."""
    ids = {p.pk: n for n, p in enumerate(people)}
    events = {o.event.pk: o.event for o in occurrences}
    if len(people) == 1:
        return dict.fromkeys(events, [0])
    found: dict[int, set[int]] = {pk: {ids[e.organizer_id]} if e.organizer_id in ids else set() for pk, e in events.items()}
    if events:
        for event_id, user_id in selectors.participations(events, ids):
            found[event_id].add(ids[user_id])
    return {pk: sorted(n) or [0] for pk, n in found.items()}


def _days(user, person, first: dt.date, after: dt.date, people: list | None = None) -> list[dict]:
    """The days of [first, after) with their items; events of every calendar in `people` (the main
    `person`'s by default), each with its colour (the first of its calendars) and whether the reader
    may drag it."""
    people = people or [person]
    zone = timezone.get_current_timezone()
    start = dt.datetime.combine(first, dt.time(), tzinfo=zone)
    end = dt.datetime.combine(after, dt.time(), tzinfo=zone)
    days = {}
    day = first
    while day < after:
        days[day] = {"date": day, "all_day": [], "timed": [], "tasks": [], "today": day == timezone.localdate()}
        day += dt.timedelta(days=1)
    found = selectors.visible_occurrences(user, [p.pk for p in people], start, end)
    owners = _owners(found, people)
    movable: dict[int, bool] = {}  # per event, not per occurrence: the gate's answer is cached per user
    for o in found:
        if o.event.pk not in movable:
            movable[o.event.pk] = not o.hidden and access.can(user, Action.CHANGE, o.event)
        mark = {"o": o, "colour": owners[o.event.pk][0] % MAX_CALENDARS, "movable": movable[o.event.pk],
                "whose": ", ".join(str(people[n]) for n in owners[o.event.pk]) if len(people) > 1 else ""}
        if o.all_day:
            day = max(o.start, first)
            while day <= o.end and day < after:
                days[day]["all_day"].append(mark)
                day += dt.timedelta(days=1)
            continue
        local_start, local_end = timezone.localtime(o.start), timezone.localtime(o.end)
        day = max(local_start.date(), first)
        while day < after and (day <= local_end.date()):
            if not (local_end.date() == day and local_end.time() == dt.time() and day != local_start.date()):
                days[day]["timed"].append({**mark, "start": local_start, "end": local_end,
                                           **_place(local_start, local_end, day)})
            day += dt.timedelta(days=1)
    for d in days.values():
        _side_by_side(d["timed"])
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


def _nav(request, params) -> CalendarNav:
    """The page's parameters, validated; what is wrong is a message on the page."""
    form = CalendarNav(params, reader=request.user)
    if params and not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
    return form


def _calendar(request, form: CalendarNav):
    view, day, person = form.choices(request.user)
    people = form.people(request.user)
    first, after = _bounds(view, day)
    prev, following = _steps(view, day)
    days = _days(request.user, person, first, after, people)
    # What follows view and date in every link: whose calendars.
    who = ("" if person == request.user else f"&user={person.pk}") + "".join(f"&users={p.pk}" for p in people[1:])
    chosen = {p.pk for p in people[1:]}
    context = {
        "view": view, "day": day, "days": days, "prev": prev, "next": following, "today": timezone.localdate(),
        "weeks": [days[i:i + 7] for i in range(0, len(days), 7)],
        "hours": [{"hour": h, "top": (h - FIRST_HOUR) * HOUR_PX} for h in range(FIRST_HOUR, LAST_HOUR)],
        # Half-hour slots: a click creates an event there, a drop moves one there.
        "slots": [{"hour": h, "full": m == 0, "time": f"{h:02d}:{m:02d}", "top": (h - FIRST_HOUR) * HOUR_PX + m * HOUR_PX // 60}
                  for h in range(FIRST_HOUR, LAST_HOUR) for m in (0, 30)],
        "grid_height": (LAST_HOUR - FIRST_HOUR) * HOUR_PX, "hour_px": HOUR_PX,
        "views": form.fields["view"].choices, "person": person, "own": person == request.user, "who": who,
        "nav": f"view={view}&date={day:%Y-%m-%d}{who}",
        "legend": [{"user": p, "colour": n % MAX_CALENDARS} for n, p in enumerate(people)] if len(people) > 1 else [],
        "colleagues": [{"user": u, "chosen": u.pk in chosen} for u in form.fields["users"].queryset],
    }
    template = "calendar_app/_calendar.html" if request.htmx and not request.htmx.boosted else "calendar_app/index.html"
    return render(request, template, context)


@login_required
@require_GET
def index(request):
    if access.level(request.user, Entity.EVENT, Action.VIEW) == Level.NONE:
        raise Http404
    return _calendar(request, _nav(request, request.GET))


@login_required
@require_POST
def event_move(request, pk: int):
    """A drop on the grid: the event (one occurrence of a repeating one) moves through
    services.event_move, which notifies the participants; the calendar shown (the page's parameters
    come in the query string) is rendered again with the outcome as a message."""
    event = selectors.event_for(request.user, pk)
    form = MoveForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
    else:
        data = form.cleaned_data
        try:
            moved = services.event_move(event, start=data["start"], by=request.user,
                                        occurrence=data["occurrence"], version=data["version"])
        except ValidationError as exc:
            for error in exc.messages:
                messages.error(request, error)
        except (PermissionDenied, services.EventError) as exc:
            messages.error(request, str(exc) or _("Нет прав на изменение этого события."))
        else:
            when = (date_format(data["start"], "SHORT_DATE_FORMAT") if moved.all_day else
                    date_format(timezone.localtime(data["start"]), "SHORT_DATETIME_FORMAT"))
            messages.success(request, _("Событие «%(title)s» перенесено на %(when)s.") % {
                "title": moved.title, "when": when})
    if not request.htmx:
        return redirect(f"{reverse('calendar:index')}?{request.GET.urlencode()}")
    return _calendar(request, _nav(request, request.GET))


@login_not_required
@require_GET
def feed(request, token: str):
    """A user's feed at a secret address: no login (a calendar application subscribes to it), the
    token is the key. An unknown or revoked token is 404, as for a missing page."""
    owner = selectors.feed_owner(token)
    if owner is None:
        raise Http404
    response = HttpResponse(ical.feed(owner), content_type=ICS)
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_POST
def feed_token_create(request):
    """«Создать ссылку» / «Новая ссылка» on the profile: a new secret address; the old one stops working."""
    had = selectors.live_token(request.user) is not None
    services.calendar_token_create(request.user)
    messages.success(request, _("Новая ссылка на календарь создана: старая больше не работает.") if had else
                     _("Ссылка на календарь создана: добавьте её в календарь телефона."))
    return redirect(f"{reverse('profile')}#calendar-feed")


@login_required
@require_POST
def feed_token_revoke(request):
    """«Отозвать»: the feed's address stops working; subscribed calendars stop updating."""
    if services.calendar_token_revoke(request.user):
        messages.success(request, _("Ссылка на календарь отозвана: по ней календарь больше не открывается."))
    else:
        messages.info(request, _("Действующей ссылки на календарь нет."))
    return redirect(f"{reverse('profile')}#calendar-feed")

