"""The task pages («Задачи»): «Мои задачи» by role, the task card with its transitions and
checklist, the create/edit forms (the create form also as a dialog), and the deadline board
(«По срокам»). Views parse and render; every lookup starts in tasks_app.selectors, every change
goes through tasks_app.services, whose refusals are shown in Russian."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from accounts import access
from accounts.models import Action
from crm import cards, deletion, dialogs, lists
from crm.redirects import safe_next_url
from crm.timeline_views import timeline_context

from . import selectors, services
from .filters import SORTING, TaskFilter, sees_department
from .forms import BoardFilterForm, ChecklistAddForm, TaskForm, TickForm, TransitionForm, binding_value, chosen_records
from .models import ACTIVE, ChecklistItem, Status, Task

PER_PAGE = 50

STATUS_BADGES = {
    Status.PENDING: "text-bg-secondary",
    Status.IN_PROGRESS: "text-bg-primary",
    Status.AWAITING_CONTROL: "text-bg-warning",
    Status.COMPLETED: "text-bg-success",
    Status.DEFERRED: "text-bg-light border",
}

COLUMNS = [
    ("title", gettext_lazy("Задача"), ""),
    ("deadline", gettext_lazy("Крайний срок"), "text-nowrap"),
    ("status", gettext_lazy("Статус"), ""),
    ("responsible", gettext_lazy("Ответственный"), "d-none d-sm-table-cell"),
    (None, gettext_lazy("Чек-лист"), "d-none d-md-table-cell text-nowrap"),
    (None, gettext_lazy("Привязки"), "d-none d-lg-table-cell"),
]

# The refusals a service gives, shown to the user as they are (Russian).
REFUSALS = (services.TaskError, PermissionDenied, ValidationError)


def refusal_text(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc) or _("Действие недоступно.")


def _task(request: HttpRequest, pk: int) -> Task:
    """A task the user may see; anything else is «not found», so ids cannot be probed."""
    return get_object_or_404(selectors.visible(request.user), pk=pk)


def decorate(task: Task, now: datetime) -> Task:
    task.status_badge = STATUS_BADGES.get(task.status, "text-bg-light")
    task.overdue = task.status in ACTIVE and task.deadline is not None and task.deadline < now
    return task


# --- «Мои задачи» ---

@require_GET
def task_list(request: HttpRequest) -> HttpResponse:
    filterset = TaskFilter(request.GET or None, request=request)
    sort = SORTING.parse(request.GET.get("sort"))
    page = lists.page_of_ids(request, SORTING.apply(filterset.qs, sort), PER_PAGE)
    now = timezone.now()
    tasks = [decorate(t, now) for t in lists.rows_of(selectors.with_progress(selectors.visible(request.user)), page)]
    bindings = selectors.visible_bindings(request.user, [t.pk for t in tasks])
    for task in tasks:
        task.records = bindings.get(task.pk, [])
    form = filterset.form
    select_fields = [form["status"], form["important"]]
    if filterset.department:
        select_fields.insert(1, form["responsible"])
    return render(request, "tasks_app/task_list.html", {
        **lists.list_context(filterset, page, SORTING, sort, COLUMNS),
        "tasks": tasks,
        "tabs": filterset.tabs(),
        "role": filterset.role,
        "select_fields": select_fields,
        "range_fields": [form["deadline"]],
        "filtering": lists.filtering(request),
    })


@require_GET
def menu_counters(request: HttpRequest) -> HttpResponse:
    """The menu's badges on «Задачи» and «Мой день» (overdue, due today), fetched by htmx after
    the page: one query, paid by no page."""
    return render(request, "includes/menu_counters.html", {"counters": selectors.counters(request.user)})


# --- Create and edit ---

def _form_context(form: TaskForm, task: Task | None) -> dict:
    records = getattr(form, "records", [])
    # The create form's chosen records, as chips with hidden `bind` inputs (views_bindings.bind_chips).
    return {"form": form, "task": task, "chosen": [(r._meta.verbose_name, binding_value(r), r) for r in records]}


def task_create(request: HttpRequest) -> HttpResponse:
    """«Новая задача»: a page, or the shared modal for htmx. `?bind=leads.lead:5` (repeatable)
    binds the new task to records the user may see (from a card)."""
    if not access.can_add(request.user, Task):
        raise PermissionDenied(_("Нет прав на создание задач."))
    initial = {"responsible": request.user.pk, "bind": request.GET.getlist("bind")}
    form = TaskForm(request.POST if request.method == "POST" else None, user=request.user, initial=initial)
    if request.method == "GET" and initial["bind"]:
        form.records, errors = chosen_records(request.user, initial["bind"])
        for error in errors:
            messages.error(request, error)
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        try:
            task = services.task_create(
                data=form.task_data(), by=request.user, coexecutors=data["coexecutors"],
                observers=data["observers"], records=form.records, checklist=data["checklist"])
        except REFUSALS as exc:
            form.add_error(None, refusal_text(exc))
        else:
            text = _("Задача «%(title)s» создана.") % {"title": task.title}
            messages.success(request, text)
            url = safe_next_url(request, task.get_absolute_url())
            if request.htmx:
                response = HttpResponse(status=204)
                response["HX-Redirect"] = url
                return response
            return redirect(url)
    context = {**_form_context(form, None), "next": request.POST.get("next") or request.GET.get("next", "")}
    if request.htmx:
        response = render(request, "tasks_app/_task_dialog.html", context)
        response["HX-Retarget"] = "#crm-modal-content"
        response["HX-Reswap"] = "innerHTML"
        return response
    return render(request, "tasks_app/task_form.html", context)


def task_edit(request: HttpRequest, pk: int) -> HttpResponse:
    task = _task(request, pk)
    if not services.can_edit(task, request.user):
        messages.error(request, _("Изменять задачу может постановщик или руководитель ответственного."))
        return redirect(task)
    form = TaskForm(request.POST if request.method == "POST" else None, user=request.user, task=task)
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        try:
            services.task_update(task, data=form.task_data(), by=request.user, version=data["version"],
                                 coexecutors=data["coexecutors"], observers=data["observers"])
        except REFUSALS as exc:
            form.add_error(None, refusal_text(exc))
        else:
            messages.success(request, _("Изменения сохранены."))
            return redirect(task)
    return render(request, "tasks_app/task_form.html", _form_context(form, task))


@require_POST
def task_delete(request: HttpRequest, pk: int) -> HttpResponse:
    task = _task(request, pk)
    title = task.title
    try:
        services.task_delete(task, by=request.user)
    except (*REFUSALS, deletion.DeletionRefused) as exc:
        messages.error(request, refusal_text(exc))
        return redirect(task)
    messages.success(request, _("Задача «%(title)s» удалена.") % {"title": title})
    return redirect("tasks:list")


# --- The card ---

def _card_context(request: HttpRequest, task: Task, **extra) -> dict:
    user = request.user
    mine = services.roles(task, user)
    decorate(task, timezone.now())
    items = list(task.checklist.all())
    done = sum(1 for i in items if i.is_done)
    transitions = [(name, _(services.TRANSITION_LABELS[name])) for name in services.available_transitions(task, user)]
    return {
        **timeline_context(request, task),
        "task": task,
        "transitions": transitions,
        "can_edit": bool(mine & services.EDIT),
        "can_delete": access.can(user, Action.DELETE, task),
        "can_tick": bool(mine & services.CHECKLIST_TICK),
        "can_edit_checklist": bool(mine & services.CHECKLIST_EDIT),
        "items": items,
        "done": done,
        "percent": round(100 * done / len(items)) if items else 0,
        "coexecutors": list(task.coexecutors.all()),
        "observers": list(task.observers.all()),
        **bindings_context(user, task),
        "add_form": ChecklistAddForm(),
        **extra,
    }


def bindings_context(user, task: Task) -> dict:
    """The card's «Привязки» block: (kind, «leads.lead:5», record) for each record `user` may see,
    and the number of those he may not."""
    records, hidden = selectors.card_bindings(user, task)
    return {"bindings": [(r._meta.verbose_name, binding_value(r), r) for r in records], "hidden_bindings": hidden}


@require_GET
def task_detail(request: HttpRequest, pk: int) -> HttpResponse:
    task = _task(request, pk)
    # What other apps show on the card (crm.cards: the disk's «Файлы»); the page only, not its partials.
    panels = cards.panels_for(request.user, task)
    return render(request, "tasks_app/task_detail.html", {**_card_context(request, task), "panels": panels})


@require_POST
def task_transition(request: HttpRequest, pk: int) -> HttpResponse:
    task = _task(request, pk)
    form = TransitionForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(e for errs in form.errors.values() for e in errs))
        return redirect(task)
    name = form.cleaned_data["name"]
    try:
        task = services.task_transition(task, name, by=request.user, result=form.cleaned_data["result"])
    except REFUSALS as exc:
        messages.error(request, refusal_text(exc))
    else:
        messages.success(request, _("Готово: «%(action)s». Статус задачи: «%(status)s».")
                         % {"action": _(services.TRANSITION_LABELS[name]), "status": task.get_status_display()})
    return redirect(task)


# --- The checklist (htmx: the card's checklist block is answered; a plain POST goes back to the card) ---

def _checklist_answer(request: HttpRequest, task: Task, error: str = "") -> HttpResponse:
    if not request.htmx:
        if error:
            messages.error(request, error)
        return redirect(task)
    task = _task(request, task.pk)
    return render(request, "tasks_app/_task_checklist.html", _card_context(request, task, checklist_error=error))


@require_POST
def checklist_add(request: HttpRequest, pk: int) -> HttpResponse:
    task = _task(request, pk)
    form = ChecklistAddForm(request.POST)
    if not form.is_valid():
        return _checklist_answer(request, task, " ".join(e for errs in form.errors.values() for e in errs))
    try:
        services.checklist_add(task, [form.cleaned_data["text"]], by=request.user)
    except REFUSALS as exc:
        return _checklist_answer(request, task, refusal_text(exc))
    return _checklist_answer(request, task)


def _item(task: Task, item: int) -> ChecklistItem:
    return get_object_or_404(ChecklistItem, pk=item, task=task)


@require_POST
def checklist_tick(request: HttpRequest, pk: int, item: int) -> HttpResponse:
    task = _task(request, pk)
    entry = _item(task, item)
    form = TickForm(request.POST)
    form.is_valid()  # a missing or odd value is «not done»
    try:
        services.checklist_tick(entry, form.cleaned_data.get("done", False), by=request.user)
    except REFUSALS as exc:
        return _checklist_answer(request, task, refusal_text(exc))
    return _checklist_answer(request, task)


@require_POST
def checklist_delete(request: HttpRequest, pk: int, item: int) -> HttpResponse:
    task = _task(request, pk)
    entry = _item(task, item)
    try:
        services.checklist_delete(entry, by=request.user)
    except REFUSALS as exc:
        return _checklist_answer(request, task, refusal_text(exc))
    return _checklist_answer(request, task)


# --- The deadline board («По срокам») ---

OVERDUE, TODAY, WEEK, NEXT_WEEK, LATER, NONE = "overdue", "today", "week", "next_week", "later", "none"
BOARD_COLUMNS = [
    (OVERDUE, gettext_lazy("Просрочены")),
    (TODAY, gettext_lazy("На сегодня")),
    (WEEK, gettext_lazy("На этой неделе")),
    (NEXT_WEEK, gettext_lazy("На следующей неделе")),
    (LATER, gettext_lazy("Позже")),
    (NONE, gettext_lazy("Без срока")),
]
PER_COLUMN = 50
END_OF_DAY = time(18, 0)


def _bounds(now: datetime) -> dict[str, datetime]:
    """The columns' borders in the site's time zone: tomorrow, next Monday, the Monday after."""
    _start, tomorrow = selectors.day_bounds(now)
    monday = tomorrow - timedelta(days=tomorrow.weekday() or 7) + timedelta(days=7)
    monday = timezone.make_aware(datetime.combine(monday.date(), time.min))
    after = timezone.make_aware(datetime.combine((monday + timedelta(days=7)).date(), time.min))
    return {"tomorrow": tomorrow, "monday": monday, "after": after}


def column_of(deadline: datetime | None, now: datetime) -> str:
    if deadline is None:
        return NONE
    b = _bounds(now)
    if deadline < now:
        return OVERDUE
    if deadline < b["tomorrow"]:
        return TODAY
    if deadline < b["monday"]:
        return WEEK
    if deadline < b["after"]:
        return NEXT_WEEK
    return LATER


def _conditions(now: datetime) -> dict:
    b = _bounds(now)
    return {
        OVERDUE: Q(deadline__lt=now),
        TODAY: Q(deadline__gte=now, deadline__lt=b["tomorrow"]),
        WEEK: Q(deadline__gte=max(now, b["tomorrow"]), deadline__lt=b["monday"]),
        NEXT_WEEK: Q(deadline__gte=b["monday"], deadline__lt=b["after"]),
        LATER: Q(deadline__gte=b["after"]),
        NONE: Q(deadline__isnull=True),
    }


def deadline_for(column: str, now: datetime) -> datetime | None:
    """Where a card dropped on `column` gets its deadline: today at 18:00 (23:59 once 18:00 has
    passed), this week's Sunday 18:00, next week's Sunday, the Sunday after, or none. Always in
    the future: a drop never makes a task overdue."""
    local = timezone.localtime(now)
    b = _bounds(now)
    if column == TODAY:
        at = timezone.make_aware(datetime.combine(local.date(), END_OF_DAY))
        return at if at > now else timezone.make_aware(datetime.combine(local.date(), time(23, 59)))
    if column == WEEK:
        sunday = timezone.make_aware(datetime.combine((b["monday"] - timedelta(days=1)).date(), END_OF_DAY))
        # On a Sunday evening the week has no time left: the end of today is its end.
        return sunday if sunday > now else deadline_for(TODAY, now)
    if column == NEXT_WEEK:
        return timezone.make_aware(datetime.combine((b["after"] - timedelta(days=1)).date(), END_OF_DAY))
    if column == LATER:
        return timezone.make_aware(datetime.combine((b["after"] + timedelta(days=6)).date(), END_OF_DAY))
    return None


def _board_user(request: HttpRequest):
    """Whose board: the user's own, or (a head) one of his people's; a bad choice is reported."""
    owners = lists.Owners(request.user, access.level(request.user, Task.access_entity, Action.VIEW))
    form = BoardFilterForm(request.GET or None, choices=owners.user_choices())
    if form.is_bound and form.is_valid() and form.cleaned_data["responsible"] is not None:
        return form, form.cleaned_data["responsible"]
    return form, request.user


def _cards(user, responsible, now: datetime):
    tasks = selectors.visible(user).filter(responsible=responsible, status__in=ACTIVE)
    conditions = _conditions(now)
    counts = tasks.aggregate(**{key: Count("pk", filter=cond) for key, cond in conditions.items()})
    columns = []
    for key, label in BOARD_COLUMNS:
        cards = list(selectors.with_progress(tasks.filter(conditions[key]))
                     .order_by("deadline", "pk")[:PER_COLUMN])
        columns.append({"key": key, "label": label, "count": counts[key],
                        "cards": [_card(t, key) for t in cards], "more": max(counts[key] - len(cards), 0)})
    return columns


def _card(task: Task, column: str) -> Task:
    task.column = column
    # board.js keeps a column's cards ordered by a key, biggest first: earliest deadline first here.
    stamp = int(task.deadline.timestamp()) if task.deadline else 0
    task.board_key = f"{-stamp}_{-task.pk}"
    task.deadline_shown = (formats.date_format(timezone.localtime(task.deadline), "SHORT_DATETIME_FORMAT")
                           if task.deadline else "")
    return task


@require_GET
def board(request: HttpRequest) -> HttpResponse:
    form, responsible = _board_user(request)
    now = timezone.now()
    return render(request, "tasks_app/task_board.html", {
        "form": form, "responsible": responsible, "columns": _cards(request.user, responsible, now),
        "department": sees_department(request.user),
        "counts_url": reverse("tasks:board_counts") + (f"?responsible={responsible.pk}"
                                                       if responsible != request.user else ""),
        "move_columns": [(k, label) for k, label in BOARD_COLUMNS if k != OVERDUE],
    })


@require_GET
def board_counts(request: HttpRequest) -> HttpResponse:
    """The columns' counts after a move (out-of-band swaps, board.js «totals»)."""
    _form, responsible = _board_user(request)
    now = timezone.now()
    tasks = selectors.visible(request.user).filter(responsible=responsible, status__in=ACTIVE)
    counts = tasks.aggregate(**{key: Count("pk", filter=cond) for key, cond in _conditions(now).items()})
    return render(request, "tasks_app/_task_board_counts.html", {"counts": counts})


@require_POST
def board_move(request: HttpRequest, pk: int) -> HttpResponse:
    """A card dropped on a column: its deadline becomes that column's (deadline_for), through
    task_set_deadline; a refusal (not the creator, not his head) is shown and the card stays."""
    task = _task(request, pk)
    now = timezone.now()
    to = request.POST.get("to", "")
    source = column_of(task.deadline, now) if task.status in ACTIVE else ""
    title = _("Срок не изменён")
    if to == OVERDUE:
        return dialogs.refused(request, task, _("В «Просрочены» задачу не переносят: выберите новый срок."),
                               title=title)
    if to not in dict(BOARD_COLUMNS):
        return dialogs.refused(request, task, _("Неизвестная колонка «%(to)s».") % {"to": to[:50]}, title=title)
    try:
        task = services.task_set_deadline(task, deadline_for(to, now), by=request.user)
    except REFUSALS as exc:
        return dialogs.refused(request, task, refusal_text(exc), title=title)
    landed = column_of(task.deadline, now)
    shown = (formats.date_format(timezone.localtime(task.deadline), "SHORT_DATETIME_FORMAT")
             if task.deadline else _("без срока"))
    text = _("Задача «%(title)s»: крайний срок — %(deadline)s.") % {"title": task.title, "deadline": shown}
    card = render_to_string("tasks_app/_task_board_card.html",
                            {"task": _card(selectors.with_progress(selectors.visible(request.user))
                                           .get(pk=task.pk), landed)}, request=request)
    return dialogs.moved(request, task, event="task-deadline-moved", source=source, to=landed, message=text,
                         extra={"card": card})

