"""The admin's «Экспортировать» actions in a browser: the head of sales ticks leads in the admin's
list, chooses the action, clicks «Выполнить» and gets the file — with the ticked leads only, as the
CRM's export writes them."""

import csv
import io

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from accounts.demo import grant_supervisors
from tests.factories import LeadFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def tick_and_run(page, leads, action: str):
    for lead in leads:
        page.locator(f"input[name=_selected_action][value='{lead.pk}']").check()
    page.locator("select[name=action]").select_option(label=action)
    with page.expect_download() as download:
        page.locator("button[name=index]").click()
    return download.value


def test_the_head_exports_the_ticked_leads_from_the_admin(live_server, page, login, head, owner):
    grant_supervisors({"head": head})
    first = LeadFactory(responsible=owner, title="Поставка ЖБИ", company_name="ООО «Бетон»")
    second = LeadFactory(responsible=owner, title="Ремонт кровли", company_name="ООО «Кровля»")
    LeadFactory(responsible=owner, title="Не отмечен", company_name="ООО «Прочее»")
    login(head)
    page.goto(f"{live_server.url}/admin/leads/lead/")
    expect(page.locator("#result_list")).to_contain_text("Не отмечен")

    download = tick_and_run(page, [first, second], "Экспортировать (CSV)")
    assert download.suggested_filename.endswith(".csv")
    content = open(download.path(), "rb").read()
    rows = list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"), newline=""), delimiter=";"))
    assert sorted((r["Название лида"], r["Название компании"]) for r in rows) == [
        ("Поставка ЖБИ", "ООО «Бетон»"), ("Ремонт кровли", "ООО «Кровля»")]

    page.goto(f"{live_server.url}/admin/leads/lead/")
    download = tick_and_run(page, [second], "Экспортировать (Excel)")
    assert download.suggested_filename.endswith(".xlsx")
    sheet = load_workbook(io.BytesIO(open(download.path(), "rb").read()), read_only=True).active
    header, *values = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert [row[header.index("Название лида")] for row in values] == ["Ремонт кровли"]
    # The list is where it was: the download left the admin's page.
    expect(page.locator("#result_list")).to_contain_text("Не отмечен")
