"""The leads kanban board: columns, counts and sums, access, paging, query budget, moves."""

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Entity, Level, Permission
from crm.boards import format_sums
from crm.money import format_money
from leads.models import CLOSED, IN_PROCESS, ORDER, Lead, Status
from leads.views_kanban import PAGE_SIZE
from tests.factories import LeadFactory, UserFactory, ref

from .conftest import qualification_data


def plan_touch(lead, deadline):
    """A call planned on `lead` (tasks), as its card's «Запланировать» does."""
    from tasks_app import services as tasks

    return tasks.task_create(data={"kind": "call", "title": "Звонок", "responsible": lead.responsible,
                                   "deadline": deadline}, by=lead.responsible, records=[lead])

pytestmark = pytest.mark.django_db

BOARD = reverse("leads:kanban")
MISSING = "Для изменения статуса лида заполните обязательные поля"


def html(response) -> str:
    return response.content.decode()


def column(response, status):
    return next(c for c in response.context["columns"] if c["status"] == status)


def titles(cards) -> list[str]:
    return [lead.title for lead in cards]


def column_url(status, **params):
    from django.utils.http import urlencode

    url = reverse("leads:kanban_column", args=[status])
    return f"{url}?{urlencode(params)}" if params else url


def make_leads(n, *, responsible, status=Status.NEW, start=None, **kwargs):
    """`n` leads created a minute apart (newest last), so the board's order is known."""
    start = start or timezone.now() - dt.timedelta(days=30)
    leads = LeadFactory.create_batch(n, responsible=responsible, status=status, **kwargs)
    for i, lead in enumerate(leads):
        Lead.objects.filter(pk=lead.pk).update(created_at=start + dt.timedelta(minutes=i))
    return leads


class TestMoney:
    def test_it_formats_roubles_the_russian_way(self):
        assert format_money(Decimal("1234567"), "RUB") == "1\xa0234\xa0567\xa0₽"
        assert format_money(Decimal("1234.5"), "USD") == "1\xa0234,50\xa0$"
        assert format_money(Decimal("0"), "EUR") == "0\xa0€"

    def test_money_follows_the_readers_language(self):
        from django.utils import translation

        with translation.override("en"):
            assert format_money(Decimal("1234.5"), "USD") == "1,234.50\xa0$"
            assert format_money(Decimal("150000"), "RUB") == "150,000\xa0₽"

    def test_sums_in_different_currencies_are_not_added_up(self):
        assert format_sums({"RUB": Decimal("100"), "USD": Decimal("5")}) == ["100\xa0₽", "5\xa0$"]
        assert format_sums({}) == ["0\xa0₽"]


class TestBoard:
    def test_it_shows_a_column_per_status_in_order_with_closed_ones_collapsed(self, client, owner):
        client.force_login(owner)
        response = client.get(BOARD, {"totals": "1"})
        assert response.status_code == 200
        page = html(response)
        positions = [page.index(f'data-testid="kanban-column-{s}"') for s in ORDER]
        assert positions == sorted(positions)
        for status in ORDER:
            assert str(Status(status).label) in page
        columns = response.context["columns"]
        assert [c["status"] for c in columns] == [s.value for s in ORDER]
        assert [c["collapsed"] for c in columns] == [s in CLOSED for s in ORDER]
        assert 'kanban-status-junk is-closed is-collapsed' in page
        assert 'href="/leads/kanban/"' in page and "Канбан" in page  # the shared header
        assert "js/board.js" in page and "css/kanban.css" in page

    def test_it_counts_and_sums_per_column_in_one_query(self, client, owner):
        LeadFactory(responsible=owner, amount=Decimal("1000000"))
        LeadFactory(responsible=owner, amount=Decimal("234567"))
        LeadFactory(responsible=owner, amount=Decimal("100"), currency="USD")
        LeadFactory(responsible=owner, amount=Decimal("50"), status=Status.FIRST_CALL)
        LeadFactory(responsible=owner, amount=Decimal("7"), status=Status.JUNK, junk_reason=ref("JunkReason"))
        client.force_login(owner)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(BOARD, {"totals": "1"})
        new = column(response, Status.NEW)
        assert new["count"] == 3
        assert new["sum_lines"] == ["1\xa0234\xa0567\xa0₽", "100\xa0$"]
        assert column(response, Status.FIRST_CALL)["count"] == 1
        assert column(response, Status.QUALIFICATION)["sum_lines"] == ["0\xa0₽"]
        junk = column(response, Status.JUNK)
        assert junk["count"] == 1 and junk["sum_lines"] == ["7\xa0₽"] and "cards" not in junk  # collapsed: not loaded
        page = html(response)
        assert "1\xa0234\xa0567\xa0₽" in page and "100\xa0$" in page
        assert 'data-testid="kanban-count-new">3<' in page.replace(' hx-swap-oob="true"', "")
        # Read from the counters (crm.tallies), not aggregated over the leads table.
        grouped = [q["sql"] for q in queries.captured_queries if "GROUP BY" in q["sql"] and "crm_tally" in q["sql"]]
        assert len(grouped) == 1 and "leads_lead" not in grouped[0]

    def test_a_card_shows_title_company_amount_responsible_date_and_next_touch(self, client, owner):
        from leads import services

        lead = LeadFactory(title="Тест Решение", company_name="ООО «Ромашка»", responsible=owner,
                           amount=Decimal("150000"))
        # The date planned on the lead is its next touch (tasks), which the card shows.
        services.lead_update(lead, data={"next_touch_date": dt.date(2030, 5, 12)}, by=owner, version=lead.version)
        client.force_login(owner)
        page = html(client.get(BOARD, {"totals": "1"}))
        assert reverse("leads:detail", args=[lead.pk]) in page
        for text in ("Тест Решение", "ООО «Ромашка»", "150\xa0000\xa0₽", "Иванов П.",
                     timezone.localtime(lead.created_at).strftime("%d.%m.%Y"), "Дело: 12.05.2030",
                     "Перевести в…", reverse("leads:move", args=[lead.pk])):
            assert text in page, text
        assert "просрочено" not in page

    def test_one_move_menu_serves_every_card(self, client, owner):
        """«Перевести в…» is one menu for the whole board (board.js opens it for a card), not a
        form with seven buttons per card."""
        leads = LeadFactory.create_batch(3, responsible=owner)
        LeadFactory(responsible=owner, status=Status.FIRST_CALL)
        client.force_login(owner)
        page = html(client.get(BOARD, {"totals": "1"}))
        assert page.count('<template id="kanban-move-menu">') == 1
        assert page.count('class="kanban-move-option') == len(ORDER)  # the menu's, once
        for status in ORDER:
            assert f'name="to" value="{status}"' in page
        assert page.count("data-kanban-move") == 4 and page.count("Перевести в…") == 4
        assert 'name="next" value="/leads/kanban/"' in page
        for lead in leads:
            assert f'data-move-url="{reverse("leads:move", args=[lead.pk])}"' in page
            assert f'href="{reverse("leads:detail", args=[lead.pk])}"' in page
        # A further page of cards brings only cards: their buttons open the board's menu.
        fragment = html(client.get(column_url(Status.NEW), HTTP_HX_REQUEST="true"))
        assert fragment.count("data-kanban-move") == 3 and "kanban-move-option" not in fragment

    def test_a_card_shows_its_dates_as_the_date_filter_would(self, client, owner, settings):
        lead = LeadFactory(responsible=owner)
        plan_touch(lead, dt.datetime(2030, 5, 12, 23, 30, tzinfo=dt.UTC))  # the 13th in Moscow
        Lead.objects.filter(pk=lead.pk).update(created_at=dt.datetime(2026, 1, 31, 22, 30, tzinfo=dt.UTC))
        client.force_login(owner)
        page = html(client.get(BOARD, {"totals": "1"}))
        # Moscow is UTC+3: created on the 1st of February there.
        assert settings.TIME_ZONE == "Europe/Moscow"
        assert '<time datetime="2026-02-01T01:30:00+03:00" title="Дата создания">01.02.2026</time>' in page
        assert "Дело: 13.05.2030" in page

    def test_the_card_template_stays_lean(self):
        """The card is rendered a hundred times per board: no `{% url %}`, loops, forms or
        translations in it (the board measured ~1 ms a card with them, against a budget of
        ~0.3 ms — BENCHMARKS.md, finding 1b)."""
        from django.template.loader import get_template

        source = get_template("leads/_kanban_card.html").template.source
        for costly in ("{% url", "{% for", "<form", "{% translate", "{% csrf_token", "|date"):
            assert costly not in source, costly

    def test_an_overdue_next_touch_is_flagged(self, client, owner):
        plan_touch(LeadFactory(responsible=owner), timezone.now() - dt.timedelta(days=1))
        client.force_login(owner)
        page = html(client.get(BOARD, {"totals": "1"}))
        assert 'class="kanban-card-touch text-danger fw-semibold is-overdue"' in page and "Просрочено:" in page

    def test_the_next_touch_state_is_on_every_card(self, client, owner):
        planned, overdue, none = LeadFactory.create_batch(3, responsible=owner)
        plan_touch(planned, timezone.now() + dt.timedelta(days=2))
        plan_touch(overdue, timezone.now() - dt.timedelta(hours=1))
        client.force_login(owner)
        new = column(client.get(BOARD, {"totals": "1"}), Status.NEW)
        marks = {card.pk: card.mark.testid for card in new["cards"]}
        assert marks == {planned.pk: "touch-planned", overdue.pk: "touch-overdue", none.pk: "touch-none"}
        page = html(client.get(BOARD, {"totals": "1"}))
        assert "Нет дел" in page

    @pytest.mark.parametrize(("value", "expected"), [("none", {"none", "done"}), ("overdue", {"overdue"}),
                                                     ("", {"planned", "overdue", "none", "done"})])
    def test_the_touches_filter_finds_the_leads_nobody_plans_to_call(self, client, owner, value, expected):
        from tasks_app import services as tasks

        leads = {name: LeadFactory(title=name, responsible=owner) for name in ("planned", "overdue", "none", "done")}
        plan_touch(leads["planned"], timezone.now() + dt.timedelta(days=2))
        plan_touch(leads["overdue"], timezone.now() - dt.timedelta(days=2))
        tasks.task_transition(plan_touch(leads["done"], timezone.now()), "complete", by=owner)
        client.force_login(owner)
        response = client.get(BOARD, {"totals": "1", "touches": value})
        assert set(titles(column(response, Status.NEW)["cards"])) == expected
        assert column(response, Status.NEW)["count"] == len(expected)
        if value:
            # The column's «Показать ещё» keeps the filter.
            assert f"touches={value}" in column(response, Status.NEW)["url"]

    def test_a_tampered_touches_filter_is_named_and_ignored(self, client, owner):
        LeadFactory(responsible=owner)
        client.force_login(owner)
        response = client.get(BOARD, {"totals": "1", "touches": "nobody\x00"})
        assert response.status_code == 200 and "Дела: Выберите" in html(response)
        assert len(column(response, Status.NEW)["cards"]) == 1

    def test_closed_columns_open_on_request(self, client, owner):
        LeadFactory(title="Брак", responsible=owner, status=Status.JUNK, junk_reason=ref("JunkReason"))
        client.force_login(owner)
        response = client.get(BOARD, {"totals": "1", "open": "junk"})
        junk = column(response, Status.JUNK)
        assert not junk["collapsed"] and titles(junk["cards"]) == ["Брак"]
        converted = column(response, Status.CONVERTED)
        assert converted["collapsed"]
        # Without JavaScript the links toggle one column and keep the other as it is.
        assert junk["open_url"] == "?" and converted["open_url"] == "?open=converted&open=junk"

    def test_search_and_only_mine(self, client, owner, head):
        LeadFactory(title="Ромашка", responsible=owner)
        LeadFactory(title="Лютик", company_name="ООО «Лютик»", responsible=owner)
        LeadFactory(title="Чужой", responsible=head)
        client.force_login(head)
        new = column(client.get(BOARD, {"totals": "1", "q": "Лют"}), Status.NEW)
        assert titles(new["cards"]) == ["Лютик"] and new["count"] == 1
        new = column(client.get(BOARD, {"totals": "1", "preset": "mine"}), Status.NEW)
        assert titles(new["cards"]) == ["Чужой"] and new["count"] == 1
        new = column(client.get(BOARD, {"totals": "1"}), Status.NEW)
        assert new["count"] == 3

    def test_totals_refresh_as_out_of_band_swaps(self, client, owner):
        LeadFactory.create_batch(2, responsible=owner, amount=Decimal("10"))
        client.force_login(owner)
        response = client.get(BOARD, {"part": "totals"}, HTTP_HX_REQUEST="true")
        page = html(response)
        assert response.status_code == 200
        assert page.count('hx-swap-oob="true"') == 2 * len(ORDER)
        assert 'id="kanban-count-new" data-testid="kanban-count-new" hx-swap-oob="true">2<' in page
        assert "20\xa0₽" in page and "kanban-card" not in page


class TestFilters:
    """The head filters the board as he filters the list: by responsible, department, source, dates
    and the presets «Мои», «Мой отдел», «Все»; the cards, the totals and the columns' URLs agree."""

    @pytest.fixture
    def spread(self, personas):
        cold, site = ref("Source", "Холодный звонок"), ref("Source", "Сайт")
        old = timezone.now() - dt.timedelta(days=40)
        made = {
            "Лид владельца": LeadFactory(responsible=personas["owner"], source=cold, amount=Decimal("1")),
            "Лид коллеги": LeadFactory(responsible=personas["teammate"], source=site, amount=Decimal("10")),
            "Лид чужого отдела": LeadFactory(responsible=personas["outsider"], source=cold, amount=Decimal("100")),
            "Лид руководителя": LeadFactory(responsible=personas["head"], source=site, amount=Decimal("1000")),
        }
        for title, lead in made.items():
            Lead.objects.filter(pk=lead.pk).update(title=title)
        Lead.objects.filter(pk=made["Лид чужого отдела"].pk).update(created_at=old)
        return {"cold": cold, "site": site, "old": old}

    def _new(self, client, **params):
        response = client.get(BOARD, {"totals": "1", **params})
        assert response.status_code == 200
        new = column(response, Status.NEW)
        return response, set(titles(new["cards"])), new["count"], new["sum_lines"]

    def test_the_head_filters_by_a_manager(self, client, personas, spread):
        client.force_login(personas["head"])
        _r, cards, count, sums = self._new(client, responsible=personas["teammate"].pk)
        assert cards == {"Лид коллеги"} and count == 1 and sums == ["10\xa0₽"]

    def test_the_head_filters_by_a_department_with_its_sub_departments(self, client, personas, org, spread):
        client.force_login(personas["head"])
        _r, cards, count, _s = self._new(client, department=org["group1"].pk)
        assert cards == {"Лид владельца", "Лид коллеги"} and count == 2
        _r, cards, count, _s = self._new(client, department=org["sales"].pk)
        assert count == 4

    def test_the_head_filters_by_source_and_dates(self, client, personas, spread):
        client.force_login(personas["head"])
        _r, cards, count, _s = self._new(client, source=spread["cold"].pk)
        assert cards == {"Лид владельца", "Лид чужого отдела"} and count == 2
        since = (timezone.localdate() - dt.timedelta(days=5)).isoformat()
        _r, cards, count, _s = self._new(client, created_after=since)
        assert "Лид чужого отдела" not in cards and count == 3
        until = timezone.localtime(spread["old"]).date().isoformat()
        _r, cards, count, _s = self._new(client, created_before=until)
        assert cards == {"Лид чужого отдела"} and count == 1

    def test_presets(self, client, personas, org, spread):
        client.force_login(personas["head"])
        _r, cards, _c, _s = self._new(client, preset="mine")
        assert cards == {"Лид руководителя"}
        _r, cards, count, _s = self._new(client)
        assert count == 4

    def test_my_department_for_a_head_who_sees_everything(self, client, personas, org, spread):
        Permission.objects.filter(role__name="Руководитель отдела продаж", entity=Entity.LEAD).update(level=Level.ALL)
        LeadFactory(title="Лид вне отделов", responsible=UserFactory())
        head = type(personas["head"]).objects.get(pk=personas["head"].pk)
        client.force_login(head)
        _r, cards, count, _s = self._new(client)
        assert count == 5
        _r, cards, count, _s = self._new(client, preset="department")
        assert "Лид вне отделов" not in cards and count == 4

    @pytest.mark.parametrize(("persona", "presets"), [
        ("owner", []),  # «Свои»: every preset would show the same cards
        ("head", ["mine", "all"]),  # own + sub-departments: «Мой отдел» is «Все»
        ("crm_admin", ["mine", "department", "all"]),
    ])
    def test_presets_are_offered_where_they_differ(self, client, personas, persona, presets, org):
        if persona == "crm_admin":
            # An administrator of the sales department, who sees the whole company.
            personas["crm_admin"].department = org["sales"]
            personas["crm_admin"].save()
        client.force_login(personas[persona])
        response = client.get(BOARD)
        assert [item["value"] or "all" for item in response.context["preset_urls"]] == presets
        assert ('data-testid="kanban-presets"' in html(response)) == bool(presets)
        assert "Только мои" not in html(response)

    def test_the_responsible_select_offers_whom_the_user_sees(self, client, personas):
        client.force_login(personas["head"])
        users = {name for _pk, name in client.get(BOARD).context["bar"]["users"]}
        assert {str(personas[p]) for p in ("owner", "teammate", "outsider", "head")} == users
        client.force_login(personas["owner"])
        bar = client.get(BOARD).context["bar"]
        assert bar["users"] == [] and bar["departments"] == []

    @pytest.mark.parametrize("params", [
        {"responsible": "abc"}, {"responsible": "-1"}, {"responsible": "99999999999999999999999"},
        {"department": "x"}, {"source": "\x00"}, {"created_after": "2026-13-45"}, {"created_before": "вчера"},
        {"preset": "everyone"}, {"created_after": "2026-02-02", "created_before": "2026-01-01"},
    ])
    def test_bad_values_get_a_russian_message_not_a_500(self, client, owner, params):
        LeadFactory(title="Свой лид", responsible=owner)
        client.force_login(owner)
        response = client.get(BOARD, params)
        assert response.status_code == 200
        assert 'data-testid="kanban-filter-errors"' in html(response)
        assert titles(column(response, Status.NEW)["cards"]) == ["Свой лид"]
        # The column endpoint refuses them with the reason.
        assert client.get(column_url(Status.NEW, **params)).status_code == 400

    def test_a_responsible_the_user_may_not_choose_is_named_and_ignored(self, client, personas, spread):
        client.force_login(personas["owner"])
        response = client.get(BOARD, {"responsible": personas["outsider"].pk})
        assert "Выберите вариант из списка" in html(response)
        assert titles(column(response, Status.NEW)["cards"]) == ["Лид владельца"]

    def test_totals_and_columns_carry_the_filters(self, client, personas, org, spread):
        make_leads(PAGE_SIZE + 1, responsible=personas["teammate"], source=spread["site"])
        client.force_login(personas["head"])
        params = {"responsible": personas["teammate"].pk, "source": spread["site"].pk,
                  "created_after": "2020-01-01"}
        response = client.get(BOARD, params)
        new = column(response, Status.NEW)
        for url in (new["url"], new["next_url"], response.context["totals_url"]):
            for key in params:
                assert f"{key}=" in url
        more = client.get(new["next_url"], HTTP_HX_REQUEST="true")
        assert more.status_code == 200 and len(more.context["cards"]) == 2  # 11 + «Лид коллеги», 10 a page
        assert {lead.responsible_id for lead in more.context["cards"]} == {personas["teammate"].pk}
        totals = client.get(response.context["totals_url"], HTTP_HX_REQUEST="true")
        assert 'id="kanban-count-new" data-testid="kanban-count-new" hx-swap-oob="true">12<' in html(totals)


class TestAccess:
    @pytest.mark.parametrize(("persona", "sees"), [
        ("owner", {"Лид владельца"}),
        ("teammate", {"Лид коллеги"}),
        ("outsider", {"Лид чужого отдела"}),
        ("head", {"Лид владельца", "Лид коллеги", "Лид чужого отдела"}),
        ("crm_admin", {"Лид владельца", "Лид коллеги", "Лид чужого отдела", "Лид вне отделов"}),
    ])
    def test_it_shows_only_the_leads_the_user_may_see(self, client, personas, persona, sees):
        LeadFactory(title="Лид владельца", responsible=personas["owner"], amount=Decimal("1"))
        LeadFactory(title="Лид коллеги", responsible=personas["teammate"], amount=Decimal("10"))
        LeadFactory(title="Лид чужого отдела", responsible=personas["outsider"], amount=Decimal("100"))
        LeadFactory(title="Лид вне отделов", responsible=UserFactory(), amount=Decimal("1000"))
        client.force_login(personas[persona])
        response = client.get(BOARD, {"totals": "1"})
        new = column(response, Status.NEW)
        assert set(titles(new["cards"])) == sees
        assert new["count"] == len(sees)
        page = html(response)
        for title in {"Лид владельца", "Лид коллеги", "Лид чужого отдела", "Лид вне отделов"} - sees:
            assert title not in page
        # The column endpoint goes through the same gate.
        page = html(client.get(column_url(Status.NEW), HTTP_HX_REQUEST="true"))
        for title in {"Лид владельца", "Лид коллеги", "Лид чужого отдела", "Лид вне отделов"}:
            assert (title in page) == (title in sees)

    def test_a_card_the_user_may_not_change_is_not_draggable(self, client, owner):
        from accounts.models import Action, Entity, Level, Permission, Role

        viewer = Role.objects.create(name="Наблюдатель")
        Permission.objects.create(role=viewer, entity=Entity.LEAD, action=Action.VIEW, level=Level.ALL)
        watcher = UserFactory()
        watcher.roles.add(viewer)
        LeadFactory(title="Только смотреть", responsible=owner)
        client.force_login(watcher)
        page = html(client.get(BOARD, {"totals": "1"}))
        assert "Только смотреть" in page
        assert 'draggable="false"' in page and "Перевести в…" not in page

    def test_anonymous_users_are_sent_to_login(self, client):
        assert client.get(BOARD, {"totals": "1"}).status_code == 302
        assert client.get(column_url(Status.NEW)).status_code == 302


class TestPaging:
    def test_each_column_loads_only_its_first_page_and_more_on_demand(self, client, owner):
        leads = make_leads(PAGE_SIZE + 5, responsible=owner)
        newest_first = [lead.title for lead in reversed(leads)]
        client.force_login(owner)
        response = client.get(BOARD, {"totals": "1"})
        new = column(response, Status.NEW)
        assert new["count"] == PAGE_SIZE + 5
        assert titles(new["cards"]) == newest_first[:PAGE_SIZE]
        assert new["next_url"]
        assert "Показать ещё" in html(response)

        more = client.get(new["next_url"], HTTP_HX_REQUEST="true")
        assert more.status_code == 200
        assert titles(more.context["cards"]) == newest_first[PAGE_SIZE:]
        assert "Показать ещё" not in html(more)
        assert "<html" not in html(more)  # a fragment for htmx

    def test_the_cursor_neither_skips_nor_repeats_when_cards_leave_the_column(self, client, owner):
        leads = make_leads(PAGE_SIZE + 3, responsible=owner)
        client.force_login(owner)
        new = column(client.get(BOARD, {"totals": "1"}), Status.NEW)
        shown = new["cards"]
        # Meanwhile two of the shown cards move on.
        Lead.objects.filter(pk__in=[shown[0].pk, shown[1].pk]).update(status=Status.FIRST_CALL)
        more = client.get(new["next_url"], HTTP_HX_REQUEST="true")
        assert titles(more.context["cards"]) == [lead.title for lead in reversed(leads)][PAGE_SIZE:]

    def test_the_next_page_works_without_javascript_too(self, client, owner):
        make_leads(PAGE_SIZE + 1, responsible=owner)
        client.force_login(owner)
        new = column(client.get(BOARD, {"totals": "1"}), Status.NEW)
        page = html(client.get(new["next_url"]))
        assert "<html" in page and "Вернуться к канбану" in page and "kanban-card" in page

    def test_the_column_keeps_the_filters(self, client, owner):
        make_leads(PAGE_SIZE + 2, responsible=owner, title="Ромашка")
        make_leads(3, responsible=owner, title="Лютик", start=timezone.now() - dt.timedelta(days=60))
        client.force_login(owner)
        new = column(client.get(BOARD, {"totals": "1", "q": "Ромашка"}), Status.NEW)
        assert "q=" in new["next_url"]
        more = client.get(new["next_url"], HTTP_HX_REQUEST="true")
        assert len(more.context["cards"]) == 2
        assert set(titles(more.context["cards"])) == {"Ромашка"}

    def test_a_closed_column_loads_when_expanded(self, client, owner):
        LeadFactory(title="Брак", responsible=owner, status=Status.JUNK, junk_reason=ref("JunkReason"))
        client.force_login(owner)
        response = client.get(column_url(Status.JUNK), HTTP_HX_REQUEST="true")
        assert titles(response.context["cards"]) == ["Брак"]

    @pytest.mark.parametrize("status", ["nonsense", "NEW", "' OR 1=1 --"])
    def test_an_unknown_status_is_a_404_not_a_500(self, client, owner, status):
        client.force_login(owner)
        assert client.get(column_url(status)).status_code == 404

    @pytest.mark.parametrize("after", ["abc", "1_x", "99999999999999999999999999_1", "_"])
    def test_a_tampered_cursor_is_refused_in_russian(self, client, owner, after):
        client.force_login(owner)
        response = client.get(column_url(Status.NEW, after=after))
        assert response.status_code == 400
        assert "Неверная позиция" in html(response)


class TestQueryBudget:
    def _spread(self, n, users):
        for i in range(n):
            status = IN_PROCESS[i % len(IN_PROCESS)] if i % 10 else Status.JUNK
            LeadFactory(responsible=users[i % len(users)], status=status, amount=Decimal(i),
                        currency="USD" if i % 7 == 0 else "RUB",
                        junk_reason=ref("JunkReason") if status == Status.JUNK else None)

    def _board_queries(self, client, user, **params) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(BOARD, {"totals": "1", **params}).status_code == 200
        return len(queries)

    def _filters(self, personas, persona) -> dict:
        """Every filter the persona is offered, applied at once."""
        params = {"source": ref("Source").pk, "created_after": "2020-01-01", "created_before": "2100-01-01"}
        if persona != "owner":
            params |= {"responsible": personas["teammate"].pk, "department": personas["teammate"].department_id,
                       "preset": "mine" if persona == "head" else "department"}
        return params

    @pytest.mark.parametrize("persona", ["owner", "head", "crm_admin"])
    def test_the_board_costs_a_fixed_number_of_queries(self, client, personas, persona, django_assert_max_num_queries):
        users = [personas["owner"], personas["teammate"], personas["outsider"]]
        self._spread(50, users)
        client.force_login(personas[persona])
        small = self._board_queries(client, personas[persona])
        self._spread(200, users)
        assert Lead.objects.count() == 250
        big = self._board_queries(client, personas[persona])
        assert big == small
        # The touches' badges: one query for the board whatever the number of tasks.
        for i, lead in enumerate(Lead.objects.order_by("-pk")[:30]):  # on the board: the newest
            for days in (-1, 1, 2) if i % 2 else (3,):
                plan_touch(lead, timezone.now() + dt.timedelta(days=days))
        assert self._board_queries(client, personas[persona]) == small
        # Filters cost no query: their choices are read whether a filter is applied or not (a
        # board the filters leave empty skips the badges' query).
        filters = self._filters(personas, persona)
        assert self._board_queries(client, personas[persona], **filters) <= small
        assert self._board_queries(client, personas[persona], touches="none") == small
        # session, user, access levels, (department tree, owners), one aggregate, one query for
        # the open columns' cards, the touches' badges, the filter bar's choices (departments,
        # users, sources)
        with django_assert_max_num_queries(12):
            response = client.get(BOARD, {"totals": "1"})
        with django_assert_max_num_queries(12):
            assert client.get(BOARD, {"totals": "1", **filters}).status_code == 200
        with django_assert_max_num_queries(small - 1):
            # The totals part: one aggregate, but no cards, no filter bar, no badges
            assert client.get(BOARD, {"part": "totals", **filters}, HTTP_HX_REQUEST="true").status_code == 200
        if persona != "owner":
            assert sum(len(c["cards"]) for c in response.context["columns"] if c["loaded"]) == PAGE_SIZE * len(IN_PROCESS)

    def test_the_next_page_costs_a_fixed_number_of_queries(self, client, owner, django_assert_max_num_queries):
        make_leads(3 * PAGE_SIZE, responsible=owner)
        client.force_login(owner)
        new = column(client.get(BOARD, {"totals": "1"}), Status.NEW)
        with django_assert_max_num_queries(6):
            assert client.get(new["next_url"], HTTP_HX_REQUEST="true").status_code == 200

    @pytest.mark.parametrize("persona", ["owner", "head", "crm_admin"])
    def test_a_filtered_next_page_costs_what_an_unfiltered_one_does(self, client, personas, persona,
                                                                     django_assert_max_num_queries):
        make_leads(3 * PAGE_SIZE, responsible=personas["teammate"] if persona != "owner" else personas["owner"])
        client.force_login(personas[persona])
        url = column(client.get(BOARD, {"totals": "1"}), Status.NEW)["next_url"]
        plain = self._column_queries(client, url)
        filtered = column(client.get(BOARD, {"totals": "1", **self._filters(personas, persona)}), Status.NEW)
        assert filtered["url"] != column(client.get(BOARD), Status.NEW)["url"]
        assert self._column_queries(client, filtered["url"]) <= plain
        # session, user, access levels, (department tree, owners, the filters' department tree), the page
        with django_assert_max_num_queries(7):
            assert client.get(filtered["url"], HTTP_HX_REQUEST="true").status_code == 200

    def _column_queries(self, client, url) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url, HTTP_HX_REQUEST="true").status_code == 200
        return len(queries)


class TestMove:
    """The board's drop posts `to` to leads:move with HX-Request; the endpoint answers."""

    def test_an_allowed_move_triggers_lead_moved(self, client, owner):
        lead = LeadFactory(responsible=owner)
        client.force_login(owner)
        response = client.post(reverse("leads:move", args=[lead.pk]), {"to": Status.FIRST_CALL}, HTTP_HX_REQUEST="true")
        assert response.status_code == 200
        assert response["HX-Reswap"] == "none"
        trigger = json.loads(response["HX-Trigger"])
        assert trigger["lead-moved"]["id"] == lead.pk
        assert trigger["lead-moved"]["from"] == Status.NEW and trigger["lead-moved"]["to"] == Status.FIRST_CALL
        assert "crm:close-modal" in trigger
        lead.refresh_from_db()
        assert lead.status == Status.FIRST_CALL
        # The board now counts it in its new column.
        board = client.get(BOARD, {"totals": "1"})
        assert column(board, Status.NEW)["count"] == 0 and column(board, Status.FIRST_CALL)["count"] == 1

    def test_missing_fields_answer_the_dialog_and_the_lead_stays(self, client, owner):
        lead = LeadFactory(responsible=owner, status=Status.FIRST_CALL)
        client.force_login(owner)
        response = client.post(reverse("leads:move", args=[lead.pk]), {"to": Status.QUALIFICATION},
                               HTTP_HX_REQUEST="true")
        assert response.status_code == 200
        page = html(response)
        assert MISSING in page
        for label in ("Ниша компании", "Корпоративный портал (CRM система)", "Тип клиента"):
            assert label in page
        assert response["HX-Retarget"] == "#crm-modal-content"
        assert "HX-Trigger" not in response
        lead.refresh_from_db()
        assert lead.status == Status.FIRST_CALL

    def test_the_dialog_saved_moves_the_lead_and_triggers_lead_moved(self, client, owner):
        lead = LeadFactory(responsible=owner, status=Status.FIRST_CALL)
        client.force_login(owner)
        data = {k: v.pk for k, v in qualification_data().items()}
        response = client.post(reverse("leads:move", args=[lead.pk]),
                               {"to": Status.QUALIFICATION, "dialog": "1", **data}, HTTP_HX_REQUEST="true")
        assert json.loads(response["HX-Trigger"])["lead-moved"]["to"] == Status.QUALIFICATION
        lead.refresh_from_db()
        assert lead.status == Status.QUALIFICATION

    def test_a_drop_on_not_successful_asks_for_the_reason(self, client, owner):
        lead = LeadFactory(responsible=owner)
        client.force_login(owner)
        response = client.post(reverse("leads:move", args=[lead.pk]), {"to": Status.JUNK}, HTTP_HX_REQUEST="true")
        assert 'data-testid="junk-dialog"' in html(response)
        assert response["HX-Retarget"] == "#crm-modal-content"
        lead.refresh_from_db()
        assert lead.status == Status.NEW

    def test_a_drop_on_successful_is_refused(self, client, owner):
        lead = LeadFactory(responsible=owner)
        client.force_login(owner)
        response = client.post(reverse("leads:move", args=[lead.pk]), {"to": Status.CONVERTED}, HTTP_HX_REQUEST="true")
        assert response["HX-Retarget"] == "#crm-modal-content"
        assert 'data-testid="move-refused"' in html(response)
        lead.refresh_from_db()
        assert lead.status == Status.NEW

    @pytest.mark.parametrize("persona", ["teammate", "outsider"])
    def test_strangers_cannot_move_a_card_they_cannot_see(self, client, personas, persona):
        lead = LeadFactory(responsible=personas["owner"])
        client.force_login(personas[persona])
        response = client.post(reverse("leads:move", args=[lead.pk]), {"to": Status.FIRST_CALL}, HTTP_HX_REQUEST="true")
        assert response.status_code == 404
        lead.refresh_from_db()
        assert lead.status == Status.NEW

    def test_the_fallback_form_without_javascript_returns_to_the_board(self, client, owner):
        lead = LeadFactory(responsible=owner)
        client.force_login(owner)
        response = client.post(reverse("leads:move", args=[lead.pk]), {"to": Status.FIRST_CALL, "next": BOARD})
        assert response.status_code == 302 and response["Location"] == BOARD
        lead.refresh_from_db()
        assert lead.status == Status.FIRST_CALL


class TestDeferredTotals:
    def test_the_board_shows_cards_first_and_loads_totals_after(self, client, owner):
        LeadFactory(responsible=owner, title="Сразу видна", amount=Decimal("5000"))
        client.force_login(owner)
        response = client.get(BOARD)
        page = html(response)
        assert "Сразу видна" in page and 'data-totals-pending="1"' in page
        assert column(response, Status.NEW)["count"] == "…"
        totals = html(client.get(BOARD, {"part": "totals"}, HTTP_HX_REQUEST="true"))
        assert 'id="kanban-count-new"' in totals and ">1<" in totals and "5\xa0000\xa0₽" in totals

    def test_without_javascript_a_link_shows_the_totals_in_the_page(self, client, owner):
        LeadFactory(responsible=owner)
        client.force_login(owner)
        page = html(client.get(BOARD))
        assert "totals=1" in page and "<noscript>" in page
        assert column(client.get(BOARD, {"totals": "1"}), Status.NEW)["count"] == 1
