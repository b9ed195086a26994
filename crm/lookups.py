"""`AnyOf(F("field"), ids)`: «field is one of these ids» as one array parameter on PostgreSQL
(`field = ANY(%s)`), an IN list elsewhere.

Why: Django's `field__in=[…2000 ids…]` prepares every id through the field and psycopg then
splits a query of 2000 placeholders — about 38 ms of Python per query against 4 ms for the
array (measured for an export's per-chunk queries, BENCHMARKS.md «Импорт и экспорт»). Used where
a query takes a whole chunk of ids. The ids must already be clean integers (primary keys read
from the database)."""

from __future__ import annotations

from django.db.models import Lookup


class AnyOf(Lookup):
    lookup_name = "any_of"
    prepare_rhs = False  # the ids come from the database: nothing to prepare

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        ids = [int(pk) for pk in self.rhs]
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY(%s)", [*lhs_params, ids]
        if not ids:
            return "1 = 0", list(lhs_params)
        return f"{lhs} IN ({', '.join(['%s'] * len(ids))})", [*lhs_params, *ids]
