"""A report's tables as a CSV or XLSX file, through the writer «Экспорт» of the lists uses
(exchange.writers: the Russian CSV Excel opens, formula-safe cells, real numbers in XLSX).

One sheet: the first table with its headers, the others after an empty row, each under its
caption and its own headers. With the comparison on, each number is followed by the previous
period's. Numbers are raw (a percent as 75,0, days with one decimal), not the page's text."""

from __future__ import annotations

from django.http import HttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _

from exchange.views_export import CSV_TYPE, XLSX_TYPE
from exchange.writers import csv_chunks, xlsx_chunks

from .reports import Report, Table


def _headers(table: Table) -> list[str]:
    headers = []
    for column in table.columns:
        headers.append(str(column.label))
        if table.compared and column.numeric:
            headers.append(_("%(column)s, прошлый период") % {"column": column.label})
    return headers


def _row(table: Table, cells) -> list:
    row = []
    for column, cell in zip(table.columns, cells, strict=True):
        row.append(cell.value)
        if table.compared and column.numeric:
            row.append(cell.previous)
    return row


def rows(report: Report) -> tuple[list[str], list[list]]:
    if not report.tables:
        return [], []
    first, *rest = report.tables
    lines = [_row(first, cells) for cells in first.rows]
    for table in rest:
        lines += [[], [str(table.caption)], _headers(table)]
        lines += [_row(table, cells) for cells in table.rows]
    headers = _headers(first)
    # One width for the sheet (the XLSX writer sizes its columns by the header row).
    width = max([len(headers), *(len(line) for line in lines)])
    return headers + [""] * (width - len(headers)), [line + [None] * (width - len(line)) for line in lines]


def respond(report: Report, title: str, fmt: str) -> HttpResponse:
    headers, lines = rows(report)
    name = f"{title} {timezone.localdate():%Y-%m-%d}.{fmt}"
    if fmt == "xlsx":
        chunks, content_type = xlsx_chunks(headers, lines, title=title, records=len(lines)), XLSX_TYPE
    else:
        chunks, content_type = csv_chunks(headers, lines), CSV_TYPE
    # A report's tables are a few dozen rows, built already: written whole, not streamed.
    response = HttpResponse(b"".join(chunks), content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, name)
    return response
