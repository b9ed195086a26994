"""Imports and exports (issue 12): lead databases and a whole Bitrix24 CRM brought in from CSV, XLSX
and Bitrix24's «Экспорт в Excel», any list taken out as CSV or XLSX — from the command line, from the
browser (in the background work) and from the admin, all through the same code and the same
services and access module as the UI.

- `readers.py` — a file → a `Table` (headers, streamed rows): format and encoding detected, limits.
- `progress.py` — a progress bar on a terminal, plain lines elsewhere.
- `columns.py` — each entity's columns: Bitrix24's Russian headers and our field names, how a cell
  is read and how a value is written (one definition, so an export imports back unchanged).
- `bitrix24.py` — Bitrix24's codes and default names of statuses, stages, sources and its «Общая»
  pipeline, which the importer understands after our own names.
- `importers.py` — the engine: mapping, rows → the services in batches, duplicates, dry run,
  `--atomic`, `--strict`, the report.
- `exports.py` — a list's rows (its own filters, the user's scope) → CSV or XLSX, streamed.
- `models.py`, `views.py`, `tasks.py` — the «Импорт» page's jobs run by the worker; the «Экспорт»
  buttons.
"""
