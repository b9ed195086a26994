"""Keeping the stays (analytics.models.Stay) as the records move — in the writers' transactions.

- A created record opens its first stay (crm.hooks.moved with source ""); a move closes the open
  stay and opens one; an import opens its records' stays in one insert (`moved.many`). Conversion
  (a lead → «Успешный»), «Забраковать» and reopening are moves like any other. A move that rolls
  back takes its stays with it: they are written in its transaction.
- A change of the record's responsible, source or niche (crm.hooks.changed) is copied onto ALL its
  stays in one UPDATE, so the reports' access gate on the stays' `owner` is the record's own rule
  (a reassigned lead's whole history goes with it to the new manager). Which values the record had
  is remembered when its instance is built (post_init): a change of other fields costs no query.
- A deleted record's stays go with it (crm.deletion.on_deleted). The CRM has no restore of a
  deleted lead or deal; its timeline goes with it too, so a restore that rebuilt the timeline from
  the deletion's snapshot would call `rebuild_records` for it (the stays follow from the timeline).

`stays_from_timeline` builds the same stays from the history (crm.TimelineEntry «created» and
«status» entries): `manage.py rebuild_analytics` compares and replaces.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Model
from django.db.models.signals import post_init
from django.utils import timezone

from crm import deletion, hooks

from .models import Handover, Stay

LEAD, DEAL = "leads.lead", "deals.deal"
# The record's attributes its stays copy: owner, source, niche, the lead's junk reason (a deal has
# neither niche nor — here — a reason). The funnel counts the junked leads by their CURRENT reason
# (None once reopened) from the stays alone, without a join into a million leads.
COPIED = {LEAD: ("responsible_id", "source_id", "niche_id", "junk_reason_id"),
          DEAL: ("responsible_id", "source_id", None, None)}
FIELDS = ("owner", "source", "niche", "reason")  # the stay's columns of COPIED, in order


def _label(record: Model) -> str | None:
    label = record._meta.label_lower
    return label if label in COPIED else None


def copied(record: Model, label: str) -> tuple[int, int | None, int | None, int | None]:
    return tuple(getattr(record, att) if att else None for att in COPIED[label])  # type: ignore[return-value]


def scope_of(record: Model, label: str) -> int:
    return record.pipeline_id if label == DEAL else 0


def _stay(record: Model, label: str, source_state: str, state: str, by, at: datetime) -> Stay:
    owner, source, niche, reason = copied(record, label)
    return Stay(model=label, object_id=record.pk, scope=scope_of(record, label), state=state, moved_from=source_state,
                owner=owner, source=source, niche=niche, reason=reason, entered_at=at, entered_by=getattr(by, "pk", None))


def _handover(record: Model, label: str, previous: int | None, by, at: datetime) -> Handover:
    return Handover(model=label, object_id=record.pk, owner=copied(record, label)[0], previous=previous, at=at,
                    by=getattr(by, "pk", None))


@hooks.on_moved
def moved(record: Model, by, source: str, target: str) -> None:
    label = _label(record)
    if label is None:
        return
    now = timezone.now()
    if source:  # a creation has no stay to close
        Stay.objects.filter(model=label, object_id=record.pk, left_at__isnull=True).update(left_at=now)
        before = getattr(record, "_analytics_copied", None)
        current = copied(record, label)
        if before is not None and before[1:] != current[1:]:
            # A move that changed what the stays copy (a junk reason set, cleared by a reopen):
            # onto all the record's stays, as `changed` does for an edit.
            Stay.objects.filter(model=label, object_id=record.pk).update(**dict(zip(FIELDS[1:], current[1:], strict=True)))
    else:
        _handover(record, label, None, by, now).save()
    _stay(record, label, source, target, by, now).save()
    record._analytics_copied = copied(record, label)


def moved_many(records: list[Model], by, source: str, target: str) -> None:
    """An import's new records entering `target`: one insert."""
    label = _label(records[0])
    if label is None:
        return
    now = timezone.now()
    if source:
        Stay.objects.filter(model=label, object_id__in=[r.pk for r in records], left_at__isnull=True).update(left_at=now)
    else:
        Handover.objects.bulk_create([_handover(r, label, None, by, now) for r in records], batch_size=1000)
    Stay.objects.bulk_create([_stay(r, label, source, target, by, now) for r in records], batch_size=1000)


moved.many = moved_many


def changed(record: Model, by, action: str) -> None:
    label = _label(record)
    if label is None:
        return
    now = copied(record, label)
    before = getattr(record, "_analytics_copied", now)
    if action == "update" and before != now:
        owner = now[0]
        Stay.objects.filter(model=label, object_id=record.pk).update(**dict(zip(FIELDS, now, strict=True)))
        if before[0] != owner:
            _handover(record, label, before[0], by, timezone.now()).save()
    record._analytics_copied = now


def _changed_many(records, by, action: str) -> None:
    for record in records:
        changed(record, by, action)


hooks.on_changed(changed, many=_changed_many)


def _remember(sender, instance, **kwargs) -> None:
    """The owner, source and niche an instance was built with (loaded from its row, or new): a
    change of them is what `changed` copies onto the stays. A deferred one reads as None, which
    at worst costs one needless update."""
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
        owner, source, niche, reason = (values[a] if a else None for a in COPIED[label])
        current = str(values["status"] if label == LEAD else values["stage_id"])
        moves = [(at, author, data) for kind, at, author, data in history if kind == "status" and "from" in (data or {})]
        created_at, creator = next(((at, author) for kind, at, author, _ in history if kind == "created"),
                                   (values["created_at"], values["created_by_id"]))
        handed = [(at, author, change) for kind, at, author, data in history if kind == "change"
                  for change in [_responsible_change(data)] if change]
        handovers.append(Handover(model=label, object_id=pk, owner=handed[0][2][0] if handed else owner, previous=None,
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
            stay.model, stay.object_id, stay.owner, stay.source, stay.niche = label, pk, owner, source, niche
            stay.reason = reason
            stay.scope = stage_pipeline.get(stay.state, 0) if label == DEAL else 0
        stays += mine
    return stays, handovers


def key(stay: Stay) -> tuple:
    return (stay.model, stay.object_id, stay.state, stay.moved_from, stay.scope, stay.owner, stay.source, stay.niche,
            stay.reason, stay.entered_by, stay.left_at is None)


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
    with transaction.atomic():
        for model in (Stay, Handover):
            rows = model.objects.filter(model=label)
            (rows if ids is None else rows.filter(object_id__in=ids)).delete()
        for chunk in (_chunks(label) if ids is None else [ids]):
            stays, handovers = from_timeline(label, chunk)
            Stay.objects.bulk_create(stays, batch_size=CHUNK)
            Handover.objects.bulk_create(handovers, batch_size=CHUNK)
            made += len(stays)
    return made
