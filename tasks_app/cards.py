"""The «Дела» panel of lead, deal, company and contact cards (registered into crm.cards when
the app is ready): the record's tasks and touches the user may see, the active ones first with
their kind and deadline (overdue in red), the done ones folded; «Запланировать» and «Завершить»
open the dialogs of tasks_app.views_touches."""

from __future__ import annotations

from datetime import datetime

from django.db import models
from django.urls import reverse

from accounts import access
from accounts.models import Action
from crm.cards import Panel, register

from . import selectors
from .models import Kind, Task
from .services import BINDABLE

DONE_SHOWN = 20  # the done ones are history: the timeline keeps them all
ONE_QUERY = 100  # bound tasks read in one query (more: the done ones are capped by the database)
NO_DATE = datetime.min
# Glyphs every system font has (an emoji may show as a box on a server-side browser or an old phone).
ICONS = {Kind.CALL: "☎", Kind.MEETING: "◎", Kind.TASK: "✔"}


def bindable(model) -> bool:
    """A kind of record a touch may be bound to (the services' rule). The profile's panels are
    asked about a user, too: anything without a model's meta is not bindable."""
    meta = getattr(model, "_meta", None)
    return meta is not None and meta.label_lower in BINDABLE


def _may_complete(task: Task, user) -> bool:
    # The roles that may complete (services.ALLOWED["complete"]), without the per-task queries
    # of services.roles: the panel lists several tasks. The dialog asks the service itself.
    return task.is_active and (user.pk in (task.responsible_id, task.creator_id)
                               or access.can(user, Action.CHANGE, task))


def panel_context(user, record: models.Model) -> dict:
    """What the panel shows. The record's bound task ids first, a small query: most records have
    none, and then the tasks are not asked for at all — a tasks query costs more to build (its
    access condition, in Python) than to run. Up to ONE_QUERY bound tasks come in one query, split
    here into the active and the done; more in two (the done ones capped at DONE_SHOWN by the
    database). The access levels are cached on the user."""
    ids = selectors.bound_task_ids(record)
    if not ids:
        active, done = [], []
    elif len(ids) <= ONE_QUERY:
        tasks = list(selectors.record_tasks(user, record, ids))
        active = [t for t in tasks if not t.done]
        # As the database would order them (-completed_at, -pk; PostgreSQL puts no date first).
        done = sorted((t for t in tasks if t.done), reverse=True,
                      key=lambda t: (t.completed_at is None, t.completed_at or NO_DATE, t.pk))[:DONE_SHOWN]
    else:
        tasks = selectors.record_tasks(user, record, ids)
        active = list(tasks.filter(done=0))
        done = list(tasks.filter(done=1).order_by("-completed_at", "-pk")[:DONE_SHOWN])
    card = f"{record._meta.label_lower}:{record.pk}"
    for task in active:
        task.icon = ICONS.get(task.kind, ICONS[Kind.TASK])
        task.may_complete = _may_complete(task, user)
        task.complete_url = reverse("tasks:touch_complete", args=[task.pk]) + f"?card={card}"
    for task in done:
        task.icon = ICONS.get(task.kind, ICONS[Kind.TASK])
    can_plan = access.can(user, Action.CHANGE, record) and access.can_add(user, Task)
    return {
        "record": record,
        "active": active,
        "done": done,
        "card": card,
        "can_plan": can_plan,
        "plan_url": reverse("tasks:touch_plan", args=[record._meta.label_lower, record.pk]) + f"?card={card}",
    }


@register
def touches_panel(user, record) -> Panel | None:
    if not bindable(type(record)):
        return None
    return Panel("tasks_app/_touch_panel.html", panel_context(user, record), order=5)
