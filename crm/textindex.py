"""The index behind the search boxes: what makes «contains this word» fast on a record's search
column (`search_text`, one lower-case line the model keeps, ё as е) at a million rows.

- PostgreSQL: a `pg_trgm` GIN index on the column serves `LIKE '%…%'` (made by each app's
  migration).
- SQLite (the default a newcomer meets): an FTS5 table with the trigram tokenizer over the
  column, `<table>_search`, kept by triggers on the record's table. The lookup
  `search_text__indexed_contains=word` asks it for the matching rowids
  (`id IN (SELECT rowid FROM … MATCH …)`); without the index it is a plain `contains`.
  Another column may have an index of its own (`<table>_<column>_search`: the companies' name
  key, which the deals' search asks for), registered with its column.
  The trigram tokenizer matches substrings, as LIKE does, but only of three characters or more:
  a shorter word is looked for with LIKE.

Django remakes a SQLite table for some schema changes (a new constraint, an altered column), and
the triggers go with the old table: `repair` (run after every `migrate`) puts them back and
rebuilds the index from the column, so it never drifts."""

from __future__ import annotations

import logging

from django.db import DatabaseError, transaction
from django.db import connection as default_connection
from django.db.models import CharField, Q, TextField
from django.db.models.lookups import Contains

logger = logging.getLogger(__name__)

# The (table, column) pairs with an FTS5 index on SQLite (their apps' migrations make it).
TABLES: set[tuple[str, str]] = set()
MIN_LENGTH = 3  # the trigram tokenizer's smallest match
SEARCH_COLUMN = "search_text"


def register(db_table: str, column: str = SEARCH_COLUMN) -> None:
    TABLES.add((db_table, column))


def fts_name(db_table: str, column: str = SEARCH_COLUMN) -> str:
    return f"{db_table}_search" if column == SEARCH_COLUMN else f"{db_table}_{column}_search"


def _triggers(table: str, column: str = SEARCH_COLUMN) -> dict[str, str]:
    fts = fts_name(table, column)
    insert = f"INSERT INTO {fts}(rowid, {column}) VALUES (new.id, new.{column});"
    delete = f"INSERT INTO {fts}({fts}, rowid, {column}) VALUES ('delete', old.id, old.{column});"
    return {
        f"{fts}_ai": f"AFTER INSERT ON {table} BEGIN {insert} END",
        f"{fts}_ad": f"AFTER DELETE ON {table} BEGIN {delete} END",
        f"{fts}_au": f"AFTER UPDATE OF {column} ON {table} BEGIN {delete} {insert} END",
    }


def install(connection, table: str, column: str = SEARCH_COLUMN) -> None:
    """Make (or complete) the FTS5 index of `table`'s search column (or `column`) and fill it
    from the column (one set-based statement). Only on SQLite; PostgreSQL has its trigram index."""
    if connection.vendor != "sqlite":
        return
    fts = fts_name(table, column)
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS {fts} USING fts5("
                       f"{column}, content='{table}', content_rowid='id', tokenize='trigram')")
        for name, body in _triggers(table, column).items():
            cursor.execute(f"CREATE TRIGGER IF NOT EXISTS {name} {body}")
        cursor.execute(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")


def install_trigram(connection, table: str, index: str, column: str = "search_text") -> None:
    """On PostgreSQL, the trigram index `index` that serves LIKE '%…%' on `table`'s `column` (its
    search column unless told).
    pg_trgm ships with PostgreSQL and is a trusted extension (PostgreSQL 13+); where the role may
    not create it, the migration goes on without the index: search works, only slower."""
    if connection.vendor != "postgresql":
        return
    try:
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            cursor.execute(f"CREATE INDEX IF NOT EXISTS {index} ON {table} USING gin ({column} gin_trgm_ops)")
    except DatabaseError as exc:
        logger.warning("Без индекса поиска (%s): не удалось включить pg_trgm (%s). "
                       "Выполните от суперпользователя: CREATE EXTENSION pg_trgm; и повторите migrate.", table, exc)


def uninstall(connection, table: str, column: str = SEARCH_COLUMN) -> None:
    if connection.vendor != "sqlite":
        return
    fts = fts_name(table, column)
    with connection.cursor() as cursor:
        for name in _triggers(table, column):
            cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
        cursor.execute(f"DROP TABLE IF EXISTS {fts}")


def repair(connection=default_connection) -> list[str]:
    """Put back what a remade table lost (its triggers) and rebuild those indexes; returns the
    tables repaired. Tables whose index does not exist yet (not migrated so far) are left alone."""
    if connection.vendor != "sqlite":
        return []
    with connection.cursor() as cursor:
        cursor.execute("SELECT type, name FROM sqlite_master WHERE type IN ('table', 'trigger')")
        present = {name for _type, name in cursor.fetchall()}
    repaired = []
    for table, column in sorted(TABLES):
        if fts_name(table, column) in present and table in present and not set(_triggers(table, column)) <= present:
            install(connection, table, column)
            repaired.append(table if column == SEARCH_COLUMN else f"{table}.{column}")
    return repaired


def uses_index(connection, db_table: str, column: str = SEARCH_COLUMN) -> bool:
    return connection.vendor == "sqlite" and (db_table, column) in TABLES


@CharField.register_lookup
@TextField.register_lookup
class IndexedContains(Contains):
    """`contains`, answered by the search index where there is one (see the module docstring).
    Meant for the search columns, whose text is already lower-case."""

    lookup_name = "indexed_contains"

    def get_rhs_op(self, connection, rhs):
        return connection.operators["contains"] % rhs

    def as_sqlite(self, compiler, connection):
        model, column = self.lhs.output_field.model, self.lhs.output_field.column
        word = self.rhs if isinstance(self.rhs, str) else None
        if word is None or len(word) < MIN_LENGTH or not uses_index(connection, model._meta.db_table, column):
            return self.as_sql(compiler, connection)
        fts = fts_name(model._meta.db_table, column)
        pk = f"{compiler.quote_name_unless_alias(self.lhs.alias)}.{connection.ops.quote_name(model._meta.pk.column)}"
        # A quoted FTS5 string is a phrase: with the trigram tokenizer, the substring itself.
        phrase = '"' + word.replace('"', '""') + '"'
        return f"{pk} IN (SELECT rowid FROM {fts} WHERE {fts} MATCH %s)", [phrase]


@CharField.register_lookup
@TextField.register_lookup
class IndexedContainsMany(IndexedContains):
    """The same, for a word that many records contain (crm.lists.search knows): on SQLite the
    index's rowids are a set the rows are checked against (`+id IN …`, the unary plus keeps SQLite
    from reading the rows by them), so a list walks its newest records and stops at a page of
    matches instead of reading and sorting thousands of them; the count still reads the set once."""

    lookup_name = "indexed_contains_many"

    def as_sqlite(self, compiler, connection):
        sql, params = super().as_sqlite(compiler, connection)
        return (f"+{sql}" if " MATCH " in sql else sql), params


def for_many(condition: Q) -> Q:
    """`condition` with its indexed_contains lookups as indexed_contains_many."""
    many = Q(_connector=condition.connector, _negated=condition.negated)
    for child in condition.children:
        if isinstance(child, Q):
            child = for_many(child)
        elif child[0].endswith("__indexed_contains"):
            child = (child[0] + "_many", child[1])
        many.children.append(child)
    return many
