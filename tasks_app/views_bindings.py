"""«Привязки» of a task: bind it to leads, deals, companies and contacts from its card, or choose
them in the create form («Привязать к записи»). The search runs through crm.search, whose finders
the apps owning the records register (their selectors, the access gate applied), so this app never
imports leads or deals; binding goes through tasks_app.services (the creator or a supervisor)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts import access
from crm import search

from . import selectors, services
from .forms import BINDABLE, SEARCH_LIMIT, BindRecordForm, BindSearchForm, binding_value, chosen_records
from .models import Task
from .views_tasks import REFUSALS, _task, bindings_context, refusal_text


def _matches(request: HttpRequest, exclude: list[tuple[str, int]]) -> dict:
    """The search box's answer: (kind, «leads.lead:5», record) for up to SEARCH_LIMIT records the
    user may see, those in `exclude` («leads.lead», 5) left out; a message for a short or bad query."""
    form = BindSearchForm(request.GET if request.method == "GET" else request.POST)
    query = form.query()
    found = search.find(request.user, query, limit=SEARCH_LIMIT, labels=BINDABLE, exclude=exclude) if query else []
    return {"matches": [(r._meta.verbose_name, binding_value(r), r) for r in found],
            "searched": bool(query), "search_message": form.message()}


def _pairs(records: list) -> list[tuple[str, int]]:
    return [(r._meta.label_lower, r.pk) for r in records]


# --- The card ---

def _card_block(request: HttpRequest, task: Task, error: str = "") -> HttpResponse:
    """The «Привязки» list again (htmx), with the search's matches refreshed out of band: what was
    just bound leaves them, what was unbound may return. A plain POST goes back to the card."""
    if not request.htmx:
        if error:
            messages.error(request, error)
        return redirect(task)
    task = _task(request, task.pk)
    can_edit = services.can_edit(task, request.user)
    context = {"task": task, "can_edit": can_edit, "bind_error": error, "oob": can_edit,
               **bindings_context(request.user, task)}
    if can_edit:
        context.update(_matches(request, selectors.bound_pairs(task)))
    return render(request, "tasks_app/_task_bindings_list.html", context)


def _editable(request: HttpRequest, pk: int) -> Task:
    task = _task(request, pk)
    if not services.can_edit(task, request.user):
        raise PermissionDenied(_("Привязки задачи меняет постановщик."))
    return task


@require_GET
def task_bind_search(request: HttpRequest, pk: int) -> HttpResponse:
    """«+ Привязать»: records matching ?q= that the user may see and the task is not bound to."""
    task = _editable(request, pk)
    return render(request, "tasks_app/_bind_results.html",
                  {"task": task, "mode": "card", **_matches(request, selectors.bound_pairs(task))})


@require_POST
def task_bind(request: HttpRequest, pk: int) -> HttpResponse:
    task = _task(request, pk)
    form = BindRecordForm(request.POST, user=request.user)
    if not form.is_valid():
        return _card_block(request, task, " ".join(e for errs in form.errors.values() for e in errs))
    try:
        services.task_bind(task, [form.cleaned_data["record"]], by=request.user)
    except REFUSALS as exc:
        return _card_block(request, task, refusal_text(exc))
    return _card_block(request, task)


@require_POST
def task_unbind(request: HttpRequest, pk: int) -> HttpResponse:
    task = _task(request, pk)
    form = BindRecordForm(request.POST, user=request.user)
    if not form.is_valid():
        return _card_block(request, task, " ".join(e for errs in form.errors.values() for e in errs))
    try:
        services.task_unbind(task, form.cleaned_data["record"], by=request.user)
    except REFUSALS as exc:
        return _card_block(request, task, refusal_text(exc))
    return _card_block(request, task)


# --- The create form: the chosen records are hidden `bind` inputs, shown as chips ---

def _may_create(request: HttpRequest) -> None:
    if not access.can_add(request.user, Task):
        raise PermissionDenied(_("Нет прав на создание задач."))


@require_GET
def bind_search(request: HttpRequest) -> HttpResponse:
    """The create form's search: records matching ?q= the user may see, not yet chosen (?bind=)."""
    _may_create(request)
    chosen, _errors = chosen_records(request.user, request.GET.getlist("bind"))
    return render(request, "tasks_app/_bind_results.html", {"mode": "pick", **_matches(request, _pairs(chosen))})


@require_GET
def bind_chips(request: HttpRequest) -> HttpResponse:
    """The create form's chosen records after a match is picked (?add=) or a chip removed
    (?remove=): each checked again against the user's access, the search's matches refreshed."""
    _may_create(request)
    values = [v for v in request.GET.getlist("bind") if v != request.GET.get("remove")]
    if request.GET.get("add"):
        values.append(request.GET["add"])
    chosen, errors = chosen_records(request.user, values)
    return render(request, "tasks_app/_task_bind_chips.html", {
        "chosen": [(r._meta.verbose_name, binding_value(r), r) for r in chosen], "chip_errors": errors,
        "oob": True, "mode": "pick", **_matches(request, _pairs(chosen))})

