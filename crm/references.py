"""The reference-list values a card shows (its source, niche, CRM system …), read in one small query.

Why not select_related: every joined table is one more relation for PostgreSQL's planner, and
the cards joined a dozen. At 1 000 000 leads the lead card's query spent 6–8 ms PLANNING its
12-table join against 0.5 ms executing it (BENCHMARKS.md, issue 13). Each part of the UNION
below is planned on its own (a primary-key lookup in a table of tens of rows), so the whole
costs about as much as one small query, on PostgreSQL and SQLite alike.

Why not a per-process cache of the lists: an admin's rename must show on the next card in every
worker process, and checking a shared version costs a query too — no cheaper than this one, which
is always fresh (an edit in the admin needs no invalidation at all).

What is read: the fields every reference list has (ReferenceItem: name, sort, is_active). A list's
own extra field (a source's kind, a used product's «means none») is left deferred: reading it
loads it (one query), as for any deferred field."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db import connections
from django.db.models import Model

COMMON = ("id", "name", "sort", "is_active")


def attach(records: Sequence[Model], names: Iterable[str]) -> None:
    """Fill `records`' foreign keys and many-to-many fields `names` (each to a reference list: a
    ReferenceItem, or any model with its fields, as deals' LossReason)
    as select_related and prefetch_related would, in one query for all of them; a null key stays
    None without a query."""
    if not records:
        return
    model = type(records[0])
    db = records[0]._state.db or "default"
    qn = connections[db].ops.quote_name
    columns = ", ".join(f"r.{qn(column)}" for column in COMMON)
    fields, parts, params = [], [], []
    for i, name in enumerate(names):
        field = model._meta.get_field(name)
        if not set(COMMON) <= {f.name for f in field.related_model._meta.concrete_fields}:
            raise TypeError(f"{model.__name__}.{name} is not a reference list")
        fields.append(field)
        table = qn(field.related_model._meta.db_table)
        # `i` and the names are ours, never user input; the ids go as parameters.
        if field.many_to_many:
            ids = sorted(record.pk for record in records)
            through = qn(field.remote_field.through._meta.db_table)
            parts.append(f"SELECT {i}, t.{qn(field.m2m_column_name())}, {columns} FROM {table} r "
                         f"INNER JOIN {through} t ON t.{qn(field.m2m_reverse_name())} = r.{qn('id')} "
                         f"WHERE t.{qn(field.m2m_column_name())} IN ({', '.join(['%s'] * len(ids))})")
        else:
            ids = sorted({getattr(record, field.attname) for record in records} - {None})
            if not ids:
                continue
            parts.append(f"SELECT {i}, r.{qn('id')}, {columns} FROM {table} r "
                         f"WHERE r.{qn('id')} IN ({', '.join(['%s'] * len(ids))})")
        params += ids
    found: dict[tuple[int, int], list[Model]] = {}  # (field's number, key) → rows
    if parts:
        with connections[db].cursor() as cursor:
            cursor.execute(" UNION ALL ".join(parts), params)
            for i, key, pk, name, sort, is_active in cursor.fetchall():
                # bool(): SQLite gives 0/1 to a raw cursor.
                row = fields[i].related_model.from_db(db, COMMON, (pk, name, sort, bool(is_active)))
                found.setdefault((i, key), []).append(row)
    for i, field in enumerate(fields):
        for record in records:
            if field.many_to_many:
                rows = sorted(found.get((i, record.pk), []), key=lambda r: (r.sort, r.name))
                _set_prefetched(record, field.name, rows)
            else:
                key = getattr(record, field.attname)
                field.set_cached_value(record, found[(i, key)][0] if key is not None else None)


def _set_prefetched(record: Model, name: str, rows: list[Model]) -> None:
    # What prefetch_related leaves behind (QuerySet.prefetch_related_objects): `record.<name>.all()`
    # then answers from these rows without a query.
    queryset = getattr(record, name).all()
    queryset._result_cache = rows
    queryset._prefetch_done = True
    if not hasattr(record, "_prefetched_objects_cache"):
        record._prefetched_objects_cache = {}
    record._prefetched_objects_cache[name] = queryset


def choices(*models: type[Model], using: str = "default") -> list[list[tuple[int, str]]]:
    """[(pk, name)…] of each reference list `models`, in their order (sort, then name), read in
    one query: a filter bar's sources and niches cost one query where they cost one each."""
    qn = connections[using].ops.quote_name
    # `i` and the table names are ours, never user input.
    parts = [f"SELECT {i}, {qn('id')}, {qn('name')}, {qn('sort')} FROM {qn(model._meta.db_table)}"
             for i, model in enumerate(models)]
    found: list[list[tuple[int, str]]] = [[] for _model in models]
    with connections[using].cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts) + " ORDER BY 1, 4, 3", [])
        for i, pk, name, _sort in cursor.fetchall():
            found[i].append((pk, name))
    return found
