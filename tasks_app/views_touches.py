"""Touches («дела») planned and completed from a record's card (and from «Мой день»).

- `touch_plan` (GET the dialog, POST create): a call, a meeting or a task bound to the record, for
  its responsible by default. Planning is changing the record (its «Дата следующего касания»
  follows the touch), so it needs the right to change the record, as in Bitrix24.
- `touch_complete` (GET the dialog «Дело выполнено», POST complete + plan the next one in one
  transaction): the next touch is bound to the records the completed one was (those the user
  sees) and goes to the same responsible.

A done POST answers htmx with `HX-Trigger: touchesChanged` (a page such as «Мой день» refreshes
its list on it) and closes the dialog; opened from a card (`card=<kind>:<pk>` in the dialog) it
also swaps that card's «Дела» panel and timeline out of band. Without JavaScript each dialog is a
page of its own and a done POST goes back to the card (or `next`)."""

from __future__ import annotations

import json
import re

from django.apps import apps
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.http import Http404, HttpResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from accounts import access
from accounts.models import Action
from crm import dialogs
from crm.redirects import safe_next
from crm.timeline_views import timeline_context

from . import services
from .cards import bindable, panel_context
from .forms_touches import TouchCompleteForm, TouchPlanForm
from .models import Task

EVENT = "touchesChanged"
_CARD = re.compile(r"^([a-z_]+\.[a-z_]+):(\d{1,18})$")


def _record(request, kind: str, pk: int, action: str = Action.VIEW) -> models.Model:
    """A record a touch may be bound to, through the gate: one the user may not reach is a 404."""
    try:
        model = apps.get_model(kind)
    except (LookupError, ValueError) as exc:
        raise Http404 from exc
    if not bindable(model):
        raise Http404
    return access.get_or_404(request.user, model.objects.all(), action, pk=pk)


def _card(request) -> models.Model | None:
    """The card the dialog was opened from (`card=<kind>:<pk>`), to refresh its panel; None
    from another page, or for a value that names no record the user sees."""
    match = _CARD.match(request.POST.get("card") or request.GET.get("card") or "")
    if not match:
        return None
    try:
        return _record(request, match.group(1), int(match.group(2)))
    except Http404:
        return None


def _messages(exc: Exception) -> list[str]:
    if isinstance(exc, ValidationError):
        return exc.messages
    return [str(exc)]


def _done(request, card: models.Model | None, fallback: models.Model | None, message: str):
    """The answer to a done POST (see the module's docstring)."""
    if not request.htmx:
        messages.success(request, message)
        target = card or fallback
        return safe_next(request, target.get_absolute_url() if target is not None else "/")
    body = ""
    if card is not None:
        panel = render_to_string("tasks_app/_touch_panel.html", {"panel": {"context": panel_context(request.user, card)},
                                                                 "oob": True}, request=request)
        timeline = render_to_string("crm/_timeline.html", timeline_context(request, card), request=request)
        # The partial's root is the card's #timeline: swapped in place, out of band.
        body = panel + timeline.replace('<div id="timeline"', '<div id="timeline" hx-swap-oob="true"', 1)
    response = HttpResponse(body)
    response["HX-Reswap"] = "none"
    response["HX-Trigger"] = json.dumps({"crm:close-modal": None, EVENT: {"message": message}})
    return response


def touch_plan(request, kind: str, pk: int):
    record = _record(request, kind, pk)
    if not access.can(request.user, Action.CHANGE, record) or not access.can_add(request.user, Task):
        raise PermissionDenied(_("Планировать дела может тот, кто вправе изменять запись."))
    card = _card(request)
    form = TouchPlanForm(request.POST if request.method == "POST" else None, record=record)
    if form.is_bound and form.is_valid():
        try:
            task = services.task_create(data=form.task_data(), by=request.user, records=[record])
        except (ValidationError, PermissionDenied, services.TaskError) as exc:
            for text in _messages(exc):
                form.add_error(None, text)
        else:
            return _done(request, card, record, _("Запланировано: %(kind)s «%(title)s».")
                         % {"title": task.title, "kind": task.get_kind_display().lower()})
    context = {"form": form, "record": record, "card": request.POST.get("card") or request.GET.get("card") or "",
               "kind": kind}
    return dialogs.dialog(request, "tasks_app/_touch_plan.html", context, record=record)


def _may_complete(task: Task, user) -> bool:
    return "complete" in services.available_transitions(task, user)


def touch_complete(request, pk: int):
    task = access.get_or_404(request.user, Task.objects.select_related("responsible"), Action.VIEW, pk=pk)
    card = _card(request)
    records = [r for r in services.bound_records(task) if access.can(request.user, Action.VIEW, r)]
    heading = card or (records[0] if records else task)
    if not task.is_active or not _may_complete(task, request.user):
        message = (_("Дело уже выполнено или отложено: обновите страницу.") if not task.is_active
                   else _("Завершить это дело может его ответственный, постановщик или руководитель."))
        return dialogs.refused(request, heading, message, title=_("Дело не завершено"))
    form = TouchCompleteForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        nxt = form.next_data()
        try:
            # One transaction: the next touch is not planned if the completion fails, and the
            # completion is not kept if the next touch cannot be planned (the dialog says why).
            with transaction.atomic():
                services.task_transition(task, "complete", by=request.user, result=form.cleaned_data["result"])
                if nxt is not None:
                    responsible = task.responsible if task.responsible.is_active else request.user
                    services.task_create(data={**nxt, "responsible": responsible}, by=request.user, records=records)
        except (ValidationError, PermissionDenied, services.TaskError) as exc:
            for text in _messages(exc):
                form.add_error(None, text)
        else:
            message = _("Дело «%(title)s» выполнено.") % {"title": task.title}
            if nxt is not None:
                message += " " + _("Следующее запланировано: %(title)s.") % {"title": nxt["title"]}
            return _done(request, card, records[0] if records else None, message)
    context = {"form": form, "task": task, "records": records,
               "card": request.POST.get("card") or request.GET.get("card") or ""}
    return dialogs.dialog(request, "tasks_app/_touch_complete.html", context, record=heading)
