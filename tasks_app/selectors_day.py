"""What «Мой день» reads: a person's overdue and today's tasks and touches, his meetings of today,
his new leads and his records in work with nothing planned; for a head of sales the same counted
per manager of his department tree. Tasks come from tasks_app.selectors (the access gate); CRM
records from the apps that registered in crm.day, through their own selectors.

Every function costs a fixed number of queries whatever the number of tasks and records: lists
are cut at a few dozen rows (the rest are counted), counts are grouped in one query per kind."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Count, IntegerField, Model, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from accounts import access
from accounts.models import Action, Entity, Level, User
from crm import day as crm_day

from .models import ACTIVE, Binding, Kind, Status, Task
from .selectors import day_bounds, planned_condition, visible

# Rows shown per section (the rest are counted and reached through the lists): a home page to
# read at a glance, and one that stays within 2× the minimal view (BENCHMARKS.md).
TASKS_SHOWN = 10  # «Просрочено», «На сегодня», «Встречи сегодня»
RECORDS_SHOWN = 5  # «Новые лиды», «Без запланированных дел», per kind of record
# «Без запланированных дел» (and a department's «Новые лиды») is counted up to this («100+»): whether a record has a touch planned is
# asked record by record, so an exact count reads every record in work — 0.2–0.5 s for a
# manager's 20 000 leads on SQLite (BENCHMARKS.md) — while the cut count stops at the hundredth.
COUNT_CAP = 100


@dataclass
class Records:
    """Some records of one registered kind (crm.day.Source) and how many there are in all."""

    source: crm_day.Source
    items: list[Model]
    total: int
    url: str
    capped: bool = False  # `total` is COUNT_CAP: there are at least that many

    @property
    def more(self) -> int:
        return self.total - len(self.items)

    @property
    def total_label(self) -> str:
        return f"{self.total}+" if self.capped else str(self.total)


@dataclass
class PersonDay:
    person: User
    overdue: list[Task]
    today: list[Task]
    meetings: list[Task]
    overdue_total: int
    today_total: int
    new: list[Records] = field(default_factory=list)
    unplanned: list[Records] = field(default_factory=list)
    # Tasks the person set that wait for him to accept or return the work («Ждёт контроля»).
    control: list[Task] = field(default_factory=list)

    @property
    def overdue_more(self) -> int:
        return self.overdue_total - len(self.overdue)

    @property
    def today_more(self) -> int:
        return self.today_total - len(self.today)

    @property
    def new_total(self) -> int:
        return sum(r.total for r in self.new)

    @property
    def unplanned_total(self) -> int:
        return sum(r.total for r in self.unplanned)

    @property
    def unplanned_label(self) -> str:
        return f"{self.unplanned_total}+" if any(r.capped for r in self.unplanned) else str(self.unplanned_total)


def active_tasks(user, person_ids) -> QuerySet[Task]:
    """The active tasks and touches of these responsibles that `user` may see (their people are
    not read: the page names no one but the person whose day it is). One's own are all his to
    read (the responsible is a participant, accounts.access): asked without the gate's
    conditions, which only cost the query its simplicity, as selectors.counters does."""
    ids = list(person_ids)
    if ids == [getattr(user, "pk", None)]:
        return Task.objects.filter(responsible_id=user.pk, status__in=ACTIVE)
    return visible(user).select_related(None).filter(responsible_id__in=ids, status__in=ACTIVE)


def attach_records(user, tasks: list[Task]) -> None:
    """Give each task `.records`: the CRM records it is bound to that `user` may open, and
    `.is_touch` (bound to a record at all, whether the user may open it or not). One query for
    the bindings and one per kind of record bound, whatever the number of tasks."""
    by_task: dict[int, list[tuple[int, int]]] = {}
    for task_id, ct_id, object_id in Binding.objects.filter(task_id__in=sorted({t.pk for t in tasks})).values_list(
            "task_id", "content_type_id", "object_id"):
        by_task.setdefault(task_id, []).append((ct_id, object_id))
    found = access.visible_targets(user, [pair for pairs in by_task.values() for pair in pairs])
    for task in tasks:
        keys = by_task.get(task.pk, [])
        task.is_touch = bool(keys)
        task.records = [found[k] for k in keys if k in found]


def person_day(user, person: User, now: datetime | None = None) -> PersonDay:
    """`person`'s day as `user` may see it (the user himself, or a manager of a head)."""
    now = now or timezone.now()
    start, tomorrow = day_bounds(now)
    mine = active_tasks(user, [person.pk]).filter(deadline__lt=tomorrow)
    counts = mine.aggregate(overdue=Count("pk", filter=Q(deadline__lt=now)), today=Count("pk", filter=Q(deadline__gte=now)))
    overdue = list(mine.filter(deadline__lt=now).order_by("deadline", "pk")[:TASKS_SHOWN])
    today = list(mine.filter(deadline__gte=now).order_by("deadline", "pk")[:TASKS_SHOWN])
    meetings = list(mine.filter(kind=Kind.MEETING, deadline__gte=start).order_by("deadline", "pk")[:TASKS_SHOWN])
    attach_records(user, overdue + today + meetings)
    result = PersonDay(person, overdue, today, meetings, counts["overdue"], counts["today"])
    waiting = (Task.objects if person.pk == getattr(user, "pk", None) else visible(user).select_related(None))
    result.control = list(waiting.filter(creator_id=person.pk, status=Status.AWAITING_CONTROL)
                          .select_related("responsible").order_by("completed_at", "pk")[:TASKS_SHOWN])
    # Newest first by id (ids grow with creation): the database walks the responsible's index
    # backwards and stops at the fifth row; ordering by the creation date sorted all his records.
    for source in crm_day.sources():
        if source.new is not None:
            new = source.new(user).filter(responsible_id=person.pk)
            result.new.append(Records(source, list(new.order_by("-pk")[:RECORDS_SHOWN]),
                                      new.order_by().count(), source.list_url(person.pk, new=True)))
        unplanned = source.in_work(user).filter(responsible_id=person.pk).filter(~planned_condition(source.model))
        total = unplanned.order_by()[:COUNT_CAP].count()
        result.unplanned.append(Records(source, list(unplanned.order_by("-pk")[:RECORDS_SHOWN]), total,
                                        source.list_url(person.pk), capped=total >= COUNT_CAP))
    return result


# --- A head of sales: the same per manager of his department tree ---

def team_level(user) -> Level:
    return access.level(user, Entity.LEAD, Action.VIEW)


def is_head(user) -> bool:
    """Whether the user leads a department: his level on leads covers more than his own."""
    return team_level(user) >= Level.DEPARTMENT


def team_members(user) -> list[User]:
    """The active members of the user's department tree (himself included) whose records his level
    opens; empty for a manager. One query (the tree is cached on the user)."""
    if not is_head(user):
        return []
    ids = access.owner_ids(user, team_level(user))
    return list(User.objects.filter(pk__in=sorted(ids), is_active=True).order_by("last_name", "first_name", "username"))


@dataclass
class TeamRow:
    person: User
    overdue: int = 0
    today: int = 0
    # (source, count, «100+» or the count, the list's URL)
    new: list[tuple[crm_day.Source, int, str, str]] = field(default_factory=list)
    unplanned: list[tuple[crm_day.Source, int, str, str]] = field(default_factory=list)


class _CappedCount(Subquery):
    """How many rows a (LIMITed) subquery returns: counting stops at its limit."""

    template = "(SELECT COUNT(*) FROM (%(subquery)s) capped)"
    output_field = IntegerField()


def _grouped(queryset: QuerySet, **aggregates: Any) -> dict[int, dict[str, int]]:
    rows = queryset.order_by().values("responsible_id").annotate(**aggregates)
    return {row.pop("responsible_id"): row for row in rows}


def team_day(user, members: list[User], now: datetime | None = None) -> list[TeamRow]:
    """One row per member: his overdue and today's tasks, new leads, records in work with nothing
    planned — as far as `user` may see them. One query per column whatever the team's size."""
    now = now or timezone.now()
    _start, tomorrow = day_bounds(now)
    ids = [m.pk for m in members]
    rows = {m.pk: TeamRow(m) for m in members}
    tasks = _grouped(active_tasks(user, ids).filter(deadline__lt=tomorrow),
                     overdue=Count("pk", filter=Q(deadline__lt=now)), today=Count("pk", filter=Q(deadline__gte=now)))
    for pk, counts in tasks.items():
        rows[pk].overdue, rows[pk].today = counts["overdue"], counts["today"]
    # «Новые лиды» and «Без дел» per member, each cut at COUNT_CAP (a department's 30 000 new
    # leads cost PostgreSQL 40 ms to count exactly): one query, a counting subquery per column.
    sources = crm_day.sources()
    capped = {}
    for i, source in enumerate(sources):
        if source.new is not None:
            capped[f"new{i}"] = _CappedCount(source.new(user).filter(responsible_id=OuterRef("pk"))
                                             .order_by().values("pk")[:COUNT_CAP])
        capped[f"unplanned{i}"] = _CappedCount(source.in_work(user).filter(responsible_id=OuterRef("pk"))
                                               .filter(~planned_condition(source.model)).order_by().values("pk")[:COUNT_CAP])
    counts = {row["pk"]: row for row in User.objects.filter(pk__in=ids).order_by().annotate(**capped)
              .values("pk", *capped)} if capped else {}
    for pk, row in rows.items():
        for i, source in enumerate(sources):
            found = counts.get(pk, {})
            if source.new is not None:
                n = found.get(f"new{i}", 0)
                row.new.append((source, n, f"{n}+" if n >= COUNT_CAP else str(n), source.list_url(pk, new=True)))
            n = found.get(f"unplanned{i}", 0)
            row.unplanned.append((source, n, f"{n}+" if n >= COUNT_CAP else str(n), source.list_url(pk)))
    return list(rows.values())
