"""Counts and sums of records per owner × scope × board column × currency (issue 13), kept by
the writers, so that a board's column totals and a list's count read a few counter rows instead
of aggregating the table — at 1,000,000 leads the totals were a parallel scan of it (29× the
minimal page) and the list's exact count 58–70 ms. A record that keeps the date of its next
touch (`touch_date_field`: the lead) is counted apart with and without one (Tally.planned): the
managers' report's «без запланированных дел» (tasks_app.services.sync_touch_dates moves it).

How they stay right. A model opts in with `Tallied` (Lead, Deal) and names its column
(`tally_column`); the owner is its access owner, the scope its access scope (the pipeline).
Every instance remembers the tallied values it was loaded with (`from_db`); its save() adds the
difference to the counters (`record(old, new)`), a bulk_create adds the new rows, a deletion
(post_delete: a queryset's delete too) takes the row away. The change is one upsert,
`count = count + Δ, amount = amount + Δ`, in the writer's own transaction: a rolled-back write
leaves the counters as they were, and concurrent writers add to the row in turn, never over
each other. The «old» values are the row's as loaded, and the services load the row they change
with select_for_update, so no other writer changed it in between.

Why in the model rather than a call in each service: every writer of leads and deals (the card,
kanban, bulk actions, conversion, imports, deletion, the admin, a script) goes through save(),
bulk_create() or delete(), and none can forget it. A save that changes no tallied value costs
no query. A QuerySet.update() of a tallied column (a script, a data migration through the
model's manager) moves the records it changes too: their counts are taken before and after it.
What goes around the ORM (raw SQL) is not seen — `manage.py recount_tallies --check` tells.

Readers (`board_totals`, `visible_count`) apply the access gate (accounts.access.gate) to the
counters' owner and scope columns — the same rules as the records — and the board's owner
filters; whatever else narrows a board or a list (search, source, dates, registered filters) the
counters cannot answer: the caller aggregates then, as before.
"""

from __future__ import annotations

import functools
import operator
from contextlib import contextmanager
from contextvars import ContextVar
from decimal import Decimal
from typing import Any

from django.db import connections, transaction
from django.db.models import BooleanField, Count, ExpressionWrapper, Q, QuerySet, Sum
from django.db.models.expressions import RawSQL
from django.db.models.signals import post_delete

from .models import Tally

TALLIED: list[type] = []  # the models that opted in (recount_tallies walks them)
UNKNOWN = object()  # an instance whose tallied values were not loaded (deferred fields)


def _atts(model) -> tuple[str, str | None, str]:
    scope = getattr(model, "access_scope_field", None)
    return f"{model.access_owner_field}_id", f"{scope}_id" if scope else None, model.tally_column


def state(obj) -> tuple | Any:
    """(key, amount) of a record as its instance holds it; key = (model, owner, scope, column,
    currency, planned). UNKNOWN when a value is not loaded."""
    owner, scope, column = _atts(type(obj))
    touch = getattr(type(obj), "touch_date_field", None)
    values = obj.__dict__
    try:
        amount = values["amount"]
        key = (obj._meta.label_lower, values[owner] or 0, values[scope] or 0 if scope else 0,
               str(values[column]), str(values["currency"]), values[touch] is not None if touch else False)
    except KeyError:
        return UNKNOWN
    return key, amount if isinstance(amount, Decimal) else Decimal(str(amount or 0))


def _tallied_names(model) -> set[str]:
    owner, scope, column = _atts(model)
    names = {owner, column, "currency", "amount"} | ({scope} if scope else set())
    if touch := getattr(model, "touch_date_field", None):
        names.add(touch)
    return names | {model._meta.get_field(att.removesuffix("_id")).name for att in (owner, scope, column)
                    if att and att.endswith("_id")}


def record(old, new, using: str = "default") -> None:
    """Move one record's weight in the counters from `old` to `new` ((key, amount) or None for
    «none»: a record created, deleted)."""
    record_many([(old, new)], using)


def record_many(changes, using: str = "default") -> None:
    """`record` for several records at once ([(old, new)…]): one upsert."""
    deltas: dict[tuple, list] = {}
    for old, new in changes:
        if old is not None:
            _add(deltas, old[0], -1, -old[1])
        if new is not None:
            _add(deltas, new[0], 1, new[1])
    apply(deltas, using)


def _add(deltas: dict, key: tuple, count: int, amount: Decimal) -> None:
    delta = deltas.setdefault(key, [0, Decimal(0)])
    delta[0] += count
    delta[1] += amount


def apply(deltas: dict[tuple, list], using: str = "default") -> None:
    """Add `deltas` ({key: [count, amount]}) to the counters in one statement (`add`)."""
    add(Tally, ["model", "owner", "scope", "board_column", "currency", "planned"], ["count", "amount"],
        [(key, (count, amount)) for key, (count, amount) in deltas.items() if count or amount], using)


def add(model, names: list[str], counted: list[str], rows: list[tuple], using: str = "default") -> None:
    """Add each row's deltas (key values for `names`, deltas for `counted`) to `model`'s counters
    in one upsert, so a missing counter is created without a race and concurrent writers each add
    their part. Rows go in key order, so that two writers lock the same counters in the same order.
    The one counter arithmetic of the CRM: these tallies, the analytics' rollups. Inside
    `together()` the rows are kept for its end."""
    pending = _PENDING.get()
    if pending is not None:
        _sum_into(pending.setdefault((using, model, tuple(names), tuple(counted)), {}), rows)
        return
    _upsert(model, names, counted, rows, using)


# The counters a writer changes, kept until the end of its `together()` block (None: outside one).
_PENDING: ContextVar[dict | None] = ContextVar("crm_tallies_pending", default=None)


@contextmanager
def together():
    """The counters changed inside the block (`add`: these tallies, the analytics' rollups) are
    written at its end, one upsert per table, the tables in one order (their names) and the rows in
    key order. A writer's hooks change counters at several moments — a lead's creation counts its
    source when its history is logged and its stay, funnel and «взято» when it enters its status; a
    reassignment does the same in the other order — and two writers that lock the same counter rows
    in opposite orders deadlock (PostgreSQL aborts one: a manager's click, an import's batch). The
    services wrap each transaction's work in one block, so every writer locks the counters last, in
    the same order (`atomic`). An inner block hands its rows to the outer one; a block that raises writes
    nothing (its transaction is rolled back anyway). Nothing inside may read a counter it changed,
    nor catch the error of a savepoint it rolled back: that part's rows would still be written
    (the imports retry a refused batch outside their block)."""
    outer = _PENDING.get()
    pending: dict = {}
    token = _PENDING.set(pending)
    try:
        yield
    finally:
        _PENDING.reset(token)
    if outer is not None:
        for table, rows in pending.items():
            _sum_into(outer.setdefault(table, {}), rows.items())
        return
    for (using, model, names, counted), rows in sorted(pending.items(), key=lambda item: item[0][1]._meta.db_table):
        _upsert(model, list(names), list(counted), [(key, deltas) for key, deltas in rows.items() if any(deltas)], using)


@contextmanager
def atomic(using: str | None = None):
    """A writer's transaction (`transaction.atomic`) whose counters are written at its end, in the
    one order (`together`): what every service of leads and deals, the imports' batches and the
    deletions hold, as a decorator (`@tallies.atomic()`) or a `with` block."""
    with transaction.atomic(using=using), together():
        yield


def _sum_into(kept: dict, rows) -> None:
    for key, deltas in rows:
        kept[key] = [a + b for a, b in zip(kept[key], deltas, strict=True)] if key in kept else list(deltas)


def _upsert(model, names: list[str], counted: list[str], rows: list[tuple], using: str) -> None:
    if not rows:
        return
    rows = sorted(rows)
    connection = connections[using]
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    columns = ", ".join(quote(n) for n in [*names, *counted])
    values = ", ".join(["(" + ", ".join(["%s"] * (len(names) + len(counted))) + ")"] * len(rows))
    params = [value for key, deltas in rows for value in (*key, *deltas)]
    sets = ", ".join(f"{quote(c)} = {table}.{quote(c)} + excluded.{quote(c)}" for c in counted)
    sql = (f"INSERT INTO {table} ({columns}) VALUES {values} "
           f"ON CONFLICT ({', '.join(quote(n) for n in names)}) DO UPDATE SET {sets}")
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


class TalliedQuerySet:
    """bulk_create (the imports' batches) adds the new records to the counters, one upsert per
    batch; update() of a tallied column moves the records it changes."""

    def update(self, **kwargs):
        if not set(kwargs) & _tallied_names(self.model):
            return super().update(**kwargs)
        with transaction.atomic(using=self.db, savepoint=False):
            # The rows are locked and their ids kept: after the update the queryset's own
            # filter may no longer match them (a status filter, and a new status).
            ids = list(self.select_for_update().order_by("pk").values_list("pk", flat=True))
            if not ids:  # nothing matched: no row to write, no counter to move
                return 0
            before = _grouped(self.model, ids, self.db)
            updated = super().update(**kwargs)
            deltas: dict[tuple, list] = {}
            for key, (n, total) in before.items():
                _add(deltas, key, -n, -total)
            for key, (n, total) in _grouped(self.model, ids, self.db).items():
                _add(deltas, key, n, total)
            apply(deltas, self.db)
        return updated

    def bulk_create(self, objs, *args, **kwargs):
        objs = list(objs)
        with transaction.atomic(using=self.db, savepoint=False):
            created = super().bulk_create(objs, *args, **kwargs)
            deltas: dict[tuple, list] = {}
            for obj in created:
                obj._tally_loaded = state(obj)
                _add(deltas, obj._tally_loaded[0], 1, obj._tally_loaded[1])
            apply(deltas, self.db)
        return created


class Tallied:
    """A model whose records are counted in crm.models.Tally: it names `tally_column` (the
    attribute of its board column: "status", "stage_id") and has `amount` and `currency`."""

    tally_column: str

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)  # (runs before Django gives the model its _meta)
        TALLIED.append(cls)
        post_delete.connect(_deleted, sender=cls, weak=False, dispatch_uid=f"tally-{cls.__module__}.{cls.__name__}")

    @classmethod
    def from_db(cls, db, field_names, values):
        obj = super().from_db(db, field_names, values)
        obj._tally_loaded = state(obj)
        return obj

    def refresh_from_db(self, *args, **kwargs):
        super().refresh_from_db(*args, **kwargs)
        self._tally_loaded = state(self)

    def save(self, *args, **kwargs):
        using = kwargs.get("using") or self._state.db or "default"
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and not set(update_fields) & _tallied_names(type(self)):
            return super().save(*args, **kwargs)
        if getattr(self, "_tally_held", False):
            return super().save(*args, **kwargs)  # counted by the save after `held` (see there)
        adding = self._state.adding
        old = None if adding else getattr(self, "_tally_loaded", UNKNOWN)
        with transaction.atomic(using=using, savepoint=False):
            if old is UNKNOWN:
                old = _stored(type(self), self.pk, using)
            super().save(*args, **kwargs)
            new = state(self)
            if new is UNKNOWN:  # saved with only some fields loaded: what the row now holds
                new = _stored(type(self), self.pk, using)
            record(old, new, using)
            self._tally_loaded = new


@contextmanager
def held(obj):
    """Saves of `obj` inside the block leave the counters alone; its next save counts them all
    at once. A move that first saves the dialog's fields (an amount) and then the new status
    would otherwise take the counters' row locks in two statements — and two such moves in
    opposite directions could each hold the row the other waits for."""
    obj._tally_held = True
    try:
        yield obj
    finally:
        obj._tally_held = False


def _stored(model, pk, using: str):
    """A record's (key, amount) as its row holds it (None: no row), for an instance that was not
    loaded whole."""
    obj = model._base_manager.using(using).select_for_update().filter(pk=pk).first()
    return None if obj is None else obj._tally_loaded


def _deleted(sender, instance, using, **kwargs) -> None:
    old = getattr(instance, "_tally_loaded", UNKNOWN)
    if old is UNKNOWN:
        old = state(instance)
    if old is not UNKNOWN and old is not None:
        record(old, None, using)
    instance._tally_loaded = None


# --- Readers ---

def answers(model, *, planned: bool | None = None) -> bool:
    """Whether the counters can answer for `model` (with or without a next touch's date when
    `planned` asks: only a model that keeps that date counts them apart)."""
    # A participant sees records that are not his: no owner-keyed counter holds them.
    if model not in TALLIED or getattr(model, "access_participants", None) is not None:
        return False
    return planned is None or bool(getattr(model, "touch_date_field", None))


def _condition(user, model, *, owners: set[int] | None, scope: int | None, columns) -> Q:
    """Which counters of `model` `user` may see (the access gate on their owner and scope), narrowed
    to `owners`, `scope` and `columns` (a list, or a subquery — a queryset or RawSQL — of their values
    as text)."""
    from accounts import access
    from accounts.models import Action

    gate = access.gate(user, model, Action.VIEW, owner="owner",
                       scope="scope" if getattr(model, "access_scope_field", None) else None)
    if gate is None or owners == set():
        return Q(pk__in=[])
    condition = Q(model=model._meta.label_lower) & gate
    if owners is not None:
        condition &= Q(owner__in=sorted(owners))
    if scope is not None:
        condition &= Q(scope=scope)
    if isinstance(columns, QuerySet | RawSQL):
        condition &= Q(board_column__in=columns)
    elif columns is not None:
        condition &= Q(board_column__in=[str(c) for c in columns])
    return condition


def _counters(user, model, *, owners: set[int] | None, scope: int | None, columns) -> Any:
    """The counters of `model` that `user` may see, narrowed (`_condition`); None when the counters
    cannot answer."""
    if not answers(model):
        return None
    return Tally.objects.filter(_condition(user, model, owners=owners, scope=scope, columns=columns))


def board_totals(user, model, column_field: str, columns, *, owners: set[int] | None = None,
                 scope: int | None = None, lines: bool = True) -> dict | None:
    """What crm.boards.column_totals returns ({column: {"count", "sums", "sum_lines"}}) for the
    records of `model` that `user` may see, narrowed to the owners `owners` (the board's owner
    filters; None: not narrowed) and the scope `scope` (the deal pipeline), read from the
    counters. None when they cannot answer (the caller aggregates then). One query."""
    from crm import boards

    if model not in TALLIED or model._meta.get_field(column_field).attname != model.tally_column:
        return None
    columns = list(columns)
    rows = _counters(user, model, owners=owners, scope=scope, columns=columns)
    if rows is None:
        return None
    by_name = {str(c): c for c in columns}
    grouped = rows.order_by().values_list("board_column", "currency").annotate(n=Sum("count"), total=Sum("amount"))
    # A counter at zero is a column or currency no record is in any more: the aggregate has no row for it.
    return boards.totals_of(((by_name[column], currency, n, total) for column, currency, n, total in grouped if n),
                            columns, lines=lines)


def visible_count(user, model, *, owners: set[int] | None = None, scope: int | None = None,
                  columns=None) -> int | None:
    """How many records of `model` `user` may see (of the owners `owners`, in the scope `scope`,
    in the columns `columns` when given), from the counters; None when they cannot answer. One query."""
    rows = _counters(user, model, owners=owners, scope=scope, columns=columns)
    if rows is None:
        return None
    return rows.aggregate(n=Sum("count"))["n"] or 0


def owner_count_rows(user, kinds: list[tuple[Any, Any]], *, owners: set[int] | None = None,
                     planned: bool | None = None) -> QuerySet | None:
    """{owner: how many of his records of the models `kinds` ([(model, columns)…]: in the columns
    `columns` when not None, a list or a subquery of their values as text) `user` may see, with a
    next touch's date or without one when `planned` says} as a query of (owner, n) rows, not run yet
    (the managers' report unites it with others): one GROUP BY over the models' counters. None when
    the counters cannot answer for one of them (`answers`). A counter at 0 gives a row of 0."""
    if not all(answers(model, planned=planned) for model, _columns in kinds):
        return None
    conditions = [_condition(user, model, owners=owners, scope=None, columns=columns) for model, columns in kinds]
    condition = functools.reduce(operator.or_, conditions)
    if planned is not None:
        condition &= Q(planned=planned)
    return Tally.objects.filter(condition).order_by().values_list("owner").annotate(n=Sum("count"))


# --- Checking and rebuilding (manage.py recount_tallies) ---

def fresh(model) -> dict[tuple, tuple[int, Decimal]]:
    """The counters as the records make them now: {key: (count, amount)}."""
    return _grouped(model, None)


def _grouped(model, ids: list[int] | None, using: str = "default") -> dict[tuple, tuple[int, Decimal]]:
    """{key: (count, amount)} of the records `ids` of `model` (None: all of them)."""
    owner, scope, column = _atts(model)
    touch = getattr(model, "touch_date_field", None)
    label = model._meta.label_lower
    fields = [owner, *([scope] if scope else []), column, "currency"]
    records = model._base_manager.using(using).order_by()
    if ids is not None:
        if not ids:
            return {}
        records = records.filter(pk__in=ids)
    if touch:
        records = records.annotate(tally_planned=ExpressionWrapper(Q(**{f"{touch}__isnull": False}),
                                                                   output_field=BooleanField()))
        fields.append("tally_planned")
    result = {}
    for row in records.values_list(*fields).annotate(n=Count("pk"), total=Sum("amount")):
        *key, n, total = row
        if not scope:
            key.insert(1, 0)
        planned = bool(key[4]) if touch else False
        result[(label, key[0] or 0, key[1] or 0, str(key[2]), key[3], planned)] = (n, total or Decimal(0))
    return result


def kept(model) -> dict[tuple, tuple[int, Decimal]]:
    """The counters as kept, the ones at zero left out."""
    return {(label, o, s, c, cur, p): (n, a) for label, o, s, c, cur, p, n, a in Tally.objects.filter(
        model=model._meta.label_lower).values_list("model", "owner", "scope", "board_column", "currency", "planned",
                                                   "count", "amount") if n or a}


def differences(model) -> list[tuple[tuple, tuple | None, tuple | None]]:
    """(key, kept, fresh) for every counter that differs from the records."""
    have, want = kept(model), fresh(model)
    return [(key, have.get(key), want.get(key)) for key in sorted(set(have) | set(want))
            if have.get(key) != want.get(key)]


def rebuild(model) -> None:
    """Replace `model`'s counters by a fresh aggregate, in one transaction. On PostgreSQL the
    counters are locked first: a writer that already counted waits for nothing and is in the
    aggregate (its transaction ends before the lock is granted); one that counts later waits
    for the rebuild and adds its part to the new counters."""
    with transaction.atomic():
        connection = connections["default"]
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f"LOCK TABLE {connection.ops.quote_name(Tally._meta.db_table)} IN EXCLUSIVE MODE")
        Tally.objects.filter(model=model._meta.label_lower).delete()
        Tally.objects.bulk_create([Tally(model=key[0], owner=key[1], scope=key[2], board_column=key[3], currency=key[4],
                                         planned=key[5], count=n, amount=amount) for key, (n, amount) in sorted(fresh(model).items())],
                                  batch_size=1000)

