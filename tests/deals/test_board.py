"""The deals board: one pipeline at a time, columns per stage with counts and sums, access per
persona and per pipeline, paging, the query budget, and the move endpoint behind the drop."""

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from accounts.models import Action, Entity, Level, Permission
from crm.boards import format_sums
from crm.money import format_money
from deals.models import Deal, DealProduct, LossReason, Stage, StageRequirement
from deals.views_board import PAGE_SIZE
from tests.factories import COLD, GENERAL, INBOUND, DealFactory, UserFactory, pipeline, ref, stage

pytestmark = pytest.mark.django_db

BOARD = reverse("deals:board")
MISSING = "Для перевода сделки на стадию заполните обязательные поля"


def html(response) -> str:
    return response.content.decode()


def board(client, name=COLD, **params):
    return client.get(BOARD, {"pipeline": pipeline(name).pk, "totals": "1", **params})


def plan_touch(deal, deadline):
    """A call planned on `deal` (tasks), as its card's «Запланировать» does."""
    from tasks_app import services as tasks

    return tasks.task_create(data={"kind": "call", "title": "Звонок", "responsible": deal.responsible,
                                   "deadline": deadline}, by=deal.responsible, records=[deal])


def column(response, stage_name):
    return next(c for c in response.context["columns"] if c["label"] == stage_name)


def titles(cards) -> list[str]:
    return [deal.title for deal in cards]


def column_url(stage_obj, **params):
    url = reverse("deals:board_column", args=[stage_obj.pk])
    return f"{url}?{urlencode(params)}" if params else url


def make_deals(n, *, responsible, pipeline_name=COLD, stage_name=None, start=None, **kwargs):
    """`n` deals created a minute apart (newest last), so the board's order is known."""
    start = start or timezone.now() - dt.timedelta(days=30)
    extra = {"stage_id": stage(pipeline_name, stage_name).pk} if stage_name else {}
    deals = DealFactory.create_batch(n, responsible=responsible, pipeline=pipeline(pipeline_name), **extra, **kwargs)
    for i, deal in enumerate(deals):
        Deal.objects.filter(pk=deal.pk).update(created_at=start + dt.timedelta(minutes=i))
    return deals


def move(client, deal, to, **data):
    return client.post(reverse("deals:move", args=[deal.pk]), {"to": to, **data}, HTTP_HX_REQUEST="true")


def hide_pipeline(user, name):
    """The user's role loses one pipeline (rights per pipeline, as in Bitrix24)."""
    for role in user.roles.all():
        Permission.objects.create(role=role, entity=Entity.DEAL, action=Action.VIEW, level=Level.NONE,
                                  scope=pipeline(name).access_scope)
    return type(user).objects.get(pk=user.pk)


class TestMoney:
    def test_sums_in_different_currencies_are_not_added_up(self):
        assert format_sums({"RUB": Decimal("100"), "USD": Decimal("5")}) == ["100\xa0₽", "5\xa0$"]
        assert format_sums({}) == ["0\xa0₽"]


class TestBoard:
    def test_it_shows_a_column_per_stage_in_order_with_won_and_lost_collapsed(self, client, owner):
        client.force_login(owner)
        response = board(client)
        assert response.status_code == 200
        columns = response.context["columns"]
        expected = list(pipeline(COLD).stages.order_by("sort", "pk"))
        assert [c["id"] for c in columns] == [s.pk for s in expected]
        assert [c["label"] for c in columns] == ["Новая", "Бесплатный продукт согласован", "Бесплатный продукт проведён",
                                                 "Презентация", "КП отправлено", "Счёт выставлен", "Оплачено", "Отказ"]
        assert [c["collapsed"] for c in columns] == [False] * 6 + [True, True]
        page = html(response)
        positions = [page.index(f'data-testid="board-column-{s.pk}"') for s in expected]
        assert positions == sorted(positions)
        # Each column in its stage's colour; the stylesheets and script of the board.
        for s in expected:
            assert f"--kanban-color: {s.color}" in page
        assert "js/board.js" in page and "css/kanban.css" in page and "css/deals.css" in page

    def test_the_default_is_the_first_pipeline_and_tabs_switch(self, client, owner):
        client.force_login(owner)
        response = client.get(BOARD)
        assert response.context["pipeline"] == pipeline(GENERAL)
        page = html(response)
        for name in (GENERAL, COLD, INBOUND):
            assert f'?pipeline={pipeline(name).pk}"' in page
        assert f'aria-current="page" data-pipeline="{pipeline(GENERAL).pk}"' in page
        inbound = client.get(BOARD, {"pipeline": pipeline(INBOUND).pk})
        assert [c["label"] for c in inbound.context["columns"]][0] == "Новая заявка"

    def test_the_menu_shows_deals(self, client, owner):
        client.force_login(owner)
        page = html(client.get("/leads/"))
        assert f'href="{BOARD}"' in page and "Сделки" in page

    def test_it_counts_and_sums_per_column_in_one_grouped_query(self, client, owner):
        DealFactory(responsible=owner, amount=Decimal("1000000"))
        DealFactory(responsible=owner, amount=Decimal("234567"))
        DealFactory(responsible=owner, amount=Decimal("100"), currency="USD")
        DealFactory(responsible=owner, amount=Decimal("50"), stage_id=stage(COLD, "Презентация").pk)
        DealFactory(responsible=owner, amount=Decimal("7"), stage_id=stage(COLD, "Отказ").pk,
                    loss_reason=LossReason.objects.first())
        DealFactory(responsible=owner, amount=Decimal("999"), pipeline=pipeline(INBOUND),
                    stage_id=stage(INBOUND, "Новая заявка").pk)  # another pipeline: not on this board
        client.force_login(owner)
        with CaptureQueriesContext(connection) as queries:
            response = board(client)
        new = column(response, "Новая")
        assert new["count"] == 3 and new["sum_lines"] == ["1\xa0234\xa0567\xa0₽", "100\xa0$"]
        assert column(response, "Презентация")["count"] == 1
        assert column(response, "КП отправлено")["sum_lines"] == ["0\xa0₽"]
        lost = column(response, "Отказ")
        assert lost["count"] == 1 and lost["sum_lines"] == ["7\xa0₽"] and "cards" not in lost  # collapsed: not loaded
        # Read from the counters (crm.tallies), not aggregated over the deals table.
        grouped = [q["sql"] for q in queries.captured_queries if "GROUP BY" in q["sql"] and "crm_tally" in q["sql"]]
        assert len(grouped) == 1 and "deals_deal" not in grouped[0]
        page = html(response)
        assert f'data-testid="board-count-{stage(COLD, "Новая").pk}">3<' in page

    def test_a_card_shows_title_company_amount_responsible_and_close_date(self, client, owner):
        from clients.models import Company

        company = Company.objects.create(name="ООО «Ромашка»", responsible=owner)
        deal = DealFactory(title="Внедрение Битрикс24", company=company, responsible=owner,
                           amount=Decimal("150000"), close_date=dt.date(2030, 5, 12))
        client.force_login(owner)
        page = html(board(client))
        for text in ("Внедрение Битрикс24", "ООО «Ромашка»", "150\xa0000\xa0₽", "Иванов П.", "12.05.2030",
                     "Перевести в…", f'href="{reverse("deals:detail", args=[deal.pk])}"',
                     f'data-move-url="{reverse("deals:move", args=[deal.pk])}"'):
            assert text in page, text
        assert "срок закрытия прошёл" not in page

    def test_an_overdue_close_date_is_flagged(self, client, owner):
        DealFactory(responsible=owner, close_date=timezone.localdate() - dt.timedelta(days=1))
        client.force_login(owner)
        assert "is-overdue" in html(board(client))

    def test_a_card_escapes_what_it_prints(self, client, owner):
        """The cards are joined in Python (deals.templatetags.deals_board), not by the template
        engine: every value is escaped by hand, the title in the link and the label alike."""
        from clients.models import Company

        company = Company.objects.create(name="<i>Ромашка</i>", responsible=owner)
        DealFactory(title='<script>alert("x")</script> & Co', company=company, responsible=owner)
        client.force_login(owner)
        page = html(board(client))
        assert "<script>alert" not in page and "<i>Ромашка</i>" not in page
        assert page.count("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co") == 2  # the link, aria-label
        assert "&lt;i&gt;Ромашка&lt;/i&gt;" in page

    def test_one_move_menu_serves_every_card(self, client, owner):
        DealFactory.create_batch(3, responsible=owner)
        client.force_login(owner)
        page = html(board(client))
        assert page.count('<template id="board-move-menu">') == 1
        stages = list(pipeline(COLD).stages.all())
        assert page.count('class="kanban-move-option"') == len(stages)
        for s in stages:
            assert f'name="to" value="{s.pk}"' in page
        assert page.count("data-board-move") == 3

    def test_closed_columns_open_on_request(self, client, owner):
        DealFactory(title="Проиграна", responsible=owner, stage_id=stage(COLD, "Отказ").pk,
                    loss_reason=LossReason.objects.first())
        client.force_login(owner)
        lost_stage = stage(COLD, "Отказ")
        response = board(client, open=lost_stage.pk)
        lost = column(response, "Отказ")
        assert not lost["collapsed"] and titles(lost["cards"]) == ["Проиграна"]
        assert column(response, "Оплачено")["collapsed"]

    def test_search_and_only_mine(self, client, owner, head):
        DealFactory(title="Ромашка", responsible=owner)
        DealFactory(title="Лютик", responsible=owner)
        DealFactory(title="Своя", responsible=head)
        client.force_login(head)
        new = column(board(client, q="лют"), "Новая")
        assert titles(new["cards"]) == ["Лютик"] and new["count"] == 1
        new = column(board(client, preset="mine"), "Новая")
        assert titles(new["cards"]) == ["Своя"] and new["count"] == 1

    def test_totals_come_after_the_board_as_out_of_band_swaps(self, client, owner):
        DealFactory.create_batch(2, responsible=owner, amount=Decimal("10"))
        client.force_login(owner)
        response = client.get(BOARD, {"pipeline": pipeline(COLD).pk})
        assert 'data-totals-pending="1"' in html(response) and column(response, "Новая")["count"] == "…"
        totals = client.get(BOARD, {"pipeline": pipeline(COLD).pk, "part": "totals"}, HTTP_HX_REQUEST="true")
        page = html(totals)
        assert page.count('hx-swap-oob="true"') == 2 * pipeline(COLD).stages.count()
        new_id = stage(COLD, "Новая").pk
        assert f'id="board-count-{new_id}" data-testid="board-count-{new_id}" hx-swap-oob="true">2<' in page
        assert "20\xa0₽" in page and "kanban-card" not in page


class TestAccess:
    @pytest.mark.parametrize(("persona", "sees"), [
        ("owner", {"Сделка владельца"}),
        ("teammate", {"Сделка коллеги"}),
        ("outsider", {"Сделка чужого отдела"}),
        ("head", {"Сделка владельца", "Сделка коллеги", "Сделка чужого отдела"}),
        ("crm_admin", {"Сделка владельца", "Сделка коллеги", "Сделка чужого отдела", "Сделка вне отделов"}),
    ])
    def test_it_shows_only_the_deals_the_user_may_see(self, client, personas, persona, sees):
        everyone = {"Сделка владельца": personas["owner"], "Сделка коллеги": personas["teammate"],
                    "Сделка чужого отдела": personas["outsider"], "Сделка вне отделов": UserFactory()}
        for title, user in everyone.items():
            DealFactory(title=title, responsible=user, amount=Decimal("1"))
        client.force_login(personas[persona])
        response = board(client)
        new = column(response, "Новая")
        assert set(titles(new["cards"])) == sees and new["count"] == len(sees)
        page = html(response)
        for title in set(everyone) - sees:
            assert title not in page
        fragment = html(client.get(column_url(stage(COLD, "Новая")), HTTP_HX_REQUEST="true"))
        for title in everyone:
            assert (title in fragment) == (title in sees)

    def test_a_pipeline_hidden_from_a_role_disappears_and_its_deals_are_404(self, client, owner):
        hidden = DealFactory(title="Входящая", responsible=owner, pipeline=pipeline(INBOUND),
                             stage_id=stage(INBOUND, "Новая заявка").pk)
        DealFactory(title="Холодная", responsible=owner)
        user = hide_pipeline(owner, INBOUND)
        client.force_login(user)
        response = client.get(BOARD)
        page = html(response)
        assert [p["pipeline"].name for p in response.context["pipelines"]] == [GENERAL, COLD]
        assert f'?pipeline={pipeline(INBOUND).pk}"' not in page
        assert client.get(BOARD, {"pipeline": pipeline(INBOUND).pk}).status_code == 404
        assert client.get(column_url(stage(INBOUND, "Новая заявка"))).status_code == 404
        assert client.get(reverse("deals:detail", args=[hidden.pk])).status_code == 404
        assert move(client, hidden, stage(INBOUND, "Первичный контакт").pk).status_code == 404
        assert "Холодная" in html(board(client))

    def test_a_user_without_any_pipeline_is_told_so(self, client, owner):
        user = owner
        for name in (GENERAL, COLD, INBOUND):
            user = hide_pipeline(user, name)
        client.force_login(user)
        response = client.get(BOARD)
        assert response.status_code == 403 and "нет доступа ни к одной воронке" in html(response)

    def test_a_card_the_user_may_not_change_is_not_draggable(self, client, owner):
        from accounts.models import Role

        viewer = Role.objects.create(name="Наблюдатель")
        Permission.objects.create(role=viewer, entity=Entity.DEAL, action=Action.VIEW, level=Level.ALL)
        watcher = UserFactory()
        watcher.roles.add(viewer)
        DealFactory(title="Только смотреть", responsible=owner)
        client.force_login(watcher)
        page = html(board(client))
        assert "Только смотреть" in page and 'draggable="false"' in page and "Перевести в…" not in page
        assert "Создать сделку" not in page

    @pytest.mark.parametrize("value", ["abc", "999999", "-1", "' OR 1=1 --", "99999999999999999999999"])
    def test_a_tampered_pipeline_is_a_404_not_a_500(self, client, owner, value):
        client.force_login(owner)
        assert client.get(BOARD, {"pipeline": value}).status_code == 404

    def test_anonymous_users_are_sent_to_login(self, client):
        assert client.get(BOARD).status_code == 302
        assert client.get(column_url(stage(COLD, "Новая"))).status_code == 302


class TestPaging:
    def test_each_column_loads_only_its_first_page_and_more_on_demand(self, client, owner):
        deals = make_deals(PAGE_SIZE + 5, responsible=owner)
        newest_first = [d.title for d in reversed(deals)]
        client.force_login(owner)
        response = board(client)
        new = column(response, "Новая")
        assert new["count"] == PAGE_SIZE + 5 and titles(new["cards"]) == newest_first[:PAGE_SIZE]
        assert "Показать ещё" in html(response)
        more = client.get(new["next_url"], HTTP_HX_REQUEST="true")
        assert titles(more.context["cards"]) == newest_first[PAGE_SIZE:]
        assert "Показать ещё" not in html(more) and "<html" not in html(more)

    def test_the_cursor_neither_skips_nor_repeats_when_cards_leave_the_column(self, client, owner):
        from deals import services

        deals = make_deals(PAGE_SIZE + 3, responsible=owner)
        client.force_login(owner)
        new = column(board(client), "Новая")
        for shown in new["cards"][:2]:
            services.deal_move(shown, to=stage(COLD, "Презентация"), by=owner)
        more = client.get(new["next_url"], HTTP_HX_REQUEST="true")
        assert titles(more.context["cards"]) == [d.title for d in reversed(deals)][PAGE_SIZE:]

    def test_the_next_page_works_without_javascript(self, client, owner):
        make_deals(PAGE_SIZE + 1, responsible=owner)
        client.force_login(owner)
        page = html(client.get(column(board(client), "Новая")["next_url"]))
        assert "<html" in page and "Вернуться к канбану" in page and "kanban-card" in page

    def test_the_column_keeps_the_filters(self, client, owner):
        make_deals(PAGE_SIZE + 2, responsible=owner, title="Ромашка")
        make_deals(3, responsible=owner, title="Лютик", start=timezone.now() - dt.timedelta(days=60))
        client.force_login(owner)
        new = column(board(client, q="Ромашка"), "Новая")
        assert "q=" in new["next_url"]
        more = client.get(new["next_url"], HTTP_HX_REQUEST="true")
        assert titles(more.context["cards"]) == ["Ромашка", "Ромашка"]

    @pytest.mark.parametrize("after", ["abc", "1_x", "99999999999999999999999999_1", "_"])
    def test_a_tampered_cursor_is_refused_in_russian(self, client, owner, after):
        client.force_login(owner)
        response = client.get(column_url(stage(COLD, "Новая"), after=after))
        assert response.status_code == 400 and "Неверная позиция" in html(response)

    def test_an_unknown_stage_is_a_404(self, client, owner):
        client.force_login(owner)
        assert client.get("/deals/board/column/999999/").status_code == 404
        assert client.get("/deals/board/column/abc/").status_code == 404


class TestFilters:
    """The head filters the deals board as he filters the list: responsible, department, source,
    creation and close dates, the presets; cards, totals and the columns' URLs agree."""

    @pytest.fixture
    def spread(self, personas):
        cold, site = ref("Source", "Холодный звонок"), ref("Source", "Сайт")
        made = {
            "Сделка владельца": DealFactory(responsible=personas["owner"], source=cold, amount=Decimal("1"),
                                            close_date=dt.date(2030, 1, 10)),
            "Сделка коллеги": DealFactory(responsible=personas["teammate"], source=site, amount=Decimal("10"),
                                          close_date=dt.date(2030, 2, 10)),
            "Сделка чужого отдела": DealFactory(responsible=personas["outsider"], source=cold, amount=Decimal("100")),
            "Сделка руководителя": DealFactory(responsible=personas["head"], source=site, amount=Decimal("1000")),
        }
        for title, deal in made.items():
            Deal.objects.filter(pk=deal.pk).update(title=title)
        Deal.objects.filter(pk=made["Сделка чужого отдела"].pk).update(created_at=timezone.now() - dt.timedelta(days=40))
        return {"cold": cold, "site": site}

    def _new(self, client, **params):
        response = board(client, **params)
        assert response.status_code == 200
        new = column(response, "Новая")
        return set(titles(new["cards"])), new["count"], new["sum_lines"]

    def test_the_head_filters_by_a_manager_department_source_and_dates(self, client, personas, org, spread):
        client.force_login(personas["head"])
        assert self._new(client, responsible=personas["teammate"].pk) == ({"Сделка коллеги"}, 1, ["10\xa0₽"])
        assert self._new(client, department=org["group2"].pk) == ({"Сделка чужого отдела"}, 1, ["100\xa0₽"])
        assert self._new(client, source=spread["site"].pk)[:2] == ({"Сделка коллеги", "Сделка руководителя"}, 2)
        since = (timezone.localdate() - dt.timedelta(days=5)).isoformat()
        assert self._new(client, created_after=since)[1] == 3
        assert self._new(client, close_after="2030-02-01", close_before="2030-02-28")[:2] == ({"Сделка коллеги"}, 1)
        assert self._new(client, preset="mine")[:2] == ({"Сделка руководителя"}, 1)
        assert self._new(client)[1] == 4

    @pytest.mark.parametrize(("persona", "presets"), [
        ("owner", []),
        ("head", ["mine", "all"]),
        ("head_of_all", ["mine", "department", "all"]),
    ])
    def test_presets_are_offered_where_they_differ(self, client, personas, persona, presets):
        user = personas["owner" if persona == "owner" else "head"]
        if persona == "head_of_all":
            user = see_all_deals(user)
        client.force_login(user)
        response = board(client)
        assert [item["value"] or "all" for item in response.context["preset_urls"]] == presets
        assert ('data-testid="board-presets"' in html(response)) == bool(presets)

    def test_my_department_for_a_head_who_sees_every_deal(self, client, personas, spread):
        DealFactory(title="Сделка вне отделов", responsible=UserFactory())
        client.force_login(see_all_deals(personas["head"]))
        assert self._new(client)[1] == 5
        cards, count, _sums = self._new(client, preset="department")
        assert "Сделка вне отделов" not in cards and count == 4

    @pytest.mark.parametrize("params", [
        {"responsible": "abc"}, {"department": "1.5"}, {"source": "\x00"}, {"close_after": "31.02.2030"},
        {"preset": "\x00"}, {"close_after": "2030-02-02", "close_before": "2030-01-01"},
    ])
    def test_bad_values_get_a_russian_message_not_a_500(self, client, owner, params):
        DealFactory(title="Своя сделка", responsible=owner)
        client.force_login(owner)
        response = board(client, **params)
        assert response.status_code == 200
        assert 'data-testid="board-filter-errors"' in html(response)
        assert titles(column(response, "Новая")["cards"]) == ["Своя сделка"]
        assert client.get(column_url(stage(COLD, "Новая"), **params)).status_code == 400

    def test_columns_totals_and_tabs_carry_the_filters(self, client, personas, spread):
        make_deals(PAGE_SIZE + 1, responsible=personas["teammate"], source=spread["site"], close_date=dt.date(2030, 2, 1))
        client.force_login(personas["head"])
        params = {"responsible": personas["teammate"].pk, "source": spread["site"].pk, "close_after": "2030-01-15"}
        response = board(client, **params)
        new = column(response, "Новая")
        tabs = [item["url"] for item in response.context["pipelines"]]
        for url in (new["url"], new["next_url"], response.context["totals_url"], *tabs):
            for key in params:
                assert f"{key}=" in url
        more = client.get(new["next_url"], HTTP_HX_REQUEST="true")
        assert more.status_code == 200 and len(more.context["cards"]) == 2  # 11 + «Сделка коллеги», 10 a page
        totals = client.get(response.context["totals_url"], HTTP_HX_REQUEST="true")
        assert f'id="board-count-{stage(COLD, "Новая").pk}"' in html(totals)
        assert 'hx-swap-oob="true">12<' in html(totals)


def see_all_deals(user):
    """A head of sales whose role sees every deal (while he works with his own department)."""
    Permission.objects.filter(role__in=user.roles.all(), entity=Entity.DEAL, action=Action.VIEW).update(level=Level.ALL)
    return type(user).objects.get(pk=user.pk)


class TestTouches:
    def test_each_card_shows_its_next_touch_and_the_filter_finds_deals_with_none(self, client, owner):
        planned, overdue, nothing = (DealFactory(title=t, responsible=owner) for t in ("План", "Просрочка", "Ничего"))
        plan_touch(planned, timezone.now() + dt.timedelta(days=3))
        plan_touch(overdue, timezone.now() - dt.timedelta(days=3))
        client.force_login(owner)
        response = board(client)
        new = column(response, "Новая")
        assert {d.title: d.mark.testid for d in new["cards"]} == {
            "План": "touch-planned", "Просрочка": "touch-overdue", "Ничего": "touch-none"}
        page = response.content.decode()
        assert 'name="touches"' in page and "Без запланированных дел" in page
        assert titles(column(board(client, touches="none"), "Новая")["cards"]) == ["Ничего"]
        assert titles(column(board(client, touches="overdue"), "Новая")["cards"]) == ["Просрочка"]
        # The list: the same marks and the same filter.
        listed = client.get(reverse("deals:list"), {"touches": "none"})
        assert [d.title for d in listed.context["deals"]] == ["Ничего"]
        assert 'data-testid="touch-none"' in listed.content.decode()


class TestQueryBudget:
    def _spread(self, n, users):
        stages = {name: list(pipeline(name).stages.order_by("sort")) for name in (GENERAL, COLD, INBOUND)}
        reason = LossReason.objects.first()
        seen = dict.fromkeys(stages, 0)
        for i in range(n):
            name = (COLD, COLD, GENERAL, INBOUND)[i % 4]
            s = stages[name][seen[name] % len(stages[name])]
            seen[name] += 1
            DealFactory(responsible=users[i % len(users)], pipeline=pipeline(name), stage_id=s.pk, amount=Decimal(i),
                        currency="USD" if i % 7 == 0 else "RUB", close_date=dt.date(2030, 1, 1) if i % 3 else None,
                        loss_reason=reason if s.semantics == Stage.Semantics.FAILURE else None)

    def _queries(self, client, **params) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert board(client, **params).status_code == 200
        return len(queries)

    def _filters(self, personas, persona) -> dict:
        """Every filter the persona is offered, applied at once."""
        params = {"source": ref("Source").pk, "created_after": "2020-01-01", "close_before": "2100-01-01"}
        if persona != "owner":
            params |= {"responsible": personas["teammate"].pk, "department": personas["teammate"].department_id,
                       "preset": "mine" if persona == "head" else "department"}
        return params

    @pytest.mark.parametrize("persona", ["owner", "head", "crm_admin"])
    def test_the_board_costs_a_fixed_number_of_queries(self, client, personas, persona,
                                                       django_assert_max_num_queries):
        users = [personas["owner"], personas["teammate"], personas["outsider"]]
        self._spread(60, users)
        client.force_login(personas[persona])
        small = self._queries(client)
        self._spread(190, users)
        assert Deal.objects.count() == 250
        assert self._queries(client) == small
        # The touches' badges: one query for the board whatever the number of tasks.
        for i, deal in enumerate(Deal.objects.filter(pipeline=pipeline(COLD)).order_by("-pk")[:30]):
            for days in (-1, 1, 2) if i % 2 else (3,):
                plan_touch(deal, timezone.now() + dt.timedelta(days=days))
        assert self._queries(client) == small
        # Filters cost no query: their choices are read whether a filter is applied or not (a
        # board the filters leave empty skips the badges' query).
        filters = self._filters(personas, persona)
        assert self._queries(client, **filters) <= small
        assert self._queries(client, touches="none") == small
        # session, user, access levels, (department tree, owners), pipelines, stages, one
        # aggregate, one query for the open columns' cards, the touches' badges, the filter
        # bar's choices (departments, users, sources)
        with django_assert_max_num_queries(20):
            response = board(client)
        with django_assert_max_num_queries(20):
            board(client, **filters)
        with django_assert_max_num_queries(small - 1):
            # The totals part: one aggregate, but no cards, no filter bar, no badges
            assert board(client, part="totals", **filters).status_code == 200
        if persona == "crm_admin":
            assert sum(len(c["cards"]) for c in response.context["columns"] if c["loaded"]) == PAGE_SIZE * 6

    def test_the_next_page_costs_a_fixed_number_of_queries(self, client, owner, django_assert_max_num_queries):
        make_deals(3 * PAGE_SIZE, responsible=owner)
        client.force_login(owner)
        new = column(board(client), "Новая")
        with django_assert_max_num_queries(7):
            assert client.get(new["next_url"], HTTP_HX_REQUEST="true").status_code == 200

    @pytest.mark.parametrize("persona", ["owner", "head", "crm_admin"])
    def test_a_filtered_column_costs_what_an_unfiltered_one_does(self, client, personas, persona,
                                                                  django_assert_max_num_queries):
        make_deals(3 * PAGE_SIZE, responsible=personas["teammate"] if persona != "owner" else personas["owner"])
        client.force_login(personas[persona])
        plain = column(board(client), "Новая")["url"]
        filtered = column(board(client, **self._filters(personas, persona)), "Новая")["url"]
        assert filtered != plain
        counts = []
        for url in (plain, filtered):
            with CaptureQueriesContext(connection) as queries:
                assert client.get(url, HTTP_HX_REQUEST="true").status_code == 200
            counts.append(len(queries))
        assert counts[1] <= counts[0]  # the filtered column is empty: no badges to read
        with django_assert_max_num_queries(8):
            client.get(filtered, HTTP_HX_REQUEST="true")


class TestMove:
    """The drop posts `to` (a stage id) to deals:move with HX-Request; the endpoint answers."""

    def test_an_allowed_move_triggers_deal_moved(self, client, owner):
        deal = DealFactory(responsible=owner)
        target = stage(COLD, "Презентация")
        client.force_login(owner)
        response = move(client, deal, target.pk)
        assert response.status_code == 200 and response["HX-Reswap"] == "none"
        trigger = json.loads(response["HX-Trigger"])
        assert "crm:close-modal" in trigger
        assert trigger["deal-moved"]["id"] == deal.pk
        assert trigger["deal-moved"]["from"] == stage(COLD, "Новая").pk and trigger["deal-moved"]["to"] == target.pk
        assert Deal.objects.get(pk=deal.pk).stage_id == target.pk
        after = board(client)
        assert column(after, "Новая")["count"] == 0 and column(after, "Презентация")["count"] == 1

    def test_from_the_board_the_event_brings_the_fresh_card(self, client, owner):
        """The dialog may change what the card shows (the amount): the board swaps the card for
        the server's. The card page gets no card (it reloads)."""
        deal = DealFactory(responsible=owner, stage_id=stage(COLD, "Презентация").pk)
        target = stage(COLD, "Отказ")
        client.force_login(owner)
        board_url = f"http://testserver{BOARD}?pipeline={pipeline(COLD).pk}"
        response = client.post(reverse("deals:move", args=[deal.pk]),
                               {"to": target.pk, "dialog": "1", "loss_reason": LossReason.objects.first().pk},
                               HTTP_HX_REQUEST="true", HTTP_HX_CURRENT_URL=board_url)
        card = json.loads(response["HX-Trigger"])["deal-moved"]["card"]
        assert f'id="board-card-{deal.pk}"' in card and f'data-stage="{target.pk}"' in card
        assert "<html" not in card
        from_card = client.post(reverse("deals:move", args=[deal.pk]), {"to": stage(COLD, "Новая").pk},
                                HTTP_HX_REQUEST="true", HTTP_HX_CURRENT_URL=f"http://testserver/deals/{deal.pk}/")
        assert "card" not in json.loads(from_card["HX-Trigger"])["deal-moved"]

    def test_missing_fields_answer_the_dialog_with_exactly_them_and_a_product_row(self, client, owner):
        deal = DealFactory(responsible=owner, stage_id=stage(COLD, "Презентация").pk)
        client.force_login(owner)
        response = move(client, deal, stage(COLD, "КП отправлено").pk)
        assert response.status_code == 200 and response["HX-Retarget"] == "#crm-modal-content"
        assert "HX-Trigger" not in response
        page = html(response)
        assert MISSING in page
        form = response.context["form"]
        assert list(form.fields) == ["amount", "currency", "to"]
        rows = response.context["rows"]
        assert rows is not None and rows.min_num == 1
        assert 'name="products-0-product"' in page and 'name="products-0-quantity"' in page
        assert 'name="products-0-price"' in page
        for absent in ('name="loss_reason"', 'name="company"', 'name="close_date"', 'name="title"'):
            assert absent not in page
        assert Deal.objects.get(pk=deal.pk).stage_id == stage(COLD, "Презентация").pk

    def _dialog(self, **rows):
        data = {"dialog": "1", "amount": "50000", "currency": "RUB", "products-TOTAL_FORMS": "2",
                "products-INITIAL_FORMS": "0", "products-MIN_NUM_FORMS": "1", "products-MAX_NUM_FORMS": "100",
                "products-0-quantity": "1", "products-1-quantity": "1"}
        data.update(rows)
        return data

    def test_the_dialog_saved_sets_the_rows_and_moves_the_deal(self, client, owner):
        deal = DealFactory(responsible=owner, stage_id=stage(COLD, "Презентация").pk)
        target = stage(COLD, "КП отправлено")
        client.force_login(owner)
        response = move(client, deal, target.pk, **self._dialog(**{
            "products-0-product": ref("Product", "Тренинги").pk, "products-0-quantity": "2",
            "products-0-price": "15000"}))
        assert json.loads(response["HX-Trigger"])["deal-moved"]["to"] == target.pk
        deal = Deal.objects.get(pk=deal.pk)
        assert deal.stage_id == target.pk
        assert deal.amount == Decimal("30000")  # the amount follows the rows
        assert [(r.product.name, r.quantity, r.price) for r in deal.products.all()] == [
            ("Тренинги", Decimal("2"), Decimal("15000"))]

    def test_the_dialog_without_a_product_row_is_asked_again_and_saves_nothing(self, client, owner):
        deal = DealFactory(responsible=owner, stage_id=stage(COLD, "Презентация").pk)
        client.force_login(owner)
        response = move(client, deal, stage(COLD, "КП отправлено").pk, **self._dialog())
        page = html(response)
        assert MISSING in page and "Обязательное поле" in page and "HX-Trigger" not in response
        deal = Deal.objects.get(pk=deal.pk)
        assert deal.stage_id == stage(COLD, "Презентация").pk and deal.amount == 0 and not deal.products.exists()

    @pytest.mark.parametrize(("field", "value", "message"), [
        ("products-0-quantity", "0", "Количество должно быть больше нуля"),
        ("products-0-price", "-5", "Цена не может быть отрицательной"),
        ("products-0-product", "999999", "Такого товара нет"),
        ("products-0-quantity", "abc", "Введите число"),
    ])
    def test_bad_rows_get_a_russian_message(self, client, owner, field, value, message):
        deal = DealFactory(responsible=owner, stage_id=stage(COLD, "Презентация").pk)
        client.force_login(owner)
        data = self._dialog(**{"products-0-product": ref("Product").pk, "products-0-price": "100"})
        data[field] = value
        response = move(client, deal, stage(COLD, "КП отправлено").pk, **data)
        assert response.status_code == 200 and message in html(response)
        assert not DealProduct.objects.exists()

    def test_a_move_refused_after_the_rows_leaves_no_rows(self, client, owner, monkeypatch):
        """The rules changed between the dialog and the save: the rows and the move are one
        transaction, so the refused move leaves the rows unsaved too."""
        from deals.requirements import CATALOGUE

        deal = DealFactory(responsible=owner, stage_id=stage(COLD, "Презентация").pk)
        StageRequirement.objects.create(stage=stage(COLD, "КП отправлено"), key="close_date")
        client.force_login(owner)
        # The view still knows the old rules (amount and rows only); the service knows the new one.
        monkeypatch.setattr("deals.views.missing_for", lambda deal, to: [CATALOGUE["amount"], CATALOGUE["products"]])
        data = self._dialog(**{"products-0-product": ref("Product").pk, "products-0-price": "100"})
        response = move(client, deal, stage(COLD, "КП отправлено").pk, **data)
        page = html(response)
        assert MISSING in page and 'name="close_date"' in page
        assert not DealProduct.objects.exists()
        assert Deal.objects.get(pk=deal.pk).stage_id == stage(COLD, "Презентация").pk

    def test_a_drop_on_the_failure_stage_asks_for_the_loss_reason(self, client, owner):
        deal = DealFactory(responsible=owner)
        lost = stage(COLD, "Отказ")
        client.force_login(owner)
        response = move(client, deal, lost.pk)
        assert list(response.context["form"].fields) == ["loss_reason", "to"] and response.context["rows"] is None
        assert "Дорого" in html(response)
        reason = LossReason.objects.get(name="Дорого")
        response = move(client, deal, lost.pk, dialog="1", loss_reason=reason.pk)
        assert json.loads(response["HX-Trigger"])["deal-moved"]["to"] == lost.pk
        deal = Deal.objects.get(pk=deal.pk)
        assert deal.stage_id == lost.pk and deal.loss_reason == reason

    def test_a_stage_of_another_pipeline_is_refused_in_russian(self, client, owner):
        deal = DealFactory(responsible=owner)
        client.force_login(owner)
        response = move(client, deal, stage(INBOUND, "Демонстрация").pk)
        assert response["HX-Retarget"] == "#crm-modal-content"
        page = html(response)
        assert 'data-testid="move-refused"' in page and "из другой воронки" in page and "смените воронку" in page
        assert Deal.objects.get(pk=deal.pk).stage_id == stage(COLD, "Новая").pk

    @pytest.mark.parametrize("to", ["", "abc", "999999", "-3", "1.5", "99999999999999999999999999"])
    def test_garbage_stages_are_a_404_not_a_500(self, client, owner, to):
        deal = DealFactory(responsible=owner)
        client.force_login(owner)
        assert move(client, deal, to).status_code == 404

    def test_tampered_deal_ids_are_a_404(self, client, owner):
        client.force_login(owner)
        assert client.post("/deals/999999/move/", {"to": stage(COLD, "Презентация").pk}).status_code == 404
        assert client.post("/deals/abc/move/", {"to": stage(COLD, "Презентация").pk}).status_code == 404

    def test_moving_needs_a_post(self, client, owner):
        deal = DealFactory(responsible=owner)
        client.force_login(owner)
        assert client.get(reverse("deals:move", args=[deal.pk]), {"to": stage(COLD, "Презентация").pk}).status_code == 405

    @pytest.mark.parametrize("persona", ["teammate", "outsider"])
    def test_strangers_cannot_move_a_card_they_cannot_see(self, client, personas, persona):
        deal = DealFactory(responsible=personas["owner"])
        client.force_login(personas[persona])
        assert move(client, deal, stage(COLD, "Презентация").pk).status_code == 404
        assert Deal.objects.get(pk=deal.pk).stage_id == stage(COLD, "Новая").pk

    def test_the_fallback_without_javascript_returns_to_the_board(self, client, owner):
        deal = DealFactory(responsible=owner)
        client.force_login(owner)
        back = f"{BOARD}?pipeline={pipeline(COLD).pk}"
        response = client.post(reverse("deals:move", args=[deal.pk]),
                               {"to": stage(COLD, "Презентация").pk, "next": back})
        assert response.status_code == 302 and response["Location"] == back
        evil = client.post(reverse("deals:move", args=[deal.pk]),
                           {"to": stage(COLD, "Новая").pk, "next": "https://evil.example/"})
        assert evil["Location"] == reverse("deals:detail", args=[deal.pk])

    def test_the_dialog_works_without_javascript_too(self, client, owner):
        deal = DealFactory(responsible=owner)
        client.force_login(owner)
        page = html(client.post(reverse("deals:move", args=[deal.pk]), {"to": stage(COLD, "Отказ").pk}))
        assert "<html" in page and MISSING in page

    def test_the_money_line_is_formatted(self):
        assert format_money(Decimal("30000"), "RUB") == "30\xa0000\xa0₽"
