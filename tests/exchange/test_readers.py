"""Reading the files people bring (exchange/readers.py): every format and encoding, made by the
tests themselves, and the hostile files — each refused with a message for the user, never a 500 or
a hang."""

from __future__ import annotations

import codecs
import datetime as dt
import os
import tracemalloc
import zipfile

import pytest
from openpyxl import Workbook

from exchange import readers
from exchange.readers import TableError, open_table

BITRIX_HEADERS = ["ID", "Название лида", "Имя", "Фамилия", "Статус", "Рабочий телефон", "Рабочий e-mail",
                  "Сумма", "Комментарий"]


def write(tmp_path, name: str, data: bytes | str, encoding: str = "utf-8"):
    path = tmp_path / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode(encoding))
    return path


def read(path, **kw):
    table = open_table(path, **kw)
    return table, list(table.rows())


def bitrix_csv(rows: list[list[str]], headers=BITRIX_HEADERS) -> str:
    """As Bitrix24's CSV export writes: every cell quoted, `;` after every cell (so one more at the
    line's end), quotes doubled, \\n line ends."""
    def line(cells):
        return "".join('"' + c.replace('"', '""') + '";' for c in cells) + "\n"
    return line(headers) + "".join(line(r) for r in rows)


# ---------------------------------------------------------------------------------------------
# CSV
# ---------------------------------------------------------------------------------------------

def test_it_reads_bitrix24s_csv_export_utf8_with_bom(tmp_path):
    text = bitrix_csv([
        ["1", 'Лид с сайта «Ромашка» "VIP"', "Иван", "Петров", "Новый", "+7 912 859-87-48", "ivan@example.ru",
         "150000.00", "Позвонить\nпосле обеда"],
        ["2", "Второй", "", "", "В работе", "", "", "", ""],
    ])
    path = write(tmp_path, "leads.csv", codecs.BOM_UTF8 + text.encode("utf-8"))

    table, rows = read(path)

    assert (table.name, table.format, table.encoding, table.delimiter) == ("leads.csv", "csv", "utf-8-sig", ";")
    # The `;` Bitrix24 puts at each line's end makes no headerless column.
    assert table.headers == BITRIX_HEADERS
    assert rows[0] == (2, ["1", 'Лид с сайта «Ромашка» "VIP"', "Иван", "Петров", "Новый", "+7 912 859-87-48",
                           "ivan@example.ru", "150000.00", "Позвонить\nпосле обеда"])
    # The quoted line break keeps one row: the second record is Excel's row 3.
    assert rows[1] == (3, ["2", "Второй", "", "", "В работе", "", "", "", ""])
    assert table.estimated_rows == 2


def test_it_reads_utf8_without_bom_separated_by_commas(tmp_path):
    path = write(tmp_path, "k.csv", "Название, компании,ИНН,Телефон\n\"ООО «Ромашка», филиал\",6658000000,"
                                    "+7 912 859-87-48\n")
    table, rows = read(path)
    assert (table.encoding, table.delimiter) == ("utf-8", ",")
    assert table.headers == ["Название", "компании", "ИНН", "Телефон"]
    assert rows == [(2, ["ООО «Ромашка», филиал", "6658000000", "+7 912 859-87-48", ""])]


@pytest.mark.parametrize("delimiter", ["\t", " "])
def test_it_detects_tab_and_space_delimiters(tmp_path, delimiter):
    text = delimiter.join(["Имя", "Телефон", "Город"]) + "\n" + delimiter.join(["Иван", "89128598748", "Пермь"]) + "\n"
    table, rows = read(write(tmp_path, "t.txt", text))
    assert table.delimiter == delimiter
    assert table.headers == ["Имя", "Телефон", "Город"]
    assert rows == [(2, ["Иван", "89128598748", "Пермь"])]


def test_it_prefers_the_delimiter_that_splits_the_header_most_consistently(tmp_path):
    # Commas inside the cells of a `;` file do not make it a comma file.
    text = "Имя;Адрес;Телефон\nИван;г. Пермь, ул. Ленина, 1;123\nПётр;г. Омск, ул. Мира, 2;456\n"
    table, rows = read(write(tmp_path, "a.csv", text))
    assert table.delimiter == ";"
    assert rows[1] == (3, ["Пётр", "г. Омск, ул. Мира, 2", "456"])


@pytest.mark.parametrize("text", [
    "Имя;Телефон\nИван;123\n",
    "Фамилия\nПетров\n",
    "Название лида;Статус\nООО Ромашка;Новый\n",
    "Да\n",
])
def test_it_tells_a_short_windows_1251_file_from_utf8(tmp_path, text):
    table, rows = read(write(tmp_path, "short.csv", text, encoding="cp1251"))
    assert table.encoding == "cp1251"
    assert table.headers == text.split("\n")[0].split(";")
    assert [cells for _n, cells in rows] == [line.split(";") for line in text.strip().split("\n")[1:]]


def test_it_reads_koi8_r_too(tmp_path):
    table, rows = read(write(tmp_path, "koi.csv", "Имя;Город\nИван Петрович;Екатеринбург\n", encoding="koi8_r"))
    assert table.encoding == "koi8_r"
    assert rows == [(2, ["Иван Петрович", "Екатеринбург"])]


def test_it_judges_the_encoding_where_the_first_non_ascii_text_is(tmp_path):
    # 400 KB of ASCII rows (past the first sample) before the first Cyrillic row, in Windows-1251.
    ascii_rows = "".join(f"lead{i};+7912{i:07d}\n" for i in range(25_000))
    path = write(tmp_path, "late.csv", "title;phone\n" + ascii_rows + "Лид Иванова;123\n", encoding="cp1251")
    table, rows = read(path)
    assert table.encoding == "cp1251"
    assert rows[-1] == (25_002, ["Лид Иванова", "123"])


def test_it_reads_excels_unicode_text_utf16(tmp_path):
    table, rows = read(write(tmp_path, "u.txt", "Имя\tТелефон\r\nИван\t123\r\n", encoding="utf-16"))
    assert (table.encoding, table.delimiter) == ("utf-16", "\t")
    assert rows == [(2, ["Иван", "123"])]


def test_it_keeps_duplicate_and_empty_headers_and_pads_or_cuts_rows(tmp_path):
    text = "Телефон;;Телефон;Имя\n1;2;3\n1;2;3;4;5;6\n\n;;;\n"
    table, rows = read(write(tmp_path, "d.csv", text))
    assert table.headers == ["Телефон", "", "Телефон", "Имя"]
    # Entirely empty rows (5 and 6) are skipped; the numbers are still Excel's.
    assert rows == [(2, ["1", "2", "3", ""]), (3, ["1", "2", "3", "4"])]


def test_a_header_only_file_is_an_empty_table(tmp_path):
    table, rows = read(write(tmp_path, "h.csv", "\ufeffИмя;Телефон\r\n"))
    assert table.headers == ["Имя", "Телефон"]
    assert rows == []
    assert table.estimated_rows == 0


def test_the_header_is_the_first_non_empty_line(tmp_path):
    table, rows = read(write(tmp_path, "h.csv", "\n;;\nИмя;Телефон\nИван;1\n"))
    assert table.headers == ["Имя", "Телефон"]
    assert rows == [(4, ["Иван", "1"])]


def test_the_extension_does_not_decide_the_format(tmp_path):
    table, _rows = read(write(tmp_path, "leads.xlsx", "Имя;Телефон\nИван;1\n"))
    assert table.format == "csv"


def test_it_estimates_the_rows_of_a_big_csv_cheaply(tmp_path):
    path = tmp_path / "big.csv"
    with open(path, "w", encoding="utf-8") as f:
        f.write("Название;Телефон;Город\n")
        for i in range(60_000):
            f.write(f"Лид номер {i};+7912{i:07d};Екатеринбург\n")
    table = open_table(path)
    assert 0.9 * 60_000 <= table.estimated_rows <= 1.1 * 60_000

    quoted = write(tmp_path, "bitrix.csv", bitrix_csv([[str(i), f"Лид {i}", "Иван", "Петров", "Новый", "", "", "",
                                                        "Позвонить\nзавтра"] for i in range(20_000)]))
    assert 0.9 * 20_000 <= open_table(quoted).estimated_rows <= 1.1 * 20_000


def test_it_streams_a_big_csv_in_bounded_memory(tmp_path):
    """The rows come one by one: the Python heap stays far below the file's size (~6 MB here; a
    million rows show the same since nothing grows with the file — scripts/bench_import.py)."""
    path = tmp_path / "stream.csv"
    line = "Лид с сайта;+7 912 859-87-48;ivan@example.ru;Екатеринбург;Позвонить после обеда\n"
    with open(path, "w", encoding="utf-8") as f:
        f.write("Название;Телефон;E-mail;Город;Комментарий\n")
        f.writelines(line for _ in range(50_000))
    assert path.stat().st_size > 5 * 1024 * 1024
    table = open_table(path)
    tracemalloc.start()
    try:
        count = sum(1 for _row in table.rows())
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 50_000
    assert peak < 1024 * 1024


# ---------------------------------------------------------------------------------------------
# Hostile CSV and files that are not tables
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("data", [b"", b"   \r\n\r\n", codecs.BOM_UTF8 + b"\r\n", b";;;\n;;\n"])
def test_an_empty_file_is_refused(tmp_path, data):
    with pytest.raises(TableError, match="Файл пуст"):
        open_table(write(tmp_path, "e.csv", data))


def test_a_csv_bomb_of_millions_of_empty_columns_is_refused_quickly(tmp_path):
    path = write(tmp_path, "bomb.csv", "Имя" + ";" * 3_000_000 + "\nИван\n")
    with pytest.raises(TableError, match="Строка 1 длиннее"):
        open_table(path)


def test_a_header_over_the_column_limit_is_refused(tmp_path, settings):
    settings.IMPORT_MAX_COLUMNS = 500
    path = write(tmp_path, "wide.csv", ";".join(f"c{i}" for i in range(501)) + "\n")
    with pytest.raises(TableError, match="501 столбцов, а можно не больше 500"):
        open_table(path)


def test_a_row_of_millions_of_empty_cells_after_a_good_header_stops_with_its_row_number(tmp_path):
    path = write(tmp_path, "bomb2.csv", "Имя;Телефон\nИван;1\nПётр;2\n" + ";" * 2_000_000 + "\nОлег;3\n")
    table = open_table(path)
    rows = table.rows()
    assert next(rows) == (2, ["Иван", "1"])
    assert next(rows) == (3, ["Пётр", "2"])
    with pytest.raises(TableError, match="Строка 4 длиннее"):
        next(rows)


def test_a_cell_over_excels_limit_is_refused_with_its_row_number(tmp_path, settings):
    settings.IMPORT_MAX_CELL = 1000
    # A quoted cell spanning many short lines: no line is long, the cell is.
    huge = "\n".join(["абв"] * 400)
    path = write(tmp_path, "huge.csv", f'Имя;Комментарий\nИван;короткий\nПётр;"{huge}"\n')
    table = open_table(path)
    rows = table.rows()
    assert next(rows) == (2, ["Иван", "короткий"])
    with pytest.raises(TableError, match="Строка 3: в ячейке больше 1000 символов"):
        next(rows)


def test_a_file_in_mixed_encodings_stops_at_the_first_bad_row(tmp_path):
    good = "".join(f"Лид {i};{i}\n" for i in range(20_000)).encode("utf-8")  # past the sample
    path = write(tmp_path, "mixed.csv", "Имя;N\n".encode() + good + "Лид в 1251;1\n".encode("cp1251"))
    table = open_table(path)
    assert table.encoding == "utf-8"
    with pytest.raises(TableError, match="смешаны кодировки"):
        for _row in table.rows():
            pass


PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde"
       b"\x00\x00\x00\x0cIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")


@pytest.mark.parametrize("name, data", [
    ("photo.csv", PNG),
    ("scan.pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"),
    ("program.csv", b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 4),
    ("page.html", "<!doctype html><html><body><p>Здравствуйте</p></body></html>".encode()),
])
def test_a_file_that_is_not_a_table_is_refused(tmp_path, name, data):
    with pytest.raises(TableError, match="Файл не похож на таблицу"):
        open_table(write(tmp_path, name, data))


def test_garbage_in_no_known_encoding_is_refused(tmp_path):
    # Bytes that are no UTF-8 and no Cyrillic text in any code page (random, without NULs).
    import random

    rng = random.Random(12)
    data = bytes(rng.randrange(0x80, 0x100) for _ in range(5000))
    with pytest.raises(TableError):
        open_table(write(tmp_path, "garbage.csv", data))


def test_a_zip_that_is_not_a_workbook_is_refused(tmp_path):
    path = tmp_path / "archive.xlsx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("leads.csv", "Имя;Телефон\n")
    with pytest.raises(TableError, match="ZIP-архив, а не таблица"):
        open_table(path)


def test_a_broken_xlsx_is_refused(tmp_path):
    path = write(tmp_path, "broken.xlsx", b"PK\x03\x04" + os.urandom(2000))
    with pytest.raises(TableError, match="Файл XLSX повреждён"):
        open_table(path)


def ole2(stream_name: str) -> bytes:
    """The start of an OLE2 compound file with one directory entry named `stream_name`."""
    header = readers.OLE2_MAGIC + b"\x00" * 504
    entry = stream_name.encode("utf-16-le").ljust(64, b"\x00") + b"\x00" * 64
    return header + entry + b"\x00" * 1024


def test_a_real_binary_xls_is_refused_with_the_advice_to_save_as_xlsx(tmp_path):
    with pytest.raises(TableError, match=r"Старый формат Excel \(\.xls\) не поддерживается: сохраните файл как "
                                         r"\.xlsx или CSV"):
        open_table(write(tmp_path, "old.xls", ole2("Workbook")))


def test_a_password_protected_workbook_is_refused_as_such(tmp_path):
    with pytest.raises(TableError, match="защищён паролем"):
        open_table(write(tmp_path, "secret.xlsx", ole2("EncryptedPackage")))


# ---------------------------------------------------------------------------------------------
# XLSX: both readers (python-calamine for a sheet that fits in memory, openpyxl's stream otherwise)
# ---------------------------------------------------------------------------------------------

@pytest.fixture(params=["calamine", "openpyxl"])
def xlsx_reader(request, monkeypatch):
    if request.param == "openpyxl":
        monkeypatch.setattr(readers, "XLSX_IN_MEMORY_CELLS", 0)
    return request.param


def xlsx(tmp_path, rows, name="leads.xlsx", start_row=1, number_formats=None):
    wb = Workbook()
    ws = wb.active
    ws.title = "Лиды"
    for r, values in enumerate(rows, start=start_row):
        for c, value in enumerate(values, start=1):
            if value is not None:
                cell = ws.cell(row=r, column=c, value=value)
                if number_formats and c in number_formats:
                    cell.number_format = number_formats[c]
    other = wb.create_sheet("Справочник")  # only the first sheet is read
    other["A1"] = "не то"
    path = tmp_path / name
    wb.save(path)
    return path


def test_it_reads_the_first_sheet_of_an_xlsx_as_a_person_sees_it(tmp_path, xlsx_reader):
    path = xlsx(tmp_path, [
        ["Название лида", "Сумма", "Дата создания", "Создан", "Телефон", "Доля", "Повторный", "ИНН", "Пусто"],
        ["ООО «Ромашка»  ", 150000.0, dt.date(2026, 1, 15), dt.datetime(2026, 1, 15, 10, 30), 79128598748,
         0.1 + 0.2, True, "0123456789", None],
        ["ИП Петров", 150000.5, dt.datetime(2026, 1, 16), dt.datetime(2026, 1, 15, 10, 30, 15), "+7 912 859-87-48",
         1e16, False, 6658000000, None],
    ])
    table, rows = read(path)
    assert (table.format, table.encoding, table.delimiter) == ("xlsx", None, None)
    assert table.headers == ["Название лида", "Сумма", "Дата создания", "Создан", "Телефон", "Доля", "Повторный",
                             "ИНН", "Пусто"]
    assert rows == [
        (2, ["ООО «Ромашка»", "150000", "15.01.2026", "15.01.2026 10:30", "79128598748", "0.3", "ИСТИНА",
             "0123456789", ""]),
        (3, ["ИП Петров", "150000.5", "16.01.2026", "15.01.2026 10:30:15", "+7 912 859-87-48",
             "10000000000000000", "ЛОЖЬ", "6658000000", ""]),
    ]
    assert table.estimated_rows == 2


def test_xlsx_row_numbers_are_excels_with_empty_rows_skipped(tmp_path, xlsx_reader):
    path = xlsx(tmp_path, [["Имя", "Телефон"], ["Иван", 1], [None, None], ["Пётр", 2, "лишнее"]], start_row=3)
    table, rows = read(path)
    assert table.headers == ["Имя", "Телефон"]
    assert rows == [(4, ["Иван", "1"]), (6, ["Пётр", "2"])]


def test_an_xlsx_with_a_header_only_is_an_empty_table(tmp_path, xlsx_reader):
    table, rows = read(xlsx(tmp_path, [["Имя", "", "Телефон", "Телефон"]]))
    assert table.headers == ["Имя", "", "Телефон", "Телефон"]
    assert rows == []


def test_an_empty_sheet_is_refused(tmp_path):
    with pytest.raises(TableError, match="первый лист пуст"):
        open_table(xlsx(tmp_path, []))


def test_an_xlsx_cell_over_the_limit_is_refused_with_its_row(tmp_path, xlsx_reader, settings):
    settings.IMPORT_MAX_CELL = 100
    table = open_table(xlsx(tmp_path, [["Имя", "Комментарий"], ["Иван", "ок"], ["Пётр", "я" * 101]]))
    with pytest.raises(TableError, match="Строка 3: в ячейке больше 100 символов"):
        list(table.rows())


def test_one_far_away_cell_does_not_make_calamine_allocate_the_whole_sheet(tmp_path):
    """XFD100000 makes the sheet's rectangle 1.6 billion cells (XFD1048576: 17 billion): calamine,
    which holds the rectangle, would exhaust the memory; the sheet goes to openpyxl's stream."""
    wb = Workbook()
    ws = wb.active
    ws["A1"], ws["B1"], ws["A2"], ws["B2"] = "Имя", "Телефон", "Иван", 1
    ws.cell(row=100_000, column=16_384, value="далеко")
    path = tmp_path / "far.xlsx"
    wb.save(path)
    with zipfile.ZipFile(path) as zf:
        sheet = readers._first_sheet_part(zf)
        sample = zf.read(sheet)
        assert not readers._xlsx_fits_in_memory(zf, sheet, sample, len(sample))
    table, rows = read(path)
    assert table.headers == ["Имя", "Телефон"]
    assert rows == [(2, ["Иван", "1"])]


def test_an_xlsx_over_the_column_limit_is_refused(tmp_path, settings):
    settings.IMPORT_MAX_COLUMNS = 10
    with pytest.raises(TableError, match="столбцов, а можно не больше 10"):
        open_table(xlsx(tmp_path, [[f"c{i}" for i in range(11)]]))


def test_the_xlsx_estimate_comes_from_the_sheet_without_reading_it(tmp_path):
    wb = Workbook(write_only=True)  # as the exports write: no dimension in the sheet
    ws = wb.create_sheet()
    ws.append(["Имя", "Телефон"])
    for i in range(3000):
        ws.append([f"Лид {i}", i])
    path = tmp_path / "w.xlsx"
    wb.save(path)
    table = open_table(path)
    assert table.estimated_rows == 3000


# ---------------------------------------------------------------------------------------------
# Bitrix24's «Экспорт в Excel»: an HTML table saved as .xls
# ---------------------------------------------------------------------------------------------

def bitrix_html(rows, charset="windows-1251", headers=BITRIX_HEADERS) -> str:
    """As Bitrix24's excel.php template writes it."""
    head = "".join(f"<th>{h}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    return (f'<meta http-equiv="Content-type" content="text/html;charset={charset}" />\n'
            f'\t<table border="1">\n\t<thead>\n\t\t<tr>{head}</tr>\n\t</thead>\n\t<tbody>{body}</tbody>\n</table>')


BITRIX_ROWS = [
    ["1", "ООО &quot;Ромашка&quot; &amp; Ко", "Иван", "Петров", "Новый", "+7 912 859-87-48",
     '<a href="mailto:ivan@example.ru">ivan@example.ru</a>', "150000.50", "Позвонить<br>после\n\t\tобеда"],
    ["2", "  Второй  ", "", "", "В работе", "", "", "", "&nbsp;"],
]
BITRIX_EXPECTED = [
    (2, ["1", 'ООО "Ромашка" & Ко', "Иван", "Петров", "Новый", "+7 912 859-87-48", "ivan@example.ru",
         "150000.50", "Позвонить\nпосле обеда"]),
    (3, ["2", "Второй", "", "", "В работе", "", "", "", ""]),
]


@pytest.mark.parametrize("charset, encoding", [("windows-1251", "cp1251"), ("UTF-8", "utf-8")])
def test_it_reads_bitrix24s_excel_export(tmp_path, charset, encoding):
    path = write(tmp_path, "lead.xls", bitrix_html(BITRIX_ROWS, charset=charset), encoding=encoding)
    table, rows = read(path)
    assert (table.format, table.encoding, table.delimiter) == ("html", encoding, None)
    assert table.headers == BITRIX_HEADERS
    assert rows == BITRIX_EXPECTED
    assert table.estimated_rows == 2


def test_an_html_table_without_a_charset_is_detected(tmp_path):
    text = bitrix_html(BITRIX_ROWS).split("\n", 1)[1]  # without the meta
    table, rows = read(write(tmp_path, "lead.xls", text, encoding="cp1251"))
    assert table.encoding == "cp1251"
    assert rows == BITRIX_EXPECTED


def test_the_html_header_may_be_td_cells_and_rows_are_padded(tmp_path):
    text = ('<html><head><style>td {mso-number-format:\\@;}</style></head><body><table border="1">'
            "<tr><td>Имя</td><td>Телефон</td></tr><tr><td>Иван</td></tr>"
            "<tr><td>Пётр</td><td>2</td><td>лишнее</td></tr></table><table><tr><td>другая</td></tr></table>"
            "</body></html>")
    table, rows = read(write(tmp_path, "x.xls", text))
    assert table.headers == ["Имя", "Телефон"]
    assert rows == [(2, ["Иван", ""]), (3, ["Пётр", "2"])]


def test_an_html_cell_over_the_limit_is_refused_with_its_row(tmp_path, settings):
    settings.IMPORT_MAX_CELL = 100
    path = write(tmp_path, "x.xls", bitrix_html([["1"] * 9, ["2", "я" * 101] + [""] * 7]))
    table = open_table(path)
    with pytest.raises(TableError, match="Строка 3: в ячейке больше 100 символов"):
        list(table.rows())


def test_html_with_thousands_of_empty_cells_keeps_only_the_header_width(tmp_path):
    path = write(tmp_path, "x.xls", "<table><tr><th>Имя</th></tr><tr>" + "<td></td>" * 50_000 + "<td>x</td></tr>"
                 "<tr><td>Иван</td></tr></table>")
    table, rows = read(path)
    assert rows == [(3, ["Иван"])]
