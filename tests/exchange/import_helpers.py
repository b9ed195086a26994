"""Files for the import tests: CSV text as a `Table` (exchange.importers.table_from_csv), and the
one call every test makes."""

from exchange import importers


def table(rows: list[list[str]], name: str = "leads.csv"):
    text = "\n".join(";".join(cell for cell in row) for row in rows)
    return importers.table_from_csv(text, name=name)


def run(entity: str, rows: list[list[str]], *, by, name: str = "leads.csv", **options):
    return importers.run(entity, table(rows, name), by=by, options=importers.Options(**options), source=name)


def lines(outcome, kind: str | None = None) -> list[tuple[int, str]]:
    return [(line.row, line.message) for line in outcome.all_lines() if kind is None or line.outcome == kind]
