"""The leads list: search, filters, sorting, pagination, access, bulk actions, query budget."""

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from crm import tallies
from leads.models import Lead, Status
from tests.factories import LeadFactory, UserFactory, ref

LIST = reverse("leads:list")
BULK = reverse("leads:bulk")


def titles(response) -> list[str]:
    return [lead.title for lead in response.context["leads"]]


def text(response) -> str:
    """The page as a user reads it: entities decoded, no-break spaces as plain ones."""
    return unescape(response.content.decode()).replace("\xa0", " ")


def set_status(lead: Lead, status: str) -> None:
    # The status field is protected (only leads.services changes it); tests set the state directly,
    # behind the record counters' back, so they are rebuilt (the status filter counts from them).
    Lead.objects.filter(pk=lead.pk).update(status=status)
    tallies.rebuild(Lead)


def panel(client, params=None) -> str:
    """The filter panel as the page's htmx loads it after the rows (crm.lists.panel_context)."""
    response = client.get(LIST, {**(params or {}), "panel": "1"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    return text(response)


def flash(response) -> str:
    return " ".join(str(m) for m in response.context["messages"]).replace("\xa0", " ")


@pytest.fixture
def group_leads(personas):
    """One lead per persona, so each persona's view of the list is a one-line check."""
    return {name: LeadFactory(title=f"Лид {name}", responsible=user) for name, user in personas.items()}


# --- Access ---

@pytest.mark.parametrize(("persona", "expected"), [
    ("owner", {"Лид owner"}),
    ("teammate", {"Лид teammate"}),
    ("outsider", {"Лид outsider"}),
    # The head of sales sees the whole «Отдел продаж» tree, not the admin's lead in the root.
    ("head", {"Лид owner", "Лид teammate", "Лид outsider", "Лид head"}),
    ("crm_admin", {"Лид owner", "Лид teammate", "Лид outsider", "Лид head", "Лид crm_admin"}),
])
def test_it_shows_each_persona_only_the_leads_it_may_see(client, personas, group_leads, persona, expected):
    client.force_login(personas[persona])
    response = client.get(LIST)
    assert response.status_code == 200
    assert set(titles(response)) == expected
    assert response.context["total"] == len(expected)


def test_a_filter_cannot_widen_what_a_manager_sees(client, owner, teammate, group_leads):
    client.force_login(owner)
    response = client.get(LIST, {"responsible": teammate.pk})
    assert titles(response) == []
    response = client.get(LIST, {"q": "Лид teammate"})
    assert titles(response) == []


def test_the_list_requires_login(client, db):
    response = client.get(LIST)
    assert response.status_code == 302 and "/login/" in response["Location"]


# --- Columns ---

def test_it_shows_the_columns_of_a_row(client, owner):
    lead = LeadFactory(title="Поставка CRM", company_name="ООО «Ромашка»", company_phone="+79120000001",
                       amount=Decimal("150000"), responsible=owner, source=ref("Source", "Холодный звонок"))
    client.force_login(owner)
    response = client.get(LIST)
    page = text(response)
    assert reverse("leads:detail", args=[lead.pk]) in page
    assert "Поставка CRM" in page and "ООО «Ромашка»" in page
    assert "+7 (912) 000-00-01" in page
    assert "150 000 ₽" in page
    assert "Не обработан" in page and "badge" in page
    assert "Холодный звонок" in page
    assert 'title="Иванов Пётр">Иванов П.</td>' in page
    assert timezone.localtime(lead.created_at).strftime("%d.%m.%Y") in page
    assert "Найдено лидов: 1" in page
    for header in ("Название лида", "Компания", "Телефон", "Статус", "Источник", "Сумма", "Ответственный",
                   "Дата создания"):
        assert header in page
    assert 'name="ids"' in page and f'value="{lead.pk}"' in page


def test_the_page_is_in_russian_and_has_the_shared_header(client, owner):
    client.force_login(owner)
    page = text(client.get(LIST))
    assert "Лидов пока нет." in page
    assert 'data-testid="lead-create"' in page and "Канбан" in page
    assert "Найти" in page and "Все фильтры" in page
    assert "Применить" in panel(client) and "Сбросить" in panel(client)
    assert "<script>" not in page  # CSP: no inline scripts


# --- Search ---

@pytest.fixture
def searchable(owner):
    target = LeadFactory(
        title="Внедрение портала", company_name="ООО «Ромашка»", company_phone="+79120000001",
        company_email="Info@Romashka.ru", inn="7707083893", responsible=owner,
        contact_last_name="Кузнецов", contact_first_name="Игорь", contact_middle_name="Семёнович",
        contact_phone="+74951234567", contact_email="kuznetsov@romashka.ru",
    )
    other = LeadFactory(title="Обучение отдела", company_name="АО «Василёк»", company_phone="+79990000002",
                        company_email="hello@vasilek.ru", inn="500100732259", responsible=owner)
    return target, other


@pytest.mark.parametrize("query", [
    "внедрение",                 # title, another case
    "ПОРТАЛ",
    "ромашка",                   # company name
    "кузнецов",                  # contact person: last name
    "Игорь",                     # first name
    "семёнович",                 # middle name
    "Кузнецов Игорь",            # several words over several fields
    "8 (912) 000-00-01",         # company phone in the Russian format
    "+7 912 000 00 01",          # … and the international one
    "89120000001",
    "912 000-00",                # part of a number
    "8 (495) 123-45-67",         # the contact's phone
    "info@romashka.ru",          # e-mails, any case
    "KUZNETSOV@",
    "7707083893",                # ИНН
])
def test_it_searches_by_every_kind(client, owner, searchable, query):
    client.force_login(owner)
    response = client.get(LIST, {"q": query})
    assert titles(response) == ["Внедрение портала"], query


def test_sorting_alone_is_not_a_filter(client, owner):
    client.force_login(owner)
    response = client.get(LIST, {"sort": "title", "page": "2"})
    assert "Лидов пока нет." in text(response)
    assert response.context["filter"].active_count == 0


def test_a_search_that_matches_nothing_says_so(client, owner, searchable):
    client.force_login(owner)
    response = client.get(LIST, {"q": "несуществующая фирма"})
    assert titles(response) == []
    assert "По этим условиям лидов не найдено." in text(response)


def test_a_phone_search_does_not_match_other_numbers(client, owner, searchable):
    client.force_login(owner)
    assert titles(client.get(LIST, {"q": "8 (999) 000-00-02"})) == ["Обучение отдела"]
    assert titles(client.get(LIST, {"q": "8 (912) 000-00-09"})) == []


def test_a_phone_is_not_split_into_words(client, owner, searchable):
    # «8», «(912)» and «000-00-01» each appear in this title, but it is not the lead with that phone.
    LeadFactory(title="Артикул (912) и 000-00-01, 8 шт.", company_phone="+79990000003", responsible=owner)
    client.force_login(owner)
    assert titles(client.get(LIST, {"q": "8 (912) 000-00-01"})) == ["Внедрение портала"]


def test_a_very_long_search_is_refused_politely(client, owner, searchable):
    client.force_login(owner)
    response = client.get(LIST, {"q": "а" * 500})
    assert response.status_code == 200
    assert "Поиск" in text(response) and "не более 100" in text(response)


# --- Filters ---

def test_it_filters_by_several_statuses(client, owner):
    leads = {s: LeadFactory(title=f"Лид {s}", responsible=owner) for s in Status.values}
    for status, lead in leads.items():
        set_status(lead, status)
    client.force_login(owner)
    response = client.get(LIST, {"status": ["qualification", "junk"]})
    assert set(titles(response)) == {"Лид qualification", "Лид junk"}
    assert response.context["filter"].active_count == 1


@pytest.mark.parametrize(("field", "model"), [
    ("source", "Source"), ("niche", "Niche"), ("client_type", "ClientType"), ("crm_system", "CrmSystem"),
])
def test_it_filters_by_a_reference_list(client, owner, field, model):
    chosen = ref(model)
    other = type(chosen).objects.exclude(pk=chosen.pk).order_by("sort").first()
    LeadFactory(title="Нужный", responsible=owner, **{field: chosen})
    LeadFactory(title="Другой", responsible=owner, **{field: other})
    client.force_login(owner)
    assert titles(client.get(LIST, {field: chosen.pk})) == ["Нужный"]


@pytest.mark.parametrize("field", ["niche", "client_type", "crm_system"])
def test_it_filters_leads_where_a_qualification_field_is_not_set(client, owner, field):
    model = {"niche": "Niche", "client_type": "ClientType", "crm_system": "CrmSystem"}[field]
    LeadFactory(title="Заполнен", responsible=owner, **{field: ref(model)})
    LeadFactory(title="Пустой", responsible=owner)
    client.force_login(owner)
    response = client.get(LIST, {field: "null"})
    assert titles(response) == ["Пустой"]
    assert "не выбрано" in text(response)


def test_reference_filters_offer_only_active_values(client, owner):
    retired = ref("Niche")
    retired.is_active = False
    retired.save()
    LeadFactory(title="Старый", responsible=owner, niche=retired)
    client.force_login(owner)
    response = client.get(LIST)
    niches = list(response.context["form"].fields["niche"].queryset)
    assert retired not in niches and niches
    assert all(n.is_active for n in niches)
    # Asking for it anyway is a clear message, not an error page; the list is not narrowed.
    response = client.get(LIST, {"niche": retired.pk})
    assert response.status_code == 200
    assert "Ниша компании" in text(response) and "Выберите корректный вариант" in text(response)
    assert titles(response) == ["Старый"]


def test_it_filters_by_responsible_for_a_supervisor(client, head, owner, teammate):
    LeadFactory(title="Лид Иванова", responsible=owner)
    LeadFactory(title="Лид Петровой", responsible=teammate)
    client.force_login(head)
    response = client.get(LIST, {"responsible": teammate.pk})
    assert titles(response) == ["Лид Петровой"]
    responsible_choices = list(response.context["form"].fields["responsible"].queryset)
    assert owner in responsible_choices and teammate in responsible_choices


def test_the_head_filters_by_department_and_presets(client, personas, org, group_leads):
    client.force_login(personas["head"])
    assert set(titles(client.get(LIST, {"department": org["group1"].pk}))) == {"Лид owner", "Лид teammate"}
    assert set(titles(client.get(LIST, {"department": org["sales"].pk}))) == {
        "Лид owner", "Лид teammate", "Лид outsider", "Лид head"}
    assert titles(client.get(LIST, {"preset": "mine"})) == ["Лид head"]
    # Only the presets that differ for his level («Мой отдел» would be «Все»).
    response = client.get(LIST)
    assert [v for v, _label in response.context["form"].fields["preset"].choices] == ["", "mine"]
    assert 'name="preset"' in panel(client) and 'name="department"' in panel(client)


def test_a_manager_with_own_records_is_offered_no_presets_and_a_bad_department_is_named(client, owner, group_leads):
    client.force_login(owner)
    response = client.get(LIST)
    assert 'name="preset"' not in text(response) and 'name="department"' not in text(response)
    response = client.get(LIST, {"department": "abc"})
    assert response.status_code == 200 and "Отдел" in text(response) and titles(response) == ["Лид owner"]
    assert response.context["form"].errors


def test_responsible_choices_are_active_users(client, owner):
    gone = UserFactory(last_name="Уволенный", is_active=False)
    client.force_login(owner)
    choices = list(client.get(LIST).context["form"].fields["responsible"].queryset)
    assert owner in choices and gone not in choices


def _dated(title, owner, created, updated):
    lead = LeadFactory(title=title, responsible=owner)
    Lead.objects.filter(pk=lead.pk).update(created_at=created, updated_at=updated)
    return lead


def test_it_filters_by_creation_and_modification_dates(client, owner):
    tz = timezone.get_current_timezone()
    _dated("Январский", owner, datetime(2026, 1, 15, 12, tzinfo=tz), datetime(2026, 3, 1, 9, tzinfo=tz))
    _dated("Февральский", owner, datetime(2026, 2, 10, 23, 30, tzinfo=tz), datetime(2026, 2, 11, 9, tzinfo=tz))
    client.force_login(owner)
    assert titles(client.get(LIST, {"created_after": "2026-02-01"})) == ["Февральский"]
    assert titles(client.get(LIST, {"created_before": "2026-01-31"})) == ["Январский"]
    # The end day is included up to its last minute (23:30 on the 10th).
    assert titles(client.get(LIST, {"created_after": "2026-02-10", "created_before": "2026-02-10"})) == ["Февральский"]
    assert titles(client.get(LIST, {"updated_after": "2026-02-15"})) == ["Январский"]
    assert titles(client.get(LIST, {"updated_before": "2026-02-11"})) == ["Февральский"]
    # A date typed by hand in the Russian format works too.
    assert titles(client.get(LIST, {"created_after": "01.02.2026"})) == ["Февральский"]


def test_filters_combine_with_search(client, owner):
    a = LeadFactory(title="Ромашка опт", responsible=owner, niche=ref("Niche"))
    LeadFactory(title="Ромашка розница", responsible=owner)
    set_status(a, Status.FIRST_CALL)
    client.force_login(owner)
    response = client.get(LIST, {"q": "ромашка", "status": "first_call", "niche": ref("Niche").pk})
    assert titles(response) == ["Ромашка опт"]


@pytest.mark.parametrize("params", [
    {"status": "bogus"},
    {"source": "abc"},
    {"source": "99999999"},
    {"responsible": "-1"},
    {"niche": "99999999999999999999999"},
    {"created_after": "вчера"},
    {"updated_before": "2026-13-45"},
    {"page": "abc"},
    {"page": "-5"},
    {"page": "99999"},
    {"sort": "password"},
    {"sort": "--title"},
    {"sort": "responsible__password"},
])
def test_bad_filter_input_gives_a_page_never_an_error(client, owner, params):
    LeadFactory(title="Единственный", responsible=owner)
    client.force_login(owner)
    response = client.get(LIST, params)
    assert response.status_code == 200
    assert titles(response) == ["Единственный"]


def test_a_bad_filter_value_is_explained_in_russian(client, owner):
    client.force_login(owner)
    page = text(client.get(LIST, {"status": "bogus", "created_after": "вчера"}))
    assert "Некоторые условия не применены" in page
    assert "Статус: Выберите корректный вариант" in page
    assert "Дата создания: Введите правильную дату." in page


# --- Sorting ---

@pytest.fixture
def sortable(owner, teammate, head):
    tz = timezone.get_current_timezone()
    rows = [
        # title, company, amount, status, responsible, created day, updated day
        ("Бета", "ООО «Яблоко»", "500", Status.QUALIFICATION, owner, 3, 1),
        ("Альфа", "АО «Груша»", "100", Status.JUNK, teammate, 1, 3),
        ("Гамма", "ИП «Банан»", "900", Status.NEW, head, 2, 2),
    ]
    for title, company, amount, status, user, created, updated in rows:
        lead = LeadFactory(title=title, company_name=company, amount=Decimal(amount), responsible=user)
        Lead.objects.filter(pk=lead.pk).update(status=status, created_at=datetime(2026, 1, created, tzinfo=tz),
                                               updated_at=datetime(2026, 2, updated, tzinfo=tz))
    tallies.rebuild(Lead)  # the statuses were set behind the record counters' back


@pytest.mark.parametrize(("sort", "expected"), [
    (None, ["Бета", "Гамма", "Альфа"]),           # newest first by default
    ("title", ["Альфа", "Бета", "Гамма"]),
    ("-title", ["Гамма", "Бета", "Альфа"]),
    ("company", ["Альфа", "Гамма", "Бета"]),
    ("amount", ["Альфа", "Бета", "Гамма"]),
    ("-amount", ["Гамма", "Бета", "Альфа"]),
    ("status", ["Гамма", "Бета", "Альфа"]),       # by the workflow: new, qualification, junk
    ("-status", ["Альфа", "Бета", "Гамма"]),
    ("responsible", ["Бета", "Альфа", "Гамма"]),  # Иванов, Петрова, Смирнова
    ("created_at", ["Альфа", "Гамма", "Бета"]),
    ("-updated_at", ["Альфа", "Гамма", "Бета"]),
    ("updated_at", ["Бета", "Гамма", "Альфа"]),
    ("nonsense", ["Бета", "Гамма", "Альфа"]),     # unknown keys are ignored
])
def test_it_sorts_by_columns(client, head, sortable, sort, expected):
    client.force_login(head)
    response = client.get(LIST, {"sort": sort} if sort else {})
    assert titles(response) == expected


def test_column_headers_toggle_the_direction_and_keep_the_filters(client, owner):
    LeadFactory(responsible=owner)
    client.force_login(owner)
    page = text(client.get(LIST, {"q": "Лид", "sort": "title", "page": "1"}))
    assert 'href="?q=%D0%9B%D0%B8%D0%B4&amp;sort=-title"'.replace("&amp;", "&") in page
    assert 'aria-sort="ascending"' in page
    default = text(client.get(LIST))
    # Newest first by default; clicking «Дата создания» turns it to oldest first.
    assert 'href="?sort=created_at"' in default and 'aria-sort="descending"' in default
    assert 'href="?sort=title"' in default and 'href="?sort=-amount"' in default


# --- Pagination ---

def _bulk_leads(count: int, responsible, **extra) -> None:
    source = ref("Source")
    start = Lead.objects.count()
    Lead.objects.bulk_create([
        Lead(title=f"Массовый {start + i:04d}", source=source, company_name=f"Компания {start + i}",
             company_phone=f"+7913{start + i:07d}", responsible=responsible, **extra)
        for i in range(count)
    ])


def test_it_pages_by_fifty(client, owner):
    _bulk_leads(120, owner)
    client.force_login(owner)
    first = client.get(LIST, {"sort": "title"})
    assert len(first.context["leads"]) == 50 and first.context["total"] == 120
    assert titles(first)[0] == "Массовый 0000"
    third = client.get(LIST, {"sort": "title", "page": 3})
    assert len(third.context["leads"]) == 20
    assert titles(third)[0] == "Массовый 0100"
    assert "Найдено лидов: 120" in text(third) and "показаны 101–120" in text(third)


# (Not named `page`: that is pytest-playwright's browser page fixture.)
@pytest.mark.parametrize(("number_asked", "number"), [("abc", 1), ("0", 3), ("999", 3), ("", 1), ("2", 2)])
def test_a_bad_page_number_shows_the_first_or_last_page(client, owner, number_asked, number):
    _bulk_leads(120, owner)
    client.force_login(owner)
    response = client.get(LIST, {"page": number_asked})
    assert response.status_code == 200
    assert response.context["page"].number == number


def test_page_links_keep_the_filters_and_the_sort(client, owner):
    _bulk_leads(120, owner)
    client.force_login(owner)
    page = text(client.get(LIST, {"q": "Массовый", "sort": "-title", "status": "new"}))
    assert 'href="?q=%D0%9C%D0%B0%D1%81%D1%81%D0%BE%D0%B2%D1%8B%D0%B9&sort=-title&status=new&page=2"' in page
    assert 'name="next" value="/leads/?q=' in page


# --- Query budget ---

def _count_queries(client, params=None) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(LIST, params or {})
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("persona", ["owner", "head", "crm_admin"])
def test_the_list_costs_a_fixed_number_of_queries(client, personas, persona, django_assert_max_num_queries):
    user = personas[persona]
    owner = personas["owner"]
    _bulk_leads(60, owner, niche=ref("Niche"), client_type=ref("ClientType"), crm_system=ref("CrmSystem"),
                contact_last_name="Кузнецов")
    client.force_login(user)
    client.get(LIST)  # warm caches that are not per page (content types, …)
    params = {"q": "Массовый", "status": ["new", "first_call"], "sort": "responsible"}
    with_60 = _count_queries(client), _count_queries(client, params)
    _bulk_leads(190, owner, niche=ref("Niche"), client_type=ref("ClientType"), crm_system=ref("CrmSystem"))
    with_250 = _count_queries(client), _count_queries(client, params)
    assert with_60 == with_250
    # The touches' badges: one query for the page, whether 1 lead or 30 have touches.
    from tasks_app import services as tasks

    newest = list(Lead.objects.order_by("-created_at", "-pk")[:30])
    tasks.task_create(data={"kind": "call", "title": "Звонок", "responsible": owner,
                                        "deadline": timezone.now() + timedelta(days=1)}, by=owner, records=[newest[0]])
    with_1_touch = _count_queries(client), _count_queries(client, params)
    for i, lead in enumerate(newest[1:]):
        for days in (-1, 2):
            tasks.task_create(data={"kind": "call", "title": f"Звонок {i}", "responsible": owner,
                                    "deadline": timezone.now() + timedelta(days=days)}, by=owner, records=[lead])
    assert (_count_queries(client), _count_queries(client, params)) == with_1_touch
    assert _count_queries(client, {**params, "touches": "none"}) == with_1_touch[1]
    # (+1 for a supervisor: the department tree of the owner filters; +1: the touches' badges;
    # +1: the search's matching ids, crm.lists.search; the filter panel's choices are read when
    # it is loaded, crm.lists.panel_context)
    with django_assert_max_num_queries(15):
        response = client.get(LIST, params)
    assert len(response.context["leads"]) == 50
    # The owner filters cost no query of their own.
    owned = {**params, "department": owner.department_id, "preset": "department"}
    assert _count_queries(client, owned) == with_250[1]


# --- The next touch (tasks) ---

def test_each_row_shows_its_next_touch_and_the_filter_finds_the_leads_with_none(client, head, owner):
    from tasks_app import services as tasks

    planned, overdue, nothing = (LeadFactory(title=t, responsible=owner) for t in ("Плановый", "Просроченный", "Забытый"))
    for lead, days in ((planned, 3), (overdue, -3)):
        tasks.task_create(data={"kind": "call", "title": "Звонок", "responsible": owner,
                                "deadline": timezone.now() + timedelta(days=days)}, by=owner, records=[lead])
    client.force_login(head)
    page = text(client.get(LIST))
    assert page.count('data-testid="touch-planned"') == 1 and page.count('data-testid="touch-overdue"') == 1
    assert page.count('data-testid="touch-none"') == 1 and "Нет дел" in page
    assert 'name="touches"' in panel(client) and "Без запланированных дел" in panel(client)
    rows = client.get(LIST, {"touches": "none"}).context["leads"]
    assert [lead.title for lead in rows] == ["Забытый"]
    rows = client.get(LIST, {"touches": "overdue"}).context["leads"]
    assert [lead.title for lead in rows] == ["Просроченный"]
    response = client.get(LIST, {"touches": "everything"})
    assert response.status_code == 200 and 'data-testid="lead-filter-errors"' in text(response)
    assert "is-invalid" in panel(client, {"touches": "everything"})


# --- Bulk: assign ---

def _bulk(client, **data):
    data.setdefault("next", LIST)
    return client.post(BULK, data, follow=True)


def test_it_assigns_a_responsible_in_bulk(client, owner, teammate):
    a, b = LeadFactory(responsible=owner), LeadFactory(responsible=owner)
    untouched = LeadFactory(responsible=owner)
    client.force_login(owner)
    response = _bulk(client, action="assign", responsible=teammate.pk, ids=[a.pk, b.pk])
    assert response.redirect_chain[-1][0] == LIST
    assert "Ответственный «Петрова Мария» назначен лидам: 2." in flash(response)
    assert set(Lead.objects.filter(responsible=teammate).values_list("pk", flat=True)) == {a.pk, b.pk}
    untouched.refresh_from_db()
    assert untouched.responsible == owner


def test_a_supervisor_reassigns_leads_of_the_group(client, head, owner, outsider):
    lead = LeadFactory(responsible=owner)
    client.force_login(head)
    response = _bulk(client, action="assign", responsible=outsider.pk, ids=[lead.pk])
    lead.refresh_from_db()
    assert lead.responsible == outsider
    assert "назначен лидам: 1" in flash(response)


# --- Bulk: move ---

@pytest.fixture
def qualification_batch(owner):
    ready = LeadFactory(title="Готовый", responsible=owner, niche=ref("Niche"), crm_system=ref("CrmSystem"),
                        client_type=ref("ClientType"))
    half = LeadFactory(title="Без портала", responsible=owner, niche=ref("Niche"), client_type=ref("ClientType"))
    bare = LeadFactory(title="Пустой", responsible=owner)
    return ready, half, bare


def test_a_bulk_move_reports_each_lead_that_could_not_move(client, owner, qualification_batch):
    ready, half, bare = qualification_batch
    client.force_login(owner)
    response = _bulk(client, action="move", to="qualification", ids=[ready.pk, half.pk, bare.pk])
    for lead in (ready, half, bare):
        lead.refresh_from_db()
    assert ready.status == Status.QUALIFICATION
    assert half.status == Status.NEW and bare.status == Status.NEW
    message = flash(response)
    assert "Перенесено в статус «Квалификация» лидов: 1." in message
    assert ("Некоторые лиды не удалось перенести в выбранный статус. Заполните обязательные поля и "
            "перенесите лиды снова.") in message
    failures = message.split("bulk-failures")[1]
    assert "Без портала" in failures and "Пустой" in failures and "Готовый" not in failures
    half_reason = failures.split("Без портала")[1].split("</li>")[0]
    assert "Корпоративный портал (CRM система)" in half_reason and "Ниша компании" not in half_reason
    bare_reason = failures.split("Пустой")[1].split("</li>")[0]
    assert "Ниша компании" in bare_reason and "Тип клиента" in bare_reason
    # The report is shown on the list as an alert, the titles linked to the cards.
    page = text(response)
    assert "alert-warning" in page and reverse("leads:detail", args=[bare.pk]) in page


def test_a_bulk_move_where_everything_moves(client, owner):
    leads = LeadFactory.create_batch(3, responsible=owner)
    client.force_login(owner)
    response = _bulk(client, action="move", to="first_call", ids=[lead.pk for lead in leads])
    assert set(Lead.objects.values_list("status", flat=True)) == {Status.FIRST_CALL}
    assert "Перенесено в статус «Первый звонок» лидов: 3." in flash(response)
    assert "alert-success" in text(response)


def test_a_bulk_move_where_nothing_moves_is_an_error(client, owner):
    lead = LeadFactory(title="Пустой", responsible=owner)
    client.force_login(owner)
    response = _bulk(client, action="move", to="reconnaissance", ids=[lead.pk])
    lead.refresh_from_db()
    assert lead.status == Status.NEW
    assert "лидов: 0" in flash(response) and "alert-danger" in text(response)


def test_titles_in_the_report_are_escaped(client, owner):
    lead = LeadFactory(title="<script>alert(1)</script>", responsible=owner)
    client.force_login(owner)
    response = _bulk(client, action="move", to="qualification", ids=[lead.pk])
    html = response.content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_a_manager_cannot_reopen_closed_leads_in_bulk(client, owner):
    closed = LeadFactory(title="Закрытый", responsible=owner)
    set_status(closed, Status.JUNK)
    client.force_login(owner)
    response = _bulk(client, action="move", to="new", ids=[closed.pk])
    closed.refresh_from_db()
    assert closed.status == Status.JUNK
    assert "Вернуть закрытый лид в работу может только руководитель." in flash(response)


def test_leads_already_in_the_status_are_counted_apart(client, owner):
    a, b = LeadFactory(responsible=owner), LeadFactory(responsible=owner)
    set_status(a, Status.FIRST_CALL)
    client.force_login(owner)
    response = _bulk(client, action="move", to="first_call", ids=[a.pk, b.pk])
    assert "лидов: 1. Уже были в этом статусе: 1." in flash(response)


# --- Bulk: foreign ids, tampering, bad input ---

def test_foreign_ids_are_ignored_and_reported(client, owner, teammate, outsider):
    mine = LeadFactory(responsible=owner)
    theirs = LeadFactory(responsible=teammate)
    far = LeadFactory(responsible=outsider)
    client.force_login(owner)
    response = _bulk(client, action="assign", responsible=owner.pk, ids=[mine.pk, theirs.pk, far.pk, 99999999])
    theirs.refresh_from_db()
    far.refresh_from_db()
    assert theirs.responsible == teammate and far.responsible == outsider
    assert "Пропущено лидов: 3" in flash(response)
    response = _bulk(client, action="move", to="first_call", ids=[mine.pk, theirs.pk])
    theirs.refresh_from_db()
    mine.refresh_from_db()
    assert theirs.status == Status.NEW and mine.status == Status.FIRST_CALL
    assert "лидов: 1" in flash(response) and "Пропущено лидов: 1" in flash(response)


@pytest.mark.parametrize(("data", "message"), [
    ({"action": "delete"}, "Неизвестное действие"),
    ({"action": ""}, "Неизвестное действие"),
    ({"action": "move", "to": "bogus"}, "Неизвестный статус «bogus»"),
    ({"action": "move", "to": ""}, "Выберите статус, в который перенести лиды."),
    ({"action": "move", "to": "junk"}, "Массово забраковать лиды нельзя"),
    ({"action": "move", "to": "converted"}, "только конвертацией"),
    ({"action": "assign", "responsible": ""}, "Выберите ответственного"),
    ({"action": "assign", "responsible": "abc"}, "Выберите ответственного"),
    ({"action": "assign", "responsible": "99999999"}, "Выберите ответственного"),
    ({"action": "assign", "responsible": "9" * 30}, "Выберите ответственного"),
    ({"action": "assign", "responsible": "inactive"}, "Выберите ответственного"),
    ({"action": "move", "to": "first_call", "ids": []}, "Не выбрано ни одного лида"),
    ({"action": "move", "to": "first_call", "ids": ["abc", "-1", "9" * 30]}, "Не выбрано ни одного лида"),
])
def test_bad_bulk_input_changes_nothing_and_says_why(client, owner, data, message):
    lead = LeadFactory(responsible=owner)
    gone = UserFactory(is_active=False)
    if data.get("responsible") == "inactive":
        data = {**data, "responsible": gone.pk}
    data = {"ids": [lead.pk], **data}
    client.force_login(owner)
    response = _bulk(client, **data)
    assert response.status_code == 200
    assert message in flash(response)
    lead.refresh_from_db()
    assert lead.status == Status.NEW and lead.responsible == owner and lead.version == 1
    assert "alert-danger" in text(response)


def test_too_many_ids_are_refused(client, owner):
    lead = LeadFactory(responsible=owner)
    client.force_login(owner)
    response = _bulk(client, action="move", to="first_call", ids=[lead.pk, *range(10**6, 10**6 + 600)])
    assert "не больше 500" in flash(response)
    lead.refresh_from_db()
    assert lead.status == Status.NEW


def test_bulk_goes_back_to_the_same_filtered_page(client, owner):
    lead = LeadFactory(responsible=owner)
    client.force_login(owner)
    back = f"{LIST}?q=%D0%9B%D0%B8%D0%B4&sort=title&page=1"
    response = client.post(BULK, {"action": "move", "to": "first_call", "ids": [lead.pk], "next": back})
    assert response.status_code == 302 and response["Location"] == back


@pytest.mark.parametrize("evil", ["https://evil.example/leads/", "//evil.example/", "javascript:alert(1)", ""])
def test_bulk_never_redirects_away_from_the_site(client, owner, evil):
    lead = LeadFactory(responsible=owner)
    client.force_login(owner)
    response = client.post(BULK, {"action": "move", "to": "first_call", "ids": [lead.pk], "next": evil})
    assert response.status_code == 302 and response["Location"] == LIST


def test_bulk_accepts_only_post(client, owner):
    client.force_login(owner)
    assert client.get(BULK).status_code == 405


def test_the_bulk_panel_offers_only_in_process_statuses(client, owner):
    LeadFactory(responsible=owner)
    client.force_login(owner)
    response = client.get(LIST)
    offered = [value for value, _label in response.context["bulk_statuses"]]
    assert offered == ["new", "first_call", "qualification", "reconnaissance", "decision_maker"]
    page = text(response)
    bulk_select = page.split('id="bulk-status"')[1].split("</select>")[0]
    assert "Не успешный" not in bulk_select and "Успешный" not in bulk_select
    assert 'value="decision_maker"' in bulk_select


def test_the_search_the_dates_and_the_statuses_keep_their_values(client, owner):
    client.force_login(owner)
    params = {"q": "Ромашка", "created_after": "2026-02-01", "status": "new"}
    assert 'value="Ромашка"' in text(client.get(LIST, params))
    page = panel(client, params)
    assert re.search(r'<input type="date" name="created_after" value="2026-02-01"', page)
    assert re.search(r'<input type="checkbox" name="status" value="new"[^>]*checked', page)
    assert not re.search(r'<input type="checkbox" name="status" value="junk"[^>]*checked', page)


def test_it_shows_times_in_the_users_zone(client, owner):
    lead = LeadFactory(responsible=owner)
    Lead.objects.filter(pk=lead.pk).update(created_at=datetime(2026, 3, 1, 21, 30, tzinfo=UTC))
    client.force_login(owner)
    # 21:30 UTC is 00:30 the next day in Moscow.
    assert re.search(r"02\.03\.2026<div[^>]*>00:30</div>", text(client.get(LIST)))
