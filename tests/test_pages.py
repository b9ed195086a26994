"""The lists' pages and the boards' first cards at any size (issue 13): the count told by the
tallies or capped («более 10 000»), every page — the deep and the last — with its own rows, the
same number of queries for 3 records as for 60, and the boards' one cards query showing what a
query per column showed."""

import datetime as dt
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts import access
from accounts.models import Action
from crm import boards, lists
from deals import selectors as deal_selectors
from deals.models import Deal
from leads import selectors as lead_selectors
from leads import views_list as lead_views
from leads.models import ORDER, Lead, Status
from tests.factories import COLD, DealFactory, LeadFactory, pipeline

LEADS, DEALS = reverse("leads:list"), reverse("deals:list")


def text(response) -> str:
    return unescape(response.content.decode()).replace("\xa0", " ")


# A filter neither the tallies nor a search's probe can count: the list counts itself.
UNTALLIED = {"created_after": "2000-01-01"}


def make_leads(n: int, *, responsible, status: str = Status.NEW, start=None) -> list[Lead]:
    """`n` leads a minute apart (the newest last), so the list's order is known."""
    start = start or timezone.now() - dt.timedelta(days=30)
    leads = LeadFactory.create_batch(n, responsible=responsible)
    for i, lead in enumerate(leads):
        Lead.objects.filter(pk=lead.pk).update(created_at=start + dt.timedelta(minutes=i), status=status)
    return leads


def queries(client, url, **params) -> int:
    client.get(url, params)  # the content types' cache warmed, as in a running server
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url, params).status_code == 200
    return len(captured)


def row_ids(response, model: str) -> list[int]:
    return [record.pk for record in response.context[model]]


# --- The count ---

class TestCount:
    def test_it_shows_the_count_the_tallies_know_without_counting(self, client, owner, monkeypatch):
        make_leads(3, responsible=owner)
        asked = []

        def known_count(user, model, **kwargs):
            asked.append((user, model, kwargs))
            return 12345

        monkeypatch.setattr(lists, "known_count", known_count)
        client.force_login(owner)
        with CaptureQueriesContext(connection) as captured:
            response = client.get(LEADS)
        assert "Найдено лидов: 12345" in text(response)
        assert not [q for q in captured.captured_queries if "COUNT(" in q["sql"].upper()]
        assert asked == [(owner, Lead, {"owners": None, "columns": None})]

    def test_it_asks_the_tallies_for_the_statuses_filtered_by(self, client, owner, monkeypatch):
        make_leads(3, responsible=owner)
        asked = []
        monkeypatch.setattr(lists, "known_count", lambda user, model, **kwargs: asked.append(kwargs) or 2)
        client.force_login(owner)
        response = client.get(LEADS, {"status": [Status.NEW, Status.FIRST_CALL]})
        assert "Найдено лидов: 2" in text(response)
        assert asked == [{"owners": None, "columns": [Status.NEW, Status.FIRST_CALL]}]

    def test_it_counts_itself_what_the_tallies_cannot_count(self, client, owner, monkeypatch):
        make_leads(3, responsible=owner)
        monkeypatch.setattr(lists, "known_count", lambda *args, **kwargs: pytest.fail("a search is not tallied"))
        client.force_login(owner)
        response = client.get(LEADS, {"q": "Лид"})
        assert "Найдено лидов: 3" in text(response)

    def test_it_says_more_than_the_cap_and_offers_no_last_page_it_did_not_count(self, client, owner, monkeypatch):
        make_leads(9, responsible=owner)
        monkeypatch.setattr(lists, "COUNT_CAP", 5)
        monkeypatch.setattr(lead_views, "PER_PAGE", 2)
        client.force_login(owner)
        response = client.get(LEADS, UNTALLIED)
        assert "Найдено лидов: более 5" in text(response)
        assert "показаны 1–2" in text(response)
        ellipsis = response.context["page"].paginator.ELLIPSIS
        # Six leads counted: pages 1–3 are known to have rows; what follows is not known.
        assert list(response.context["page_range"]) == [1, 2, 3, ellipsis]
        assert response.context["page"].has_next()

    def test_a_broad_search_says_more_than_it_found_without_counting(self, client, owner, monkeypatch):
        """The search's probe already knows that more than FEW_MATCHES leads match: the list says
        «более …» from it, with no COUNT over the matches, and offers only the pages within."""
        make_leads(9, responsible=owner)
        monkeypatch.setattr(lists, "FEW_MATCHES", 5)
        monkeypatch.setattr(lead_views, "PER_PAGE", 2)
        client.force_login(owner)
        with CaptureQueriesContext(connection) as captured:
            response = client.get(LEADS, {"q": "Лид"})
        assert "Найдено лидов: более 5" in text(response)
        assert not [q for q in captured.captured_queries if "COUNT(" in q["sql"].upper()]
        assert len(response.context["leads"]) == 2
        ellipsis = response.context["page"].paginator.ELLIPSIS
        assert list(response.context["page_range"]) == [1, 2, 3, ellipsis]
        assert response.context["page"].has_next()

    def test_a_broad_search_counts_when_another_filter_narrows_it_or_the_page_is_deeper(self, client, owner,
                                                                                         monkeypatch):
        make_leads(9, responsible=owner)
        make_leads(2, responsible=owner, status=Status.JUNK)
        monkeypatch.setattr(lists, "FEW_MATCHES", 5)
        monkeypatch.setattr(lead_views, "PER_PAGE", 2)
        client.force_login(owner)
        # The search is applied first: its «more than 5» says nothing of the junk leads among them.
        assert "Найдено лидов: 2" in text(client.get(LEADS, {"q": "Лид", "status": Status.JUNK}))
        deep = client.get(LEADS, {"q": "Лид", "page": 4})  # rows 7–8: past what the probe knows
        assert "Найдено лидов: 11" in text(deep) and deep.context["page"].number == 4

    def test_it_says_more_than_ten_thousand_with_the_digits_grouped(self, rf, owner):
        paginator = lists.ListPaginator(list(range(60)), 50, count=lists.COUNT_CAP + 1, capped=True)
        assert lists.total_text(paginator.page(1)).replace("\xa0", " ") == "более 10 000"

    def test_it_counts_as_deep_as_the_page_asked_for(self, client, owner, monkeypatch):
        make_leads(9, responsible=owner)
        monkeypatch.setattr(lists, "COUNT_CAP", 3)
        monkeypatch.setattr(lead_views, "PER_PAGE", 2)
        client.force_login(owner)
        response = client.get(LEADS, {**UNTALLIED, "page": 4})
        page = response.context["page"]
        assert page.number == 4 and page.has_next()
        assert "Найдено лидов: более 8" in text(response)
        last = client.get(LEADS, {**UNTALLIED, "page": 5})
        # Past the cap but the whole list counted: the count is exact again, the last page known.
        assert "Найдено лидов: 9" in text(last)
        assert last.context["page"].number == 5 and not last.context["page"].has_next()


# --- Every page its own rows ---

class TestPages:
    @pytest.mark.parametrize("tallied", [True, False])
    def test_every_page_shows_its_own_rows_the_last_one_too(self, client, owner, monkeypatch, tallied):
        leads = make_leads(7, responsible=owner)
        monkeypatch.setattr(lead_views, "PER_PAGE", 2)
        if tallied:
            monkeypatch.setattr(lists, "known_count", lambda *args, **kwargs: 7)
        client.force_login(owner)
        shown = []
        for number in (1, 2, 3, 4):
            response = client.get(LEADS, {"page": number})
            assert response.context["page"].number == number
            shown += row_ids(response, "leads")
        assert shown == [lead.pk for lead in reversed(leads)]  # newest first, none repeated or skipped

    def test_the_last_page_is_read_from_the_end(self, owner, rf):
        make_leads(7, responsible=owner)
        ids = Lead.objects.order_by("-created_at", "-pk")
        request = rf.get("/", {"page": "4"})
        with CaptureQueriesContext(connection) as captured:
            page = lists.page_of_ids(request, ids, 2, count=7)
            assert list(page.object_list) == [ids.last().pk]
        assert "ORDER BY" in captured.captured_queries[0]["sql"] and " ASC" in captured.captured_queries[0]["sql"]

    def test_a_sorted_list_pages_the_same_rows_from_the_end(self, client, owner, monkeypatch):
        leads = make_leads(7, responsible=owner)
        for i, lead in enumerate(leads):
            Lead.objects.filter(pk=lead.pk).update(amount=(i % 3) * 100)  # ties: the pk decides
        monkeypatch.setattr(lead_views, "PER_PAGE", 3)
        monkeypatch.setattr(lists, "known_count", lambda *args, **kwargs: 7)
        client.force_login(owner)
        shown = [pk for n in (1, 2, 3) for pk in row_ids(client.get(LEADS, {"page": n, "sort": "amount"}), "leads")]
        assert shown == list(Lead.objects.order_by("amount", "pk").values_list("pk", flat=True))

    def test_a_page_past_the_end_shows_the_last(self, client, owner):
        leads = make_leads(3, responsible=owner)
        client.force_login(owner)
        response = client.get(LEADS, {"page": 99})
        assert row_ids(response, "leads") == [lead.pk for lead in reversed(leads)]


# --- The same queries at any size ---

class TestQueryCounts:
    @pytest.mark.parametrize("persona", ["owner", "head"])
    @pytest.mark.parametrize("params", [{}, {"page": "2"}, {"q": "Лид"}, {"status": "new"}, {"sort": "amount"}])
    def test_the_leads_list_costs_the_same_for_3_and_60_leads(self, client, personas, persona, params,
                                                              django_assert_max_num_queries):
        users = [personas["owner"], personas["teammate"], personas["outsider"]]
        for user in users:
            make_leads(1, responsible=user)
        client.force_login(personas[persona])
        small = queries(client, LEADS, **params)
        for user in users:
            make_leads(19, responsible=user)
        assert queries(client, LEADS, **params) == small
        with django_assert_max_num_queries(17):
            assert client.get(LEADS, params).status_code == 200

    @pytest.mark.parametrize("persona", ["owner", "head"])
    @pytest.mark.parametrize("params", [{}, {"page": "2"}, {"q": "Сделка"}, {"sort": "stage"}])
    def test_the_deals_list_costs_the_same_for_3_and_60_deals(self, client, personas, persona, params,
                                                              django_assert_max_num_queries):
        users = [personas["owner"], personas["teammate"], personas["outsider"]]
        for user in users:
            DealFactory(responsible=user)
        client.force_login(personas[persona])
        small = queries(client, DEALS, **params)
        for user in users:
            DealFactory.create_batch(19, responsible=user)
        assert queries(client, DEALS, **params) == small
        # A search first finds the companies it names, then probes the deals (crm.lists.search).
        with django_assert_max_num_queries(19 if "q" in params else 17):
            assert client.get(DEALS, params).status_code == 200

    def test_the_filter_panel_reads_each_select_once_without_a_cursor(self, client, head):
        client.force_login(head)
        # The panel (loaded by htmx after the rows: crm.lists.panel_context), and the page, whose
        # rows read the sources they show.
        for params, headers in (({"panel": "1"}, {"HX-Request": "true"}), ({}, {})):
            with CaptureQueriesContext(connection) as captured:
                assert client.get(LEADS, params, headers=headers).status_code == 200
            sqls = [q["sql"] for q in captured.captured_queries]
            assert not [sql for sql in sqls if sql.startswith("DECLARE")]  # no server-side cursor
            assert len([sql for sql in sqls if 'FROM "crm_source"' in sql]) == (1 if params else 0)


# --- The boards' first cards in one query ---

def _per_column(queryset, columns, column_of):
    """What the boards showed before: a query per column (crm.boards.keyset_page)."""
    pages = {}
    for column in columns:
        cards, cursor = boards.keyset_page(column_of(queryset, column), None, 3)
        pages[column] = ([card.pk for card in cards], cursor)
    return pages


class TestFirstCards:
    def test_the_leads_columns_in_one_query_are_the_columns_queried_one_by_one(self, owner, head):
        start = timezone.now() - dt.timedelta(days=10)
        for i, status in enumerate(ORDER):
            make_leads(i + 1, responsible=owner, status=status, start=start)  # 1 … 7 leads a column
        make_leads(5, responsible=owner, status=Status.NEW, start=start)  # the same instants: the pk decides
        leads = lead_selectors.board_leads(head, owners_of(head, Lead), boards.board_filters(_get({})))
        with CaptureQueriesContext(connection) as captured:
            together = lead_selectors.board_first_pages(leads, list(ORDER), 3)
        assert len(captured) == 1
        assert {s: ([c.pk for c in cards], cursor) for s, (cards, cursor) in together.items()} == \
            _per_column(leads, ORDER, lead_selectors.board_column)
        assert len(together[Status.NEW][0]) == 3 and together[Status.NEW][1]
        assert len(together[Status.JUNK][0]) == 3  # seven leads: three shown and a cursor
        assert together[ORDER[0]][1] and not together[ORDER[1]][1]  # two leads: no next page

    def test_the_deals_columns_in_one_query_are_the_columns_queried_one_by_one(self, owner):
        stages = list(pipeline(COLD).stages.order_by("sort"))
        start = timezone.now() - dt.timedelta(days=10)
        for i, stage in enumerate(stages):
            for n in range(i % 5):
                deal = DealFactory(responsible=owner, pipeline=pipeline(COLD), stage_id=stage.pk)
                Deal.objects.filter(pk=deal.pk).update(created_at=start + dt.timedelta(minutes=n))
        deals = deal_selectors.board_deals(owner, owners_of(owner, Deal, pipeline(COLD).access_scope), stages,
                                           boards.board_filters(_get({}), close_dates=True))
        ids = [s.pk for s in stages]
        with CaptureQueriesContext(connection) as captured:
            together = deal_selectors.board_first_pages(deals, ids, 3)
        assert len(captured) == 1
        one_by_one = _per_column(deals, stages, deal_selectors.board_column)
        assert {s: ([c.pk for c in cards], cursor) for s, (cards, cursor) in together.items()} == \
            {s.pk: page for s, page in one_by_one.items()}
        assert any(len(cards) == 3 and cursor for cards, cursor in together.values())

    def test_no_open_column_costs_no_query(self, owner):
        with CaptureQueriesContext(connection) as captured:
            assert boards.first_pages(Lead.objects.all(), "status", [], 10) == {}
        assert len(captured) == 0

    def test_a_user_who_sees_no_lead_gets_empty_columns_without_a_query(self, owner):
        make_leads(2, responsible=owner)
        with CaptureQueriesContext(connection) as captured:
            pages = boards.first_pages(Lead.objects.none(), "status", [Status.NEW, Status.JUNK], 10)
        assert pages == {Status.NEW: ([], None), Status.JUNK: ([], None)}
        assert len(captured) == 0


def owners_of(user, model, scope="") -> lists.Owners:
    return lists.Owners(user, access.level(user, model.access_entity, Action.VIEW, scope))


def test_the_responsible_filter_names_a_department_as_the_users_table_does(head, owner, teammate, outsider, org):
    """A head's filter takes his people's names from the access rules' own read of his departments
    (accounts.access.people): the same people and names as reading the users, and no query more.
    They sort as a Russian reader expects — case aside, «Ё» with «Е» — whatever the database's
    collation (the test cluster's is byte order: «Ёлкин» first, «агеев» last); a fired manager is not offered."""
    from accounts.models import User
    from tests.factories import UserFactory

    UserFactory(username="yolkin", last_name="Ёлкин", first_name="Иван", department=org["group2"], role="Менеджер")
    UserFactory(username="egorov", last_name="Егоров", first_name="Илья", department=org["group2"], role="Менеджер")
    UserFactory(username="low", last_name="агеев", first_name="", department=org["group1"], role="Менеджер")
    UserFactory(username="gone", last_name="Уволенный", first_name="Ушёл", department=org["group1"], is_active=False)
    fresh = User.objects.get(pk=head.pk)
    owners = owners_of(fresh, Lead)
    read = [(u.pk, str(u)) for u in owners.user_choices()]
    with CaptureQueriesContext(connection) as captured:
        labels = owners.user_labels()
    assert sorted(labels) == sorted(read)
    assert [name for _pk, name in labels] == ["агеев", "Егоров Илья", "Ёлкин Иван", "Иванов Пётр", "Петрова Мария",
                                              "Сидоров Алексей", "Смирнова Ольга"]
    assert len(captured) == 0  # user_choices() above made the rules read the departments' people


def _get(params):
    from django.test import RequestFactory

    return RequestFactory().get("/", params)


# --- A row's dates ---

@pytest.mark.parametrize("language", ["ru", "en"])
def test_a_rows_dates_read_as_the_date_filter_shows_them(settings, language):
    from django.template import Context, Template
    from django.utils import translation
    from django.utils.formats import get_format

    moment = dt.datetime(2026, 3, 4, 22, 5, tzinfo=dt.UTC)  # 5 March 01:05 in Moscow
    with translation.override(language), timezone.override("Europe/Moscow"):
        shown = Template('{{ m|date:"SHORT_DATE_FORMAT" }} {{ m|time:"H:i" }} {{ d|date:"SHORT_DATE_FORMAT" }}').render(
            Context({"m": moment, "d": moment.date()}))
        day, hour = lists.date_texts(get_format("SHORT_DATE_FORMAT")), lists.date_texts("H:i")
        assert f"{day(moment)} {hour(moment)} {day(moment.date())}" == shown
        assert lists.date_texts("j E Y")(moment) == Template('{{ m|date:"j E Y" }}').render(Context({"m": moment}))
    assert day(None) == ""


# --- The filter panel ---

def test_the_filter_panel_shows_a_renamed_source_and_the_chosen_one(client, owner):
    from crm.models import Source
    from tests.factories import ref

    def panel(params=None):  # loaded by htmx after the rows (crm.lists.panel_context)
        return text(client.get(LEADS, {**(params or {}), "panel": "1"}, headers={"HX-Request": "true"}))

    source = ref("Source", "Контур.Компас")
    client.force_login(owner)
    assert "Контур.Компас</option>" in panel()
    Source.objects.filter(pk=source.pk).update(name="Компас-2")
    page = panel()
    assert "Компас-2</option>" in page and "Контур.Компас</option>" not in page
    chosen = panel({"source": source.pk})
    assert f'<option value="{source.pk}" selected>Компас-2</option>' in chosen
    assert "Источник: Компас-2" in text(client.get(LEADS, {"source": source.pk}))  # the placeholder's chip
    assert f'<option value="{source.pk}">Компас-2</option>' in panel()
