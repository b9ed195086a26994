"""«Аналитика» in a browser: the head opens the lead funnel of last month from the menu, clicks a
number and lands on exactly those leads; the report at a phone's width."""

import re
from datetime import datetime, time

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from analytics import history
from analytics.forms import preset_period
from analytics.models import Stay
from tests.factories import LeadFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _stay(lead, state, day, left=None):
    """A stay as the writers keep it (analytics.history), dated last month."""
    zone = timezone.get_default_timezone()
    return Stay.objects.create(
        model="leads.lead", object_id=lead.pk, state=state, owner=lead.responsible_id, source=lead.source_id,
        niche=lead.niche_id, entered_at=timezone.make_aware(datetime.combine(day, time(10)), zone),
        left_at=timezone.make_aware(datetime.combine(left, time(9)), zone) if left else None)


def last_month_history(owner, outsider):
    """Two leads reached «Выход на ЛПР» last month (one of another group: the head sees both),
    one stopped at «Первый звонок», one reached it the month before."""
    last = preset_period("month", -1)
    leads = [LeadFactory(title="ООО «Ромашка» — ЛПР", responsible=owner),
             LeadFactory(title="АО «Василёк» — ЛПР", responsible=outsider),
             LeadFactory(title="ИП Соколов — звонок", responsible=owner),
             LeadFactory(title="ООО «Старый» — ЛПР раньше", responsible=owner)]
    Stay.objects.all().delete()  # the creations' own stays are of today: last month's history only
    for lead in leads[:2]:
        _stay(lead, "new", last.start, left=last.end)
        _stay(lead, "decision_maker", last.end)
    _stay(leads[2], "first_call", last.start)
    _stay(leads[3], "decision_maker", preset_period("month", -2).start)
    history.rebuild_funnel()  # and the funnel's calendar months, as the writers keep them with the stays


def test_the_head_drills_from_last_months_funnel_to_the_leads(live_server, page, login, head, owner, outsider):
    last_month_history(owner, outsider)
    login(head)
    page.get_by_test_id("menu").get_by_role("link", name="Аналитика").click()
    page.get_by_test_id("report-tabs").get_by_role("link", name="Воронка лидов").click()
    page.get_by_test_id("period-presets").get_by_role("link", name="Месяц").click()
    page.get_by_test_id("period-back").click()
    last = preset_period("month", -1)
    expect(page.get_by_test_id("period-label")).to_have_text(f"{last.start:%d.%m.%Y} — {last.end:%d.%m.%Y}")
    page.screenshot(path="screenshots/analytics-funnel.png", full_page=True)

    row = page.get_by_test_id("funnel-table").get_by_role("row").filter(has_text="Выход на ЛПР")
    reached = row.get_by_test_id("drill").nth(1)  # «Дошли до статуса»
    expect(reached).to_have_text("2")
    reached.click()

    expect(page).to_have_url(re.compile(r"/leads/\?.*analytics=reached\.decision_maker\."))
    expect(page.get_by_test_id("link-filter-chip")).to_contain_text("дошли до статуса «Выход на ЛПР»")
    titles = page.get_by_test_id("lead-table").locator("tbody tr[data-lead] td.crm-title-col > a")
    expect(titles).to_have_count(2)
    assert sorted(titles.all_inner_texts()) == ["АО «Василёк» — ЛПР", "ООО «Ромашка» — ЛПР"]
    page.screenshot(path="screenshots/analytics-drilldown.png", full_page=True)

    # The chip's «✕» lifts the report's filter: the list shows all the head's leads again.
    page.get_by_test_id("link-filter-chip").get_by_role("link").click()
    expect(page.get_by_test_id("lead-total")).to_contain_text("Найдено лидов: 4")


def test_a_report_fits_a_phone(live_server, page, login, head, owner, outsider):
    last_month_history(owner, outsider)
    page.set_viewport_size({"width": 390, "height": 844})
    login(head)
    page.goto(f"{live_server.url}/analytics/funnel/?period=month&shift=-1&compare=1")
    chart = page.get_by_test_id("report-charts").locator("svg").first
    box = chart.bounding_box()
    assert box and box["width"] <= 390
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path="screenshots/analytics-funnel-phone.png", full_page=True)


def test_the_head_downloads_last_months_funnel_and_prints_it(live_server, page, login, head, owner, outsider, tmp_path):
    """«Скачать CSV» and «Скачать XLSX» give the figures the page shows; printed, the report keeps its
    title, period, charts and tables and drops the menu and the filters."""
    import csv
    import io

    from openpyxl import load_workbook

    last_month_history(owner, outsider)
    login(head)
    page.goto(f"{live_server.url}/analytics/funnel/?period=month&shift=-1")
    exports = page.locator(".crm-report-export")

    with page.expect_download() as csv_download:
        exports.get_by_role("link", name="Скачать CSV").click()
    assert csv_download.value.suggested_filename.endswith(".csv")
    text = open(csv_download.value.path(), encoding="utf-8-sig").read()
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    lpr = next(r for r in rows if r and r[0] == "Выход на ЛПР")
    assert lpr[1:3] == ["2", "2"]  # entered, reached: what the page's row says

    with page.expect_download() as xlsx_download:
        exports.get_by_role("link", name="Скачать Excel (XLSX)").click()
    assert xlsx_download.value.suggested_filename.endswith(".xlsx")
    saved = tmp_path / xlsx_download.value.suggested_filename  # openpyxl goes by the file's extension
    xlsx_download.value.save_as(saved)
    sheet = load_workbook(saved, read_only=True).active
    cells = next(r for r in sheet.iter_rows(values_only=True) if r and r[0] == "Выход на ЛПР")
    assert list(cells[1:3]) == [2, 2]

    page.emulate_media(media="print")
    expect(page.get_by_test_id("report-filters")).to_be_hidden()
    expect(page.locator(".crm-sidebar")).to_be_hidden()
    last = preset_period("month", -1)
    expect(page.locator(".crm-report-heading")).to_contain_text(f"{last.start:%d.%m.%Y} — {last.end:%d.%m.%Y}")
    expect(page.get_by_test_id("funnel-table")).to_be_visible()
    page.screenshot(path="screenshots/analytics-funnel-print.png", full_page=True)


def test_the_head_opens_the_leads_stuck_longer_than_usual_from_his_day(live_server, page, login, head, owner, outsider):
    """«Лидов дольше обычного в статусе» on the head's day counts the leads open in a status for
    longer than its 90th percentile of the 90 days before today; its link opens the time report of
    those days, which lists exactly them."""
    now = timezone.now()

    def stay(lead, state, entered_days_ago, left_days_ago=None):
        Stay.objects.create(model="leads.lead", object_id=lead.pk, state=state, owner=lead.responsible_id,
                            source=lead.source_id, niche=lead.niche_id, entered_at=now - timezone.timedelta(days=entered_days_ago),
                            left_at=None if left_days_ago is None else now - timezone.timedelta(days=left_days_ago))

    leads = {title: LeadFactory(title=title, responsible=who) for title, who in [
        ("Давно в работе", owner), ("Забытый лид", outsider), ("Тихий лид", owner), ("Свежий лид", owner)]}
    Stay.objects.all().delete()
    stay(leads["Давно в работе"], "new", 12, 11)  # «Не обработан» usually lasts a day
    stay(leads["Давно в работе"], "first_call", 11)  # no «Первый звонок» has ended yet: no norm, not stuck
    stay(leads["Забытый лид"], "new", 5)
    stay(leads["Тихий лид"], "new", 3)
    stay(leads["Свежий лид"], "new", 0.1)
    history.rebuild_open()  # the open stays' counts, as the writers keep them with the stays

    login(head)
    page.goto(f"{live_server.url}/tasks/day/")
    number = page.get_by_test_id("day-numbers").get_by_role("link").filter(has_text="Лидов дольше обычного в статусе")
    expect(number.locator("span").first).to_have_text("2")
    number.click()

    expect(page).to_have_url(re.compile(r"/analytics/time/\?period=custom&start=\d{4}-\d\d-\d\d&end=\d{4}-\d\d-\d\d$"))
    stuck = page.get_by_test_id("time-leads-stuck").locator("tbody th a")
    expect(stuck).to_have_count(2)
    assert stuck.all_inner_texts() == ["Забытый лид", "Тихий лид"]


def test_a_narrow_table_wraps_its_stage_names_to_show_the_sums_on_a_phone(live_server, page, login, head, seeded_defaults):
    page.set_viewport_size({"width": 390, "height": 844})
    login(head)
    page.goto(f"{live_server.url}/analytics/deals/?period=month")
    stages = page.locator("[data-testid^=deals-stages-]").first
    expect(stages).to_contain_text("Подготовка документов")
    # The sum column is on the screen, not behind a sideways scroll of the table.
    box = stages.get_by_role("columnheader", name="Сумма").bounding_box()
    assert box and box["x"] + box["width"] <= 390, box


def test_the_head_makes_a_stage_the_failure_one_in_the_admin_and_the_deals_report_follows(
        live_server, page, login, head, owner, seeded_defaults):
    from accounts.demo import grant_supervisors
    from tests.analytics.conftest import deal_move, new_deal
    from tests.factories import COLD, pipeline

    grant_supervisors({"head": head})
    deal_move(new_deal(owner, title="Показали продукт"), "Презентация", owner)  # this month, through the service
    cold = pipeline(COLD)
    login(head)

    def lost_this_month():
        page.goto(f"{live_server.url}/analytics/deals/?period=month")
        row = page.get_by_test_id(f"deals-result-{cold.pk}").get_by_role("row").filter(has_text="Проиграно")
        return row.get_by_role("cell").first

    expect(lost_this_month()).to_have_text("0")

    # In the pipeline's admin page: «Отказ» becomes a stage in process, «Презентация» the failure one.
    page.goto(f"{live_server.url}/admin/deals/pipeline/{cold.pk}/change/")
    for name, meaning in (("Отказ", "В работе"), ("Презентация", "Провал")):
        row = page.locator("tr.form-row").filter(has=page.locator(f"input[value='{name}']"))
        row.locator("select[name$='-semantics']").select_option(label=meaning)
    page.locator("input[name=_save]").click()
    expect(page.locator(".messagelist")).to_contain_text("успешно изменен")

    # The deal that entered «Презентация» this month is a lost one now (recounted by the background task).
    expect(lost_this_month()).to_have_text("1")
