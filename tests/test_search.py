"""The search boxes at a million records (issue 13): each kind of search — a phone in any format,
an e-mail, an ИНН, words of a name, part of a phone's digits — finds the same records whether the
matches are few (read by their ids, crm.lists.search) or many (the condition itself), only among
the records the user may see, at a fixed number of queries; on PostgreSQL the searches are
answered by an index, never by walking the table; on SQLite the FTS5 index follows every write
(crm.textindex)."""

import contextlib

import pytest
from django.db import connection
from django.db.backends.sqlite3.base import DatabaseWrapper
from django.db.models import Q
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clients.models import Company
from clients.selectors import visible_companies
from crm import lists, search, textindex
from crm.duplicates import company_key
from deals import views_list as deal_views
from deals.models import Deal
from deals.selectors import visible_deals
from leads import views_list as lead_views
from leads.models import Lead
from tests.clients.conftest import make_company
from tests.factories import DealFactory, LeadFactory

pytestmark = pytest.mark.django_db

LEADS = reverse("leads:list")
DEALS = reverse("deals:list")


@pytest.fixture(params=["few", "many"])
def matches(request, monkeypatch):
    """Both ways a search is answered: «many» makes every search take the way of a broad one."""
    if request.param == "many":
        monkeypatch.setattr(lists, "FEW_MATCHES", 0)
    return request.param


@pytest.fixture
def leads(owner, teammate):
    LeadFactory(responsible=owner, title="Ёлки-палки", company_name="ООО «Зелёная роща»", company_phone="+79128598748",
                contact_phone="+74951234567", company_email="Info@Roshcha.ru", inn="7707083893",
                contact_last_name="Лактионова", contact_first_name="Анна")
    LeadFactory(responsible=owner, title="Другой", company_name="ООО «Ромашка»", company_phone="+79120000001")
    LeadFactory(responsible=teammate, title="Чужой", company_name="ООО «Роща»", company_phone="+79035550011",
                inn="7736207543", company_email="boss@lyutik.ru", contact_last_name="Лактионова")


def found(client, url, q) -> list[str]:
    response = client.get(url, {"q": q})
    assert response.status_code == 200
    return sorted(r.title for r in response.context["leads" if url == LEADS else "deals"])


@pytest.mark.parametrize("query", [
    # A phone in any format, the company's or the contact's.
    "+7 (912) 859-87-48", "8 (912) 859-87-48", "89128598748", "+79128598748", "79128598748", "912 859 87 48",
    "9128598748", "8-912-859-87-48", "+7 495 123-45-67", "84951234567",
    # Part of a phone's digits (five or more).
    "859-87-48", "8598748", "85987",
    # An e-mail in any case, or part of it.
    "info@roshcha.ru", "INFO@Roshcha.RU", "roshcha.ru",
    # The ИНН, whole or its start.
    "7707083893", "770708",
    # Words of the title, the company, the person: any case, ё = е, in any order.
    "елки", "ЁЛКИ-ПАЛКИ", "зеленая роща", "Зелёная", "анна лактионова", "Лактионова Анна", "ёл",
])
def test_it_finds_a_lead_by_each_kind_of_search(client, owner, leads, matches, query):
    client.force_login(owner)
    assert found(client, LEADS, query) == ["Ёлки-палки"]


@pytest.mark.parametrize(("query", "expected"), [
    ("роща ромашка", []),  # every word must match
    ("ооо", ["Ёлки-палки", "Другой"]),
    ("роща", ["Ёлки-палки"]),  # the teammate's «Роща» is not the owner's
    ("лактионова", ["Ёлки-палки"]),
    ("+7 903 555-00-11", []), ("7736207543", []), ("boss@lyutik.ru", []),
    ("9120000", ["Другой"]),
    ("нет такого", []),
])
def test_it_finds_only_the_users_own_leads_that_match_every_word(client, owner, leads, matches, query, expected):
    client.force_login(owner)
    assert found(client, LEADS, query) == expected


def test_the_head_finds_his_departments_leads(client, head, leads, matches):
    client.force_login(head)
    assert found(client, LEADS, "8 903 555 00 11") == ["Чужой"]
    assert found(client, LEADS, "лактионова") == ["Ёлки-палки", "Чужой"]


def test_the_board_and_the_crm_wide_search_find_the_same(client, owner, leads, matches):
    client.force_login(owner)
    board = client.get(reverse("leads:kanban"), {"q": "8 (912) 859-87-48"})
    assert board.status_code == 200
    page = board.content.decode()
    assert "Ёлки-палки" in page and "Другой" not in page and "Чужой" not in page
    assert [str(r) for r in search.find(owner, "лактионова", labels=["leads.lead"])] == ["Ёлки-палки"]
    assert [str(r) for r in search.find(owner, "+7 903 555-00-11", labels=["leads.lead"])] == []


def test_a_deal_is_found_by_its_companys_phone_in_any_format_name_and_inn(client, owner, teammate, matches):
    romashka = make_company(owner, name="ООО «Ромашка»", inn="7707083893", phones=["+78800000000"])
    hidden = make_company(teammate, name="Лютик", phones=["+79121234567"])
    DealFactory(title="Внедрение", company=romashka, responsible=owner)
    DealFactory(title="Портал", company=hidden, responsible=owner)
    DealFactory(title="Без компании", responsible=owner)
    client.force_login(owner)
    for query in ("8 (880) 000-00-00", "+7 880 000 00 00", "88000", "7707083893", "ромашка", "Ромашка внедрение"):
        assert found(client, DEALS, query) == ["Внедрение"], query
    # A company the manager may not see does not give its deals away by its phone or name.
    assert found(client, DEALS, "8 912 123-45-67") == []
    assert found(client, DEALS, "лютик") == []
    assert found(client, DEALS, "портал") == ["Портал"]


def _queries(client, url, q) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url, {"q": q}).status_code == 200
    return [query["sql"] for query in captured.captured_queries]


@pytest.mark.parametrize("persona", ["owner", "head"])
def test_a_search_costs_the_same_queries_for_one_match_and_for_many(client, personas, persona, monkeypatch):
    """As at a million leads (PER_PAGE 50, FEW_MATCHES 1 000), the first page of a broad search is
    within what the probe found: «более …» needs no COUNT; a narrow one is counted by the probe's
    ids. Either way: the probe, the page, its rows — the same queries whatever the number found
    (the benchmarks compare them between sizes)."""
    monkeypatch.setattr(lists, "FEW_MATCHES", 5)
    monkeypatch.setattr(lead_views, "PER_PAGE", 2)
    owner = personas["owner"]
    LeadFactory(responsible=owner, company_name="Единственная")
    for n in range(12):
        LeadFactory(responsible=owner, company_name=f"Массовая {n}")
    client.force_login(personas[persona])
    client.get(LEADS)  # warm what is not per page
    one, many = _queries(client, LEADS, "единственная"), _queries(client, LEADS, "массовая")
    assert len(one) == len(many)
    assert not [sql for sql in one + many if "COUNT(" in sql.upper()]
    assert len(_queries(client, LEADS, "89121234567")) <= len(one)  # none found: the page reads nothing


@pytest.mark.parametrize("persona", ["owner", "head"])
def test_a_deal_search_costs_the_same_queries_for_one_match_and_for_many(client, personas, persona, monkeypatch):
    """The deals' search probes the companies first, then the deals: few companies or many, few
    deals or many, the same queries (at 100k deals a word found ≤ 1 000 deals and was counted, at
    300k more: 19 and 18 queries)."""
    monkeypatch.setattr(lists, "FEW_MATCHES", 5)
    monkeypatch.setattr(deal_views, "PER_PAGE", 2)
    owner = personas["owner"]
    DealFactory(responsible=owner, title="Единственная")
    for n in range(7):
        company = make_company(owner, name=f"Массовая {n}")
        DealFactory(responsible=owner, title=f"Сделка {n}", company=company)
    client.force_login(personas[persona])
    client.get(DEALS)  # warm what is not per page
    one, many = _queries(client, DEALS, "единственная"), _queries(client, DEALS, "массовая")
    assert len(one) == len(many)
    assert not [sql for sql in one + many if "COUNT(" in sql.upper()]


def _deal_matches(user, query: str) -> list[str]:
    """What a deal search means, read from the records in Python: every word is in the deal's
    search column, or its company's (name, legal name, ИНН, phones, e-mails) or the company's name
    key — a company the user may see."""
    terms = lists.search_terms(query)
    companies = set(visible_companies(user).values_list("pk", flat=True))

    def has(deal, term):
        company = deal.company if deal.company_id in companies else None
        key = "" if term.isdigit() else company_key(term)
        return term in deal.search_text or bool(company) and (
            term in company.search_text or bool(key) and key in company.company_key)
    return sorted(d.title for d in visible_deals(user).select_related("company") if all(has(d, t) for t in terms))


@pytest.mark.parametrize("persona", ["owner", "head"])
def test_a_deal_word_finds_what_it_means_few_matches_or_many(client, personas, persona, matches):
    """The deals found by a word are those the words mean (`_deal_matches`), whichever way the
    probe reads them: a company's name, a contact's name in a title, a comment, any case, ё = е,
    words in any order, a company the user may not see not giving its deals away."""
    owner, teammate = personas["owner"], personas["teammate"]
    roshcha = make_company(owner, name="ООО «Зелёная роща»", inn="7707083893", phones=["+78800000000"])
    stale = make_company(owner, name="АО «Лесной двор»")
    Company.objects.filter(pk=stale.pk).update(search_text="")  # found by its name key alone
    hidden = make_company(teammate, name="ООО «Зелёный лес»")
    DealFactory(title="Внедрение", company=roshcha, responsible=owner)
    DealFactory(title="Роща: продление", company=roshcha, responsible=teammate)
    DealFactory(title="Лактионова — внедрение", comment="Пётр просил позвонить", responsible=owner)
    DealFactory(title="Двор", company=stale, responsible=owner)
    DealFactory(title="Портал", company=hidden, responsible=owner)
    DealFactory(title="Зелень", responsible=owner)
    client.force_login(personas[persona])
    for query in ("роща", "ЗЕЛЁНАЯ", "зеленая роща", "Роща зелёная", "внедрение роща", "лактионова", "ВНЕДРЕНИЕ",
                  "петр", "лесной", "лесной двор", "зелен", "зеленый лес", "портал", "88000", "7707083893"):
        expected = _deal_matches(personas[persona], query)
        assert found(client, DEALS, query) == expected, query
    assert found(client, DEALS, "лесной") == ["Двор"]
    # The teammate's company: the head sees it and finds its deal by its name; the owner does not.
    assert found(client, DEALS, "зеленый лес") == ([] if persona == "owner" else ["Портал"])


@pytest.mark.django_db(transaction=False)
@pytest.mark.parametrize("url, word", [(DEALS, "ромашка"), (LEADS, "лактионова")])
def test_a_probe_checks_only_the_access_gate_on_what_its_subquery_found(client, personas, leads, url, word):
    """The probe's outer query checks the gate only, not the search again: with the condition
    checked twice PostgreSQL took it for a filter keeping almost nothing, planned to read every
    match and gave a deal's two bitmaps (its column, its companies' ids) to parallel workers —
    13 of 19 ms at 300 000 deals."""
    if connection.vendor != "postgresql":
        pytest.skip("the fenced probe is PostgreSQL's")
    owner = personas["owner"]
    DealFactory(title="Внедрение", company=make_company(owner, name="ООО «Ромашка»"), responsible=owner)
    client.force_login(personas["head"])
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url, {"q": word}).status_code == 200
    table = '"deals_deal"' if url == DEALS else '"leads_lead"'
    probes = [q["sql"] for q in captured.captured_queries
              if f"FROM {table}" in q["sql"] and "OFFSET 0" in q["sql"] and f"LIMIT {lists.FEW_MATCHES + 1}" in q["sql"]]
    assert len(probes) == 1, probes
    outer = probes[0].rsplit("OFFSET 0)", 1)[1]
    assert "LIKE" not in outer and "responsible_id" in outer, outer


@pytest.mark.django_db(transaction=False)
def test_a_deal_words_probe_reads_the_companies_deals_first_and_stops_at_its_limit(client, owner, monkeypatch):
    """A deal's word: the deals of the companies found, then (only if the LIMIT is not reached)
    the deals whose own column has the word and whose company was not found — one UNION ALL,
    each part fenced, gated and limited, so PostgreSQL reads the first part from the company
    index and never opens the second (at 300 000 deals «Лесной» as the head: 6 → 3 ms)."""
    if connection.vendor != "postgresql":
        pytest.skip("the fenced probe is PostgreSQL's; SQLite reads the OR in the same order")
    monkeypatch.setattr(lists, "FEW_MATCHES", 5)
    for n in range(4):
        company = make_company(owner, name=f"ООО «Лесной {n}»")
        DealFactory.create_batch(2, title=f"Поставка {n}", company=company, responsible=owner)
    DealFactory(title="Лесной склад", responsible=owner)
    client.force_login(owner)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(DEALS, {"q": "лесной"})
    assert response.context["filter"].more_than() == 5  # more than FEW_MATCHES: «более …»
    probes = [q["sql"] for q in captured.captured_queries if 'FROM "deals_deal"' in q["sql"] and "UNION ALL" in q["sql"]]
    assert len(probes) == 1 and probes[0].count("OFFSET 0") == 2 and probes[0].endswith("LIMIT 6"), probes
    assert probes[0].index('"company_id" = ANY(') < probes[0].index("LIKE")
    # The first part found the LIMIT's 6: the second part (the deals' own column) never ran.
    first, second = _explained(probes[0], analyze=True).split("->  Limit")[1:3]
    assert "rows=6 loops=1" in first and "never executed" in second and "actual time" not in second, second


def test_the_parts_of_alternatives_are_disjoint_and_together_match_what_the_or_matches(owner):
    """crm.lists._branches: `A | B` read as `A`, then `B & ~A` (a deal without a company too:
    NOT over a NULL column), the other words of the search kept in every part."""
    roshcha = make_company(owner, name="ООО «Роща»")
    deals = [DealFactory(title=title, company=company, responsible=owner)
             for title, company in (("Роща: внедрение", roshcha), ("Роща: продление", None),
                                    ("Внедрение", roshcha), ("Внедрение", None), ("Другое", None))]
    pks = [d.pk for d in deals]
    word = lists.alternatives(Q(company_id__ids=[roshcha.pk]), Q(search_text__indexed_contains="роща"))
    other = Q(search_text__indexed_contains="внедрение")
    for condition in (word, word & other, other & word):
        parts = [set(Deal.objects.filter(part, pk__in=pks).values_list("pk", flat=True))
                 for part in lists._branches(condition)]
        assert len(parts) == 2 and not parts[0] & parts[1]
        assert parts[0] | parts[1] == set(Deal.objects.filter(condition, pk__in=pks).values_list("pk", flat=True))
    assert lists._branches(other) == [other]
    assert len(lists._branches(Q(company_id__ids=[roshcha.pk]) | other)) == 1  # a plain OR: read as it is


def test_a_narrow_search_is_counted_by_its_probe_and_a_filtered_one_by_the_list(client, owner, monkeypatch):
    monkeypatch.setattr(lead_views, "PER_PAGE", 2)
    for n in range(3):
        LeadFactory(responsible=owner, company_name=f"Роща {n}")
    LeadFactory(responsible=owner, company_name="Роща 4", status="junk")
    client.force_login(owner)
    response = client.get(LEADS, {"q": "роща", "page": 2})
    assert response.context["page"].paginator.count == 4 and len(response.context["leads"]) == 2
    # Another filter narrows what the probe found: the list counts the rest itself.
    filtered = client.get(LEADS, {"q": "роща", "status": "junk"})
    assert filtered.context["page"].paginator.count == 1


def _explained(sql: str, analyze: bool = False) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {'(ANALYZE) ' if analyze else ''}{sql}")
        return "\n".join(line for (line,) in cursor.fetchall())


@pytest.mark.django_db(transaction=False)
@pytest.mark.parametrize("query", ["8 (912) 859-87-48", "roshcha.ru", "7707083893", "859-87-48", "лактионова"])
def test_it_searches_through_the_index_not_a_scan_of_the_leads(client, crm_admin, leads, query):
    """The list asks the trigram index for the matching ids, then reads the page and its count by
    those ids. Plain and ordered scans are made impossible, so the plan can only use the index
    if the condition is one it can serve (else PostgreSQL falls back to a disabled seq scan). As
    the administrator: no owner column to filter on, the search alone decides the plan."""
    if connection.vendor != "postgresql":
        pytest.skip("the trigram index is PostgreSQL's; SQLite's FTS5 index is tested below")
    client.force_login(crm_admin)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(LEADS, {"q": query}).status_code == 200
    sqls = [q["sql"] for q in captured.captured_queries if 'FROM "leads_lead"' in q["sql"]]
    probes = [sql for sql in sqls if "LIKE" in sql]
    assert len(probes) == 1 and f"LIMIT {lists.FEW_MATCHES + 1}" in probes[0] and "ORDER BY" not in probes[0]
    with connection.cursor() as cursor:
        for setting in ("enable_seqscan", "enable_indexscan", "enable_indexonlyscan"):
            cursor.execute(f"SET LOCAL {setting} = off")
        plan = _explained(probes[0])
    assert "lead_search_trgm" in plan and "Seq Scan" not in plan, plan
    # The page reads the matching leads by id (one array of them: crm.lists.IdsIn); no COUNT,
    # the probe counted them.
    assert not [sql for sql in sqls if "COUNT(" in sql]
    pages = [sql for sql in sqls if sql.startswith('SELECT "leads_lead"."id" AS "pk"') and "ORDER BY" in sql]
    assert len(pages) == 1 and '"leads_lead"."id" = ANY(' in pages[0], pages


@pytest.mark.django_db(transaction=False)
@pytest.mark.parametrize("persona", ["owner", "head"])
def test_a_managers_probe_asks_the_search_index_then_checks_the_owner(client, personas, persona, leads):
    """The probe reads the trigram index in a subquery the owner condition cannot enter (OFFSET 0):
    at a million leads PostgreSQL otherwise ANDed the trigram bitmap with a bitmap of the
    manager's whole owner index (309 427 entries, most of the probe's time)."""
    if connection.vendor != "postgresql":
        pytest.skip("the plan is PostgreSQL's")
    client.force_login(personas[persona])
    with CaptureQueriesContext(connection) as captured:
        assert client.get(LEADS, {"q": "лактионова"}).status_code == 200
    probes = [q["sql"] for q in captured.captured_queries if 'FROM "leads_lead"' in q["sql"] and "LIKE" in q["sql"]]
    assert len(probes) == 1 and "OFFSET 0" in probes[0], probes
    with connection.cursor() as cursor:
        for setting in ("enable_seqscan", "enable_indexscan", "enable_indexonlyscan"):
            cursor.execute(f"SET LOCAL {setting} = off")
        plan = _explained(probes[0])
    assert "lead_search_trgm" in plan and "BitmapAnd" not in plan and "Scan on leads_lead_respons" not in plan, plan


@pytest.mark.django_db(transaction=False)
def test_a_broad_words_page_walks_the_lists_order_not_every_match(client, crm_admin, monkeypatch):
    """A word in every lead (more than FEW_MATCHES): the page wants the newest 50 matches, so the
    plan starts from the list's order index and stops at the LIMIT, testing each row — not a
    bitmap of every match then sorted (at a million leads, tens of thousands). Seq scans are
    made impossible, as a table of a million rows makes them; the planner is left the choice
    between the order index and the trigram index."""
    if connection.vendor != "postgresql":
        pytest.skip("the plan is PostgreSQL's; SQLite's «+id IN» is tested below")
    monkeypatch.setattr(lists, "FEW_MATCHES", 5)
    Lead.objects.bulk_create([LeadFactory.build(responsible=crm_admin, company_name=f"Массовая {n}")
                              for n in range(300)])
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE leads_lead")
    client.force_login(crm_admin)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(LEADS, {"q": "массовая"})
    assert response.status_code == 200 and len(response.context["leads"]) == 50
    pages = [q["sql"] for q in captured.captured_queries if 'FROM "leads_lead"' in q["sql"] and "ORDER BY" in q["sql"]
             and "LIKE" in q["sql"]]
    assert len(pages) == 1 and "LIMIT 50" in pages[0], pages
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = _explained(pages[0])
    assert plan.startswith("Limit") and "Index Scan" in plan and "lead_search_trgm" not in plan, plan


def test_a_whole_e_mail_is_found_by_the_e_mail_columns_then_anywhere(client, owner, leads):
    LeadFactory(responsible=owner, title="Письмо от info@roshcha.ru", company_name="ООО «Почта»")
    LeadFactory(responsible=owner, title="Ответ", contact_email="Reply@Pochta.ru")
    LeadFactory(responsible=owner, title="Упомянут reply@pochta.ru")
    client.force_login(owner)
    # A lead with the address as its e-mail: found by it (a mention in another's title is a
    # corner left out), in any case, the company's e-mail or the contact's.
    assert found(client, LEADS, "INFO@roshcha.ru") == ["Ёлки-палки"]
    assert found(client, LEADS, "reply@pochta.ru") == ["Ответ"]
    # The teammate's lead is not the owner's to see, whatever its e-mail.
    assert found(client, LEADS, "boss@lyutik.ru") == []
    # No lead has it as an e-mail: the search column answers, a longer address or a title found.
    assert found(client, LEADS, "nfo@roshcha.ru") == ["Ёлки-палки", "Письмо от info@roshcha.ru"]


@pytest.mark.django_db(transaction=False)
def test_a_whole_e_mail_is_looked_up_in_the_e_mail_indexes(client, crm_admin, leads):
    if connection.vendor != "postgresql":
        pytest.skip("the plan is PostgreSQL's")
    client.force_login(crm_admin)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(LEADS, {"q": "Info@Roshcha.ru"})
    assert [lead.title for lead in response.context["leads"]] == ["Ёлки-палки"]
    sqls = [q["sql"] for q in captured.captured_queries if 'FROM "leads_lead"' in q["sql"]]
    assert not [sql for sql in sqls if "LIKE" in sql], sqls  # the trigram index is not asked
    probes = [sql for sql in sqls if "company_email" in sql.split("WHERE", 1)[-1]]
    assert len(probes) == 1
    with connection.cursor() as cursor:
        for setting in ("enable_seqscan", "enable_indexscan", "enable_indexonlyscan"):
            cursor.execute(f"SET LOCAL {setting} = off")
        plan = _explained(probes[0])
    assert "lead_company_email_idx" in plan and "lead_contact_email_idx" in plan and "Seq Scan" not in plan, plan


# --- SQLite: the FTS5 index and its triggers, on a database of their own ---

@contextlib.contextmanager
def sqlite_database():
    """An in-memory SQLite database with tables named as the leads' and the companies' (only the
    columns the search indexes read), whatever database the tests run on."""
    db = DatabaseWrapper({
        "ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:", "OPTIONS": {}, "TIME_ZONE": None,
        "CONN_MAX_AGE": 0, "CONN_HEALTH_CHECKS": False, "AUTOCOMMIT": True, "ATOMIC_REQUESTS": False,
        "USER": "", "PASSWORD": "", "HOST": "", "PORT": "", "TEST": {},
    }, alias="search-index-test")
    try:
        with db.cursor() as cursor:
            cursor.execute("CREATE TABLE leads_lead (id integer PRIMARY KEY AUTOINCREMENT, title text, "
                           "search_text text NOT NULL DEFAULT '')")
            cursor.execute("CREATE TABLE clients_company (id integer PRIMARY KEY AUTOINCREMENT, name text, "
                           "search_text text NOT NULL DEFAULT '', company_key varchar(255) NOT NULL DEFAULT '')")
        yield db
    finally:
        db.close()


def _ids(db, word: str) -> list[int]:
    """The leads whose search column contains `word`, asked as the lists ask (the lookup compiled
    for SQLite) — the same whether asked as for few matches or for many."""
    answers = []
    for condition in (Q(search_text__indexed_contains=word), textindex.for_many(Q(search_text__indexed_contains=word))):
        query = Lead.objects.filter(condition).order_by("pk").values_list("pk", flat=True).query
        sql, params = query.get_compiler(connection=db).as_sql()
        with db.cursor() as cursor:
            cursor.execute(sql, params)
            answers.append([pk for (pk,) in cursor.fetchall()])
    assert answers[0] == answers[1], word
    return answers[0]


def _sql(db, word: str) -> str:
    query = Lead.objects.filter(search_text__indexed_contains=word).values_list("pk", flat=True).query
    return query.get_compiler(connection=db).as_sql()[0]


def _execute(db, sql: str, params=()) -> None:
    with db.cursor() as cursor:
        cursor.execute(sql, params)


def test_the_sqlite_index_follows_inserts_updates_and_deletes():
    with sqlite_database() as db:
        _execute(db, "INSERT INTO leads_lead (title, search_text) VALUES ('a', 'зеленая роща 79128598748')")
        textindex.install(db, "leads_lead")  # what the migration does: existing rows are indexed
        assert "MATCH" in _sql(db, "роща") and _ids(db, "роща") == [1]
        many = Lead.objects.filter(textindex.for_many(Q(search_text__indexed_contains="роща"))).values_list("pk").query
        assert '+"leads_lead"."id" IN (SELECT rowid' in many.get_compiler(connection=db).as_sql()[0]
        _execute(db, "INSERT INTO leads_lead (title, search_text) VALUES ('b', 'ромашка 78800000000')")
        assert _ids(db, "ромашка") == [2] and _ids(db, "8598748") == [1] and _ids(db, "000000") == [2]
        _execute(db, "UPDATE leads_lead SET search_text = 'лютик 78800000000' WHERE id = 2")
        assert _ids(db, "ромашка") == [] and _ids(db, "лютик") == [2]
        _execute(db, "UPDATE leads_lead SET title = 'c' WHERE id = 2")  # not the search column
        assert _ids(db, "лютик") == [2]
        _execute(db, "DELETE FROM leads_lead WHERE id = 1")
        assert _ids(db, "роща") == []
        # Shorter than a trigram: asked with LIKE, the same answer.
        assert "MATCH" not in _sql(db, "лю") and _ids(db, "лю") == [2]
        # A quote in the query is a character to look for, not FTS5 syntax.
        assert _ids(db, 'лютик"') == []


def test_the_sqlite_index_is_repaired_after_a_migration_remade_the_table():
    """Django remakes a SQLite table for some schema changes: the triggers go with the old table.
    After every migrate (crm.apps), `repair` puts them back and re-reads the column."""
    with sqlite_database() as db:
        textindex.install(db, "leads_lead")
        _execute(db, "INSERT INTO leads_lead (title, search_text) VALUES ('a', 'зеленая роща')")
        for sql in ("CREATE TABLE new__leads_lead (id integer PRIMARY KEY AUTOINCREMENT, title text, "
                    "search_text text NOT NULL DEFAULT '', extra text)",
                    "INSERT INTO new__leads_lead (id, title, search_text) SELECT id, title, search_text FROM leads_lead",
                    "DROP TABLE leads_lead", "ALTER TABLE new__leads_lead RENAME TO leads_lead"):
            _execute(db, sql)
        _execute(db, "INSERT INTO leads_lead (title, search_text) VALUES ('b', 'ромашка')")  # missed by the index
        assert _ids(db, "ромашка") == []
        assert textindex.repair(db) == ["leads_lead"]
        assert _ids(db, "ромашка") == [2] and _ids(db, "роща") == [1]
        _execute(db, "INSERT INTO leads_lead (title, search_text) VALUES ('c', 'лютик')")
        assert _ids(db, "лютик") == [3]
        assert textindex.repair(db) == []  # nothing to repair: nothing rebuilt



def _company_ids(db, key: str) -> list[int]:
    """The companies whose name key contains `key`, asked as the deals' search asks (the lookup
    compiled for SQLite), for few matches or many."""
    answers = []
    for condition in (Q(company_key__indexed_contains=key), textindex.for_many(Q(company_key__indexed_contains=key))):
        query = Company.objects.filter(condition).order_by("pk").values_list("pk", flat=True).query
        sql, params = query.get_compiler(connection=db).as_sql()
        assert ("MATCH" in sql) == (len(key) >= textindex.MIN_LENGTH) and "clients_company_search " not in sql, sql
        with db.cursor() as cursor:
            cursor.execute(sql, params)
            answers.append([pk for (pk,) in cursor.fetchall()])
    assert answers[0] == answers[1], key
    return answers[0]


def test_the_sqlite_index_of_the_companies_name_key_follows_writes_and_is_repaired():
    """The deals' search asks for companies by their name key too (deals.filters._term): on SQLite
    its own FTS5 index answers (a LIKE read every company: 6 ms of a 36 ms page at 5 000)."""
    with sqlite_database() as db:
        _execute(db, "INSERT INTO clients_company (name, company_key) VALUES ('ООО «Зелёная роща»', 'зеленая роща')")
        textindex.install(db, "clients_company", "company_key")  # what clients' migration 0005 does
        assert _company_ids(db, "роща") == [1] and _company_ids(db, "еная ро") == [1]
        _execute(db, "INSERT INTO clients_company (name, company_key) VALUES ('ИП Лютиков', 'лютиков')")
        _execute(db, "UPDATE clients_company SET company_key = 'ромашка' WHERE id = 1")
        assert _company_ids(db, "роща") == [] and _company_ids(db, "ромашка") == [1] and _company_ids(db, "лютик") == [2]
        _execute(db, "UPDATE clients_company SET search_text = 'роща' WHERE id = 2")  # another column
        assert _company_ids(db, "роща") == [] and _company_ids(db, "лют") == [2]
        assert _company_ids(db, "ро") == [1]  # shorter than a trigram: LIKE, the same answer
        _execute(db, "DELETE FROM clients_company WHERE id = 2")
        assert _company_ids(db, "лютик") == []
        for name in textindex._triggers("clients_company", "company_key"):  # as a remade table loses them
            _execute(db, f"DROP TRIGGER {name}")
        _execute(db, "INSERT INTO clients_company (name, company_key) VALUES ('ООО «Лес»', 'лес')")
        assert _company_ids(db, "лес") == []
        assert textindex.repair(db) == ["clients_company.company_key"]
        assert _company_ids(db, "лес") == [3] and _company_ids(db, "ромашка") == [1]
