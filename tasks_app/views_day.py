"""«Мой день», the home page: the user's overdue and today's tasks and touches, his meetings of
today, new leads and records in work with nothing planned; a head of sales switches to «Отдел»,
the same counted per manager of his department, and opens a manager's day from there.

The sections refresh themselves (htmx) when a touch is completed in the dialog
(`touchesChanged`, sent by tasks:touch_complete) or a task by «Завершить» here."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from accounts import access
from crm import day as crm_day

from . import selectors, selectors_day, services
from .services import TaskError

MINE, TEAM = "mine", "team"
REFRESH_EVENT = "touchesChanged"


class DayForm(forms.Form):
    """The page's parameters: «Мой» or «Отдел» (a head only) and a manager of the head's team."""

    view = forms.ChoiceField(choices=[(MINE, gettext_lazy("Мой")), (TEAM, gettext_lazy("Отдел"))], required=False)
    manager = forms.IntegerField(required=False, min_value=1, max_value=2**31 - 1)

    def __init__(self, *args, members, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.members, self.user = {m.pk: m for m in members}, user

    def clean_view(self):
        view = self.cleaned_data.get("view") or MINE
        if view == TEAM and not self.members:
            raise ValidationError(_("Сводка по отделу доступна руководителю отдела."))
        return view

    def clean_manager(self):
        pk = self.cleaned_data.get("manager")
        if pk is None or pk == self.user.pk:
            return None
        if pk not in self.members:
            raise ValidationError(_("Такого сотрудника нет в вашем отделе."))
        return self.members[pk]


@require_GET
def day(request):
    user = request.user
    members = selectors_day.team_members(user)
    form = DayForm(request.GET, members=members, user=user)
    if form.is_valid():
        view, manager = form.cleaned_data["view"], form.cleaned_data["manager"]
    else:
        view, manager = MINE, None
    person = manager or user
    context = {
        "errors": [e for errors in form.errors.values() for e in errors],
        "is_head": bool(members),
        "view": view,
        "person": person,
        "own": person == user,
        "now": timezone.now(),
    }
    if view == TEAM:
        context["team"] = selectors_day.team_day(user, members)
    else:
        context["day"] = _with_links(selectors_day.person_day(user, person), own=person == user)
    if request.htmx and request.htmx.target == "day-sections":
        return render(request, "tasks_app/_day_sections.html", context)
    # What other apps show on the page (crm.day.register_panel: the head's analytics figures), by htmx.
    context["panels"] = crm_day.panels(user)
    return render(request, "tasks_app/day.html", context)


@require_POST
def day_complete(request, pk: int):
    """«Завершить» on a task of «Мой день» (a touch bound to a record opens the touch dialog
    instead, which asks for the next one). With htmx the sections refresh on the event; a
    refusal comes back as the sections with the message on top."""
    task = access.get_or_404(request.user, selectors.visible(request.user), pk=pk)
    try:
        services.task_transition(task, "complete", by=request.user)
    except (TaskError, PermissionDenied) as exc:
        message = str(exc) or _("Завершить задачу нельзя.")
        if request.htmx:
            return _refused(request, message)
        messages.error(request, message)
    else:
        if request.htmx:
            return HttpResponse(status=204, headers={"HX-Trigger": REFRESH_EVENT})
        messages.success(request, _("Задача «%(title)s» завершена.") % {"title": task.title})
    return redirect("tasks:day")


def _refused(request, message: str):
    """The sections of one's own day with the refusal on top (a «Завершить» by htmx)."""
    context = {"view": MINE, "person": request.user, "own": True, "now": timezone.now(),
               "is_head": selectors_day.is_head(request.user), "errors": [message],
               "day": _with_links(selectors_day.person_day(request.user, request.user), own=True)}
    return render(request, "tasks_app/_day_sections.html", context)


SENTINEL = 987654321


def _pk_url(make_url):
    """`pk -> url` built by `make_url(pk)` once for a sentinel pk and formatted after: reversing a
    URL costs ~0.1 ms, and «Мой день» shows ~100 links (BENCHMARKS.md)."""
    sample = make_url(SENTINEL)
    if sample.count(str(SENTINEL)) != 1:
        return make_url
    head, tail = sample.split(str(SENTINEL))
    return lambda pk: f"{head}{pk}{tail}"


def _named(name: str):
    return _pk_url(lambda pk: reverse(name, args=[pk]))


def _with_links(day: selectors_day.PersonDay, *, own: bool) -> selectors_day.PersonDay:
    """Each row's links, set here once rather than looked up by the template per row: a task's
    `url` opens its record (a touch) or its card; «Завершить» opens the touch dialog
    (`dialog_url`, which asks for the next touch) or posts to tasks:day_complete (`complete_url`)
    — on one's own day only; each record's `url` opens its card."""
    detail, dialog, complete = _named("tasks:detail"), _named("tasks:touch_complete"), _named("tasks:day_complete")
    tasks = {id(t): t for t in day.overdue + day.today + day.meetings}.values()
    records = [r for t in tasks for r in t.records] + [r for g in day.new + day.unplanned for r in g.items]
    by_model: dict = {}
    for record in records:
        model = type(record)
        if model not in by_model:
            by_model[model] = _pk_url(lambda pk, model=model: model(pk=pk).get_absolute_url())
        record.url = by_model[model](record.pk)
    for task in day.control:
        task.url = detail(task.pk)
    for task in tasks:
        task.url = task.records[0].url if task.records else detail(task.pk)
        task.dialog_url = task.complete_url = ""
        if own and task.is_touch:
            task.dialog_url = dialog(task.pk)
        elif own:
            task.complete_url = complete(task.pk)
    return day
