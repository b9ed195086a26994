"""The sources' report's rollups (analytics.models.SourceCount, SourceDealCount) and the managers'
moves per day (MoveCount), kept by the writers.

The report «Источники» counts the leads created in a period per source (or niche), the deals made
from them, the won ones and their sum. At a million leads a year of it was a scan of the leads by
`created_at` (2 s). Per calendar MONTH of the lead's creation (its first day, in the site's time
zone) these figures are additive — a lead is created in one month — so a month, a quarter, a year
or any run of whole months is a sum over a few hundred rollup rows (analytics.selectors.sources);
other periods scan as before.

- SourceCount: leads per (month, lead owner, source, niche).
- SourceDealCount: the deals made from those leads per (the lead's month, owner, source, niche,
  the deal's owner, pipeline, currency): how many, how many won now (a success stage), their sum.
  The deal's own columns let the deals' access gate (owner, pipeline) hold on them as on the deals.
- MoveCount: the leads' status moves per (day, who made it, the lead's owner, source, niche) — the
  managers' «Переводов статуса»; a count of moves is additive over days, so every period reads it.
  A move is counted from the stay it opened (analytics.history's hook runs first); a reassigned
  lead's moves go with it to the new owner, as its stays do.
  Its deltas are also added, per calendar week / month / quarter / year, to the managers' counts
  (analytics.models.ManagerCount, by ≠ 0), in the same `apply`.

How they stay right — as crm.tallies keeps its counters: each record remembers the values it was
loaded with (post_init); when a writer reports it (crm.hooks.changed for an addition or a change —
every writer logs its history; crm.hooks.moved for a move; their `many` forms for an import), the
record's old weight is taken from the old combination and put on the new one, in one upsert in the
writer's transaction (`apply`: count = count + Δ, so concurrent writers add in turn; written at the
end of the writer's crm.tallies.together() block, in the one order every writer locks the counters). A lead whose
owner, source or niche changes moves its deals' rows along; a deal reads its lead's current key.
A deletion takes the record's weight away (read at pre_delete, while the deals still point at
their lead; applied at post_delete). A change of nothing counted costs no query.

Not seen: writes around the services' hooks — a QuerySet.update() of these columns or of the
stays, raw SQL, a stage whose «смысл» is changed in the admin after deals were won in it.
`manage.py rebuild_analytics` rebuilds the rollups from the leads, deals and stays (GROUP BY,
set-based; seconds at a million leads) and `--check` compares them.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from django.db.models import Count, DateField, Model, Q, Sum
from django.db.models.functions import TruncDate, TruncMonth
from django.db.models.signals import post_delete, post_init, pre_delete
from django.utils import timezone

from crm import hooks, tallies

from . import history  # its hooks first: a move's stay is open when ours run
from .models import FUNNEL_KINDS, MoveCount, SourceCount, SourceDealCount, Stay

LEAD, DEAL = "leads.lead", "deals.deal"
LEAD_ATTS = ("created_at", "responsible_id", "source_id", "niche_id")
DEAL_ATTS = ("lead_id", "responsible_id", "pipeline_id", "stage_id", "currency", "amount")
UNKNOWN = object()  # an instance loaded without one of the values (deferred fields)
SEEN = "_source_counts_seen"


def month_of(moment: datetime) -> date:
    """The first day of `moment`'s month in the site's time zone (the report's periods are too)."""
    return history.day_of(moment).replace(day=1)


def _values(record: Model, atts: tuple[str, ...]):
    values = record.__dict__
    if any(att not in values for att in atts):
        return UNKNOWN
    return tuple(values[att] for att in atts)


def _remember(sender, instance, **kwargs) -> None:
    """What a record counts as when built: None for a new one (not counted yet)."""
    atts = LEAD_ATTS if instance._meta.label_lower == LEAD else DEAL_ATTS
    setattr(instance, SEEN, None if instance.pk is None else _values(instance, atts))


def _lead_key(values) -> tuple:
    created_at, owner, source, niche = values
    return month_of(created_at), owner or 0, source or 0, niche or 0


class Deltas:
    """The changes of one write, summed per rollup row, then applied in one upsert per table."""

    def __init__(self):
        self.lead_rows: dict[tuple, int] = {}
        self.deal_rows: dict[tuple, list] = {}
        self.move_rows: dict[tuple, int] = {}

    def lead(self, key: tuple, sign: int) -> None:
        self.lead_rows[key] = self.lead_rows.get(key, 0) + sign

    def deal(self, lead_key: tuple, deal: tuple, won: bool, sign: int) -> None:
        """`deal`: (owner, pipeline, currency, amount) — its weight under its lead's key."""
        owner, pipeline, currency, amount = deal
        row = self.deal_rows.setdefault((*lead_key, owner or 0, pipeline or 0, currency), [0, 0, Decimal(0)])
        row[0] += sign
        if won:
            row[1] += sign
            row[2] += sign * (amount if isinstance(amount, Decimal) else Decimal(str(amount or 0)))

    def move(self, entered_at: datetime, by: int | None, key: tuple, sign: int) -> None:
        """A status move made by `by` at `entered_at` on a lead of `key` (owner, source, niche)."""
        row = (history.day_of(entered_at), by or 0, *key)
        self.move_rows[row] = self.move_rows.get(row, 0) + sign

    def apply(self, using: str = "default") -> None:
        tallies.add(SourceCount, ["month", "owner", "source", "niche"], ["leads"],
                [(key, (n,)) for key, n in self.lead_rows.items() if n], using)
        tallies.add(SourceDealCount, ["month", "owner", "source", "niche", "deal_owner", "scope", "currency"],
                ["deals", "won", "paid"], [(key, tuple(v)) for key, v in self.deal_rows.items() if any(v)], using)
        tallies.add(MoveCount, ["day", "by", "owner", "source", "niche"], ["moves"],
                [(key, (n,)) for key, n in self.move_rows.items() if n], using)
        # The managers' counts per calendar period (analytics.models.ManagerCount) project the
        # moves, after MoveCount as every writer does; the system's (by 0) are shown nowhere.
        history.add_managers((((kind, history.period_start(kind, day), owner, by), (0, n, 0, 0))
                              for (day, by, owner, _source, _niche), n in self.move_rows.items() if n and by
                              for kind in FUNNEL_KINDS), using)


def _won_stages(ids) -> set[int]:
    from deals.models import Stage

    ids = {pk for pk in ids if pk is not None}
    if not ids:
        return set()
    return set(Stage.objects.filter(pk__in=ids, semantics=Stage.Semantics.SUCCESS).values_list("pk", flat=True))


def _lead_keys(ids) -> dict[int, tuple]:
    from leads.models import Lead

    ids = {pk for pk in ids if pk is not None}
    if not ids:
        return {}
    return {row[0]: _lead_key(row[1:]) for row in Lead._base_manager.filter(pk__in=ids).values_list("pk", *LEAD_ATTS)}


def _deals_of(lead_ids) -> list[tuple]:
    """(lead id, (owner, pipeline, currency, amount), won) of the deals made from the leads."""
    from deals.models import Deal, Stage

    return [(lead, (owner, pipeline, currency, amount), semantics == Stage.Semantics.SUCCESS)
            for lead, owner, pipeline, currency, amount, semantics in Deal._base_manager.filter(lead_id__in=lead_ids)
            .values_list("lead_id", "responsible_id", "pipeline_id", "currency", "amount", "stage__semantics")]


def _moves_of(lead_ids) -> list[tuple]:
    """(lead id, entered_at, by) of the status moves made on the leads: their stays but the first."""
    return list(Stay.objects.filter(model=LEAD, object_id__in=lead_ids).exclude(moved_from="")
                .values_list("object_id", "entered_at", "entered_by"))


def _owner_part(key: tuple) -> tuple:
    """A lead key's (owner, source, niche): what its moves are counted under."""
    return key[1:]


# --- The writers' side ---

def leads_written(records: list[Model], using: str = "default") -> None:
    """Leads added or changed: each one's weight from its old key to its new one, and its deals'
    with it when the key changed."""
    deltas, moved_from = Deltas(), {}
    for lead in records:
        old, new = getattr(lead, SEEN, UNKNOWN), _values(lead, LEAD_ATTS)
        if old == new or new is UNKNOWN or old is UNKNOWN:
            # UNKNOWN: loaded with deferred values — no writer does; rebuild_analytics --check tells.
            continue
        new_key = _lead_key(new)
        old_key = None if old is None else _lead_key(old)
        setattr(lead, SEEN, new)
        if old_key == new_key:
            continue
        if old_key is not None:
            deltas.lead(old_key, -1)
            moved_from[lead.pk] = (old_key, new_key)
        deltas.lead(new_key, 1)
    if moved_from:
        for lead, deal, won in _deals_of(list(moved_from)):
            old_key, new_key = moved_from[lead]
            deltas.deal(old_key, deal, won, -1)
            deltas.deal(new_key, deal, won, 1)
        for lead, entered_at, by in _moves_of(list(moved_from)):
            old_key, new_key = moved_from[lead]
            deltas.move(entered_at, by, _owner_part(old_key), -1)
            deltas.move(entered_at, by, _owner_part(new_key), 1)
    deltas.apply(using)


def deals_written(records: list[Model], using: str = "default") -> None:
    """Deals added or changed: each one's weight (under its lead's key) from its old values to its
    new ones. A deal without a lead weighs nothing."""
    changed = []
    for deal in records:
        old, new = getattr(deal, SEEN, UNKNOWN), _values(deal, DEAL_ATTS)
        if old == new or new is UNKNOWN or old is UNKNOWN:
            continue
        setattr(deal, SEEN, new)
        if (old is None or old[0] is None) and new[0] is None:
            continue  # made from no lead, then or now
        changed.append((old, new))
    if not changed:
        return
    leads = _lead_keys(v[0] for old, new in changed for v in (old, new) if v is not None)
    won = _won_stages(v[3] for old, new in changed for v in (old, new) if v is not None)
    deltas = Deltas()
    for old, new in changed:
        for values, sign in ((old, -1), (new, 1)):
            if values is None or values[0] not in leads:
                continue
            lead, owner, pipeline, stage, currency, amount = values
            deltas.deal(leads[lead], (owner, pipeline, currency, amount), stage in won, sign)
    deltas.apply(using)


def _written(records, *args) -> None:
    records = [r for r in records if r._meta.label_lower in (LEAD, DEAL)]
    leads = [r for r in records if r._meta.label_lower == LEAD]
    deals = [r for r in records if r._meta.label_lower == DEAL]
    if leads:
        leads_written(leads, leads[0]._state.db or "default")
    if deals:
        deals_written(deals, deals[0]._state.db or "default")


def changed(record: Model, by, action: str) -> None:
    _written([record])


def changed_many(records, by, action: str) -> None:
    _written(list(records))


def moved(record: Model, by, source: str, target: str) -> None:
    _written([record])  # a deal's stage: won or not (its «status» history entry said so already)
    if source and record._meta.label_lower == LEAD:
        _moves_made([record])


def moved_many(records, by, source: str, target: str) -> None:
    records = list(records)
    _written(records)
    if source and records and records[0]._meta.label_lower == LEAD:
        _moves_made(records)


def _moves_made(leads: list[Model]) -> None:
    """Leads moved from one status to another: the stays the move opened (analytics.history's
    hooks ran first), counted as they are — the day, who, the lead's owner, source and niche."""
    deltas = Deltas()
    for entered_at, by, owner, source, niche in (Stay.objects.filter(
            model=LEAD, object_id__in=[lead.pk for lead in leads], left_at__isnull=True).exclude(moved_from="")
            .values_list("entered_at", "entered_by", "owner", "source", "niche")):
        deltas.move(entered_at, by, (owner or 0, source or 0, niche or 0), 1)
    deltas.apply(leads[0]._state.db or "default")


moved.many = moved_many
hooks.on_changed(changed, many=changed_many)
hooks.on_moved(moved)


def _deleting(sender, instance, using, **kwargs) -> None:
    """A lead or a deal about to be deleted: its weight as its row holds it now (a lead's deals
    still point at it: the deletion sets their link to null after this). Taken away after the
    deletion (`_deleted`)."""
    from deals.models import Deal
    from leads.models import Lead

    deltas = Deltas()
    if isinstance(instance, Lead):
        row = Lead._base_manager.using(using).filter(pk=instance.pk).values_list(*LEAD_ATTS).first()
        if row is not None:
            key = _lead_key(row)
            deltas.lead(key, -1)
            for _lead, deal, won in _deals_of([instance.pk]):
                deltas.deal(key, deal, won, -1)
            for _lead, entered_at, by in _moves_of([instance.pk]):
                deltas.move(entered_at, by, _owner_part(key), -1)
    else:
        row = Deal._base_manager.using(using).filter(pk=instance.pk).values_list(*DEAL_ATTS).first()
        if row is not None and row[0] is not None:
            lead, owner, pipeline, stage, currency, amount = row
            keys = _lead_keys([lead])
            if lead in keys:
                deltas.deal(keys[lead], (owner, pipeline, currency, amount), stage in _won_stages([stage]), -1)
    instance._source_counts_deleted = deltas
    setattr(instance, SEEN, UNKNOWN)


def _deleted(sender, instance, using, **kwargs) -> None:
    deltas = getattr(instance, "_source_counts_deleted", None)
    if deltas is not None:
        deltas.apply(using)
        instance._source_counts_deleted = None


def _connect() -> None:
    from deals.models import Deal
    from leads.models import Lead

    for model in (Lead, Deal):
        label = model._meta.label_lower
        post_init.connect(_remember, sender=model, weak=False, dispatch_uid=f"source-counts-{label}")
        pre_delete.connect(_deleting, sender=model, weak=False, dispatch_uid=f"source-counts-delete-{label}")
        post_delete.connect(_deleted, sender=model, weak=False, dispatch_uid=f"source-counts-deleted-{label}")


_connect()


# --- From the records (manage.py rebuild_analytics, the migration) ---

TABLES = ("leads", "deals", "moves")


def _models(found: dict | None) -> dict:
    """The models the rebuild reads and writes: the current ones, or a migration's historical ones."""
    if found is not None:
        return found
    from deals.models import Deal
    from leads.models import Lead

    return {"leads.Lead": Lead, "deals.Deal": Deal, "analytics.Stay": Stay, "analytics.SourceCount": SourceCount,
            "analytics.SourceDealCount": SourceDealCount, "analytics.MoveCount": MoveCount}


def fresh(found: dict | None = None) -> tuple[dict, dict, dict]:
    """The rollups as the leads, deals and stays make them now: three GROUP BY queries (by the
    lead's month, the move's day, in the site's zone)."""
    found = _models(found)
    zone = timezone.get_default_timezone()
    month = TruncMonth("created_at", tzinfo=zone, output_field=DateField())
    leads: dict[tuple, int] = {}
    for m, owner, source, niche, n in (found["leads.Lead"]._base_manager.order_by().annotate(m=month)
                                       .values_list("m", "responsible_id", "source_id", "niche_id")
                                       .annotate(n=Count("pk")).values_list("m", "responsible_id", "source_id",
                                                                             "niche_id", "n")):
        key = (m, owner or 0, source or 0, niche or 0)
        leads[key] = leads.get(key, 0) + n
    success = Q(stage__semantics="success")
    deals: dict[tuple, tuple] = {}
    rows = (found["deals.Deal"]._base_manager.filter(lead__isnull=False).order_by()
            .annotate(m=TruncMonth("lead__created_at", tzinfo=zone, output_field=DateField()))
            .values("m", "lead__responsible_id", "lead__source_id", "lead__niche_id", "responsible_id", "pipeline_id",
                    "currency")
            .annotate(n=Count("pk"), won=Count("pk", filter=success), paid=Sum("amount", filter=success)))
    for row in rows:
        key = (row["m"], row["lead__responsible_id"] or 0, row["lead__source_id"] or 0, row["lead__niche_id"] or 0,
               row["responsible_id"] or 0, row["pipeline_id"] or 0, row["currency"])
        n, won, paid = deals.get(key, (0, 0, Decimal(0)))
        deals[key] = (n + row["n"], won + row["won"], paid + (row["paid"] or Decimal(0)))
    moves: dict[tuple, int] = {}
    for d, by, owner, source, niche, n in (found["analytics.Stay"].objects.filter(model=LEAD).exclude(moved_from="")
                                           .order_by().annotate(d=TruncDate("entered_at", tzinfo=zone))
                                           .values_list("d", "entered_by", "owner", "source", "niche")
                                           .annotate(n=Count("*"))):
        key = (d, by or 0, owner or 0, source or 0, niche or 0)
        moves[key] = moves.get(key, 0) + n
    return leads, deals, moves


def kept() -> tuple[dict, dict, dict]:
    """The rollups as stored, without their zero rows (a combination emptied by the writers)."""
    leads = {(m, o, s, n): c for m, o, s, n, c in SourceCount.objects.values_list("month", "owner", "source", "niche",
                                                                                    "leads") if c}
    deals = {key[:7]: (key[7], key[8], Decimal(key[9])) for key in SourceDealCount.objects.values_list(
        "month", "owner", "source", "niche", "deal_owner", "scope", "currency", "deals", "won", "paid")
        if key[7] or key[8] or key[9]}
    moves = {key[:5]: key[5] for key in MoveCount.objects.values_list("day", "by", "owner", "source", "niche", "moves")
             if key[5]}
    return leads, deals, moves


def differences() -> list[tuple[str, tuple, object, object]]:
    """(table, key, kept, fresh) of every rollup row that differs from what the records make."""
    found = []
    for table, have, want in zip(TABLES, kept(), fresh(), strict=True):
        for key in sorted(set(have) | set(want), key=str):
            if have.get(key) != want.get(key):
                found.append((table, key, have.get(key), want.get(key)))
    return found


def rebuild(found: dict | None = None) -> tuple[int, int, int]:
    """Replace the rollups by what the records make (inside the caller's transaction), then the
    managers' counts that project the moves (not in a migration: `found`, whose own migration
    fills them); returns the numbers of rows."""
    migrating = found is not None
    found = _models(found)
    leads, deals, moves = fresh(found)
    lead_rollup, deal_rollup, move_rollup = (found[f"analytics.{name}"] for name in (
        "SourceCount", "SourceDealCount", "MoveCount"))
    for model in (lead_rollup, deal_rollup, move_rollup):
        model.objects.all().delete()
    lead_rollup.objects.bulk_create([lead_rollup(month=m, owner=o, source=s, niche=n, leads=c)
                                     for (m, o, s, n), c in leads.items()], batch_size=5000)
    deal_rollup.objects.bulk_create([deal_rollup(month=m, owner=o, source=s, niche=n, deal_owner=do, scope=p, currency=c,
                                                 deals=d, won=w, paid=paid)
                                     for (m, o, s, n, do, p, c), (d, w, paid) in deals.items()], batch_size=5000)
    move_rollup.objects.bulk_create([move_rollup(day=d, by=b, owner=o, source=s, niche=n, moves=c)
                                     for (d, b, o, s, n), c in moves.items()], batch_size=5000)
    if not migrating:
        history.rebuild_managers()
    return len(leads), len(deals), len(moves)
