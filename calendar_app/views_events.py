"""The event's pages: its card (read-only, with the participant's answer and «Отменить»), the dialog
that creates and edits an event — one occurrence of a series with a scope —, the dialog's conflicts
box, and the .ics. Each is an htmx modal or, without htmx, a page of its own. Thin: the forms
validate, the selectors read, the services decide and refuse."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts import access
from accounts.models import Action, Entity, Level
from crm import cards
from tasks_app.forms import binding_value, chosen_records

from . import ical, selectors, services
from .forms import REMINDERS, WEEKDAYS, AnswerForm, CancelForm, ConflictsForm, EventForm, OccurrenceParam
from .models import Answer, Event, Freq
from .recurrence import Occurrence
from .views import ICS


def _slot_initial(request) -> dict:
    """A click on a free slot of the week opens the dialog at that hour (`?start=2026-12-07T10:00`);
    a bad value is ignored: the dialog opens empty instead."""
    try:
        start = dt.datetime.strptime(request.GET.get("start", ""), "%Y-%m-%dT%H:%M")
    except ValueError:
        try:
            day = dt.datetime.strptime(request.GET.get("date", ""), "%Y-%m-%d").date()
        except ValueError:
            day = timezone.localdate()
        return {"date": day, "start_time": dt.time(10), "end_time": dt.time(11)}
    end = start + dt.timedelta(hours=1)
    return {"date": start.date(), "start_time": start.time(), "end_date": end.date(), "end_time": end.time()}


def _bind_initial(request) -> dict:
    """From a card (`?bind=leads.lead:5`): the records the user may see stay bound, and the title
    names the one; a bad or hidden one is dropped — the dialog opens without it."""
    records, _errors = chosen_records(request.user, request.GET.getlist("bind"))
    if not records:
        return {}
    initial = {"bind": [binding_value(r) for r in records]}
    if len(records) == 1:
        initial["title"] = _("Встреча: %(record)s") % {"record": records[0]}
    return initial


def _dialog(request, form, event=None, occurrence=None, problem=""):
    template = "calendar_app/_event_dialog.html" if request.htmx else "calendar_app/event_form.html"
    if event is None:
        action = reverse("calendar:event_create")
    else:
        action = reverse("calendar:event_edit", args=[event.pk]) + _query(event, occurrence)
    response = render(request, template, {"form": form, "event": event, "occurrence": occurrence, "action": action,
                                           "problem": problem})
    if request.htmx:
        response["HX-Retarget"] = "#crm-modal-content"
        response["HX-Reswap"] = "innerHTML"
    return response


def _saved(request, event, text, day: dt.date | None = None, url: str = ""):
    """Back to `url` (the card the dialog was opened from), else to the calendar at the event's day
    (or `day`: the occurrence's)."""
    messages.success(request, text)
    if not url:
        url = f"{reverse('calendar:index')}?date={day.isoformat()}" if day else event.day_url()
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


@login_required
def event_create(request):
    """«Новое событие»: the dialog (htmx modal) or its page; the organizer is the user."""
    if not access.can_add(request.user, Event):
        raise PermissionDenied(_("Нет прав на создание событий."))
    initial = {**_slot_initial(request), **_bind_initial(request)}
    form = EventForm(request.POST if request.method == "POST" else None, initial=initial, user=request.user)
    if form.is_bound and form.is_valid():
        try:
            event = services.event_create(data=form.event_data(), by=request.user,
                                          participants=form.cleaned_data["participants"],
                                          reminder_minutes=form.cleaned_data["reminders"], records=form.records)
        except ValidationError as exc:
            form.add_refusal(exc)
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
        else:
            # Planned from a card: back to that card, where the meeting now shows.
            back = form.records[0].get_absolute_url() if len(form.records) == 1 else ""
            return _saved(request, event, _("Событие «%(title)s» создано.") % {"title": event.title}, url=back)
    return _dialog(request, form)


@login_required
def event_edit(request, pk: int):
    """Editing an event. Opened from an occurrence of a series (`?occurrence=`), the dialog shows that
    occurrence's times and asks how far the change goes (only this / this and the following / all)."""
    event = selectors.event_for(request.user, pk)
    if not access.can(request.user, Action.CHANGE, event):
        raise PermissionDenied(_("Нет прав на изменение этого события."))
    occurrence, problem = _occurrence(event, request.GET)
    form = EventForm(request.POST if request.method == "POST" else None,
                     initial=EventForm.initial_for(event, occurrence), occurrence=occurrence)
    # A stale link (the occurrence was cancelled or the series changed): saving the whole series
    # instead of the one occurrence meant would be a surprise, so nothing is saved from here.
    if form.is_bound and not problem and form.is_valid():
        scope = form.cleaned_data.get("scope") or services.ALL
        data = form.event_data()
        if occurrence is not None and event.is_recurring:
            data = _scoped_data(event, occurrence, scope, data)
        try:
            event = services.event_update(event, data=data, by=request.user, scope=scope,
                                          occurrence=occurrence.original_start if occurrence else None,
                                          version=form.cleaned_data["version"],
                                          participants=form.cleaned_data["participants"],
                                          reminder_minutes=form.cleaned_data["reminders"])
        except ValidationError as exc:
            form.add_refusal(exc)
        except (PermissionDenied, services.EventError) as exc:
            form.add_error(None, str(exc))
        else:
            day = form.cleaned_data["date"] if scope == services.THIS else None
            return _saved(request, event, _("Событие «%(title)s» сохранено.") % {"title": data["title"]}, day)
    return _dialog(request, form, event, occurrence, problem)


def _scoped_data(event: Event, occurrence: Occurrence, scope: str, data: dict) -> dict:
    """The dialog shows the occurrence's times; what they mean for the series depends on the scope.
    ALL: the series keeps its first day and moves by as much as the occurrence was moved in the
    dialog (its wall-clock time, so a DST change between them does not shift it). FOLLOWING: an
    unchanged count is the series' own, which the service recounts from this occurrence on."""
    if scope == services.FOLLOWING and data.get("count") == event.count:
        data.pop("count")
    if scope != services.ALL or data["all_day"] != event.all_day:
        return data
    if event.all_day:
        length = data["end_date"] - data["start_date"]
        data["start_date"] = event.start_date + (data["start_date"] - occurrence.start)
        data["end_date"] = data["start_date"] + length
        return data
    zone = data["start"].tzinfo

    def wall(moment: dt.datetime) -> dt.datetime:
        return moment.astimezone(zone).replace(tzinfo=None)

    length = data["end"] - data["start"]
    data["start"] = (wall(event.start) + (wall(data["start"]) - wall(occurrence.start))).replace(tzinfo=zone)
    data["end"] = data["start"] + length
    return data


def _occurrence(event: Event, params) -> tuple[Occurrence | None, str]:
    """The occurrence `?occurrence=` names, or None; and a Russian message if it names none."""
    form = OccurrenceParam(params)
    if not form.is_valid():
        return None, form.errors["occurrence"][0]
    key = form.cleaned_data["occurrence"]
    if key is None:
        return None, ""
    found = selectors.occurrence_of(event, key)
    if found is None:
        return None, _("Такого повторения у события нет: возможно, его отменили или изменили. Откройте событие из "
                       "календаря ещё раз.")
    return found, ""


@login_required
@require_GET
def event_ics(request, pk: int):
    event = selectors.event_for(request.user, pk)
    response = HttpResponse(ical.event_to_ical(event), content_type=ICS)
    response["Content-Disposition"] = f'attachment; filename="event-{event.pk}.ics"'
    return response


# --- the card ---

def _when(event: Event, occurrence: Occurrence | None) -> str:
    """«07.12.2026 10:00–11:00» in the reader's zone; an all-day event as its dates."""
    if event.all_day:
        start, end = (occurrence.start, occurrence.end) if occurrence else (event.start_date, event.end_date)
        text = formats.date_format(start, "SHORT_DATE_FORMAT")
        if end != start:
            text += " — " + formats.date_format(end, "SHORT_DATE_FORMAT")
        return _("%(dates)s, весь день") % {"dates": text}
    start, end = (occurrence.start, occurrence.end) if occurrence else (event.start, event.end)
    start, end = timezone.localtime(start), timezone.localtime(end)
    if start.date() == end.date():
        return f"{formats.date_format(start, 'SHORT_DATE_FORMAT')} {start:%H:%M}–{end:%H:%M}"
    return f"{formats.date_format(start, 'SHORT_DATETIME_FORMAT')} — {formats.date_format(end, 'SHORT_DATETIME_FORMAT')}"


def repetition(event: Event) -> str:
    """The rule in words: «Каждую 2-ю неделю: Пн, Чт; до 31.12.2026»."""
    if not event.is_recurring:
        return ""
    n = event.interval or 1
    if n == 1:
        text = str(Freq(event.freq).label)
    else:
        text = {Freq.DAILY: _("Каждый %(n)s-й день"), Freq.WEEKLY: _("Каждую %(n)s-ю неделю"),
                Freq.MONTHLY: _("Каждый %(n)s-й месяц"), Freq.YEARLY: _("Каждый %(n)s-й год")}[event.freq] % {"n": n}
    if event.freq == Freq.WEEKLY and event.weekdays:
        names = dict(WEEKDAYS)
        text += ": " + ", ".join(str(names[d]) for d in event.weekdays)
    if event.until:
        text += "; " + _("до %(date)s") % {"date": formats.date_format(event.until, "SHORT_DATE_FORMAT")}
    elif event.count:
        text += "; " + _("повторений: %(n)s") % {"n": event.count}
    return text


def _reminder_text(minutes: int) -> str:
    preset = dict(REMINDERS).get(minutes)  # the dialog's own words for its choices
    if preset is not None:
        return str(preset)
    if minutes % 1440 == 0:
        return _("За %(n)s дн.") % {"n": minutes // 1440}
    if minutes % 60 == 0:
        return _("За %(n)s ч") % {"n": minutes // 60}
    return _("За %(n)s мин") % {"n": minutes}


def _query(event: Event, occurrence: Occurrence | None) -> str:
    """`?occurrence=…` naming one occurrence of a series ('' for a single event)."""
    if occurrence is None or not event.is_recurring:
        return ""
    return "?" + urlencode({"occurrence": occurrence.original_start.isoformat()})


def card_url(event: Event, occurrence: Occurrence | None = None) -> str:
    return reverse("calendar:event", args=[event.pk]) + _query(event, occurrence)


def _card(request, event: Event, occurrence: Occurrence | None, problem: str = "", notice: str = ""):
    participants, minutes = selectors.card_people(event)
    mine = next((p for p in participants if p.user_id == request.user.pk), None)
    records, hidden_records = selectors.card_bindings(request.user, event)
    query = _query(event, occurrence)
    context = {
        "event": event, "occurrence": occurrence, "problem": problem, "notice": notice, "query": query,
        "title": occurrence.display_title if occurrence else event.title,
        "location": occurrence.location if occurrence else event.location,
        "when": _when(event, occurrence), "repetition": repetition(event),
        "participants": participants, "mine": mine,
        "answer_buttons": [(Answer.ACCEPTED, _("Приму участие"), "success"), (Answer.DECLINED, _("Не смогу"), "danger")],
        "can_answer": mine is not None and mine.user_id != event.organizer_id,
        "reminders": [_reminder_text(m) for m in minutes],
        "records": [(str(r._meta.verbose_name), r) for r in records], "hidden_records": hidden_records,
        "can_change": access.can(request.user, Action.CHANGE, event) and not event.is_cancelled,
        # What other apps show on the card (crm.cards: the disk's «Файлы»).
        "panels": cards.panels_for(request.user, event),
    }
    template = "calendar_app/_event_card.html" if request.htmx else "calendar_app/event_card.html"
    response = render(request, template, context)
    if request.htmx:
        response["HX-Retarget"] = "#crm-modal-content"
        response["HX-Reswap"] = "innerHTML"
    return response


@login_required
@require_GET
def event_card(request, pk: int):
    """The event's card (read-only): a private event of someone else is 404, as the grid shows it
    only as «Занят»."""
    event = selectors.event_for(request.user, pk)
    occurrence, problem = _occurrence(event, request.GET)
    return _card(request, event, occurrence, problem)


def _refusal(exc: Exception) -> str:
    return " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)


@login_required
@require_POST
def event_answer(request, pk: int):
    """«Приму участие» / «Не смогу»: the participant's answer (to the whole event)."""
    event = selectors.event_for(request.user, pk)
    occurrence, _problem = _occurrence(event, request.GET)
    form = AnswerForm(request.POST)
    problem = notice = ""
    if not form.is_valid():
        problem = form.errors["answer"][0]
    else:
        try:
            participant = services.participant_answer(event, user=request.user, answer=form.cleaned_data["answer"])
        except (ValidationError, PermissionDenied, services.EventError) as exc:
            problem = _refusal(exc)
        else:
            notice = _("Ваш ответ: «%(answer)s».") % {"answer": participant.get_answer_display()}
    if request.htmx:
        return _card(request, event, occurrence, problem, notice)
    if problem:
        messages.error(request, problem)
    else:
        messages.success(request, notice)
    return redirect(card_url(event, occurrence))


@login_required
@require_POST
def event_cancel(request, pk: int):
    """«Отменить»: the event, or one occurrence of a series or the whole series, as chosen."""
    event = selectors.event_for(request.user, pk)
    if not access.can(request.user, Action.CHANGE, event):
        raise PermissionDenied(_("Нет прав на изменение этого события."))
    form = CancelForm(request.POST)
    occurrence, problem = None, ""
    if not form.is_valid():
        problem = next(iter(form.errors.values()))[0]
    else:
        occurrence, problem = _occurrence(event, request.POST)
        what = form.cleaned_data["what"]
        if not problem and event.is_recurring and not what:
            problem = _("Выберите, что отменить: это событие или всю серию.")
        elif not problem and event.is_recurring and what == CancelForm.ONE and occurrence is None:
            problem = _("Укажите, какое повторение отменить.")
    if not problem:
        one = occurrence if event.is_recurring and form.cleaned_data["what"] == CancelForm.ONE else None
        try:
            services.event_cancel(event, by=request.user, occurrence=one.original_start if one else None,
                                  version=form.cleaned_data["version"])
        except (ValidationError, PermissionDenied, services.EventError) as exc:
            problem = _refusal(exc)
        else:
            if one is not None:
                day = one.start if one.all_day else timezone.localtime(one.start).date()
                return _saved(request, event, _("Повторение события «%(title)s» отменено.") % {
                    "title": one.display_title}, day)
            return _saved(request, event, _("Событие «%(title)s» отменено.") % {"title": event.title})
    if request.htmx:
        return _card(request, event, occurrence, problem)
    messages.error(request, problem)
    return redirect(card_url(event, occurrence))


# --- conflicts and free slots in the dialog ---

def _span_text(start: dt.datetime, end: dt.datetime, day: dt.date) -> str:
    start, end = timezone.localtime(start), timezone.localtime(end)
    if start.date() == day and (end.date() == day or (end.date() == day + dt.timedelta(days=1) and end.time() == dt.time())):
        if start.time() == dt.time() and end.date() != day:
            return _("весь день")
        return f"{start:%H:%M}–{end:%H:%M}" if end.date() == day else f"{start:%H:%M}–24:00"
    return f"{formats.date_format(start, 'SHORT_DATETIME_FORMAT')} — {formats.date_format(end, 'SHORT_DATETIME_FORMAT')}"


@login_required
@require_GET
def event_conflicts(request):
    """The dialog's box under the participants: who of them (and the organizer) is busy at the
    event's time, and their common free slots that day. A warning: saving is still allowed."""
    if access.level(request.user, Entity.EVENT, Action.VIEW) == Level.NONE:
        raise Http404
    form = ConflictsForm(request.GET)
    if not form.is_valid():
        return render(request, "calendar_app/_event_conflicts.html", {"checked": False})
    organizer, exclude = request.user, None
    if form.cleaned_data["event"]:
        try:
            event = selectors.event_for(request.user, form.cleaned_data["event"])
        except Http404:
            event = None
        if event is not None:
            organizer, exclude = event.organizer, event.pk
    people = {u.pk: u for u in form.cleaned_data["participants"]}
    people.setdefault(organizer.pk, organizer)
    start, end = form.span()
    day = form.cleaned_data["date"]
    zone = timezone.get_current_timezone()
    day_start = dt.datetime.combine(day, dt.time(), tzinfo=zone)
    day_end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=zone)
    times = selectors.busy(people, min(start, day_start), max(end, day_end), exclude_event_id=exclude)
    conflicts = []
    for pk, intervals in times.items():
        clash = [(a, b) for a, b in intervals if a < end and b > start]
        if clash:
            conflicts.append({"user": people[pk], "times": [_span_text(a, b, day) for a, b in clash]})
    conflicts.sort(key=lambda c: str(c["user"]))
    slots = selectors.free_slots(times, day, zone)
    return render(request, "calendar_app/_event_conflicts.html", {
        "checked": True, "conflicts": conflicts, "several": len(people) > 1,
        "slots": ", ".join(_span_text(a, b, day) for a, b in slots),
    })
