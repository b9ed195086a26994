"""Keeping the stays (analytics.models.Stay) as the records move — in the writers' transactions.

- A created record opens its first stay (crm.hooks.moved with source ""); a move closes the open
  stay and opens one; an import opens its records' stays in one insert (`moved.many`). Conversion
  (a lead → «Успешный»), «Забраковать» and reopening are moves like any other. A move that rolls
  back takes its stays with it: they are written in its transaction.
- A change of the record's responsible, source or niche — a deal's amount, currency or loss reason
  too — (crm.hooks.changed) is copied onto ALL its stays in one UPDATE, so the reports' access gate
  on the stays' `owner` is the record's own rule (a reassigned lead's whole history goes with it to
  the new manager), and the deals' report sums the deals' current money from the stays alone.
  Which values the record had is remembered when its instance is built (post_init): a change of
  other fields costs no query.
- A deleted record's stays go with it (crm.deletion.on_deleted). The CRM has no restore of a
  deleted lead or deal; its timeline goes with it too, so a restore that rebuilt the timeline from
  the deletion's snapshot would call `rebuild_records` for it (the stays follow from the timeline).

- The lead funnel per calendar week / month / quarter / year (FunnelMark: the statuses a lead
  entered in each; FunnelCount: their sum per owner, source, niche, reason and set of statuses) is
  kept by the same hooks in the same transactions (see «The funnel per calendar period» below).
- So is the managers' «Взято в работу» per calendar period (TakenMark: a lead was handed to a
  manager in a period; TakenCount: their number per manager), wherever a lead's Handover is
  written (see «Taken per calendar period» below).
- So are the deals' report's won and lost deals per calendar period (ClosedMark: a deal entered a
  success / failure stage of a pipeline in a period; ClosedCount: their number and sum per
  pipeline, outcome, owner, currency and loss reason), wherever a deal enters such a stage, its
  money, owner or reason change, or it is deleted (see «Closed deals per calendar period» below).
- So are the managers' figures per calendar period (ManagerCount: «взято», converted and junked
  per owner, the moves per owner and mover), the projection of the taken and funnel counts here
  and of the moves per day (analytics.source_counts) there (see «The managers' figures per
  calendar period» below); `rebuild_managers` makes it again from those three.
- So is the stuck records' count (OpenStayCount: the records per state, owner and day they
  entered it), wherever an open stay opens, closes or changes owner (see «The stuck records'
  count» below).
- So is time in status per calendar period (EndedStayCount: the ended stays per state,
  owner and duration in tenths of a day), wherever a stay ends, changes owner or goes (see «Time in
  status per calendar period» below).

`stays_from_timeline` builds the same stays from the history (crm.TimelineEntry «created» and
«status» entries), `rebuild_funnel` the funnel from the stays, `rebuild_taken` the taken marks
from the handovers, `rebuild_closed` the closed deals' marks from the deal stays and
`rebuild_open` the open stays' counts and `rebuild_ended` the ended ones' (set-based): `manage.py
rebuild_analytics` compares and replaces.
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.db import connection, connections, transaction
from django.db.models import Model
from django.db.models.signals import post_delete, post_init, post_save, pre_save
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from crm import deletion, hooks, tallies

from .models import (
    ANY_PIPELINE,
    FUNNEL_KINDS,
    NONE,
    ClosedCount,
    ClosedMark,
    EndedStayCount,
    FunnelCount,
    FunnelMark,
    Handover,
    ManagerCount,
    MoveCount,
    OpenStayCount,
    Stay,
    TakenCount,
    TakenMark,
)

LEAD, DEAL = "leads.lead", "deals.deal"
# The record's attributes its stays copy: owner, source, niche, its reason — the lead's junk reason,
# the deal's loss reason — and a deal's amount and currency (a deal has no niche). The funnel counts
# the junked leads by their CURRENT reason (None once reopened) from the stays alone, without a join
# into a million leads; the deals' report sums the won and lost deals so. A lead's tuple stays the
# four values the funnel's combinations are made of (owner, source, niche, reason).
COPIED = {LEAD: ("responsible_id", "source_id", "niche_id", "junk_reason_id"),
          DEAL: ("responsible_id", "source_id", None, "loss_reason_id", "amount", "currency")}
FIELDS = ("owner", "source", "niche", "reason", "amount", "currency")  # the stay's columns of COPIED, in order


# The managers' counts' writers' side (see «The managers' figures per calendar period» below).

MANAGER_KEY = ["kind", "start", "owner", "by"]
MANAGER_COUNTED = ["taken", "moved", "converted", "junked"]


def _manager_bits() -> tuple[int, int]:
    """The CONVERTED and JUNK bits of a funnel mask: «конвертировано», «забраковано»."""
    from leads.models import Status

    return BITS[str(Status.CONVERTED)], BITS[str(Status.JUNK)]


def add_managers(rows, using: str = "default") -> None:
    """Add `rows` ([((kind, start, owner, by), (taken, moved, converted, junked))…], keys may
    repeat) to ManagerCount in one upsert (crm.tallies.add); nothing when they sum to 0."""
    summed: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for key, deltas in rows:
        row = summed[key]
        for index, delta in enumerate(deltas):
            row[index] += delta
    adapt = connections[using].ops.adapt_datefield_value
    tallies.add(ManagerCount, MANAGER_KEY, MANAGER_COUNTED,
                [((kind, adapt(start), owner, by), tuple(counts))
                 for (kind, start, owner, by), counts in summed.items() if any(counts)], using)


def _label(record: Model) -> str | None:
    label = record._meta.label_lower
    return label if label in COPIED else None


def copied(record: Model, label: str) -> tuple:
    return tuple(getattr(record, att) if att else None for att in COPIED[label])


def columns(values: tuple, start: int = 0) -> dict:
    """{stay column: value} of `copied` values (from FIELDS[start] on): a lead's four, a deal's six."""
    return dict(zip(FIELDS[start:start + len(values)], values, strict=True))


def scope_of(record: Model, label: str) -> int:
    return record.pipeline_id if label == DEAL else 0


def _stay(record: Model, label: str, source_state: str, state: str, by, at: datetime) -> Stay:
    return Stay(model=label, object_id=record.pk, scope=scope_of(record, label), state=state, moved_from=source_state,
                **columns(copied(record, label)), entered_at=at, entered_by=getattr(by, "pk", None))


def _handover(record: Model, label: str, previous: int | None, by, at: datetime) -> Handover:
    return Handover(model=label, object_id=record.pk, owner=copied(record, label)[0], previous=previous, at=at,
                    by=getattr(by, "pk", None))


@hooks.on_moved
def moved(record: Model, by, source: str, target: str) -> None:
    label = _label(record)
    if label is None:
        return
    now = timezone.now()
    current = copied(record, label)
    before = getattr(record, "_analytics_copied", None) or current
    closed = []
    if source:  # a creation has no stay to close
        closed = _close_open(label, [record.pk], now)
        if before[1:] != current[1:]:
            # A move that changed what the stays copy (a junk or loss reason set, cleared by a
            # reopen; an amount the move's dialog asked for): onto all the record's stays, as
            # `changed` does for an edit.
            Stay.objects.filter(model=label, object_id=record.pk).update(**columns(current[1:], 1))
            if label == DEAL:
                _closed_follow(record.pk, current)
    else:
        _handover(record, label, None, by, now).save()
    opened = _stay(record, label, source, target, by, now)
    opened.save()
    _count_open(label, closed, [(opened.scope, opened.state, opened.owner, now)])
    _count_ended(label, [], [(*stay, now) for stay in closed])
    if label == LEAD:
        _funnel_entered({record.pk: (before, current)}, target, now, created=not source)
        if not source:
            _taken([(record.pk, current[0])], now)
    else:
        outcome = _outcome(record, target)
        if outcome is not None:
            _closed([(record.pk, current)], outcome, now)
    record._analytics_copied = current


def moved_many(records: list[Model], by, source: str, target: str) -> None:
    """An import's new records entering `target`: one insert."""
    label = _label(records[0])
    if label is None:
        return
    now = timezone.now()
    closed = []
    if source:
        closed = _close_open(label, [r.pk for r in records], now)
    else:
        Handover.objects.bulk_create([_handover(r, label, None, by, now) for r in records], batch_size=1000)
    opened = [_stay(r, label, source, target, by, now) for r in records]
    Stay.objects.bulk_create(opened, batch_size=1000)
    _count_open(label, closed, [(stay.scope, stay.state, stay.owner, now) for stay in opened])
    _count_ended(label, [], [(*stay, now) for stay in closed])
    if label == LEAD:
        _funnel_entered({r.pk: (copied(r, label),) * 2 for r in records}, target, now, created=not source)
        if not source:
            _taken([(r.pk, copied(r, label)[0]) for r in records], now)
    else:
        outcome = _outcomes([target]).get(target)
        if outcome is not None:
            _closed([(r.pk, copied(r, label)) for r in records], outcome, now)


moved.many = moved_many


def changed(record: Model, by, action: str) -> None:
    label = _label(record)
    if label is None:
        return
    now = copied(record, label)
    before = getattr(record, "_analytics_copied", now)
    if action == "update" and before != now:
        owner = now[0]
        # The stays as counted (their owner the stays' own, whatever the instance remembered).
        was, ended = _record_stays(label, [record.pk]) if before[0] != owner else ([], [])
        Stay.objects.filter(model=label, object_id=record.pk).update(**columns(now))
        _count_open(label, was, [(scope, state, owner, at) for scope, state, _owner, at in was])
        _count_ended(label, ended, [(scope, state, owner, *at) for scope, state, _owner, *at in ended])
        if label == LEAD:
            _funnel_recombined(record.pk, before, now)
        elif _closed_values(before) != _closed_values(now):
            _closed_follow(record.pk, now)
        if before[0] != owner:
            at = timezone.now()
            _handover(record, label, before[0], by, at).save()
            if label == LEAD:
                _taken([(record.pk, owner)], at)
    record._analytics_copied = now


def _changed_many(records, by, action: str) -> None:
    for record in records:
        changed(record, by, action)


hooks.on_changed(changed, many=_changed_many)


def _remember(sender, instance, **kwargs) -> None:
    """The owner, source, niche, reason (a deal's: amount and currency too) an instance was built
    with (loaded from its row, or new): a change of them is what `changed` copies onto the stays.
    A deferred one reads as None, which at worst costs one needless update."""
    values = instance.__dict__
    instance._analytics_copied = tuple(values.get(att) if att else None for att in COPIED[instance._meta.label_lower])


def _connect() -> None:
    from deals.models import Deal
    from leads.models import Lead

    for model in (Lead, Deal):
        post_init.connect(_remember, sender=model, weak=False, dispatch_uid=f"analytics-{model._meta.label_lower}")


_connect()


@deletion.on_deleted
def deleted(content_type: ContentType, pk: int) -> None:
    label = f"{content_type.app_label}.{content_type.model}"
    if label in COPIED:
        if label == LEAD:
            _funnel_forget([pk])
            _taken_forget([pk])
        else:
            _closed_forget([pk])
        _forget_stays(label, [pk])
        Stay.objects.filter(model=label, object_id=pk).delete()
        Handover.objects.filter(model=label, object_id=pk).delete()


# --- From the history (manage.py rebuild_analytics) ---

def _model(label: str):
    from django.apps import apps

    return apps.get_model(label)


def _responsible_change(data) -> tuple[int | None, int | None] | None:
    for change in (data or {}).get("changes") or []:
        if change.get("name") == "responsible":
            ids = [(v or {}).get("id") if isinstance(v, dict) else v for v in (change.get("old"), change.get("new"))]
            return ids[0], ids[1]
    return None


def from_timeline(label: str, ids: list[int] | None = None) -> tuple[list[Stay], list[Handover]]:
    """The stays and handovers the hooks would have written for the records `ids` of `label`
    (None: all), from their «created», «status» and «change» entries: the first stay starts at
    creation in the state the first move left (a lead created in «Не обработан», or imported in a
    later status), each move closes one and opens the next; the first owner is the one the first
    reassignment took the record from. A record with no entry at all (made around the services)
    gets one stay in its current state since its creation."""
    from crm.models import TimelineEntry

    model = _model(label)
    attrs = [a for a in COPIED[label] if a]
    fields = ["pk", "created_at", "created_by_id", *attrs, "status" if label == LEAD else "stage_id"]
    records = model._base_manager.order_by("pk")
    if ids is not None:
        records = records.filter(pk__in=ids)
    stage_pipeline = {}
    if label == DEAL:
        from deals.models import Stage

        stage_pipeline = {str(pk): pipeline for pk, pipeline in Stage.objects.values_list("pk", "pipeline_id")}
    content_type = ContentType.objects.get_for_model(model)
    entries = TimelineEntry.objects.filter(content_type=content_type, kind__in=["created", "status", "change"]).order_by(
        "object_id", "created_at", "pk")
    if ids is not None:
        entries = entries.filter(object_id__in=ids)
    by_record: dict[int, list[tuple]] = defaultdict(list)
    for row in entries.values_list("object_id", "kind", "created_at", "author_id", "data").iterator(chunk_size=5000):
        by_record[row[0]].append(row[1:])
    stays, handovers = [], []
    for row in records.values_list(*fields).iterator(chunk_size=5000):
        values = dict(zip(fields, row, strict=True))
        pk, history = values["pk"], by_record.get(values["pk"], [])
        kept = columns(tuple(values[a] if a else None for a in COPIED[label]))
        current = str(values["status"] if label == LEAD else values["stage_id"])
        moves = [(at, author, data) for kind, at, author, data in history if kind == "status" and "from" in (data or {})]
        created_at, creator = next(((at, author) for kind, at, author, _ in history if kind == "created"),
                                   (values["created_at"], values["created_by_id"]))
        handed = [(at, author, change) for kind, at, author, data in history if kind == "change"
                  for change in [_responsible_change(data)] if change]
        handovers.append(Handover(model=label, object_id=pk, owner=handed[0][2][0] if handed else kept["owner"], previous=None,
                                  at=created_at, by=creator))
        handovers += [Handover(model=label, object_id=pk, owner=new, previous=old, at=at, by=author)
                      for at, author, (old, new) in handed]
        state, moved_from = (str(moves[0][2]["from"]) if moves else current), ""
        at, by = created_at, creator
        mine = []
        for moved_at, author, data in moves:
            mine.append(Stay(state=state, moved_from=moved_from, entered_at=at, entered_by=by, left_at=moved_at))
            state, moved_from, at, by = str(data["to"]), state, moved_at, author
        mine.append(Stay(state=state, moved_from=moved_from, entered_at=at, entered_by=by))
        for stay in mine:
            stay.model, stay.object_id = label, pk
            for column, value in kept.items():
                setattr(stay, column, value)
            stay.scope = stage_pipeline.get(stay.state, 0) if label == DEAL else 0
        stays += mine
    return stays, handovers


def key(stay: Stay) -> tuple:
    return (stay.model, stay.object_id, stay.state, stay.moved_from, stay.scope, stay.owner, stay.source, stay.niche,
            stay.reason, stay.amount, stay.currency, stay.entered_by, stay.left_at is None)


def handover_key(handover: Handover) -> tuple:
    return handover.model, handover.object_id, handover.owner, handover.previous, handover.by


CHUNK = 5000  # records rebuilt or compared at a time: 1,000,000 leads' history is not held in memory at once


def _chunks(label: str):
    pks = list(_model(label)._base_manager.order_by("pk").values_list("pk", flat=True))
    for index in range(0, len(pks), CHUNK):
        yield pks[index:index + CHUNK]


def differences(label: str, tolerance_seconds: float = 5.0) -> list[tuple]:
    """(kept, rebuilt) pairs that differ — stays, then handovers: one only one side has, or whose
    times are further apart than `tolerance_seconds` (the hooks stamp a move a moment after its
    history entry). Rows of records that no longer exist come last."""
    return list(iter_differences(label, tolerance_seconds))


def iter_differences(label: str, tolerance_seconds: float = 5.0):
    """`differences` one at a time (a million of them need not be held at once)."""
    for ids in _chunks(label):
        fresh_stays, fresh_handovers = from_timeline(label, ids)
        kept_stays = Stay.objects.filter(model=label, object_id__in=ids).order_by("object_id", "entered_at", "pk")
        kept_handovers = Handover.objects.filter(model=label, object_id__in=ids).order_by("object_id", "at", "pk")
        yield from _compare(kept_stays, fresh_stays, key, ("entered_at", "left_at"), tolerance_seconds)
        yield from _compare(kept_handovers, fresh_handovers, handover_key, ("at",), tolerance_seconds)
    records = _model(label)._base_manager.values("pk")
    for model in (Stay, Handover):
        for row in model.objects.filter(model=label).exclude(object_id__in=records).iterator(chunk_size=CHUNK):
            yield row, None


def _compare(kept_rows, fresh_rows, key_of, times, tolerance_seconds) -> list[tuple]:
    kept: dict[int, list] = defaultdict(list)
    for row in kept_rows.iterator(chunk_size=5000):
        kept[row.object_id].append(row)
    fresh: dict[int, list] = defaultdict(list)
    for row in fresh_rows:
        fresh[row.object_id].append(row)
    found = []
    for object_id in sorted(set(kept) | set(fresh)):
        have, want = kept.get(object_id, []), fresh.get(object_id, [])
        for index in range(max(len(have), len(want))):
            a = have[index] if index < len(have) else None
            b = want[index] if index < len(want) else None
            if a is None or b is None or key_of(a) != key_of(b) or not all(
                    _close(getattr(a, t), getattr(b, t), tolerance_seconds) for t in times):
                found.append((a, b))
    return found


def _close(a: datetime | None, b: datetime | None, seconds: float) -> bool:
    if a is None or b is None:
        return a is b
    return abs((a - b).total_seconds()) <= seconds


def rebuild(label: str, ids: list[int] | None = None) -> int:
    """Replace the stays and handovers of `label` (of the records `ids`; None: all) by the ones the
    history makes, in one transaction; returns the number of stays. A restore of a deleted record
    would call this for it, once its timeline is back."""
    made = 0
    with tallies.atomic():
        if label == LEAD and ids is not None:
            _funnel_forget(ids)  # while the stays still say which owner / source … the marks were counted under
            _taken_forget(ids)
        elif ids is not None:
            _closed_forget(ids)
        if ids is not None:
            _forget_stays(label, ids)
        for model in (Stay, Handover):
            rows = model.objects.filter(model=label)
            (rows if ids is None else rows.filter(object_id__in=ids)).delete()
        for chunk in (_chunks(label) if ids is None else [ids]):
            stays, handovers = from_timeline(label, chunk)
            Stay.objects.bulk_create(stays, batch_size=CHUNK)
            Handover.objects.bulk_create(handovers, batch_size=CHUNK)
            made += len(stays)
        if label == LEAD and ids is None:
            rebuild_funnel()
            rebuild_taken()
        elif label == LEAD:
            _funnel_learn(ids)
            _taken_learn(ids)
        elif ids is None:
            rebuild_closed()
        else:
            _closed_learn(ids)
        if ids is None:
            rebuild_open(label)
            rebuild_ended(label)
        else:
            opened, ended = _record_stays(label, ids)
            _count_open(label, [], opened)
            _count_ended(label, [], ended)
    return made


# --- The funnel per calendar period (FunnelMark, FunnelCount) ---
#
# A lead entering a status sets the status's bit in its marks of the week, month, quarter and year
# of that moment, and moves its weight in FunnelCount from the old mask to the new one, under its
# current owner / source / niche / reason (its «combination»); a change of these moves all its
# counts to the new combination; a deletion takes them away. The lead's row is locked by the move
# (leads.services), so its marks change one writer at a time; the counts are upserts adding a
# difference (crm.tallies' way), so writers of different leads add to a row in turn.


def _bits() -> dict[str, int]:
    from leads.models import ORDER

    return {str(status): 1 << index for index, status in enumerate(ORDER)}


BITS = _bits()  # a lead status → its bit in FunnelMark.mask / FunnelCount.mask


def period_start(kind: str, day: date) -> date:
    """The first day of the calendar week (Monday) / month / quarter / year containing `day`."""
    if kind == "week":
        return day - timedelta(days=day.weekday())
    if kind == "month":
        return day.replace(day=1)
    if kind == "quarter":
        return date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
    if kind == "year":
        return date(day.year, 1, 1)
    raise ValueError(kind)


def period_end(kind: str, start: date) -> date:
    """The last day of the calendar period `kind` starting on `start`."""
    if kind == "week":
        return start + timedelta(days=6)
    after = start.year * 12 + start.month - 1 + {"month": 1, "quarter": 3, "year": 12}[kind]
    return date(after // 12, after % 12 + 1, 1) - timedelta(days=1)


def day_of(at: datetime) -> date:
    """The day of a moment in the site's time zone, as analytics.params.Period.bounds cuts the
    reports' periods: the day every rollup counts a moment in."""
    return timezone.localtime(at, timezone.get_default_timezone()).date()


def periods(at: datetime) -> list[tuple[str, date]]:
    """(kind, start) of the calendar periods the moment `at` is in."""
    day = day_of(at)
    return [(kind, period_start(kind, day)) for kind in FUNNEL_KINDS]


Combination = tuple[int, int, int, int]  # owner, source, niche, reason; NONE for «none»


def _combination(values) -> Combination:
    return tuple(NONE if value is None else value for value in values)  # type: ignore[return-value]


def _marks(ids: list[int]) -> dict[int, dict[tuple[str, date], int]]:
    found: dict[int, dict] = defaultdict(dict)
    for object_id, kind, start, mask in FunnelMark.objects.filter(object_id__in=ids).values_list(
            "object_id", "kind", "start", "mask"):
        found[object_id][kind, start] = mask
    return found


def _count(deltas: dict, kind: str, start: date, combination: Combination, mask: int, n: int) -> None:
    key = (kind, start, *combination, mask)
    deltas[key] = deltas.get(key, 0) + n


def _apply_counts(deltas: dict[tuple, int]) -> None:
    """Add `deltas` ({(kind, start, owner, source, niche, reason, mask): n}) to FunnelCount in one
    upsert (crm.tallies.add: the counters' own arithmetic)."""
    tallies.add(FunnelCount, ["kind", "start", "owner", "source", "niche", "reason", "mask"], ["n"],
                [((kind, connection.ops.adapt_datefield_value(start), *rest), (n,))
                 for (kind, start, *rest), n in deltas.items() if n])
    converted, junked = _manager_bits()
    # The managers' projection: a mask change m1 → m2 is −1 on m1 and +1 on m2, so an owner's
    # «конвертировано» / «забраковано» net out by themselves (a reason or source change: to 0).
    add_managers(((kind, start, owner, 0), (0, 0, n if mask & converted else 0, n if mask & junked else 0))
                    for (kind, start, owner, _source, _niche, _reason, mask), n in deltas.items()
                    if n and mask & (converted | junked))


def _write_marks(marks: list[tuple[int, str, date, int]]) -> None:
    if not marks:
        return
    quote = connection.ops.quote_name
    table = quote(FunnelMark._meta.db_table)
    values = ", ".join(["(%s, %s, %s, %s)"] * len(marks))
    params = [value for object_id, kind, start, mask in sorted(marks)
              for value in (object_id, kind, connection.ops.adapt_datefield_value(start), mask)]
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} ({quote('object_id')}, {quote('kind')}, {quote('start')}, {quote('mask')}) "
                       f"VALUES {values} ON CONFLICT ({quote('object_id')}, {quote('kind')}, {quote('start')}) "
                       f"DO UPDATE SET {quote('mask')} = excluded.{quote('mask')}", params)


def _funnel_entered(records: dict[int, tuple[tuple, tuple]], state: str, at: datetime, *, created: bool) -> None:
    """The leads `records` ({pk: (combination before the move, now)}) entered `state` at `at`:
    one read of their marks (none for new leads), one write of the changed ones, one upsert."""
    bit = BITS.get(state, 0)
    here = periods(at)
    marks = {} if created else _marks(list(records))
    deltas: dict[tuple, int] = {}
    written = []
    for pk, (before, now) in records.items():
        have = marks.get(pk, {})
        old_combination, combination = _combination(before), _combination(now)
        if old_combination != combination:  # the move changed the reason (junk, reopen) or the owner
            for (kind, start), mask in have.items():
                _count(deltas, kind, start, old_combination, mask, -1)
                _count(deltas, kind, start, combination, mask, 1)
        for kind, start in here:
            old = have.get((kind, start), 0)
            if old | bit != old:
                written.append((pk, kind, start, old | bit))
                if old:
                    _count(deltas, kind, start, combination, old, -1)
                _count(deltas, kind, start, combination, old | bit, 1)
    _write_marks(written)
    _apply_counts(deltas)


def _funnel_recombined(pk: int, before: tuple, now: tuple) -> None:
    """A lead's owner / source / niche / reason changed: its counts move to the new combination."""
    old_combination, combination = _combination(before), _combination(now)
    if old_combination == combination:
        return
    deltas: dict[tuple, int] = {}
    for (kind, start), mask in _marks([pk]).get(pk, {}).items():
        _count(deltas, kind, start, old_combination, mask, -1)
        _count(deltas, kind, start, combination, mask, 1)
    _apply_counts(deltas)


def _combinations(ids: list[int]) -> dict[int, Combination]:
    """The leads' combinations as their stays keep them (the open stay: every lead has one)."""
    return {row[0]: _combination(row[1:]) for row in Stay.objects.filter(
        model=LEAD, object_id__in=ids, left_at__isnull=True).values_list("object_id", *columns(COPIED[LEAD]))}


def _funnel_forget(ids: list[int]) -> None:
    """Take the leads `ids` out of the funnel's counts and drop their marks (a deletion, a rebuild
    of their stays)."""
    marks, combinations = _marks(ids), _combinations(ids)
    deltas: dict[tuple, int] = {}
    for pk, have in marks.items():
        for (kind, start), mask in have.items():
            _count(deltas, kind, start, combinations.get(pk, (NONE,) * 4), mask, -1)
    _apply_counts(deltas)
    FunnelMark.objects.filter(object_id__in=ids).delete()


def _funnel_learn(ids: list[int]) -> None:
    """The marks and counts of the leads `ids` (that have none) from their stays."""
    with connection.cursor() as cursor:
        for kind in FUNNEL_KINDS:
            sql, params = fresh_marks_sql(kind, ids)
            cursor.execute(f"INSERT INTO {FunnelMark._meta.db_table} (object_id, kind, start, mask) {sql}", params)
    combinations = _combinations(ids)
    deltas: dict[tuple, int] = {}
    for pk, have in _marks(ids).items():
        for (kind, start), mask in have.items():
            _count(deltas, kind, start, combinations.get(pk, (NONE,) * 4), mask, 1)
    _apply_counts(deltas)


def recount(ids: list[int], label: str = LEAD) -> None:
    """Recount the records `ids` of `label` from their stays and handovers (a lead's funnel and
    taken marks, a deal's closed marks, the open stays' counts): for a writer that changed their
    times around the hooks (the demo data spreading its history over months)."""
    with tallies.atomic():
        refresh_stay_counts(label, ids)
        if label == DEAL:
            for index in range(0, len(ids), CHUNK):
                _closed_forget(ids[index:index + CHUNK])
                _closed_learn(ids[index:index + CHUNK])
        if label != LEAD:
            return
        for index in range(0, len(ids), CHUNK):
            _funnel_forget(ids[index:index + CHUNK])
            _funnel_learn(ids[index:index + CHUNK])
            _taken_forget(ids[index:index + CHUNK])
            _taken_learn(ids[index:index + CHUNK])


def _of_records(ids: list[int] | None, column: str = "object_id") -> tuple[str, list]:
    """The fresh marks' SQL narrowed to the records `ids` (None: all of them): its « AND … IN (…)»
    and the parameters."""
    if ids is None:
        return "", []
    return f" AND {column} IN ({', '.join(['%s'] * len(ids))})", list(ids)


def fresh_marks_sql(kind: str, ids: list[int] | None = None) -> tuple[str, list]:
    """SELECT object_id, kind, start, mask: the leads' marks of the periods `kind` as their stays
    make them — SQL, for INSERT … SELECT. A status entered twice in a period is one bit: the sum
    of the DISTINCT bits is their OR (no bit_or in SQLite)."""
    quote = connection.ops.quote_name
    trunc, trunc_params = connection.ops.datetime_trunc_sql(kind, quote("entered_at"), (),
                                                            timezone.get_default_timezone_name())
    whens = " ".join("WHEN %s THEN %s" for _ in BITS)
    where, where_params = _of_records(ids)
    params = [kind, *trunc_params, *[v for state, bit in BITS.items() for v in (state, bit)], LEAD, *where_params]
    # GROUP BY positions: the period's expression once, whatever its parameters.
    return (f"SELECT object_id, %s AS kind, date({trunc}) AS start, "
            f"SUM(DISTINCT CASE {quote('state')} {whens} ELSE 0 END) AS mask "
            f"FROM {Stay._meta.db_table} WHERE model = %s{where} GROUP BY 1, 3"), params


def _fresh_counts_sql(marks: str) -> str:
    """SELECT kind, start, owner, source, niche, reason, mask, n of the marks `marks` (a table or
    a subquery), under the combination the leads' open stays keep."""
    return (f"SELECT m.kind, m.start, s.owner, COALESCE(s.source, {NONE}), COALESCE(s.niche, {NONE}), "
            f"COALESCE(s.reason, {NONE}), m.mask, COUNT(*) FROM {marks} m JOIN {Stay._meta.db_table} s "
            f"ON s.model = '{LEAD}' AND s.object_id = m.object_id AND s.left_at IS NULL GROUP BY 1, 2, 3, 4, 5, 6, 7")


# --- The kept marks and counts, rebuilt and compared (the funnel, the taken marks, the closed deals) ---

def _rebuilt(marks_model, counts_model, insert_marks, counts_sql: str) -> int:
    """Replace every mark and count of a rollup, set-based, in one transaction: the marks that
    `insert_marks(cursor)` inserts (INSERT … SELECT from the stays or the handovers), the counts
    that `counts_sql` (INSERT … SELECT over the marks) makes; returns the number of marks."""
    marks, counts = marks_model._meta.db_table, counts_model._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":  # the writers wait for the rebuild
            cursor.execute(f"LOCK TABLE {marks}, {counts} IN EXCLUSIVE MODE")
        cursor.execute(f"DELETE FROM {counts}")
        cursor.execute(f"DELETE FROM {marks}")
        insert_marks(cursor)
        cursor.execute(counts_sql)
        return marks_model.objects.count()


def _replaced(counts, columns: list[str], sql: str, params: list, **equal) -> int:
    """Replace the rows of a count table `counts` (those `equal` selects; all by default) by what
    the SELECT `sql` makes of its `columns`, set-based, in one transaction; returns their number."""
    table = counts._meta.db_table
    names = ", ".join(connection.ops.quote_name(name) for name in columns)
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":  # the writers wait for the rebuild
            cursor.execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE")
        counts.objects.filter(**equal).delete()
        cursor.execute(f"INSERT INTO {table} ({names}) {sql}", params)
        return counts.objects.filter(**equal).count()


def _every_kind(fresh_sql) -> tuple[str, list]:
    """(SELECT, parameters) of the fresh marks of every calendar kind, as `fresh_sql(kind)` makes
    those of one."""
    made = [fresh_sql(kind) for kind in FUNNEL_KINDS]
    union = " UNION ALL ".join(f"SELECT * FROM ({sql}) f{i}" for i, (sql, _params) in enumerate(made))
    return f"SELECT * FROM ({union}) u", [p for _sql, params in made for p in params]


def _marks_differing(cursor, fresh: str, kept: str, params: list) -> int:
    """How many marks are in one of `fresh` and `kept` (SELECTs of the same columns; `params` are
    fresh's) and not in the other, counted by the database: a million records' marks are not read
    here."""
    differing = 0
    for a, b in ((fresh, kept), (kept, fresh)):
        cursor.execute(f"SELECT COUNT(*) FROM ({a} EXCEPT {b}) d", params)
        differing += cursor.fetchone()[0]
    return differing


def _insert_fresh_funnel(cursor) -> None:
    for kind in FUNNEL_KINDS:
        sql, params = fresh_marks_sql(kind)
        cursor.execute(f"INSERT INTO {FunnelMark._meta.db_table} (object_id, kind, start, mask) {sql}", params)


def rebuild_funnel() -> int:
    """Replace every mark and count by the ones the stays make, then the managers' counts that
    project them; returns the number of marks."""
    made = _rebuilt(FunnelMark, FunnelCount, _insert_fresh_funnel,
                   f"INSERT INTO {FunnelCount._meta.db_table} (kind, start, owner, source, niche, reason, mask, n) "
                   f"{_fresh_counts_sql(FunnelMark._meta.db_table)}")
    rebuild_managers()
    return made


def funnel_differences() -> tuple[int, list[tuple[tuple, int, int]]]:
    """(how many marks differ from the stays', [(key, kept n, fresh n)…] of the counts that
    differ), computed by the database."""
    fresh, params = _every_kind(fresh_marks_sql)
    kept = f"SELECT object_id, kind, start, mask FROM {FunnelMark._meta.db_table}"
    with connection.cursor() as cursor:
        marks = _marks_differing(cursor, fresh, kept, params)
        cursor.execute(_fresh_counts_sql(f"({fresh})"), params)
        want = {tuple(row[:7]): row[7] for row in cursor.fetchall()}
    have = {(kind, start, *rest): n for kind, start, *rest, n in FunnelCount.objects.exclude(n=0).values_list(
        "kind", "start", "owner", "source", "niche", "reason", "mask", "n")}
    want = {(kind, _date(start), *rest): n for (kind, start, *rest), n in want.items()}
    return marks, [(key, have.get(key, 0), want.get(key, 0)) for key in sorted(set(have) | set(want))
                   if have.get(key, 0) != want.get(key, 0)]


def _date(value) -> date:
    """A raw query's date: a date (PostgreSQL), an ISO string (SQLite)."""
    return value if isinstance(value, date) and not isinstance(value, datetime) else date.fromisoformat(str(value)[:10])


# --- Taken per calendar period (TakenMark, TakenCount) ---
#
# A handover of a lead (its creation for a manager, an import, a reassignment) marks (lead,
# receiver) in the calendar week, month, quarter and year of its moment; a mark that is new adds 1
# to the receiver's count of that period, so a lead handed to him twice in a month counts once, as
# the scan's COUNT(DISTINCT lead) does. Which marks are new is what the insert itself answers
# (INSERT … ON CONFLICT DO NOTHING RETURNING): a concurrent writer of the same mark waits for ours
# to commit and inserts nothing, so the mark is counted once whoever wins — no read-then-write
# that only the lead's row lock would make right. A deletion takes away exactly the marks it
# deletes (DELETE … RETURNING). The counts are crm.tallies' upserts adding a difference.

MARK_COLUMNS = ("object_id", "owner", "kind", "start")
ROWS_AT_ONCE = 2000  # rows (marks, records) per raw statement: an import's thousands of leads stay under SQLite's bound variables


def _returning() -> bool:
    """INSERT / DELETE … RETURNING: PostgreSQL, SQLite from 3.35 (Django's feature flag for it)."""
    return connection.features.can_return_rows_from_bulk_insert


def _mark_params(marks) -> list:
    return [value for object_id, owner, kind, start in marks
            for value in (object_id, owner, kind, connection.ops.adapt_datefield_value(start))]


def _returned(rows) -> list[tuple[int, int, str, date]]:
    return [(object_id, owner, kind, _date(start)) for object_id, owner, kind, start in rows]


def _insert_marks(model, columns: tuple[str, ...], key: tuple[str, ...], marks: list[tuple], params_of,
                  returned_of) -> list[tuple]:
    """Insert the rows `marks` (values of `columns`; `params_of(chunk)` their parameters) whose
    `key` (the first columns: the model's unique key) is not in `model`'s table yet; returns the
    ones this statement inserted (`returned_of`: a raw row as the writers hold it). A mark that
    is new is what the insert itself answers (… ON CONFLICT DO NOTHING RETURNING)."""
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    names = ", ".join(quote(c) for c in columns)
    row = "(" + ", ".join(["%s"] * len(columns)) + ")"
    new = []
    with connection.cursor() as cursor:
        for index in range(0, len(marks), ROWS_AT_ONCE):
            chunk = marks[index:index + ROWS_AT_ONCE]
            sql = (f"INSERT INTO {table} ({names}) VALUES {', '.join([row] * len(chunk))} "
                   f"ON CONFLICT ({', '.join(quote(c) for c in key)}) DO NOTHING")
            if _returning():
                cursor.execute(f"{sql} RETURNING {names}", params_of(chunk))
                new += returned_of(cursor.fetchall())
                continue
            # No RETURNING (SQLite before 3.35): the ones there before, read under the writer's
            # lock of the records (leads.services, deals.services) — only a record's own writer
            # adds its marks.
            there = set(model.objects.filter(object_id__in={m[0] for m in chunk}).values_list(*key))
            cursor.execute(sql, params_of(chunk))
            new += [mark for mark in chunk if mark[:len(key)] not in there]
    return new


def _delete_marks(model, columns: tuple[str, ...], ids: list[int], returned_of) -> list[tuple]:
    """Delete the marks of the records `ids` from `model`'s table; returns them (values of
    `columns`) — exactly what was deleted (DELETE … RETURNING), for the counts to take away."""
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    gone = []
    with connection.cursor() as cursor:
        for index in range(0, len(ids), ROWS_AT_ONCE):
            chunk = ids[index:index + ROWS_AT_ONCE]
            if _returning():
                cursor.execute(f"DELETE FROM {table} WHERE object_id IN ({', '.join(['%s'] * len(chunk))}) "
                               f"RETURNING {names}", list(chunk))
                gone += returned_of(cursor.fetchall())
            else:
                rows = model.objects.filter(object_id__in=chunk)
                gone += list(rows.values_list(*columns))
                rows.delete()
    return gone


def _insert_taken(marks: list[tuple[int, int, str, date]]) -> list[tuple[int, int, str, date]]:
    """Insert the marks that do not exist yet; returns the ones this statement inserted."""
    return _insert_marks(TakenMark, MARK_COLUMNS, MARK_COLUMNS, marks, _mark_params, _returned)


def _count_taken(marks, sign: int) -> None:
    """Add `sign` per mark to its (kind, start, owner) count: one upsert (crm.tallies.add)."""
    deltas: dict[tuple, int] = defaultdict(int)
    for _object_id, owner, kind, start in marks:
        deltas[kind, start, owner] += sign
    tallies.add(TakenCount, ["kind", "start", "owner"], ["n"],
                [((kind, connection.ops.adapt_datefield_value(start), owner), (n,))
                 for (kind, start, owner), n in deltas.items() if n])
    add_managers([((kind, start, owner, 0), (n, 0, 0, 0)) for (kind, start, owner), n in deltas.items() if n])


def _taken(handed: list[tuple[int, int]], at: datetime) -> None:
    """The leads `handed` ([(lead, receiver)…]) were handed over at `at`: their marks of the
    calendar periods of `at`, and +1 on the counts of the new ones. Two queries."""
    here = periods(at)
    marks = sorted({(pk, owner, kind, start) for pk, owner in handed for kind, start in here})
    if marks:
        _count_taken(_insert_taken(marks), 1)


def _taken_forget(ids: list[int]) -> None:
    """Take the leads `ids` out of the taken counts and drop their marks (a deletion, a rebuild of
    their handovers)."""
    if ids:
        _count_taken(_delete_marks(TakenMark, MARK_COLUMNS, ids, _returned), -1)


def fresh_taken_sql(kind: str, ids: list[int] | None = None) -> tuple[str, list]:
    """SELECT object_id, owner, kind, start: the leads' taken marks of the periods `kind` as their
    handovers make them — SQL, for INSERT … SELECT."""
    quote = connection.ops.quote_name
    trunc, trunc_params = connection.ops.datetime_trunc_sql(kind, quote("at"), (), timezone.get_default_timezone_name())
    where, where_params = _of_records(ids)
    params = [kind, *trunc_params, LEAD, *where_params]
    return (f"SELECT object_id, owner, %s AS kind, date({trunc}) AS start "
            f"FROM {Handover._meta.db_table} WHERE model = %s{where} GROUP BY 1, 2, 4"), params


def _insert_fresh_taken(cursor, ids: list[int] | None = None) -> None:
    for kind in FUNNEL_KINDS:
        sql, params = fresh_taken_sql(kind, ids)
        cursor.execute(f"INSERT INTO {TakenMark._meta.db_table} (object_id, owner, kind, start) {sql}", params)


def _taken_learn(ids: list[int]) -> None:
    """The marks and counts of the leads `ids` (that have none) from their handovers."""
    with connection.cursor() as cursor:
        _insert_fresh_taken(cursor, ids)
    _count_taken(TakenMark.objects.filter(object_id__in=ids).values_list(*MARK_COLUMNS), 1)


def rebuild_taken() -> int:
    """Replace every taken mark and count by the ones the handovers make, then the managers' counts
    that project them; returns the number of marks."""
    made = _rebuilt(TakenMark, TakenCount, _insert_fresh_taken,
                   f"INSERT INTO {TakenCount._meta.db_table} (kind, start, owner, n) SELECT kind, start, owner, "
                   f"COUNT(*) FROM {TakenMark._meta.db_table} GROUP BY 1, 2, 3")
    rebuild_managers()
    return made


def taken_differences() -> tuple[int, list[tuple[tuple, int, int]]]:
    """(how many taken marks differ from the handovers', [((kind, start, owner), kept n, fresh n)…]
    of the counts that differ), computed by the database."""
    fresh, params = _every_kind(fresh_taken_sql)
    kept = f"SELECT object_id, owner, kind, start FROM {TakenMark._meta.db_table}"
    with connection.cursor() as cursor:
        marks = _marks_differing(cursor, fresh, kept, params)
        cursor.execute(f"SELECT kind, start, owner, COUNT(*) FROM ({fresh}) t GROUP BY 1, 2, 3", params)
        want = {(kind, _date(start), owner): n for kind, start, owner, n in cursor.fetchall()}
    have = {(kind, start, owner): n for kind, start, owner, n in
            TakenCount.objects.exclude(n=0).values_list("kind", "start", "owner", "n")}
    return marks, [(key, have.get(key, 0), want.get(key, 0)) for key in sorted(set(have) | set(want))
                   if have.get(key, 0) != want.get(key, 0)]


# --- The managers' figures per calendar period (ManagerCount) ---
#
# The projection of the taken counts, the funnel's counts (their CONVERTED and JUNK bits) and the
# moves per day (analytics.source_counts) onto (kind, start, owner, by), added from the very deltas
# those get, by the same functions (`_count_taken`, `_apply_counts`, source_counts.Deltas.apply):
# every writer of those follows. The funnel's and the taken counts both project onto the
# (kind, start, owner, 0) rows; the moves' rows (by ≠ 0; the system's moves are not kept) are
# source_counts'. Like every counter they are written at the end of the writer's
# crm.tallies.together() block (the services' transaction, the hooks), once, in the one table order.

def fresh_managers_sql() -> tuple[str, list]:
    """SELECT kind, start, owner, by, taken, moved, converted, junked: ManagerCount as the kept
    taken, funnel and move counts make it (their projection, set-based; rows of zeros left out)."""
    quote = connection.ops.quote_name
    by = quote("by")
    converted, junked = _manager_bits()
    parts = [f"SELECT kind, start, owner, 0 AS {by}, n AS taken, 0 AS moved, 0 AS converted, 0 AS junked "
             f"FROM {TakenCount._meta.db_table}",
             f"SELECT kind, start, owner, 0, 0, 0, CASE WHEN (mask & %s) <> 0 THEN n ELSE 0 END, "
             f"CASE WHEN (mask & %s) <> 0 THEN n ELSE 0 END FROM {FunnelCount._meta.db_table} WHERE (mask & %s) <> 0"]
    params: list = [converted, junked, converted | junked]
    for kind in FUNNEL_KINDS:
        trunc, trunc_params = connection.ops.date_trunc_sql(kind, quote("day"), ())
        parts.append(f"SELECT %s, date({trunc}), owner, {by}, 0, moves, 0, 0 FROM {MoveCount._meta.db_table} "
                     f"WHERE {by} <> 0")
        params += [kind, *trunc_params]
    union = " UNION ALL ".join(parts)
    return (f"SELECT kind, start, owner, {by}, SUM(taken), SUM(moved), SUM(converted), SUM(junked) FROM ({union}) p "
            f"GROUP BY 1, 2, 3, 4 HAVING SUM(taken) <> 0 OR SUM(moved) <> 0 OR SUM(converted) <> 0 "
            f"OR SUM(junked) <> 0"), params


def rebuild_managers() -> int:
    """Replace ManagerCount by the projection of the kept taken, funnel and move counts; returns
    the number of rows. The writers add to ManagerCount after those counts in their transactions:
    while this runs they wait for it, and add their part after."""
    return _replaced(ManagerCount, [*MANAGER_KEY, *MANAGER_COUNTED], *fresh_managers_sql())


def managers_differences() -> list[tuple[tuple, tuple, tuple]]:
    """[((kind, start, owner, by), kept (taken, moved, converted, junked), fresh (…))…] of the
    rows that differ from the projection of the kept counts."""
    sql, params = fresh_managers_sql()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        # int(): PostgreSQL's SUM of a bigint is a numeric.
        want = {(kind, _date(start), owner, by): tuple(int(c) for c in counts)
                for kind, start, owner, by, *counts in cursor.fetchall()}
    have = {(kind, start, owner, by): tuple(counts) for kind, start, owner, by, *counts in
            ManagerCount.objects.values_list(*MANAGER_KEY, *MANAGER_COUNTED) if any(counts)}
    none = (0, 0, 0, 0)
    return [(key, have.get(key, none), want.get(key, none)) for key in sorted(set(have) | set(want))
            if have.get(key, none) != want.get(key, none)]


# --- The stuck records' count (OpenStayCount) ---
#
# How many records are in a state since a day (their open stay's entered_at date in the site's
# zone), per owner: a move takes 1 from the closed stay's day and adds 1 to today's under the new
# state; a reassignment moves the open stay's 1 to the new owner; a deletion takes it away. The
# closed stay's state and day are what the closing UPDATE itself returns (… RETURNING) — no read
# before the write where the database can say it. The counts are crm.tallies' upserts adding a
# difference, in the writer's transaction; rows that fall to 0 stay (the reads sum them, the
# check skips them). What changes the open stays around the hooks (the demo data, a test's
# backdate) calls recount (refresh_stay_counts) for the records.

OPEN_KEY = ["model", "scope", "state", "owner", "day"]
OPEN_COLUMNS = ("scope", "state", "owner", "entered_at")  # what a closed stay tells about itself


def moment(value) -> datetime:
    """A raw query's datetime: aware (PostgreSQL), a naive UTC string (SQLite)."""
    if not isinstance(value, datetime):
        value = parse_datetime(str(value))
    return value if timezone.is_aware(value) else timezone.make_aware(value, UTC)


def _count_open(label: str, gone, came) -> None:
    """−1 per open stay `gone`, +1 per open stay `came` ((scope, state, owner, entered_at)…) of
    `label` on their (scope, state, owner, day) counts: one upsert (crm.tallies.add)."""
    deltas: dict[tuple, int] = defaultdict(int)
    for sign, stays in ((-1, gone), (1, came)):
        for scope, state, owner, entered_at in stays:
            deltas[scope, state, owner, day_of(entered_at)] += sign
    tallies.add(OpenStayCount, OPEN_KEY, ["n"],
                [((label, scope, state, owner, connection.ops.adapt_datefield_value(day)), (n,))
                 for (scope, state, owner, day), n in deltas.items() if n])


def _close_open(label: str, ids: list[int], at: datetime) -> list[tuple]:
    """Close the open stays of the records `ids` at `at`; returns what they were (OPEN_COLUMNS)."""
    if not _returning():
        # No RETURNING (SQLite before 3.35): read under the writer's lock of the records.
        rows = Stay.objects.filter(model=label, object_id__in=ids, left_at__isnull=True)
        closed = list(rows.values_list(*OPEN_COLUMNS))
        rows.update(left_at=at)
        return closed
    quote = connection.ops.quote_name
    closed = []
    with connection.cursor() as cursor:
        for index in range(0, len(ids), ROWS_AT_ONCE):
            chunk = ids[index:index + ROWS_AT_ONCE]
            cursor.execute(f"UPDATE {quote(Stay._meta.db_table)} SET {quote('left_at')} = %s "
                           f"WHERE {quote('model')} = %s AND {quote('left_at')} IS NULL "
                           f"AND {quote('object_id')} IN ({', '.join(['%s'] * len(chunk))}) "
                           f"RETURNING {', '.join(quote(c) for c in OPEN_COLUMNS)}",
                           [connection.ops.adapt_datetimefield_value(at), label, *chunk])
            closed += [(scope, state, owner, moment(entered_at)) for scope, state, owner, entered_at in cursor.fetchall()]
    return closed


def _record_stays(label: str, ids: list[int]) -> tuple[list[tuple], list[tuple]]:
    """(the open stays (OPEN_COLUMNS), the ended ones (STAY_COLUMNS)) of the records `ids`: one read."""
    opened, ended = [], []
    for *stay, left_at in Stay.objects.filter(model=label, object_id__in=ids).values_list(*STAY_COLUMNS):
        if left_at is None:
            opened.append(tuple(stay))
        else:
            ended.append((*stay, left_at))
    return opened, ended


def _forget_stays(label: str, ids: list[int]) -> None:
    """Take the stays of the records `ids` out of the open and ended stays' counts (a deletion, a
    rebuild of their stays)."""
    opened, ended = _record_stays(label, ids)
    _count_open(label, opened, [])
    _count_ended(label, ended, [])


def fresh_open_sql(**equal) -> tuple[str, list]:
    """SELECT model, scope, state, owner, day, n: the open stays' counts as the stays make them
    (narrowed to the stays whose columns `equal` says) — SQL, for INSERT … SELECT."""
    quote = connection.ops.quote_name
    day, params = connection.ops.datetime_cast_date_sql(quote("entered_at"), (), timezone.get_default_timezone_name())
    where = "".join(f" AND {quote(column)} = %s" for column in equal)
    # GROUP BY positions: the day's expression once, whatever its parameters.
    return (f"SELECT model, scope, state, owner, {day} AS day, COUNT(*) AS n FROM {Stay._meta.db_table} "
            f"WHERE left_at IS NULL{where} GROUP BY 1, 2, 3, 4, 5"), [*params, *equal.values()]


def refresh_stay_counts(label: str, ids: list[int]) -> None:
    """Recount the (state, owner) counts of the open stays (OpenStayCount) and of the ended ones
    (EndedStayCount) the records `ids` are in, from the stays: for a writer that changed their times
    around the hooks (what they were is not known any more, so the whole of each (state, owner) is
    counted again). Their states and owners must be the ones the hooks counted."""
    opened: set[tuple] = set()
    ended: set[tuple] = set()
    for index in range(0, len(ids), CHUNK):
        found = _record_stays(label, ids[index:index + CHUNK])
        opened |= {(scope, state, owner) for scope, state, owner, *_at in found[0]}
        ended |= {(scope, state, owner) for scope, state, owner, *_at in found[1]}
    with transaction.atomic(), connection.cursor() as cursor:
        for counts, key, fresh_sql, groups in ((OpenStayCount, OPEN_KEY, fresh_open_sql, opened),
                                               (EndedStayCount, ENDED_KEY, fresh_ended_sql, ended)):
            for scope, state, owner in sorted(groups):
                counts.objects.filter(model=label, scope=scope, state=state, owner=owner).delete()
                sql, params = fresh_sql(model=label, scope=scope, state=state, owner=owner)
                cursor.execute(f"INSERT INTO {counts._meta.db_table} ({', '.join(key)}, n) {sql}", params)


def rebuild_open(label: str | None = None) -> int:
    """Replace the open stays' counts (of `label`; None: all) by the ones the stays make,
    set-based, in one transaction; returns the number of rows."""
    equal = {} if label is None else {"model": label}
    return _replaced(OpenStayCount, [*OPEN_KEY, "n"], *fresh_open_sql(**equal), **equal)


def open_differences() -> list[tuple[tuple, int, int]]:
    """[((model, scope, state, owner, day), kept n, fresh n)…] of the counts that differ from the
    open stays' (the database groups them)."""
    sql, params = fresh_open_sql()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        want = {(model, scope, state, owner, _date(day)): n for model, scope, state, owner, day, n in cursor.fetchall()}
    have = {tuple(key): n for *key, n in OpenStayCount.objects.exclude(n=0).values_list(*OPEN_KEY, "n")}
    return [(key, have.get(key, 0), want.get(key, 0)) for key in sorted(set(have) | set(want))
            if have.get(key, 0) != want.get(key, 0)]


# --- Time in status per calendar period (EndedStayCount) ---
#
# A stay that ends adds 1 to its (state, owner, duration in tenths of a day) in the calendar week,
# month, quarter and year of its end; a reassignment moves the record's ended stays' 1s to the new owner; a
# deletion takes them away. What the ended stay was (state, owner, entry) is what the closing
# UPDATE returns for the stuck records' count: no read more. What changes the stays' times around
# the hooks (the demo data, a test's backdate) calls recount (refresh_stay_counts) for the records.

ENDED_KEY = ["model", "scope", "kind", "start", "state", "owner", "tenths"]
STAY_COLUMNS = (*OPEN_COLUMNS, "left_at")  # what an ended stay tells about itself
TENTH = 8640  # seconds: the tenth of a day time in status prints


def tenths(seconds: float) -> int:
    """A duration in tenths of a day, the nearest one (a half up): as the report prints it. The
    same arithmetic as `tenths_sql` (IEEE doubles both), so the writers and a rebuild agree."""
    return math.floor((seconds + TENTH / 2) / TENTH)


def tenths_sql(table: str = "") -> str:
    """`tenths` of a stay's left_at − entered_at in SQL (`table`: the columns' qualifier with its
    dot): PostgreSQL's epoch of the interval (a float: EXTRACT's numeric sorted 3–5× slower in the
    percentiles), SQLite's microseconds (Django's django_timestamp_diff); both ≥ 0, so SQLite's CAST
    is a floor."""
    left, entered = f"{table}left_at", f"{table}entered_at"
    if connection.vendor == "postgresql":
        return f"floor((date_part('epoch', {left} - {entered}) + {TENTH // 2}) / {TENTH})"
    return f"CAST((django_timestamp_diff({left}, {entered}) / 1000000.0 + {TENTH // 2}) / {TENTH} AS INTEGER)"


def _count_ended(label: str, gone, came) -> None:
    """−1 per ended stay `gone`, +1 per ended stay `came` ((scope, state, owner, entered_at,
    left_at)…) of `label` on their counts of the calendar periods they ended in: one upsert."""
    deltas: dict[tuple, int] = defaultdict(int)
    for sign, stays in ((-1, gone), (1, came)):
        for scope, state, owner, entered_at, left_at in stays:
            length = tenths((left_at - entered_at).total_seconds())
            for kind, start in periods(left_at):
                deltas[scope, kind, start, state, owner, length] += sign
    adapt = connection.ops.adapt_datefield_value
    tallies.add(EndedStayCount, ENDED_KEY, ["n"],
                [((label, scope, kind, adapt(start), state, owner, length), (n,))
                 for (scope, kind, start, state, owner, length), n in deltas.items() if n])


def fresh_ended_sql(**equal) -> tuple[str, list]:
    """SELECT model, scope, kind, start, state, owner, tenths, n: the ended stays' counts as the
    stays make them (narrowed to the stays whose columns `equal` says) — SQL, for INSERT … SELECT."""
    quote = connection.ops.quote_name
    where = "".join(f" AND {quote(column)} = %s" for column in equal)
    parts, params = [], []
    for kind in FUNNEL_KINDS:
        trunc, trunc_params = connection.ops.datetime_trunc_sql(kind, quote("left_at"), (),
                                                                timezone.get_default_timezone_name())
        parts.append(f"SELECT model, scope, %s AS kind, date({trunc}) AS start, state, owner, {tenths_sql()} AS tenths "
                     f"FROM {Stay._meta.db_table} WHERE left_at IS NOT NULL{where}")
        params += [kind, *trunc_params, *equal.values()]
    return (f"SELECT model, scope, kind, start, state, owner, tenths, COUNT(*) AS n "
            f"FROM ({' UNION ALL '.join(parts)}) e GROUP BY 1, 2, 3, 4, 5, 6, 7"), params


def rebuild_ended(label: str | None = None) -> int:
    """Replace the ended stays' counts (of `label`; None: all) by the ones the stays make,
    set-based, in one transaction; returns the number of rows."""
    equal = {} if label is None else {"model": label}
    return _replaced(EndedStayCount, [*ENDED_KEY, "n"], *fresh_ended_sql(**equal), **equal)


def ended_differences() -> list[tuple[tuple, int, int]]:
    """[((model, scope, kind, start, state, owner, tenths), kept n, fresh n)…] of the counts that
    differ from the ended stays' (the database groups them)."""
    sql, params = fresh_ended_sql()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        want = {(model, scope, kind, _date(start), state, owner, int(length)): n
                for model, scope, kind, start, state, owner, length, n in cursor.fetchall()}
    have = {tuple(key): n for *key, n in EndedStayCount.objects.exclude(n=0).values_list(*ENDED_KEY, "n")}
    return [(key, have.get(key, 0), want.get(key, 0)) for key in sorted(set(have) | set(want))
            if have.get(key, 0) != want.get(key, 0)]


# --- Closed deals per calendar period (ClosedMark, ClosedCount) ---
#
# A deal entering a success or failure stage marks (deal, pipeline, won?) in the calendar week,
# month, quarter and year of the moment; a mark that is new adds 1 and the deal's amount to its
# count under the deal's owner, currency and loss reason, so a deal won twice in a month counts
# once, as the scan's DISTINCT does. As for the taken marks, the insert itself says which marks
# are new (… ON CONFLICT DO NOTHING RETURNING) and a deletion takes away what it deletes
# (DELETE … RETURNING). The mark carries the values it was counted under: an edit of the deal's
# owner, amount, currency or loss reason moves what its marks added (their own values, read under
# the deal's row lock that every deals.services writer holds) to the new bucket — no trust in what
# the instance remembered. Which stages close a deal is deals.Stage.semantics at the move.
#
# A stage's meaning edited in the admin (deals.Stage.semantics) changes which of the stays close a
# deal: a stage that becomes or stops being a success or failure stage, or such a stage deleted
# (its deals moved away first; their stays keep its id, and the scan no longer counts them). The
# deals that ever entered it are recounted from their stays in the background (analytics.tasks),
# once the admin's save has committed: at a million deals a stage may have a hundred thousand.

CLOSED_MARK = ("object_id", "scope", "won", "kind", "start")  # ClosedMark's key
CLOSED_COLUMNS = (*CLOSED_MARK, "owner", "currency", "reason", "amount")
CLOSED_KEY = ["kind", "start", "scope", "won", "owner", "currency", "reason"]  # ClosedCount's
CENTS = Decimal("0.01")


def _money(value) -> Decimal | None:
    """A raw query's amount: a Decimal (PostgreSQL), a float or an int (SQLite's NUMERIC)."""
    if value is None or isinstance(value, Decimal):
        return value
    return Decimal(str(value)).quantize(CENTS)


def _closed_values(values: tuple) -> tuple:
    """(owner, currency, reason, amount) a deal's marks carry, from its `copied` values."""
    owner, _source, _niche, reason, amount, currency = values
    return owner, currency or "", NONE if reason is None else reason, amount


def _closed_params(marks) -> list:
    adapt = connection.ops
    return [value for object_id, scope, won, kind, start, owner, currency, reason, amount in marks
            for value in (object_id, scope, won, kind, adapt.adapt_datefield_value(start), owner, currency, reason,
                          adapt.adapt_decimalfield_value(amount))]


def _closed_returned(rows) -> list[tuple]:
    return [(object_id, scope, bool(won), kind, _date(start), owner, currency, reason, _money(amount))
            for object_id, scope, won, kind, start, owner, currency, reason, amount in rows]


def _insert_closed(marks: list[tuple]) -> list[tuple]:
    """Insert the marks (CLOSED_COLUMNS) that do not exist yet; returns the ones this statement inserted."""
    return _insert_marks(ClosedMark, CLOSED_COLUMNS, CLOSED_MARK, marks, _closed_params, _closed_returned)


def _count_closed(gone, came) -> None:
    """−1 and −amount per mark `gone`, +1 and +amount per mark `came` (CLOSED_COLUMNS) on their
    counts: one upsert (crm.tallies.add)."""
    deltas: dict[tuple, list] = defaultdict(lambda: [0, Decimal(0)])
    for sign, marks in ((-1, gone), (1, came)):
        for _object_id, scope, won, kind, start, owner, currency, reason, amount in marks:
            delta = deltas[kind, start, scope, bool(won), owner, currency, reason]
            delta[0] += sign
            delta[1] += sign * (amount or 0)
    tallies.add(ClosedCount, CLOSED_KEY, ["n", "total"],
                [((kind, connection.ops.adapt_datefield_value(start), *rest), (n, total))
                 for (kind, start, *rest), (n, total) in deltas.items() if n or total])


def _outcomes(targets: list[str]) -> dict[str, tuple[int, bool]]:
    """{stage id as text: (its pipeline, won?)} of the success and failure stages among `targets`."""
    from deals.models import Stage

    ids = [int(t) for t in targets if t.isdigit()]
    return {str(pk): (pipeline, semantics == Stage.Semantics.SUCCESS) for pk, pipeline, semantics in
            Stage.objects.filter(pk__in=ids).exclude(semantics=Stage.Semantics.IN_PROCESS).values_list(
                "pk", "pipeline_id", "semantics")}


def _outcome(record: Model, target: str) -> tuple[int, bool] | None:
    """(pipeline, won?) when the deal `record` entered a success / failure stage `target`: its
    current stage, which the move has usually read already (Deal.current_stage caches it)."""
    from deals.models import Stage

    if str(record.stage_id) != target:
        return _outcomes([target]).get(target)
    stage = record.current_stage
    if stage.semantics == Stage.Semantics.IN_PROCESS:
        return None
    return stage.pipeline_id, stage.semantics == Stage.Semantics.SUCCESS


def _closed(deals: list[tuple[int, tuple]], outcome: tuple[int, bool], at: datetime) -> None:
    """The deals ([(pk, copied values)…]) entered a stage of `outcome` at `at`: their marks of the
    calendar periods of `at` (a won deal's of ANY_PIPELINE too), and the counts of the new ones.
    Two queries."""
    scope, won = outcome
    scopes = (scope, ANY_PIPELINE) if won else (scope,)
    marks = sorted({(pk, each, won, kind, start, *_closed_values(values))
                    for pk, values in deals for kind, start in periods(at) for each in scopes})
    if marks:
        _count_closed([], _insert_closed(marks))


def _closed_follow(pk: int, values: tuple) -> None:
    """The deal `pk`'s owner, amount, currency or loss reason are `values` now (its `copied`): its
    marks' contributions leave the buckets they were counted in and join the new one. One read of
    its marks (under the deal's row lock); an update and an upsert when it has any that differ."""
    now = _closed_values(values)
    was = [mark for mark in ClosedMark.objects.filter(object_id=pk).values_list(*CLOSED_COLUMNS)
           if (mark[5], mark[6], mark[7], _money(mark[8])) != now]
    if not was:
        return
    ClosedMark.objects.filter(object_id=pk).update(**dict(zip(CLOSED_COLUMNS[5:], now, strict=True)))
    _count_closed(was, [(*mark[:5], *now) for mark in was])


def _closed_forget(ids: list[int]) -> None:
    """Take the deals `ids` out of the closed counts and drop their marks (a deletion, a rebuild
    of their stays)."""
    if ids:
        _count_closed(_delete_marks(ClosedMark, CLOSED_COLUMNS, ids, _closed_returned), [])


def _stage_before(sender, instance, raw=False, **kwargs) -> None:
    # The meaning the stage had (None: a new stage), to tell an edit of it after the save.
    instance._analytics_semantics = None if raw or instance.pk is None else (
        sender.objects.filter(pk=instance.pk).values_list("semantics", flat=True).first())


def _stage_saved(sender, instance, created, raw=False, **kwargs) -> None:
    # Of three meanings, any change makes a stage closing or stops it being one.
    was = getattr(instance, "_analytics_semantics", None)
    if not (created or raw) and was is not None and was != instance.semantics:
        _recount_stage_later(instance.pk)


def _stage_deleted(sender, instance, **kwargs) -> None:
    if instance.is_closed:
        _recount_stage_later(instance.pk)


def _connect_stages() -> None:
    from deals.models import Stage

    pre_save.connect(_stage_before, sender=Stage, weak=False, dispatch_uid="analytics-stage-before")
    post_save.connect(_stage_saved, sender=Stage, weak=False, dispatch_uid="analytics-stage-saved")
    post_delete.connect(_stage_deleted, sender=Stage, weak=False, dispatch_uid="analytics-stage-deleted")


_connect_stages()


def _recount_stage_later(pk: int) -> None:
    from .tasks import recount_stage as task

    transaction.on_commit(lambda: task.enqueue(str(pk)), robust=True)


def recount_stage(state: str) -> int:
    """Recount the closed marks of the deals that ever entered the stage `state` (its id as text)
    from their stays and the stages' meaning now; returns how many deals. A chunk at a time, each
    under the deals' row locks that their writers take (deals.services): a deal moved meanwhile is
    counted by its move or by this, never by both."""
    from deals.models import Deal

    ids = sorted(set(Stay.objects.filter(model=DEAL, state=state).values_list("object_id", flat=True)))
    for index in range(0, len(ids), CHUNK):
        chunk = ids[index:index + CHUNK]
        with transaction.atomic():
            list(Deal._base_manager.select_for_update().filter(pk__in=chunk).order_by("pk").values_list("pk", flat=True))
            recount(chunk, DEAL)
    return len(ids)


def fresh_closed_sql(kind: str, ids: list[int] | None = None) -> tuple[str, list]:
    """SELECT CLOSED_COLUMNS: the deals' closed marks of the periods `kind` as their stays make them
    (the stays of a success or failure stage, deals.Stage.semantics; the won ones once more in
    ANY_PIPELINE) — SQL, for INSERT … SELECT. A deal's stays carry the same owner, currency, reason
    and amount: MAX picks that one value."""
    from deals.models import Stage

    quote = connection.ops.quote_name
    trunc, trunc_params = connection.ops.datetime_trunc_sql(kind, f"s.{quote('entered_at')}", (),
                                                            timezone.get_default_timezone_name())
    success, failure = Stage.Semantics.SUCCESS.value, Stage.Semantics.FAILURE.value
    where, where_params = _of_records(ids, "s.object_id")

    def select(scope: str, semantics: list[str]) -> tuple[str, list]:
        # GROUP BY positions: the outcome's and the period's expressions once, whatever their parameters.
        return (f"SELECT s.object_id, {scope} AS scope, st.semantics = %s AS won, %s AS kind, date({trunc}) AS start, "
                f"MAX(s.owner) AS owner, MAX(s.currency) AS currency, COALESCE(MAX(s.reason), %s) AS reason, "
                f"MAX(s.amount) AS amount FROM {Stay._meta.db_table} s "
                f"JOIN {Stage._meta.db_table} st ON s.state = CAST(st.id AS VARCHAR(64)) "
                f"WHERE s.model = %s AND st.semantics IN ({', '.join(['%s'] * len(semantics))}){where} "
                f"GROUP BY 1, 2, 3, 5"), [success, kind, *trunc_params, NONE, DEAL, *semantics, *where_params]

    each, each_params = select("s.scope", [success, failure])
    anywhere, anywhere_params = select(str(int(ANY_PIPELINE)), [success])
    return f"{each} UNION ALL {anywhere}", [*each_params, *anywhere_params]


def _insert_fresh_closed(cursor, ids: list[int] | None = None) -> None:
    columns = ", ".join(CLOSED_COLUMNS)
    for kind in FUNNEL_KINDS:
        sql, params = fresh_closed_sql(kind, ids)
        cursor.execute(f"INSERT INTO {ClosedMark._meta.db_table} ({columns}) {sql}", params)


def _closed_learn(ids: list[int]) -> None:
    """The marks and counts of the deals `ids` (that have none) from their stays."""
    with connection.cursor() as cursor:
        _insert_fresh_closed(cursor, ids)
    _count_closed([], ClosedMark.objects.filter(object_id__in=ids).values_list(*CLOSED_COLUMNS))


def _fresh_closed_counts_sql(marks: str) -> str:
    """SELECT CLOSED_KEY, n, total of the marks `marks` (a table or a subquery)."""
    return (f"SELECT kind, start, scope, won, owner, currency, reason, COUNT(*), COALESCE(SUM(amount), 0) "
            f"FROM {marks} m GROUP BY 1, 2, 3, 4, 5, 6, 7")


def rebuild_closed() -> int:
    """Replace every closed mark and count by the ones the stays make; returns the number of marks."""
    return _rebuilt(ClosedMark, ClosedCount, _insert_fresh_closed,
                    f"INSERT INTO {ClosedCount._meta.db_table} ({', '.join(CLOSED_KEY)}, n, total) "
                    f"{_fresh_closed_counts_sql(ClosedMark._meta.db_table)}")


def closed_differences() -> tuple[int, list[tuple[tuple, tuple, tuple]]]:
    """(how many closed marks differ from the stays', [(key, kept (n, total), fresh (n, total))…]
    of the counts that differ), computed by the database."""
    fresh, params = _every_kind(fresh_closed_sql)
    kept = f"SELECT {', '.join(CLOSED_COLUMNS)} FROM {ClosedMark._meta.db_table}"
    with connection.cursor() as cursor:
        marks = _marks_differing(cursor, fresh, kept, params)
        cursor.execute(_fresh_closed_counts_sql(f"({fresh})"), params)
        want = {(kind, _date(start), scope, bool(won), *rest): (n, _money(total) or Decimal(0))
                for kind, start, scope, won, *rest, n, total in cursor.fetchall()}
    have = {(kind, start, scope, won, *rest): (n, total) for kind, start, scope, won, *rest, n, total in
            ClosedCount.objects.exclude(n=0).values_list(*CLOSED_KEY, "n", "total")}
    none = (0, Decimal(0))
    return marks, [(key, have.get(key, none), want.get(key, none)) for key in sorted(set(have) | set(want))
                   if have.get(key, none) != want.get(key, none)]
