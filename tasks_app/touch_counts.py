"""The touches counted per responsible and day (TouchDay), for the managers' report: touches due
in a period, done in it, and due in it and overdue now. Read from the tasks themselves, a month of
a department's touches at a million leads was 700 ms; these are a few rows per manager and day.

A touch is a task bound to a record. Each one's share is kept (TouchMark: responsible, due day,
completion day, active); `refresh` compares it with the task as it now is and moves the
difference, so every service that changes a task's deadline, status, responsible or bindings, or
deletes it, calls `refresh` for it (tasks_app.services, the records' deletion in touches.py).
Days are the site's time zone's, as the reports' periods are (analytics.params.Period).
`manage.py recount_touches` checks them against the tasks and rebuilds them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime

from django.db import connection, transaction
from django.db.models import BooleanField, ExpressionWrapper
from django.utils import timezone

from crm import tallies

from . import selectors
from .models import ACTIVE, Binding, Status, Task, TouchDay, TouchMark

Mark = tuple[int, date | None, date | None, bool]  # responsible, due day, done day, active


def _day(moment: datetime | None) -> date | None:
    return timezone.localtime(moment, timezone.get_default_timezone()).date() if moment else None


def _marks(rows: Iterable[tuple]) -> dict[int, Mark]:
    return {pk: (responsible, _day(deadline), _day(completed_at) if status == Status.COMPLETED else None,
                 status in ACTIVE)
            for pk, responsible, deadline, completed_at, status in rows}


COLUMNS = ("pk", "responsible_id", "deadline", "completed_at", "status")  # what a mark is made of (`_marks`)


def _touches():
    return Task._base_manager.filter(selectors.bound_condition(None)).values_list(*COLUMNS)


def _shares(mark: Mark | None, sign: int) -> list[tuple[tuple, tuple]]:
    if mark is None:
        return []
    responsible, due, done, active = mark
    shares = []
    if due is not None:
        shares.append(((responsible, due), (sign, sign if active else 0, 0)))
    if done is not None:
        shares.append(((responsible, done), (0, 0, sign)))
    return shares


def _summed(shares: Iterable[tuple[tuple, tuple]]) -> dict[tuple, tuple[int, int, int]]:
    """{(responsible, day): (planned, open, done)} of the shares added up."""
    counts: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0])
    for key, deltas in shares:
        for i, delta in enumerate(deltas):
            counts[key][i] += delta
    return {key: tuple(n) for key, n in counts.items()}


def _add(shares: list[tuple[tuple, tuple]]) -> None:
    tallies.add(TouchDay, ["responsible", "day"], ["planned", "open", "done"],
                [(key, deltas) for key, deltas in _summed(shares).items() if any(deltas)])


def refresh(task_ids: Iterable[int]) -> None:
    """Bring the counts of the tasks `task_ids` up to date with them (created, changed, bound,
    unbound, deleted: a task that is no touch, or no more, has no share). Two reads and the writes
    of what changed; the tasks' rows are locked in pk order, as their services lock them."""
    ids = sorted(set(task_ids))
    if not ids:
        return
    with transaction.atomic():
        # Every task of `ids` is locked, a touch or not: one that has just stopped being a touch (its
        # last record deleted) has its share taken back here, and must not be counted meanwhile.
        rows = (Task._base_manager.filter(pk__in=ids).select_for_update(of=("self",)).order_by("pk")
                .annotate(touch=ExpressionWrapper(selectors.bound_condition(None), output_field=BooleanField()))
                .values_list(*COLUMNS, "touch"))
        fresh = _marks(row[:-1] for row in rows if row[-1])
        kept = {m.task_id: (m.responsible, m.due_day, m.done_day, m.active)
                for m in TouchMark.objects.filter(task_id__in=ids)}
        changed = [pk for pk in ids if kept.get(pk) != fresh.get(pk)]
        if not changed:
            return
        _add([share for pk in changed for share in (*_shares(kept.get(pk), -1), *_shares(fresh.get(pk), 1))])
        TouchMark.objects.filter(task_id__in=[pk for pk in changed if pk not in fresh]).delete()
        TouchMark.objects.bulk_create(
            [TouchMark(task_id=pk, responsible=fresh[pk][0], due_day=fresh[pk][1], done_day=fresh[pk][2],
                       active=fresh[pk][3]) for pk in changed if pk in fresh],
            update_conflicts=True, unique_fields=["task_id"], update_fields=["responsible", "due_day", "done_day",
                                                                             "active"])


def _counted(marks: dict[int, Mark]) -> dict[tuple, tuple[int, int, int]]:
    return _summed(share for mark in marks.values() for share in _shares(mark, 1))


def differences() -> list[tuple[tuple, tuple | None, tuple | None]]:
    """(responsible and day, kept counts, the tasks' counts) wherever they differ."""
    fresh = _counted(_marks(_touches().iterator(chunk_size=5000)))
    kept = {(r, d): (p, o, n) for r, d, p, o, n in TouchDay.objects.values_list("responsible", "day", "planned", "open",
                                                                               "done") if p or o or n}
    return [(key, kept.get(key), fresh.get(key)) for key in sorted(set(kept) | set(fresh)) if kept.get(key) != fresh.get(key)]


@transaction.atomic
def rebuild() -> None:
    """Every mark and count anew from the tasks (recount_touches; the benchmark's fill, which writes
    the tasks by bulk_create)."""
    marks = _marks(_touches().iterator(chunk_size=5000))
    TouchMark.objects.all().delete()
    TouchDay.objects.all().delete()
    TouchMark.objects.bulk_create([TouchMark(task_id=pk, responsible=m[0], due_day=m[1], done_day=m[2], active=m[3])
                                   for pk, m in marks.items()], batch_size=5000)
    TouchDay.objects.bulk_create([TouchDay(responsible=key[0], day=key[1], planned=n[0], open=n[1], done=n[2])
                                  for key, n in _counted(marks).items()], batch_size=5000)


def figures(user, responsibles: set[int] | None, start: date, end: date) -> list[tuple[int, int, int, int]] | None:
    """(responsible, touches due from `start` to `end`, done then, due then and overdue now) of the
    responsibles `responsibles` (None: everyone's) with any due or done: the kept days, and the
    touches due today before now read from the tasks (the kept days have no hour). One query.
    None when `user` sees only some of their touches (a participant's, a narrower level on tasks):
    counts per responsible cannot answer him, the touches are read then."""
    if not selectors.opens_all_tasks_of(user, responsibles):
        return None
    if responsibles == set():
        return []
    qn, ops = connection.ops.quote_name, connection.ops
    zone = timezone.get_default_timezone()
    now = timezone.now()
    today = timezone.localtime(now, zone).date()
    people = [] if responsibles is None else sorted(responsibles)

    def only(column: str) -> str:
        return "" if responsibles is None else f" AND {column} IN ({', '.join(['%s'] * len(people))})"

    day, responsible, owner = f"d.{qn('day')}", f"d.{qn('responsible')}", f"t.{qn('responsible_id')}"
    sql = (f"SELECT {responsible}, SUM(d.{qn('planned')}), SUM(d.{qn('done')}), "
           f"SUM(CASE WHEN {day} < %s THEN d.{qn('open')} ELSE 0 END) FROM {qn(TouchDay._meta.db_table)} d "
           f"WHERE {day} >= %s AND {day} <= %s{only(responsible)} GROUP BY {responsible}")
    params: list = [ops.adapt_datefield_value(today), ops.adapt_datefield_value(start), ops.adapt_datefield_value(end),
                    *people]
    if start <= today <= end:  # today's touches due before now: overdue, and not kept by the hour
        deadline = f"t.{qn('deadline')}"
        sql += (f" UNION ALL SELECT {owner}, 0, 0, COUNT(*) FROM {qn(Task._meta.db_table)} t "
                f"WHERE t.{qn('status')} IN ({', '.join(['%s'] * len(ACTIVE))}) AND {deadline} >= %s "
                f"AND {deadline} < %s{only(owner)} AND EXISTS (SELECT 1 FROM {qn(Binding._meta.db_table)} b "
                f"WHERE b.{qn('task_id')} = t.{qn('id')}) GROUP BY {owner}")
        day_start = timezone.make_aware(datetime.combine(today, datetime.min.time()), zone)
        params += [*ACTIVE, ops.adapt_datetimefield_value(day_start), ops.adapt_datetimefield_value(now), *people]
    found: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for pk, planned, done, overdue in cursor.fetchall():
            counts = found[pk]
            counts[0] += int(planned or 0)
            counts[1] += int(done or 0)
            counts[2] += int(overdue or 0)
    return [(pk, *counts) for pk, counts in found.items() if counts[0] or counts[1]]
