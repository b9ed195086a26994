"""The event's pages: the dialog that creates and edits an event (an htmx modal, or a page of its
own without htmx) and its .ics. Thin: the form validates, the services decide and refuse."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from accounts import access
from accounts.models import Action
from tasks_app.forms import binding_value, chosen_records

from . import ical, selectors, services
from .forms import EventForm
from .models import Event
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


def _dialog(request, form, event=None):
    template = "calendar_app/_event_dialog.html" if request.htmx else "calendar_app/event_form.html"
    response = render(request, template, {"form": form, "event": event})
    if request.htmx:
        response["HX-Retarget"] = "#crm-modal-content"
        response["HX-Reswap"] = "innerHTML"
    return response


def _saved(request, event, text, url=""):
    messages.success(request, text)
    url = url or event.get_absolute_url()
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
            return _saved(request, event, _("Событие «%(title)s» создано.") % {"title": event.title}, back)
    return _dialog(request, form)


@login_required
def event_edit(request, pk: int):
    """Editing an event: the whole series for a repeating one (one occurrence's scopes come next)."""
    event = selectors.event_for(request.user, pk)
    if not access.can(request.user, Action.CHANGE, event):
        raise PermissionDenied(_("Нет прав на изменение этого события."))
    initial = EventForm.initial_for(event)
    form = EventForm(request.POST if request.method == "POST" else None, initial=initial)
    if form.is_bound and form.is_valid():
        try:
            event = services.event_update(event, data=form.event_data(), by=request.user,
                                          version=form.cleaned_data["version"],
                                          participants=form.cleaned_data["participants"],
                                          reminder_minutes=form.cleaned_data["reminders"])
        except ValidationError as exc:
            form.add_refusal(exc)
        except (PermissionDenied, services.EventError) as exc:
            form.add_error(None, str(exc))
        else:
            return _saved(request, event, _("Событие «%(title)s» сохранено.") % {"title": event.title})
    return _dialog(request, form, event)


@login_required
@require_GET
def event_ics(request, pk: int):
    event = selectors.event_for(request.user, pk)
    response = HttpResponse(ical.event_to_ical(event), content_type=ICS)
    response["Content-Disposition"] = f'attachment; filename="event-{event.pk}.ics"'
    return response
