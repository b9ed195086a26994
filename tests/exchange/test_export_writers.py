"""The export files themselves: CSV that Russian Excel opens (BOM, «;», CRLF, decimal comma,
dd.mm.yyyy), XLSX with real numbers and dates, and formula injection neutralised in both."""

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from exchange import writers

HEADERS = ["Название", "Сумма", "Сотрудников", "Дата", "Создан", "Телефон", "Пусто"]
ROW = ["ООО «Ромашка»", Decimal("-1500.50"), 12, date(2026, 11, 29), datetime(2026, 11, 29, 10, 5, tzinfo=UTC),
       "+7 (912) 859-87-48", None]
DANGEROUS = ["=HYPERLINK(\"http://evil\";\"x\")", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\tx", "\rx"]


def csv_bytes(headers, rows) -> bytes:
    return b"".join(writers.csv_chunks(headers, rows))


def read_csv(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=";"))


def test_it_writes_csv_for_russian_excel_bom_semicolons_crlf():
    data = csv_bytes(HEADERS, [ROW])
    assert data.startswith("\ufeff".encode())
    assert data.decode("utf-8-sig").splitlines(keepends=True)[0] == ";".join(HEADERS) + "\r\n"
    assert data.count(b"\r\n") == 2


def test_it_writes_numbers_with_a_decimal_comma_and_dates_as_russians_type_them(settings):
    settings.TIME_ZONE = "Europe/Moscow"
    [_header, row] = read_csv(csv_bytes(HEADERS, [ROW]))
    # A real negative number stays a number (no quote): it is not a formula to a spreadsheet.
    assert row[1:5] == ["-1500,50", "12", "29.11.2026", "29.11.2026 13:05:00"]
    assert row[6] == ""


@pytest.mark.parametrize("text", DANGEROUS)
def test_it_neutralises_a_csv_text_cell_a_spreadsheet_would_run_as_a_formula(text):
    [_header, row] = read_csv(csv_bytes(["Название"], [[text]]))
    assert row == ["'" + text]
    assert writers.is_neutralised(row[0])


def test_it_leaves_harmless_text_alone_and_quotes_what_csv_needs():
    rows = [["Ромашка; филиал", 'ООО "Лютик"', "строка 1\nстрока 2", "it's", "5-й этаж"]]
    [_header, row] = read_csv(csv_bytes(["a", "b", "c", "d", "e"], rows))
    assert row == rows[0]
    assert not writers.is_neutralised("'просто текст")


def test_it_streams_csv_in_chunks(monkeypatch):
    monkeypatch.setattr(writers, "CSV_CHUNK_ROWS", 10)
    chunks = list(writers.csv_chunks(["n"], ([i] for i in range(25))))
    assert len(chunks) == 3
    assert [r[0] for r in read_csv(b"".join(chunks))[1:]] == [str(i) for i in range(25)]


def test_it_writes_an_empty_list_as_its_header_alone():
    assert read_csv(csv_bytes(["Название"], [])) == [["Название"]]


# --- XLSX ---

def write_xlsx(tmp_path, headers, rows):
    path = tmp_path / "export.xlsx"
    writers.write_xlsx(str(path), headers, rows, title="Лиды")
    return path


def test_it_writes_xlsx_cells_of_their_own_types(tmp_path, settings):
    settings.TIME_ZONE = "Europe/Moscow"
    path = write_xlsx(tmp_path, HEADERS, [ROW])
    sheet = openpyxl.load_workbook(path).active
    assert sheet.title == "Лиды"
    header, row = list(sheet.iter_rows())
    assert [c.value for c in header] == HEADERS
    assert all(c.font.b for c in header)
    assert sheet.freeze_panes == "A2"
    name, amount, count, day, moment, phone, empty = row
    assert (name.value, name.data_type) == ("ООО «Ромашка»", "s")
    assert (amount.value, amount.data_type, amount.number_format) == (-1500.5, "n", "#,##0.00")
    assert (count.value, count.data_type) == (12, "n")
    assert day.is_date and day.value == datetime(2026, 11, 29)
    assert moment.is_date and moment.value == datetime(2026, 11, 29, 13, 5)  # the site's time zone
    assert empty.value is None
    # Excel's «text» mark on a phone that starts with «+», the value itself unchanged.
    assert (phone.value, phone.data_type, phone.quotePrefix) == ("+7 (912) 859-87-48", "s", True)


def test_it_neutralises_xlsx_formulas_without_changing_the_text(tmp_path):
    path = write_xlsx(tmp_path, ["Название"], [[t] for t in DANGEROUS if t[0] != "\r"])
    cells = [row[0] for row in openpyxl.load_workbook(path).active.iter_rows(min_row=2)]
    assert [c.value for c in cells] == [t for t in DANGEROUS if t[0] != "\r"]
    assert all(c.data_type == "s" and c.quotePrefix for c in cells)
    # Another reader (the importer's) gets the text back as it was, never a formula's result.
    values = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    assert [r[0] for r in values[1:]] == [t for t in DANGEROUS if t[0] != "\r"]


def test_it_drops_characters_xlsx_cannot_hold(tmp_path):
    path = write_xlsx(tmp_path, ["Название"], [["Ром\x01ашка\x0b"]])
    assert openpyxl.load_workbook(path).active["A2"].value == "Ромашка"


def test_it_sizes_xlsx_columns_by_header_and_first_rows(tmp_path):
    path = write_xlsx(tmp_path, ["ИНН", "Комментарий"], [["7707083893", "x" * 500]])
    widths = openpyxl.load_workbook(path).active.column_dimensions
    assert 11 <= widths["A"].width <= 13
    assert widths["B"].width == writers.XLSX_MAX_WIDTH


def no_temporary_files(monkeypatch) -> None:
    """openpyxl's own write-only save puts the sheet in a temporary file: a streamed workbook must not."""
    import tempfile

    def refuse(*args, **kwargs):
        raise AssertionError("a temporary file was made")

    for name in ("NamedTemporaryFile", "TemporaryFile", "mkstemp", "mkdtemp"):
        monkeypatch.setattr(tempfile, name, refuse)


def test_it_streams_xlsx_while_it_reads_the_rows_without_a_temporary_file(monkeypatch):
    no_temporary_files(monkeypatch)
    monkeypatch.setattr(writers, "XLSX_CHUNK_ROWS", 50)
    read = 0

    def rows():
        nonlocal read
        for i in range(5000):
            read += 1
            yield [i, f"Лид {i * 7919 % 100_003}", Decimal("10.50")]

    chunks = writers.xlsx_chunks(["ID", "Название", "Сумма"], rows(), title="Лиды")
    sent = b""
    while len(sent) < 10_000:  # the download has started: the zip's rows, not only its first header
        sent += next(chunks)
    assert read < 5000  # … before the last row was read
    data = sent + b"".join(chunks)
    assert read == 5000
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    assert (sheet.title, sheet.max_row, sheet["B5001"].value, sheet["C2"].number_format) == (
        "Лиды", 5001, f"Лид {4999 * 7919 % 100_003}", "#,##0.00")
    values = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()
    assert values[1] == [0, "Лид 0", 10.5]


def test_it_writes_a_big_sheet_in_zip64_form_that_still_opens(monkeypatch):
    import zipfile

    def sheet_entry(records) -> zipfile.ZipInfo:
        data = b"".join(writers.xlsx_chunks(["ID"], ([i] for i in range(3)), records=records))
        assert openpyxl.load_workbook(io.BytesIO(data)).active["A4"].value == 2
        return zipfile.ZipFile(io.BytesIO(data)).getinfo("xl/worksheets/sheet1.xml")

    monkeypatch.setattr(writers, "XLSX_ZIP64_CELLS", 2)
    assert sheet_entry(records=3).extract_version >= zipfile.ZIP64_VERSION  # 3 rows × 1 column > 2
    assert sheet_entry(records=2).extract_version < zipfile.ZIP64_VERSION
    assert sheet_entry(records=None).extract_version < zipfile.ZIP64_VERSION
