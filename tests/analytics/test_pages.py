"""The «Аналитика» pages: who may open them, their parameters, charts, tables, files and links."""

import csv
import io
import re
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from html import unescape

import openpyxl
import pytest
from django.urls import reverse
from django.utils import timezone

from analytics import drilldown, history
from analytics.forms import preset_period
from analytics.models import Stay
from analytics.params import Period
from tests.analytics.conftest import new_lead
from tests.factories import DealFactory, LeadFactory, ref

REPORTS = ["funnel", "time", "managers", "sources", "deals"]


@pytest.fixture
def head_client(client, head):
    client.force_login(head)
    return client


@pytest.fixture
def this_month(owner, outsider):
    """Leads created now through the service (which opens their stays) and a few deals."""
    from leads import services

    for i, who in enumerate((owner, outsider, owner)):
        services.lead_create(data={"title": f"Новый лид {i}", "source": ref("Source", "Сайт"),
                                   "company_name": f"ООО «Новая {i}»", "company_phone": f"+7912000000{i}",
                                   "responsible": who}, by=who)
        DealFactory(responsible=who, amount=Decimal("150000"))


def page(response) -> str:
    assert response.status_code == 200
    return response.content.decode()


class TestAccess:
    # With the comparison: every figure read twice (the selectors' own queries, a fixed number each).
    # Managers: «без запланированных дел» reads the counters of the records in work and the planned
    # ones in one query (instead of a scan of half the leads at 1M).
    @pytest.mark.parametrize(("name", "budget"), [("funnel", 16), ("time", 19), ("managers", 17), ("sources", 22),
                                                  ("deals", 28)])
    def test_it_shows_each_report_to_the_head(self, head_client, this_month, name, budget,
                                              django_assert_max_num_queries):
        with django_assert_max_num_queries(budget):
            response = head_client.get(reverse(f"analytics:{name}"), {"compare": "1"})
            assert response.status_code == 200
        html = page(response)
        assert "<table" in html and "<caption" in html
        bodies = re.findall(r"<tbody>(.*?)</tbody>", html, re.S)
        assert bodies and all(body.count("<tr>") >= 1 for body in bodies)  # rows, or the «no data» row: never empty
        if name != "time":  # no stay has ended yet: nothing to draw, and the page says so
            assert '<svg role="img"' in html
        else:
            assert 'data-testid="chart-empty"' in html

    def test_it_lists_the_reports_on_the_index(self, head_client, django_assert_max_num_queries):
        with django_assert_max_num_queries(6):
            response = head_client.get(reverse("analytics:index"))
            assert response.status_code == 200
        for name in REPORTS:
            assert reverse(f"analytics:{name}") in page(response)

    @pytest.mark.parametrize("name", ["funnel", "time", "sources", "deals"])
    def test_it_refuses_a_manager_the_reports_that_compare_people_in_russian(self, client, owner, name):
        client.force_login(owner)
        response = client.get(reverse(f"analytics:{name}"))
        assert response.status_code == 403
        assert "Нет доступа к отчётам" in response.content.decode()

    def test_it_shows_a_manager_his_own_figures_and_nobody_else_s(self, client, owner, teammate):
        new_lead(owner, title="Лид Иванова")
        new_lead(teammate, title="Лид Петровой")
        client.force_login(owner)
        response = client.get(reverse("analytics:index"))
        assert response.status_code == 302
        assert response.url == reverse("analytics:managers")
        html = page(client.get(response.url))
        tabs = re.search(r'data-testid="report-tabs">(.*?)</ul>', html, re.S).group(1)
        assert "Менеджеры" in tabs and reverse("analytics:funnel") not in tabs
        assert "Иванов" in html
        assert "Петрова" not in html

    def test_it_shows_the_menu_entry_to_whoever_may_open_a_report(self, client, head, owner):
        for user in (head, owner):
            client.force_login(user)
            assert f'href="{reverse("analytics:index")}"' in page(client.get(reverse("leads:list")))


class TestParameters:
    @pytest.mark.parametrize("query", [
        {"period": "decade"}, {"period": "custom", "start": "2026-13-01", "end": "2026-10-31"},
        {"period": "custom", "start": "2026-10-31", "end": "2026-10-01"}, {"period": "custom"},
        {"shift": "many"}, {"shift": "-100000"}, {"responsible": "999999"}, {"responsible": "x"},
        {"department": "-1"}, {"source": "99999"}, {"niche": "'; drop"}, {"pipeline": "0"}, {"format": "pdf"},
        {"period": "custom", "start": "1900-01-01", "end": "2026-10-31"},
    ])
    def test_it_explains_a_bad_parameter_and_shows_the_default_period(self, head_client, query):
        html = page(head_client.get(reverse("analytics:funnel"), query))
        assert 'data-testid="report-errors"' in html
        assert "Условие не применено" in html
        default = preset_period("month") if "period" in query or "shift" in query else None
        if default:
            assert f"{default.start:%d.%m.%Y} — {default.end:%d.%m.%Y}" in html

    def test_it_takes_a_custom_period(self, head_client):
        html = page(head_client.get(reverse("analytics:funnel"),
                                    {"period": "custom", "start": "2026-10-01", "end": "2026-10-31"}))
        assert "01.10.2026 — 31.10.2026" in html
        assert "report-errors" not in html

    def test_it_shifts_a_preset_back_and_keeps_the_filters_in_its_links(self, head_client, owner):
        html = page(head_client.get(reverse("analytics:funnel"),
                                    {"period": "month", "shift": "-1", "responsible": owner.pk, "compare": "1"}))
        last = preset_period("month", -1)
        assert f"{last.start:%d.%m.%Y} — {last.end:%d.%m.%Y}" in html
        before = last.previous()
        assert f"сравнение с {before.start:%d.%m.%Y} — {before.end:%d.%m.%Y}" in html
        # The tabs keep every filter: a copied link opens the same report.
        sources_tab = re.search(r'href="(/analytics/sources/\?[^"]*)"', html).group(1)
        assert "shift=-1" in sources_tab and f"responsible={owner.pk}" in sources_tab and "compare=1" in sources_tab

    def test_it_offers_only_the_people_the_user_may_see(self, client, org, owner, outsider):
        from tests.factories import UserFactory

        # The head's role in group 1: he sees group 1 (owner, teammate), not group 2 (outsider).
        group_head = UserFactory(username="grouphead", department=org["group1"], role="Руководитель отдела продаж")
        client.force_login(group_head)
        html = page(client.get(reverse("analytics:funnel")))
        # The «Ответственный» select alone: another select's option (a pipeline) may share an id.
        people = re.search(r'<select name="responsible".*?</select>', html, flags=re.S).group(0)
        assert f'<option value="{owner.pk}"' in people
        assert f'<option value="{outsider.pk}"' not in people
        html = page(client.get(reverse("analytics:funnel"), {"responsible": outsider.pk}))
        assert 'data-testid="report-errors"' in html

    def test_the_charts_need_no_script_and_no_network(self, head_client, this_month):
        html = page(head_client.get(reverse("analytics:funnel")))
        svgs = re.findall(r"<svg role=\"img\".*?</svg>", html, flags=re.S)
        assert svgs
        for svg in svgs:
            assert "<script" not in svg
            assert not re.search(r'href="https?:', svg)
            assert "viewBox" in svg and 'width="' not in svg.split(">", 1)[0]  # scales to its column

    def test_overdue_is_vermillion_and_done_green_on_the_managers_charts(self, head_client, this_month, owner):
        """The series' colours say what they mean (the palette's order painted «Просрочено» green)."""
        from analytics import charts
        from leads.models import Lead
        from tests.analytics.conftest import touch

        lead = Lead.objects.filter(responsible=owner).first()
        touch(owner, lead, -1 / 1440)  # due a minute ago, not done: overdue
        touch(owner, lead, 1 / 1440, done=True)
        html = page(head_client.get(reverse("analytics:managers"), {"period": "month"}))
        svgs = dict(re.findall(r'<svg role="img" aria-label="([^"]+)"(.*?)</svg>', html, flags=re.S))

        def colour(svg: str, series: int) -> str:
            return re.search(rf"\.color-{series} a:visited\{{stroke:(#[0-9A-Fa-f]+)", svg).group(1)

        leads, touches = svgs["Лиды менеджеров"], svgs["Касания менеджеров"]
        assert [colour(leads, i) for i in range(3)] == [charts.BLUE, charts.GREEN, charts.VERMILLION]
        assert [colour(touches, i) for i in range(3)] == [charts.BLUE, charts.GREEN, charts.VERMILLION]
        # Side by side: «запланировано» already holds the overdue and the done ones, a stack would add them up.
        assert "horizontalbar-graph" in touches and "stackedbar" not in touches

    def test_it_formats_numbers_for_people(self, head_client):
        html = page(head_client.get(reverse("analytics:managers")))
        assert not re.search(r">\s*\d+\.\d\d\s*<", html)  # never «150000.00»


class TestExport:
    def test_it_exports_the_report_as_csv(self, head_client):
        response = head_client.get(reverse("analytics:funnel"), {"format": "csv", "compare": "1"})
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/csv")
        assert "attachment" in response["Content-Disposition"]
        text = response.content.decode("utf-8-sig")
        rows = list(csv.reader(io.StringIO(text), delimiter=";"))
        assert rows[0][:3] == ["Статус", "Перешли в статус", "Перешли в статус, прошлый период"]
        assert rows[1][0] == "Не обработан"
        assert "Причины «Не успешный» за период" in text

    def test_it_exports_the_report_as_xlsx(self, head_client):
        response = head_client.get(reverse("analytics:sources"), {"format": "xlsx"})
        assert response.status_code == 200
        book = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True)
        rows = list(book.active.iter_rows(values_only=True))
        assert rows[0][:2] == ("Источник", "Лидов")

    def test_the_page_offers_its_files_and_prints_without_the_menu(self, head_client):
        html = page(head_client.get(reverse("analytics:deals"), {"period": "year"}))
        assert "format=xlsx" in html and "format=csv" in html and "period=year" in html
        assert "css/analytics.css" in html
        from django.contrib.staticfiles import finders

        css = open(finders.find("css/analytics.css"), encoding="utf-8").read()
        printed = css[css.index("@media print"):]
        for hidden in (".crm-sidebar", ".crm-topbar", ".crm-report-filters"):
            assert hidden in printed


def _stay(lead, state, day, left=None):
    """A stay as the writers keep it (analytics.history), dated in the past for the period."""
    zone = timezone.get_default_timezone()
    at = timezone.make_aware(datetime.combine(day, time(12)), zone)
    return Stay.objects.create(model="leads.lead", object_id=lead.pk, state=state, owner=lead.responsible_id,
                               source=lead.source_id, niche=lead.niche_id, entered_at=at,
                               left_at=timezone.make_aware(datetime.combine(left, time(12)), zone) if left else None)


class TestDrillDown:
    @pytest.fixture
    def october(self, owner, outsider):
        reached = LeadFactory(title="Дошёл до ЛПР", responsible=owner)
        stopped = LeadFactory(title="Остался на звонке", responsible=owner)
        earlier = LeadFactory(title="ЛПР в сентябре", responsible=owner)
        hidden = LeadFactory(title="Чужой ЛПР", responsible=outsider)
        Stay.objects.all().delete()  # the stays the creations opened today: only the history below counts
        _stay(reached, "new", date(2026, 10, 2), date(2026, 10, 5))
        _stay(reached, "decision_maker", date(2026, 10, 5), date(2026, 10, 20))
        _stay(reached, "converted", date(2026, 10, 20))
        _stay(stopped, "first_call", date(2026, 10, 3))
        _stay(earlier, "decision_maker", date(2026, 9, 28))
        _stay(hidden, "decision_maker", date(2026, 10, 6))
        history.rebuild_funnel()  # and the funnel's calendar months, as the writers keep them with the stays
        return {"reached": reached, "stopped": stopped, "earlier": earlier, "hidden": hidden}

    def test_a_funnel_number_opens_exactly_those_leads_the_user_may_see(self, client, teammate, october):
        client.force_login(teammate)  # a manager of group 1: the list's own rules hide what he may not see
        url = reverse("leads:list") + "?analytics=" + drilldown.token("reached", "decision_maker",
                                                                       Period(date(2026, 10, 1), date(2026, 10, 31)))
        html = page(client.get(url))
        assert "Дошёл до ЛПР" not in html  # the owner's lead: a teammate with «Свои» does not see it

    def test_the_head_lands_on_the_matching_leads_with_a_chip(self, head_client, october):
        october_period = Period(date(2026, 10, 1), date(2026, 10, 31))
        html = page(head_client.get(reverse("leads:list"), {
            "analytics": drilldown.token("reached", "decision_maker", october_period)}))
        titles = set(re.findall(r'class="fw-semibold text-decoration-none">([^<]+)</a>', html))
        assert titles == {"Дошёл до ЛПР", "Чужой ЛПР"}
        assert 'data-testid="link-filter-chip"' in html
        assert "дошли до статуса «Выход на ЛПР» с 01.10.2026 по 31.10.2026" in html
        html = page(head_client.get(reverse("leads:list"), {
            "analytics": drilldown.token("entered", "first_call", october_period)}))
        assert set(re.findall(r'class="fw-semibold text-decoration-none">([^<]+)</a>', html)) == {"Остался на звонке"}

    @pytest.mark.parametrize(("kind", "state", "expected"), [
        ("reached", "decision_maker", {"Дошёл до ЛПР", "Чужой ЛПР"}), ("entered", "first_call", {"Остался на звонке"}),
        ("reached", "first_call", {"Дошёл до ЛПР", "Чужой ЛПР", "Остался на звонке"}),
        ("entered", "converted", {"Дошёл до ЛПР"})])
    def test_a_funnel_number_is_the_count_of_the_leads_it_opens(self, head_client, october, kind, state, expected):
        html = page(head_client.get(reverse("analytics:funnel"),
                                    {"period": "custom", "start": "2026-10-01", "end": "2026-10-31"}))
        found = re.search(rf'href="([^"]*analytics={kind}\.{state}\.2026-10-01\.2026-10-31[^"]*)"[^>]*>([^<]+)<', html)
        url, number = unescape(found.group(1)), found.group(2)
        assert number == str(len(expected))
        listed = page(head_client.get(url))
        assert set(re.findall(r'class="fw-semibold text-decoration-none">([^<]+)</a>', listed)) == expected

    def test_the_funnel_links_its_numbers_to_the_list(self, head_client, october):
        html = page(head_client.get(reverse("analytics:funnel"),
                                    {"period": "custom", "start": "2026-10-01", "end": "2026-10-31"}))
        assert "analytics=reached.decision_maker.2026-10-01.2026-10-31" in html
        assert "analytics=entered.new.2026-10-01.2026-10-31" in html
        assert "analytics=entered.qualification." not in html  # nobody entered it: a zero links nowhere

    @pytest.mark.parametrize("value", ["reached.junk.2026-10-01.2026-10-31", "x", "entered.new.2026-10-31.2026-10-01",
                                       "entered.boss.2026-10-01.2026-10-31", "entered.new.2026-02-30.2026-03-01"])
    def test_a_bad_link_is_explained_not_applied(self, head_client, owner, value):
        LeadFactory(title="Любой лид", responsible=owner)
        html = page(head_client.get(reverse("leads:list"), {"analytics": value}))
        assert "Неверная ссылка из отчёта" in html
        assert "Любой лид" in html


class TestDay:
    def test_the_head_s_day_fetches_the_report_numbers(self, head_client, django_assert_max_num_queries):
        assert f'hx-get="{reverse("analytics:day_numbers")}"' in page(head_client.get(reverse("tasks:day")))
        with django_assert_max_num_queries(22):  # four reports' figures (analytics.selectors.day_numbers)
            response = head_client.get(reverse("analytics:day_numbers"))
            assert response.status_code == 200
        html = page(response)
        assert 'data-testid="day-numbers"' in html
        assert "Новых лидов за неделю" in html and "/analytics/funnel/?period=week" in html

    def test_a_manager_s_day_does_not(self, client, owner):
        client.force_login(owner)
        assert reverse("analytics:day_numbers") not in page(client.get(reverse("tasks:day")))
        assert page(client.get(reverse("analytics:day_numbers"))) == ""


def test_preset_periods_are_calendar_units():
    day = date(2026, 11, 18)  # a Wednesday
    assert preset_period("today", 0, day) == Period(day, day)
    assert preset_period("week", 0, day) == Period(date(2026, 11, 16), date(2026, 11, 22))
    assert preset_period("month", -1, day) == Period(date(2026, 10, 1), date(2026, 10, 31))
    assert preset_period("month", -11, day) == Period(date(2025, 12, 1), date(2025, 12, 31))
    assert preset_period("quarter", 0, day) == Period(date(2026, 10, 1), date(2026, 12, 31))
    assert preset_period("quarter", -4, day) == Period(date(2025, 10, 1), date(2025, 12, 31))
    assert preset_period("year", 1, day) == Period(date(2027, 1, 1), date(2027, 12, 31))
    assert preset_period("week", -1, day).end == date(2026, 11, 15) - timedelta(days=0)


def test_the_period_select_shows_the_period_shown(head_client):
    html = page(head_client.get(reverse("analytics:time")))
    assert re.search(r'<option value="month" selected>', html)
