"""Rows → CSV or XLSX, streamed: what the exports (exchange.exports) write, for the browser and for
the commands alike. A row is a list of cell values as `exchange.columns.export_value` gives them:
str, int, Decimal, date/datetime or None.

CSV is what Russian Excel opens with a double click: UTF-8 with a BOM (without it Excel reads
cp1251), `;` between cells (the list separator of the Russian locale) and CRLF. Numbers are
written as the Russian locale types them — a decimal comma («1500,50»), no thousands separator —
and dates as «29.11.2026» («29.11.2026 14:05:00» with a time, in the site's time zone), so Excel
reads them as numbers and dates and the importer reads them back.

XLSX goes through openpyxl's write-only mode, streamed as a zip is written (`xlsx_chunks`: no
temporary file, the first bytes leave after the first rows, memory stays flat):
numbers and dates are real cells, money carries a number format, the header row is bold and
frozen, the widths follow the header and the first rows.

Formula injection: a text cell starting with `=`, `+`, `-`, `@`, a tab or a CR would be run as a
formula by a spreadsheet («=HYPERLINK(…)» in a company name). Such text is neutralised with a
leading apostrophe — the spreadsheet's own «this is text» mark:
- in CSV the apostrophe is written into the cell («'+7 (912) 859-87-48»); the importer drops an
  apostrophe followed by one of those characters, so the value comes back unchanged;
- in XLSX the cell is stored as text with Excel's «quote prefix» flag: the spreadsheet shows the
  apostrophe only in its formula bar, keeps the cell text when edited, and the value in the file
  is the text itself (a reader gets it back as it was).
Only text is neutralised: a real negative number (an int or a Decimal) stays a number in both
formats — in CSV «-1500,00» is a number to a spreadsheet, not a formula.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from itertools import islice
from typing import IO, Any

from django.utils import timezone
from django.utils.translation import gettext as _

CSV_DELIMITER = ";"
BOM = "\ufeff"
# A formula starts with one of these (a tab or a CR is what some spreadsheets skip before one).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
QUOTE = "'"
# How many rows a chunk of a streamed CSV holds: big enough for few writes, small enough to
# start the download at once.
CSV_CHUNK_ROWS = 1000
DATE_FORMAT = "%d.%m.%Y"
DATETIME_FORMAT = "%d.%m.%Y %H:%M:%S"

# XLSX: Excel's built-in formats 14 and 22 are shown in the reader's own locale (29.11.2026 in a
# Russian Excel); 4 is «#,##0.00» with the locale's separators.
XLSX_DATE = "mm-dd-yy"
XLSX_DATETIME = "m/d/yy h:mm"
XLSX_MONEY = "#,##0.00"
XLSX_SAMPLE_ROWS = 100  # the first rows read before writing, for the widths
XLSX_CHUNK_ROWS = 1000  # rows between two chunks of a streamed workbook
# A cell is 30–100 bytes of sheet XML: 2 GiB, a zip entry's limit without ZIP64, is 20 M cells or
# more; past 10 M the sheet's entry is written in ZIP64 form.
XLSX_ZIP64_CELLS = 10_000_000
XLSX_MIN_WIDTH, XLSX_MAX_WIDTH = 8, 60

Row = Sequence[Any]


FORMULA_FIRST = frozenset(FORMULA_STARTS)  # one lookup of the first character (a hot path)


def neutralise(text: str) -> str:
    """A text as a CSV cell: a leading apostrophe if a spreadsheet would take it for a formula."""
    return QUOTE + text if text[:1] in FORMULA_FIRST else text


def is_neutralised(text: str) -> bool:
    """Whether a cell read from a CSV was neutralised by `neutralise` (the importer drops the quote)."""
    return len(text) > 1 and text[0] == QUOTE and text[1] in "=+-@\t\r"


def local(value: datetime) -> datetime:
    """A stored (UTC) moment in the site's time zone, without tzinfo: what a spreadsheet shows."""
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return value.replace(tzinfo=None)


def yes_no(value: bool) -> str:
    return _("Да") if value else _("Нет")


def csv_cell(value: Any) -> str:
    if type(value) is str:  # most cells: checked first
        return neutralise(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return yes_no(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        return format(value, "f").replace(".", ",")
    if isinstance(value, float):
        return repr(value).replace(".", ",")
    if isinstance(value, datetime):
        return local(value).strftime(DATETIME_FORMAT)
    if isinstance(value, date):
        return value.strftime(DATE_FORMAT)
    return neutralise(str(value))


def csv_chunks(headers: Sequence[str], rows: Iterable[Row]) -> Iterator[bytes]:
    """The CSV file as byte chunks (for a StreamingHttpResponse or a file), the BOM first."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=CSV_DELIMITER, lineterminator="\r\n")
    buffer.write(BOM)
    writer.writerow([neutralise(str(h)) for h in headers])
    rows = iter(rows)
    while True:
        chunk = list(islice(rows, CSV_CHUNK_ROWS))
        # csv_cell inlined for text and empty cells, most of them: a call per cell was a fifth of
        # an export.
        writer.writerows([(QUOTE + v if v[:1] in FORMULA_FIRST else v) if type(v) is str
                          else "" if v is None else csv_cell(v) for v in row]
                         for row in chunk)
        yield buffer.getvalue().encode("utf-8")
        buffer.seek(0)
        buffer.truncate()
        if len(chunk) < CSV_CHUNK_ROWS:
            return


def write_csv(target: str | IO[bytes], headers: Sequence[str], rows: Iterable[Row]) -> None:
    """The CSV file to a path or a binary file object."""
    if isinstance(target, str):
        with open(target, "wb") as file:
            write_csv(file, headers, rows)
        return
    for chunk in csv_chunks(headers, rows):
        target.write(chunk)


# --- XLSX ---

def _illegal_free(text: str) -> str:
    # XML 1.0 has no place for most control characters: openpyxl refuses them. Dropped.
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    return ILLEGAL_CHARACTERS_RE.sub("", text)


def _text_width(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, datetime):
        return 16
    if isinstance(value, date):
        return 10
    if isinstance(value, Decimal):
        return len(f"{value:,.2f}")
    text = str(value)
    return max((len(line) for line in text.splitlines()), default=0)


def write_xlsx(target: str | IO[bytes], headers: Sequence[str], rows: Iterable[Row], *, title: str = "",
               records: int | None = None) -> None:
    """The XLSX workbook (one sheet named `title`) to a path or a binary file object.
    `records`: how many rows there will be, if known (a big sheet needs ZIP64)."""
    if isinstance(target, str):
        with open(target, "wb") as file:
            write_xlsx(file, headers, rows, title=title, records=records)
        return
    for chunk in xlsx_chunks(headers, rows, title=title, records=records):
        target.write(chunk)


class _Pipe:
    """A write-only, unseekable file for zipfile: what was written is taken out by `take()`.
    zipfile then writes each entry's sizes after its data (a data descriptor), as a stream must."""

    def __init__(self):
        self.parts: list[bytes] = []

    def write(self, data) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data = b"".join(self.parts)
        self.parts.clear()
        return data


def xlsx_chunks(headers: Sequence[str], rows: Iterable[Row], *, title: str = "",
                records: int | None = None) -> Iterator[bytes]:
    """The XLSX workbook as byte chunks, produced while the rows are read: a browser's download
    starts at once and no temporary file is made (openpyxl's own write-only save puts the sheet
    in a temporary file and zips it at the end, so the first byte would wait for the last row).

    openpyxl still writes every part of the file: here its sheet writer is given the zip entry of
    the sheet instead of a temporary file, and the workbook's other parts (styles, workbook,
    manifest) are written after the sheet by its own ExcelWriter.

    A streamed zip entry must say beforehand whether it may pass 2 GiB (ZIP64); some Excel
    versions offer to «repair» a ZIP64 file, so it is used only when `records` (the rows to come,
    if known) times the columns may reach that size."""
    from zipfile import ZIP_DEFLATED, ZipFile

    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet._writer import WorksheetWriter

    pipe = _Pipe()
    archive = ZipFile(pipe, "w", ZIP_DEFLATED, allowZip64=True)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=_sheet_title(title))
    rows = iter(rows)
    sample = list(islice(rows, XLSX_SAMPLE_ROWS))
    for index, header in enumerate(headers):
        width = max([len(str(header)) + 2, *(_text_width(row[index]) + 1 for row in sample)])
        sheet.column_dimensions[get_column_letter(index + 1)].width = min(max(width, XLSX_MIN_WIDTH), XLSX_MAX_WIDTH)
    sheet.freeze_panes = "A2"

    # The only sheet: ExcelWriter numbers it 1 and names its part so in the manifest.
    zip64 = records is not None and records * max(len(headers), 1) > XLSX_ZIP64_CELLS
    entry = archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=zip64)
    sheet._writer = WorksheetWriter(sheet, out=entry)
    sheet._writer.write_top()

    bold = Font(bold=True)
    header_cells = []
    for header in headers:
        cell = WriteOnlyCell(sheet)
        _put_text(cell, str(header))
        cell.font = bold
        header_cells.append(cell)
    sheet.append(header_cells)

    def cell_of(value: Any) -> Any:
        """A plain value where openpyxl writes it right by itself; a styled cell otherwise. A styled
        cell is made per value: openpyxl's writer keeps nothing of it once the row is written."""
        if isinstance(value, bool):
            return yes_no(value)
        if value is None or isinstance(value, int | float):
            return value
        if isinstance(value, Decimal):
            return _styled(sheet, value, XLSX_MONEY)
        if isinstance(value, datetime):
            return _styled(sheet, local(value), XLSX_DATETIME)
        if isinstance(value, date):
            return _styled(sheet, value, XLSX_DATE)
        text = _illegal_free(str(value))
        if text.startswith(FORMULA_STARTS):
            cell = WriteOnlyCell(sheet)
            _put_text(cell, text)
            return cell
        return text

    for row in sample:
        sheet.append([cell_of(v) for v in row])
    yield pipe.take()
    while True:
        chunk = list(islice(rows, XLSX_CHUNK_ROWS))
        for row in chunk:
            sheet.append([cell_of(v) for v in row])
        data = pipe.take()
        if data:
            yield data
        if len(chunk) < XLSX_CHUNK_ROWS:
            break
    sheet.close()  # the sheet's tail (openpyxl's writer), then the entry's end
    entry.close()
    _excel_writer()(workbook, archive).write_data()
    archive.close()  # the zip's central directory
    yield pipe.take()


def _excel_writer():
    """The class is made on first use: openpyxl is imported only by an XLSX export."""
    from openpyxl.drawing.spreadsheet_drawing import SpreadsheetDrawing
    from openpyxl.writer.excel import ExcelWriter

    class SheetWritten(ExcelWriter):
        """openpyxl's ExcelWriter for a sheet already in the archive (xlsx_chunks wrote it)."""

        def write_worksheet(self, ws):
            ws._drawing = SpreadsheetDrawing()
            ws._drawing.charts, ws._drawing.images = ws._charts, ws._images
            ws._rels = ws._writer._rels
            self.manifest.append(ws)

    return SheetWritten


def _styled(sheet, value: Any, number_format: str):
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(sheet, value)
    cell.number_format = number_format
    return cell


def _put_text(cell, text: str) -> None:
    """A text cell that is never a formula: openpyxl would take «=…» for one, so the type is
    set after the value; a text that looks like a formula gets Excel's quote-prefix flag."""
    cell.value = _illegal_free(text)
    cell.data_type = "s"
    if text.startswith(FORMULA_STARTS):
        cell.quotePrefix = True


def _sheet_title(title: str) -> str:
    # Excel's limits: 31 characters, none of []:*?/\ .
    cleaned = "".join("_" if c in "[]:*?/\\" else c for c in title).strip("'")
    return cleaned[:31] or "Sheet1"
