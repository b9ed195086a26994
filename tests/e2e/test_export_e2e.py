"""«Экспорт» in a browser: the head of sales narrows the leads list and downloads what he sees, as CSV
or as Excel (streamed)."""

import csv
import io
from decimal import Decimal

import openpyxl
import pytest
from playwright.sync_api import expect

from tests.factories import DealFactory, LeadFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_head_downloads_the_filtered_leads_list_as_csv(live_server, page, login, head, owner, teammate):
    LeadFactory(title="Внедрение для «Ромашки»", company_name="ООО «Ромашка»", responsible=owner)
    LeadFactory(title="Тренинг «Василька»", company_name="АО «Василёк»", responsible=owner)
    LeadFactory(title="Лид Петровой", company_name="ООО «Лютик»", responsible=teammate)
    login(head)
    page.goto(f"{live_server.url}/leads/")
    expect(page.get_by_test_id("lead-total")).to_contain_text("Найдено лидов: 3")

    # The filter panel's select (loaded after the rows), not the bulk bar's of the same name.
    page.get_by_test_id("lead-filters").get_by_label("Ответственный", exact=True).select_option(label="Иванов Пётр")
    page.get_by_role("button", name="Применить").click()
    expect(page.get_by_test_id("lead-total")).to_contain_text("Найдено лидов: 2")

    page.get_by_test_id("export-button").click()
    with page.expect_download() as download_info:
        page.get_by_test_id("export-csv").click()
    download = download_info.value
    assert download.suggested_filename.startswith("Лиды ") and download.suggested_filename.endswith(".csv")
    content = open(download.path(), "rb").read()
    assert content.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"), newline=""), delimiter=";"))
    assert sorted(r["Название лида"] for r in rows) == ["Внедрение для «Ромашки»", "Тренинг «Василька»"]
    assert {r["Ответственный"] for r in rows} == {"Иванов Пётр"}
    # The list is still there: a download does not leave the page.
    expect(page.get_by_test_id("lead-total")).to_contain_text("Найдено лидов: 2")


def test_the_head_downloads_the_deals_list_as_excel(live_server, page, login, head, owner):
    DealFactory(title="Внедрение для «Ромашки»", responsible=owner, amount=Decimal("150000.50"))
    DealFactory(title="=Тренинг «Василька»", responsible=owner)
    login(head)
    page.goto(f"{live_server.url}/deals/list/")
    page.get_by_test_id("export-button").click()
    expect(page.get_by_test_id("export-xlsx")).to_have_text("Excel (XLSX)")
    with page.expect_download() as download_info:
        page.get_by_test_id("export-xlsx").click()
    download = download_info.value
    assert download.suggested_filename.startswith("Сделки ") and download.suggested_filename.endswith(".xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(open(download.path(), "rb").read())).active
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    header, body = rows[0], rows[1:]
    title, amount = header.index("Название сделки"), header.index("Сумма")
    assert sorted(r[title] for r in body) == ["=Тренинг «Василька»", "Внедрение для «Ромашки»"]
    assert 150000.5 in [r[amount] for r in body]  # a number, not text
    # The spreadsheet shows the title as text, never runs it as a formula.
    assert sheet.cell(row=[r[title] for r in body].index("=Тренинг «Василька»") + 2, column=title + 1).quotePrefix
