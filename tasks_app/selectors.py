"""The only readers of tasks. Every page, partial and badge starts here, from the access gate
(participants see their tasks; a level covering the responsible's department sees his)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Exists, Min, OuterRef, Q, QuerySet
from django.utils import timezone

from accounts import access
from accounts.models import Action, Level

from .models import ACTIVE, Binding, Task

# «Мои задачи» by role, as Bitrix24 names them.
ROLE_DOING, ROLE_HELPING, ROLE_WATCHING, ROLE_ASSIGNED = "doing", "helping", "watching", "assigned"
ROLES = (ROLE_DOING, ROLE_HELPING, ROLE_WATCHING, ROLE_ASSIGNED)


def visible(user, action: str = Action.VIEW) -> QuerySet[Task]:
    return access.scope(user, Task.objects.select_related("responsible", "creator"), action)


def by_role(user, role: str) -> QuerySet[Task]:
    """The user's tasks in one role: делаю (responsible), помогаю (co-executor), наблюдаю
    (observer), поручил (created for someone else)."""
    tasks = visible(user)
    if role == ROLE_DOING:
        return tasks.filter(responsible=user)
    if role == ROLE_HELPING:
        return tasks.filter(coexecutors=user)
    if role == ROLE_WATCHING:
        return tasks.filter(observers=user)
    if role == ROLE_ASSIGNED:
        return tasks.filter(creator=user).exclude(responsible=user)
    raise ValueError(role)


def day_bounds(now: datetime | None = None) -> tuple[datetime, datetime]:
    """Today's start and tomorrow's start in the site's time zone."""
    now = timezone.localtime(now or timezone.now())
    start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + timedelta(days=1)


def counters(user) -> dict[str, int]:
    """The menu's counters: the user's active tasks and touches overdue and due today. One query."""
    now = timezone.now()
    _, tomorrow = day_bounds(now)
    mine = Task.objects.filter(responsible=user, status__in=ACTIVE, deadline__lt=tomorrow)
    return mine.aggregate(overdue=models.Count("pk", filter=Q(deadline__lt=now)),
                          today=models.Count("pk", filter=Q(deadline__gte=now)))


def _bound_to(model: type[models.Model]) -> QuerySet[Binding]:
    return Binding.objects.filter(content_type=ContentType.objects.get_for_model(model))


def next_touches(model: type[models.Model], ids: list[int]) -> dict[int, datetime]:
    """Each record's earliest active touch deadline (records with none are absent). One query
    for a page of cards, whatever the number of tasks."""
    if not ids:
        return {}
    rows = (_bound_to(model).filter(object_id__in=ids, task__status__in=ACTIVE, task__deadline__isnull=False)
            .values("object_id").annotate(first=Min("task__deadline")))
    return {row["object_id"]: row["first"] for row in rows}


def planned_condition(model: type[models.Model]) -> Q:
    """For filtering a record queryset: «has an active touch with a date», as the badges count it
    (`next_touches`). `~planned_condition(Lead)` is «без запланированных дел».

    A record that keeps the date of its next touch (`touch_date_field`: the lead's «Дата
    следующего касания», kept by services.sync_touch_dates) answers from its own row — and an
    index on (responsible, status, that date) — instead of asking the bindings record by record:
    «Без запланированных дел» over a department's 30,000 leads cost PostgreSQL 33 ms the other way
    (BENCHMARKS.md)."""
    field = getattr(model, "touch_date_field", None)
    if field:
        return Q(**{f"{field}__isnull": False})
    return Q(Exists(_bound_to(model).filter(object_id=OuterRef("pk"), task__status__in=ACTIVE,
                                            task__deadline__isnull=False)))


def overdue_condition(model: type[models.Model]) -> Exists:
    """For filtering a record queryset: «has an active touch past its deadline»."""
    return Exists(_bound_to(model).filter(object_id=OuterRef("pk"), task__status__in=ACTIVE,
                                          task__deadline__lt=timezone.now()))


def bound_task_ids(record: models.Model) -> list[int]:
    """The ids of every task bound to `record`, seen or not (a small indexed query)."""
    return list(_bound_to(type(record)).filter(object_id=record.pk).values_list("task_id", flat=True))


def record_tasks(user, record: models.Model, ids: list[int] | None = None) -> QuerySet[Task]:
    """The tasks and touches bound to `record` that `user` may see: active first, by deadline.
    `ids`: the record's bound_task_ids when the caller has them."""
    if ids is None:
        ids = _bound_to(type(record)).filter(object_id=record.pk).values("task_id")
    return (visible(user).filter(pk__in=ids)
            .annotate(done=models.Case(models.When(status__in=ACTIVE, then=0), default=1))
            .order_by("done", models.F("deadline").asc(nulls_last=True), "-pk"))


def record_tasks_unscoped(record: models.Model) -> QuerySet[Task]:
    """Every task bound to `record`, for services acting on the record's behalf (the touch date
    follows the earliest touch whoever may see it); never for pages."""
    ids = _bound_to(type(record)).filter(object_id=record.pk).values("task_id")
    return Task.objects.filter(pk__in=ids)


# --- The task pages (lists, the card, the deadline board) ---

def with_progress(tasks: QuerySet[Task]) -> QuerySet[Task]:
    """Each task's checklist progress («3/5») in the same query."""
    return tasks.annotate(checklist_total=models.Count("checklist", distinct=True),
                          checklist_done=models.Count("checklist", filter=Q(checklist__is_done=True), distinct=True))


def visible_bindings(user, task_ids: list[int]) -> dict[int, list[models.Model]]:
    """task id → the bound records `user` may see (those he may not are left out, not named).
    One query for the bindings and one per kind of record, whatever the number of tasks."""
    pairs = list(Binding.objects.filter(task_id__in=task_ids).values_list("task_id", "content_type_id", "object_id"))
    records = access.visible_targets(user, [(ct_id, object_id) for _task, ct_id, object_id in pairs])
    found: dict[int, list[models.Model]] = {}
    for task_id, ct_id, object_id in sorted(pairs):
        record = records.get((ct_id, object_id))
        if record is not None:
            found.setdefault(task_id, []).append(record)
    return found


def card_bindings(user, task: Task) -> tuple[list[models.Model], int]:
    """The card's «Привязки»: the bound records `user` may see, and how many others there are
    (counted, never named)."""
    records = visible_bindings(user, [task.pk]).get(task.pk, [])
    return records, Binding.objects.filter(task=task).count() - len(records)


def bound_pairs(task: Task) -> list[tuple[str, int]]:
    """(«leads.lead», 5) for every record `task` is bound to, without reading the records (the
    search leaves them out of its matches). One query."""
    pairs = Binding.objects.filter(task=task).values_list("content_type_id", "object_id")
    return [(f"{ct.app_label}.{ct.model}", object_id)
            for ct, object_id in ((ContentType.objects.get_for_id(ct_id), pk) for ct_id, pk in pairs)]


# --- The REST API (rest/methods/tasks.py, crm_timeline.py): what its lists and filters read ---

def touches(user) -> QuerySet[Task]:
    """Bitrix24's «дела» (crm.activity.*): the tasks and touches bound to a CRM record that `user`
    may see."""
    return visible(user).filter(bound_condition(None))


def opens_all_tasks_of(user, responsibles: set[int] | None) -> bool:
    """Whether `user`'s level on tasks opens every task of the responsibles `responsibles` (None:
    of everyone): a manager and himself, a head and his department, «все». Then their ids are the
    whole condition, and the touches' counts per responsible (touch_counts) answer for him."""
    if responsibles is None:
        return access.level(user, Task.access_entity, Action.VIEW) == Level.ALL
    return access.sees_all_of(user, Task, responsibles)


def touches_of(user, responsibles: set[int] | None) -> QuerySet[Task]:
    """`touches` of the responsibles `responsibles` (None: anyone's). When `user`'s level on tasks
    opens all of theirs (`opens_all_tasks_of`), their ids are the whole condition: the
    participants' two subqueries the gate adds change nothing there, and building them was 3 of
    the 4 ms the managers' report spent on its touches at a million leads."""
    if responsibles is not None and opens_all_tasks_of(user, responsibles):
        tasks = Task.objects.filter(responsible_id__in=sorted(responsibles))
    else:
        tasks = visible(user)
        if responsibles is not None:
            tasks = tasks.filter(responsible_id__in=sorted(responsibles))
    return tasks.filter(bound_condition(None))


def bound_condition(label: str | None, ids: list[int] | None = None) -> Q:
    """For filtering tasks: «bound to a record of this kind» (`label` «leads.lead»; None: any kind)
    «with one of these ids» (None: any)."""
    bindings = Binding.objects.filter(task_id=OuterRef("pk"))
    if label is not None:
        app_label, model = label.split(".")
        bindings = bindings.filter(content_type=ContentType.objects.get_by_natural_key(app_label, model))
    if ids is not None:
        bindings = bindings.filter(object_id__in=ids)
    return Q(Exists(bindings))


def participant_condition(role: str, user_ids: list[int]) -> Q:
    """For filtering tasks: «one of these users is a co-executor» (`role` "coexecutors") or «an
    observer» ("observers")."""
    through = getattr(Task, role).through.objects.filter(task_id=OuterRef("pk"), user_id__in=user_ids)
    return Q(Exists(through))


def first_bindings(task_ids: list[int]) -> dict[int, tuple[int, int]]:
    """task id → (content type id, object id) of the first record it was bound to (the
    activity's OWNER in Bitrix24's terms). One query."""
    found: dict[int, tuple[int, int]] = {}
    for task_id, ct_id, object_id in (Binding.objects.filter(task_id__in=task_ids).order_by("pk")
                                      .values_list("task_id", "content_type_id", "object_id")):
        found.setdefault(task_id, (ct_id, object_id))
    return found
