"""A file people bring to an import → a `Table`: its headers and its rows, streamed.

Formats are told apart by content, not by the file's extension (people rename files):
- CSV (`;`, `,`, tab or space — what Bitrix24's own import accepts), UTF-8 with or without BOM,
  UTF-16 with a BOM (Excel's «Текст Юникод»), or a Cyrillic code page (Windows-1251 from Russian
  Excel, KOI8-R, CP866) detected by charset-normalizer on a bounded sample;
- XLSX (the first sheet), read by python-calamine when the sheet fits the memory budget (≈10× faster)
  and streamed by openpyxl's read-only mode when it does not;
- Bitrix24's «Экспорт в Excel»: an HTML `<table>` saved as .xls (windows-1251 or UTF-8, with a meta
  charset), streamed through the standard library's HTML parser.
A real binary .xls (BIFF), a password-protected workbook, an image, a PDF, a zip that is not a
workbook, garbage bytes and files over the limits (settings.IMPORT_MAX_COLUMNS columns,
settings.IMPORT_MAX_CELL characters in a cell) are refused with a `TableError` whose message is for
the user, in Russian.

Cells come out as the text a person sees in Excel: «15.01.2026», «15.01.2026 10:30», «150000»,
«150000.5» (never «150000.0» nor float noise), «ИСТИНА»/«ЛОЖЬ». The header is the first row that is
not empty; row numbers are the ones the user sees in Excel (the header's is 1 in a usual file), and
entirely empty rows are skipped but still counted. Trailing headerless columns are dropped (Bitrix24
ends every CSV line with `;`); empty and duplicate headers inside the table are kept.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import os
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from xml.etree import ElementTree

from django.conf import settings
from django.utils.translation import gettext as _

FORMATS = ("csv", "xlsx", "html")
DELIMITERS = (";", ",", "\t", " ")
# The code pages a Russian file comes in when it is not UTF-8; limiting the detector to them makes
# a short Windows-1251 file come out as Windows-1251 and not as some Hebrew or Thai code page.
CYRILLIC_ENCODINGS = ["cp1251", "koi8_r", "cp866"]

SAMPLE_BYTES = 256 * 1024  # what the encoding, the delimiter and the row estimate are judged on
CHUNK = 64 * 1024
# A sheet read whole by python-calamine holds every cell of its rectangle (≈100 bytes each,
# measured: 100 000 × 20 cells took 207 MB); a bigger one is streamed by openpyxl instead.
XLSX_IN_MEMORY_CELLS = 2_500_000
# A workbook's shared strings are held whole by either reader; a zip bomb of them is refused.
XLSX_MAX_SHARED_STRINGS_BYTES = 512 * 1024 * 1024

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")


class TableError(Exception):
    """The file cannot be read as a table; the message is for the user."""


def _not_a_table() -> TableError:
    return TableError(_("Файл не похож на таблицу. Загрузите CSV, XLSX или выгрузку Битрикс24 «Экспорт в Excel»."))


def _too_many_columns(count: int) -> TableError:
    return TableError(_("В таблице %(count)s столбцов, а можно не больше %(limit)s.")
                      % {"count": count, "limit": settings.IMPORT_MAX_COLUMNS})


def _cell_too_long(row: int) -> TableError:
    return TableError(_("Строка %(row)s: в ячейке больше %(limit)s символов (предел ячейки Excel).")
                      % {"row": row, "limit": settings.IMPORT_MAX_CELL})


@dataclass
class Table:
    name: str
    format: str
    encoding: str | None
    delimiter: str | None
    headers: list[str]
    estimated_rows: int | None
    # (row number, cells) after the header, streamed; set by the reader.
    _rows: Callable[[], Iterator[tuple[int, list[str]]]] = field(repr=False, default=lambda: iter(()))

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """The data rows, read anew from the file at each call: (the row's number as the user counts
        it, its cells as stripped text, '' when empty, exactly len(headers) of them). Raises
        TableError when a row breaks a limit."""
        return self._rows()


def open_table(path: str | os.PathLike, *, name: str | None = None) -> Table:
    """Read the headers of the file at `path` and prepare its rows; raises TableError."""
    path = Path(path)
    name = name or path.name
    try:
        size = path.stat().st_size
        with open(path, "rb") as f:
            head = f.read(SAMPLE_BYTES)
    except OSError as e:
        raise TableError(_("Файл не удалось прочитать.")) from e
    if not head.strip():
        raise TableError(_("Файл пуст."))
    if b"\x00" in head and not head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) \
            and not head.startswith((*ZIP_MAGICS, OLE2_MAGIC)):
        raise _not_a_table()  # an image, an archive, a program: no table's text has NUL bytes
    if head.startswith(ZIP_MAGICS):
        return _open_xlsx(path, name)
    if head.startswith(OLE2_MAGIC):
        raise _ole2_error(path)
    if head.startswith(b"%PDF"):
        raise _not_a_table()
    encoding = _text_encoding(path, head, declared=_declared_charset(head))
    text = _decode_sample(head, encoding, final=size <= len(head))
    if _looks_binary(text):
        raise _not_a_table()
    if not text.strip():
        raise TableError(_("Файл пуст."))
    if text.lstrip().startswith("<"):
        if re.search(r"<table[\s>]", text, re.I):
            return _open_html(path, name, encoding, text, size, len(head))
        raise _not_a_table()
    return _open_csv(path, name, encoding, text, size, len(head))


# ---------------------------------------------------------------------------------------------
# Text: encoding
# ---------------------------------------------------------------------------------------------

def _text_encoding(path: Path, head: bytes, declared: str | None = None) -> str:
    """BOM; else UTF-8 if the first stretch of non-ASCII bytes decodes as UTF-8 (Windows-1251
    Cyrillic practically never does); else a declared charset (HTML's meta); else the detector
    among the Cyrillic code pages."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    sample = _non_ascii_sample(path, head)
    if sample is None:
        return "utf-8"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    if declared:
        return declared
    from charset_normalizer import from_bytes

    best = from_bytes(sample, cp_isolation=CYRILLIC_ENCODINGS).best()
    if best is None:
        raise TableError(_("Не удалось определить кодировку файла: сохраните его в UTF-8 или Windows-1251."))
    return best.encoding


def _non_ascii_sample(path: Path, head: bytes) -> bytes | None:
    """SAMPLE_BYTES from just before the file's first non-ASCII byte (a file may start with pages of
    ASCII phones and e-mails); None if the file is all ASCII."""
    offset = _first_non_ascii(head)
    if offset is None:
        offset = len(head)
        with open(path, "rb") as f:
            f.seek(offset)
            while chunk := f.read(1024 * 1024):
                found = _first_non_ascii(chunk)
                if found is not None:
                    offset += found
                    break
                offset += len(chunk)
            else:
                return None
    # Starting on an ASCII byte, the sample never begins inside a multi-byte character.
    start = max(0, offset - 1024)
    with open(path, "rb") as f:
        f.seek(start)
        return f.read(SAMPLE_BYTES)


_NON_ASCII = re.compile(rb"[\x80-\xff]")


def _first_non_ascii(data: bytes) -> int | None:
    m = _NON_ASCII.search(data)
    return m.start() if m else None


def _decode_sample(head: bytes, encoding: str, final: bool) -> str:
    try:
        return codecs.getincrementaldecoder(encoding)().decode(head, final=final)
    except UnicodeDecodeError as e:
        raise TableError(_("Текст файла не в кодировке %(encoding)s: сохраните его в UTF-8 или Windows-1251.")
                         % {"encoding": encoding}) from e


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


def _looks_binary(text: str) -> bool:
    """Control characters that no table's text has (a binary file that happened to decode)."""
    return len(_CONTROL.findall(text)) > max(2, len(text) // 1000)


def _ole2_error(path: Path) -> TableError:
    """An OLE2 container: an encrypted workbook (Excel puts the password-protected .xlsx in one), an
    old binary .xls, or something else (a .doc)."""
    with open(path, "rb") as f:
        data = f.read(4 * 1024 * 1024)
    if "EncryptedPackage".encode("utf-16-le") in data:
        return TableError(_("Файл защищён паролем: снимите защиту в Excel и сохраните его как .xlsx."))
    if "Workbook".encode("utf-16-le") in data or "Book".encode("utf-16-le") in data:
        return TableError(_("Старый формат Excel (.xls) не поддерживается: сохраните файл как .xlsx или CSV."))
    return _not_a_table()


class _LineTooLong(Exception):
    pass


# ---------------------------------------------------------------------------------------------
# CSV
# ---------------------------------------------------------------------------------------------

def _open_csv(path: Path, name: str, encoding: str, sample: str, size: int, sample_bytes: int) -> Table:
    delimiter = _sniff_delimiter(sample)
    header_row, headers, data_rows = _csv_header(path, encoding, delimiter)
    estimated: int | None = data_rows
    if size > sample_bytes:
        # The records of the sample's whole lines scaled to the file's size.
        whole = sample[: sample.rfind("\n") + 1]
        records = len(_sample_records(whole.splitlines(), delimiter))
        estimated = round(records * size / len(whole.encode(encoding))) - header_row if records > header_row else None

    def rows() -> Iterator[tuple[int, list[str]]]:
        width = len(headers)
        for number, cells in _csv_records(path, encoding, delimiter):
            if number <= header_row:
                continue
            if not any(c.strip() for c in cells):
                continue
            cells = [c.strip() for c in cells[:width]]
            if len(cells) < width:
                cells += [""] * (width - len(cells))
            yield number, cells

    return Table(name=name, format="csv", encoding=encoding, delimiter=delimiter, headers=headers,
                 estimated_rows=estimated, _rows=rows)


def _sniff_delimiter(sample: str) -> str:
    """The delimiter that splits the header into the most columns with the next rows agreeing
    (the same count as the header, or more: Bitrix24 ends lines with one more `;`)."""
    lines = sample.splitlines()[:-1] or sample.splitlines()  # the last line of a sample may be cut
    lines = [line for line in lines if line.strip()][:20]
    if not lines:
        return ";"
    best, best_score = ";", (0, 0)
    for delimiter in DELIMITERS:
        records = _sample_records(lines, delimiter)
        if not records:
            continue
        columns = len(records[0])
        if columns < 2:
            continue
        agreeing = sum(1 for r in records[1:] if len(r) >= columns) if len(records) > 1 else 1
        consistency = agreeing / max(1, len(records) - 1)
        if consistency < 0.8:
            continue
        # Space splits most prose into columns: the last resort, taken only when no other delimiter works.
        score = (1 if delimiter != " " else 0, columns)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _sample_records(lines: list[str], delimiter: str) -> list[list[str]]:
    """The records of the sample's lines up to the first one the csv module refuses (a quoted cell
    cut at the sample's end)."""
    records = []
    reader = csv.reader(io.StringIO("\n".join(lines)), delimiter=delimiter, quotechar='"',
                        skipinitialspace=delimiter != " ")
    try:
        for record in reader:
            records.append(record)
    except csv.Error:
        pass
    return records


def _csv_lines(f, limit: int) -> Iterator[str]:
    """The file's physical lines, each read with a length limit: one endless line (a CSV bomb) never
    gets into memory whole."""
    while True:
        line = f.readline(limit)
        if not line:
            return
        if len(line) >= limit and not line.endswith(("\n", "\r")):
            raise _LineTooLong
        yield line


def _csv_records(path: Path, encoding: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """(record number, raw cells) of every record, empty ones included; limits raise TableError."""
    max_cell = settings.IMPORT_MAX_CELL
    # A row of several long cells is fine; a line far past that is a bomb, not a row.
    max_line = max_cell * 16
    # The csv module's own field limit (a process-wide setting, 128 K by default) bounds a quoted
    # cell spanning many lines; only ever raised, so no other reader in the process is hurt.
    if csv.field_size_limit() <= max_cell:
        csv.field_size_limit(max_cell + 1)
    number = 0
    with open(path, encoding=encoding, newline="") as f:
        reader = csv.reader(_csv_lines(f, max_line), delimiter=delimiter, quotechar='"', doublequote=True,
                            skipinitialspace=delimiter != " ", strict=False)
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as e:
                if "field larger than field limit" in str(e):
                    raise _cell_too_long(number + 1) from e
                raise TableError(_("Строка %(row)s: CSV повреждён (%(error)s).")
                                 % {"row": number + 1, "error": e}) from e
            except _LineTooLong as e:
                raise TableError(_("Строка %(row)s длиннее %(limit)s символов: это не строка таблицы.")
                                 % {"row": number + 1, "limit": max_line}) from e
            except UnicodeDecodeError as e:
                raise TableError(_("Строка %(row)s: текст не в кодировке %(encoding)s — в файле смешаны "
                                   "кодировки. Сохраните его в UTF-8.")
                                 % {"row": number + 1, "encoding": encoding}) from e
            number += 1
            if any(len(c) > max_cell for c in cells):
                raise _cell_too_long(number)
            yield number, cells


def _csv_header(path: Path, encoding: str, delimiter: str) -> tuple[int, list[str], int]:
    """The header (the first non-empty record), and the non-empty data records of the first
    SAMPLE_BYTES (all of a small file's)."""
    header_row, headers = 0, None
    data_rows = chars = 0
    try:
        for number, cells in _csv_records(path, encoding, delimiter):
            if headers is None:
                if any(c.strip() for c in cells):
                    header_row, headers = number, _headers(cells)
                continue
            data_rows += any(c.strip() for c in cells)
            chars += sum(len(c) + 1 for c in cells)
            if chars > SAMPLE_BYTES:
                break
    except TableError:
        if headers is None:
            raise
        # A bad row after the header: rows() reports it with its number, where the import meets it.
    if headers is None:
        raise TableError(_("Файл пуст."))
    return header_row, headers, data_rows


def _headers(cells: list[str]) -> list[str]:
    headers = [str(c).strip() for c in cells]
    while headers and not headers[-1]:
        headers.pop()
    if len(headers) > settings.IMPORT_MAX_COLUMNS:
        raise _too_many_columns(len(headers))
    return headers


# ---------------------------------------------------------------------------------------------
# HTML: Bitrix24's «Экспорт в Excel»
# ---------------------------------------------------------------------------------------------

_META_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?\s*([\w-]+)", re.I)


def _declared_charset(head: bytes) -> str | None:
    """The charset an HTML file declares in its <meta>, if Python knows it."""
    m = _META_CHARSET.search(head)
    if not m:
        return None
    try:
        return codecs.lookup(m.group(1).decode("ascii")).name
    except LookupError:
        return None


_BR = "\x00"  # a <br> in a cell's text until the cell ends (the parser never passes a NUL through)


class _TableParser(HTMLParser):
    """Rows of the first <table> (nested tables' cells are part of their cell's text); `<br>` is a
    line break in a cell, other whitespace collapses as a browser shows it."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.rows: list[tuple[int, list[str]]] = []
        self.depth = 0  # <table> nesting
        self.done = False
        self.row_number = 0
        self.row: list[str] | None = None
        self.cell: list[str] | None = None
        self.cell_chars = 0
        self.too_long = 0  # the first row with a cell over the limit
        self.max_cell = settings.IMPORT_MAX_CELL
        self.max_cells = settings.IMPORT_MAX_COLUMNS + 1

    def handle_starttag(self, tag, attrs):
        if self.done:
            return
        if tag == "table":
            self.depth += 1
        elif self.depth != 1:
            if tag == "br" and self.cell is not None:
                self.cell.append(_BR)
        elif tag == "tr":
            self._end_row()
            self.row = []
            self.row_number += 1
        elif tag in ("td", "th"):
            self._end_cell()
            if self.row is None:  # a cell without <tr>
                self.row = []
                self.row_number += 1
            self.cell, self.cell_chars = [], 0
        elif tag == "br" and self.cell is not None:
            self.cell.append(_BR)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag):
        if self.done:
            return
        if tag == "table":
            if self.depth == 1:
                self._end_row()
                self.done = True
            self.depth = max(0, self.depth - 1)
        elif self.depth != 1:
            return
        elif tag in ("td", "th"):
            self._end_cell()
        elif tag == "tr":
            self._end_row()

    def handle_data(self, data):
        if self.cell is not None and not self.done:
            self.cell_chars += len(data)
            if self.cell_chars > self.max_cell:
                # Raised where this row is read (rows before it are good, the header among them).
                self.too_long = self.too_long or self.row_number
                return
            self.cell.append(data)

    def _end_cell(self):
        if self.cell is None:
            return
        text = "".join(self.cell)
        if _BR in text:  # the source's own line breaks are whitespace, collapsed like the rest
            text = "\n".join(" ".join(line.split()) for line in text.split(_BR)).strip()
        else:
            text = " ".join(text.split())
        if self.row is not None and len(self.row) < self.max_cells:
            self.row.append(text)
        self.cell = None

    def _end_row(self):
        self._end_cell()
        if self.row is not None:
            self.rows.append((self.row_number, self.row))
            self.row = None


def _checked(parser: _TableParser) -> Iterator[tuple[int, list[str]]]:
    rows, parser.rows = parser.rows, []
    for number, cells in rows:
        if parser.too_long and number >= parser.too_long:
            raise _cell_too_long(parser.too_long)
        yield number, cells


def _html_rows(path: Path, encoding: str) -> Iterator[tuple[int, list[str]]]:
    parser = _TableParser()
    # A tag that never closes is buffered by the parser: bounded like a CSV line.
    max_buffer = settings.IMPORT_MAX_CELL * 16
    try:
        with open(path, encoding=encoding, newline="") as f:
            while not parser.done and (chunk := f.read(CHUNK)):
                parser.feed(chunk)
                if len(parser.rawdata) > max_buffer:
                    raise TableError(_("Строка %(row)s: разметка таблицы повреждена.") % {"row": parser.row_number})
                yield from _checked(parser)
            parser.close()
            parser._end_row()
            yield from _checked(parser)
    except UnicodeDecodeError as e:
        raise TableError(_("Строка %(row)s: текст не в кодировке %(encoding)s — в файле смешаны кодировки. "
                           "Сохраните его в UTF-8.") % {"row": parser.row_number, "encoding": encoding}) from e


def _open_html(path: Path, name: str, encoding: str, sample: str, size: int, sample_bytes: int) -> Table:
    header_row, headers = 0, None
    for number, cells in _html_rows(path, encoding):
        if any(cells):
            header_row, headers = number, _headers(cells)
            break
    if headers is None:
        raise TableError(_("В файле нет строк таблицы."))
    estimated: int | None = None
    rows_in_sample = len(re.findall(r"<tr[\s>]", sample, re.I))
    if size <= sample_bytes:
        estimated = max(0, rows_in_sample - header_row)
    elif rows_in_sample > 1:
        estimated = round(size * rows_in_sample / sample_bytes) - header_row

    def rows() -> Iterator[tuple[int, list[str]]]:
        width = len(headers)
        for number, cells in _html_rows(path, encoding):
            if number <= header_row or not any(cells):
                continue
            cells = cells[:width]
            if len(cells) < width:
                cells += [""] * (width - len(cells))
            yield number, cells

    return Table(name=name, format="html", encoding=encoding, delimiter=None, headers=headers,
                 estimated_rows=estimated, _rows=rows)


# ---------------------------------------------------------------------------------------------
# XLSX
# ---------------------------------------------------------------------------------------------

_NS_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_NS_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_NS_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_CELL_REF = re.compile(rb'<c r="([A-Z]{1,3})')
_ROW_REF = re.compile(rb'<row r="([0-9]+)"')
_CELL = re.compile(rb"<c[\s>/]")
_ROW = re.compile(rb"<row[\s>/]")
_DIMENSION = re.compile(rb'<dimension ref="[A-Z]+[0-9]+:[A-Z]+([0-9]+)"')


def _open_xlsx(path: Path, name: str) -> Table:
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            if "xl/workbook.xml" not in names:
                if "content.xml" in names:
                    raise TableError(_("Таблицы OpenDocument (.ods) не поддерживаются: сохраните файл как .xlsx "
                                       "или CSV."))
                raise TableError(_("Это ZIP-архив, а не таблица: распакуйте его и загрузите файл из него."))
            sheet = _first_sheet_part(zf)
            shared = zf.getinfo("xl/sharedStrings.xml").file_size if "xl/sharedStrings.xml" in names else 0
            if shared > XLSX_MAX_SHARED_STRINGS_BYTES:
                raise TableError(_("Файл XLSX распаковывается в слишком большой объём: это не обычная таблица."))
            size = zf.getinfo(sheet).file_size
            with zf.open(sheet) as f:
                sample = f.read(1024 * 1024)
    except (zipfile.BadZipFile, KeyError, ElementTree.ParseError, EOFError, OSError) as e:
        raise TableError(_("Файл XLSX повреждён: откройте его в Excel и сохраните заново.")) from e
    estimated = _xlsx_estimate(sample, size)
    with zipfile.ZipFile(path) as zf:
        fits = _xlsx_fits_in_memory(zf, sheet, sample, size)
    # The header by the reader that then reads the rows: openpyxl's read-only load parses a whole
    # sheet that states no dimension (ours, written by its write-only mode, do not) just to size it
    # — 30 s for 100 000 rows — where calamine reads such a sheet in 3.
    source = _calamine_rows if fits else _openpyxl_rows
    header_row, headers = 0, None
    for number, values in source(path, settings.IMPORT_MAX_COLUMNS + 1):
        cells = _cells_text(values, number)
        if any(cells):
            header_row, headers = number, _headers(cells)
            break
    if headers is None:
        raise TableError(_("В таблице нет строк: первый лист пуст."))
    if estimated is not None:
        estimated = max(0, estimated - header_row)

    def rows() -> Iterator[tuple[int, list[str]]]:
        width = len(headers)
        for number, values in source(path, width):
            if number <= header_row:
                continue
            cells = _cells_text(values[:width], number)
            if not any(cells):
                continue
            if len(cells) < width:
                cells += [""] * (width - len(cells))
            yield number, cells

    return Table(name=name, format="xlsx", encoding=None, delimiter=None, headers=headers,
                 estimated_rows=estimated, _rows=rows)


def _first_sheet_part(zf: zipfile.ZipFile) -> str:
    """The first sheet's part in the archive, as workbook.xml orders the sheets."""
    workbook = ElementTree.fromstring(zf.read("xl/workbook.xml"))
    first = workbook.find(f"{_NS_MAIN}sheets/{_NS_MAIN}sheet")
    if first is None:
        raise TableError(_("В книге Excel нет листов."))
    rel_id = first.get(f"{_NS_REL}id")
    rels = ElementTree.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
    for rel in rels.iter(f"{_NS_PKG_REL}Relationship"):
        if rel.get("Id") == rel_id:
            target = rel.get("Target", "")
            return target.lstrip("/") if target.startswith("/") else "xl/" + target
    raise KeyError(rel_id)


def _xlsx_estimate(sample: bytes, size: int) -> int | None:
    """Rows of the sheet, the header included: the dimension if the sheet states one (Excel does,
    openpyxl's write-only mode does not), else the rows of the first megabyte scaled to the size."""
    m = _DIMENSION.search(sample[:4096])
    if m and int(m.group(1)) > 1:
        return int(m.group(1))
    rows = len(_ROW.findall(sample))
    if not rows:
        return None
    return rows if len(sample) >= size else round(rows * size / len(sample))


def _xlsx_fits_in_memory(zf: zipfile.ZipFile, sheet: str, sample: bytes, size: int) -> bool:
    """Whether python-calamine may read the sheet whole: it holds the sheet's whole rectangle, so one
    far-away cell (XFD1048576) would make it allocate billions of cells. The rectangle is measured
    on the sheet itself (the dimension element may lie), by a scan of its cell references
    (≈1 s for 100 000 rows × 20 columns; calamine then saves ~25 s against openpyxl)."""
    if size > XLSX_IN_MEMORY_CELLS * 200:  # more cells than that, surely
        return False
    if _CELL.search(sample) and not _CELL_REF.search(sample):
        return False  # cells without references: their rectangle is not seen by a scan
    max_col, max_row, tail = b"", 0, b""
    with zf.open(sheet) as f:
        while chunk := f.read(1024 * 1024):
            buffer = tail + chunk
            cols = set(_CELL_REF.findall(buffer))
            if cols:
                widest = max(cols, key=lambda c: (len(c), c))
                if (len(widest), widest) > (len(max_col), max_col):
                    max_col = widest
            i = buffer.rfind(b'<row r="')
            if i >= 0 and (m := _ROW_REF.match(buffer, i)):
                max_row = max(max_row, int(m.group(1)))
            # Keep a tag cut between two reads for the next one.
            lt = buffer.rfind(b"<")
            tail = buffer[lt:] if lt >= 0 and len(buffer) - lt < 64 else b""
    return max_row * _column_number(max_col.decode()) <= XLSX_IN_MEMORY_CELLS


def _column_number(letters: str) -> int:
    number = 0
    for ch in letters:
        number = number * 26 + ord(ch) - 64
    return number


def _calamine_rows(path: Path, max_columns: int) -> Iterator[tuple[int, list]]:
    from python_calamine import CalamineError, CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_path(str(path))
        sheet = workbook.get_sheet_by_index(0)
        # iter_rows starts at row 1 but at the first used column (python-calamine 0.9; the tests
        # check both readers number and place cells alike).
        pad = [None] * (sheet.start or (0, 0))[1]
        for number, values in enumerate(sheet.iter_rows(), start=1):
            yield number, (pad + values)[:max_columns] if pad else values[:max_columns]
    except CalamineError as e:
        raise TableError(_("Файл XLSX повреждён: откройте его в Excel и сохраните заново.")) from e


def _openpyxl_rows(path: Path, max_columns: int) -> Iterator[tuple[int, list]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as e:  # openpyxl raises many kinds for a broken file
        raise TableError(_("Файл XLSX повреждён: откройте его в Excel и сохраните заново.")) from e
    try:
        sheet = workbook.worksheets[0]
        # The sheet's own dimension is not trusted (rows would be padded to it); the cells are.
        sheet.reset_dimensions()
        for number, values in enumerate(sheet.iter_rows(values_only=True, max_col=max_columns), start=1):
            yield number, list(values)
    finally:
        workbook.close()


def _cells_text(values, row: int) -> list[str]:
    cells = [_cell_text(v) for v in values]
    max_cell = settings.IMPORT_MAX_CELL
    if any(len(c) > max_cell for c in cells):
        raise _cell_too_long(row)
    return cells


def _cell_text(value) -> str:
    """A cell's value as a person sees it in Excel (see the module's docstring)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return _("ИСТИНА") if value else _("ЛОЖЬ")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _number_text(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.strftime("%d.%m.%Y")
        return value.strftime("%d.%m.%Y %H:%M:%S" if value.second else "%d.%m.%Y %H:%M")
    if isinstance(value, dt.date):
        return value.strftime("%d.%m.%Y")
    if isinstance(value, dt.time):
        return value.strftime("%H:%M:%S" if value.second else "%H:%M")
    if isinstance(value, dt.timedelta):
        seconds = int(value.total_seconds())
        return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
    return str(value).strip()


def _number_text(value: float) -> str:
    """Excel shows 15 significant digits: 0.1 + 0.2 is «0.3», 150000.0 is «150000», 1e16 is written out."""
    if value != value or value in (float("inf"), float("-inf")):
        return ""
    text = format(value, ".15g")
    if "e" in text:
        text = format(Decimal(text), "f")
    return text
