"""The companies and contacts lists: search, filters, sorting, pagination, query budget."""

from datetime import timedelta
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clients.models import Company
from tests.factories import ref

from .conftest import INN, OTHER_INN, make_company, make_contact

pytestmark = pytest.mark.django_db

COMPANIES = reverse("clients:company_list")
CONTACTS = reverse("clients:contact_list")


def names(response) -> list[str]:
    return [c.name for c in response.context["companies"]]


def people(response) -> list[str]:
    return [c.full_name for c in response.context["contacts"]]


def text(response) -> str:
    return unescape(response.content.decode()).replace("\xa0", " ")


@pytest.fixture
def two_companies(owner):
    romashka = make_company(owner, name="ООО «Ромашка»", inn=INN, legal_name="Общество «Ромашка-Плюс»",
                            phones=["+78800000000"], emails=["Sales@Romashka.ru"])
    lyutik = make_company(owner, name="Лютик", inn=OTHER_INN, phones=["+79121234567"], emails=["info@lyutik.ru"])
    return romashka, lyutik


# --- Search ---

@pytest.mark.parametrize("query", [
    "ромашка", "РОМАШКА", "ромашка-плюс", INN, "7707083",
    "8 (880) 000-00-00", "+7 880 000-00-00", "88800000000", "78800000000", "880-000", "8800000000",
    "sales@romashka.ru", "SALES@", "romashka.ru",
])
def test_the_search_finds_a_company_by_name_inn_phone_in_any_format_and_email(client, owner, two_companies, query):
    client.force_login(owner)
    assert names(client.get(COMPANIES, {"q": query})) == ["ООО «Ромашка»"]


def test_the_search_needs_every_word_and_treats_yo_as_e(client, owner):
    make_company(owner, name="Зелёный сад")
    make_company(owner, name="Зелёный дом")
    client.force_login(owner)
    assert names(client.get(COMPANIES, {"q": "зеленый сад"})) == ["Зелёный сад"]
    assert names(client.get(COMPANIES, {"q": "Ромашка"})) == []
    response = client.get(COMPANIES, {"q": "нет такой"})
    assert "По этим условиям компаний не найдено." in text(response)


@pytest.mark.parametrize("query", ["Лактионова", "анна игоревна", "+7 952 266-63-48", "8-952-266-63-48",
                                   "anna@romashka.ru", "руководитель отдела"])
def test_the_search_finds_a_contact_by_name_phone_email_and_position(client, owner, contact, query):
    make_contact(owner, first_name="Пётр", last_name="Другой", phones=["+79000000000"])
    client.force_login(owner)
    assert people(client.get(CONTACTS, {"q": query})) == ["Лактионова Анна Игоревна"]


# --- Columns ---

def test_the_company_list_shows_phones_emails_inn_and_responsible(client, owner, two_companies):
    client.force_login(owner)
    page = text(client.get(COMPANIES))
    for value in ("ООО «Ромашка»", "+7 (880) 000-00-00", "sales@romashka.ru", INN, "Иванов П.", "Найдено компаний: 2"):
        assert value in page, value
    assert 'href="tel:+78800000000"' in page


def test_the_contact_list_names_only_the_companies_the_user_may_see(client, owner, teammate, company):
    theirs = make_company(teammate, name="Чужая компания")
    make_contact(owner, first_name="Олег", last_name="Общий", companies=[company, theirs], phones=["+79031112233"])
    client.force_login(owner)
    page = text(client.get(CONTACTS))
    assert "Общий Олег" in page and "+7 (903) 111-22-33" in page
    assert "ООО «Ромашка»" in page and reverse("clients:company_detail", args=[company.pk]) in page
    assert "Чужая компания" not in page and reverse("clients:company_detail", args=[theirs.pk]) not in page
    assert "Нет доступа" in page


# --- Filters ---

def test_company_filters(client, owner, teammate, head):
    niche, client_type = ref("Niche"), ref("ClientType")
    make_company(owner, name="С нишей", niche=niche, client_type=client_type)
    make_company(owner, name="Без ниши")
    make_company(teammate, name="Коллеги")
    old = make_company(owner, name="Старая")
    Company.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=30))
    client.force_login(head)
    assert names(client.get(COMPANIES, {"niche": niche.pk})) == ["С нишей"]
    assert names(client.get(COMPANIES, {"client_type": client_type.pk})) == ["С нишей"]
    assert set(names(client.get(COMPANIES, {"niche": "null"}))) == {"Без ниши", "Коллеги", "Старая"}
    assert names(client.get(COMPANIES, {"responsible": teammate.pk})) == ["Коллеги"]
    since = (timezone.localdate() - timedelta(days=1)).isoformat()
    assert "Старая" not in names(client.get(COMPANIES, {"created_after": since}))
    until = (timezone.localdate() - timedelta(days=10)).isoformat()
    assert names(client.get(COMPANIES, {"created_before": until})) == ["Старая"]


def test_contact_filters(client, owner, company):
    other = make_company(owner, name="Лютик")
    make_contact(owner, first_name="Анна", last_name="Ромашкина", companies=[company])
    make_contact(owner, first_name="Борис", last_name="Лютиков", companies=[other, company])
    make_contact(owner, first_name="Вера", last_name="Ничья")
    client.force_login(owner)
    assert people(client.get(CONTACTS, {"company": other.pk})) == ["Лютиков Борис"]
    assert people(client.get(CONTACTS, {"company": company.pk})) == ["Лютиков Борис", "Ромашкина Анна"]
    assert people(client.get(CONTACTS, {"responsible": owner.pk, "q": "вера"})) == ["Ничья Вера"]


def test_a_bad_filter_value_is_reported_not_a_500(client, owner, company):
    client.force_login(owner)
    response = client.get(COMPANIES, {"niche": "abc", "created_after": "вчера"})
    assert response.status_code == 200
    assert "Некоторые условия не применены" in text(response)


# --- Sorting and pages ---

def test_sorting_by_a_column_and_back(client, owner):
    for name in ("Бета", "Альфа", "Гамма"):
        make_company(owner, name=name)
    client.force_login(owner)
    assert names(client.get(COMPANIES)) == ["Альфа", "Бета", "Гамма"]
    assert names(client.get(COMPANIES, {"sort": "-name"})) == ["Гамма", "Бета", "Альфа"]
    assert names(client.get(COMPANIES, {"sort": "-created_at"})) == ["Гамма", "Альфа", "Бета"]
    assert names(client.get(COMPANIES, {"sort": "DROP TABLE"})) == ["Альфа", "Бета", "Гамма"]
    page = text(client.get(COMPANIES, {"sort": "name"}))
    assert 'href="?sort=-name"' in page


def _bulk(owner, n, start=0):
    for i in range(start, start + n):
        company = make_company(owner, name=f"Массовая {i:04d}", phones=[f"+7912{i:07d}"], emails=[f"c{i}@example.ru"],
                               niche=ref("Niche"), client_type=ref("ClientType"))
        make_contact(owner, first_name=f"Имя{i:04d}", last_name="Массовый", phones=[f"+7913{i:07d}"],
                     emails=[f"p{i}@example.ru"], companies=[company])


def test_fifty_rows_a_page(client, owner):
    _bulk(owner, 55)
    client.force_login(owner)
    first = client.get(COMPANIES)
    assert len(names(first)) == 50 and "показаны 1–50" in text(first)
    second = client.get(COMPANIES, {"page": 2})
    assert names(second) == ["Массовая 0050", "Массовая 0051", "Массовая 0052", "Массовая 0053", "Массовая 0054"]
    assert client.get(CONTACTS, {"page": "abc"}).context["page"].number == 1


# --- Query budget ---

def _count(client, url, params=None) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("persona", ["owner", "head", "crm_admin"])
def test_the_lists_cost_a_fixed_number_of_queries(client, personas, persona, django_assert_max_num_queries):
    owner = personas["owner"]
    _bulk(owner, 60)
    client.force_login(personas[persona])
    client.get(COMPANIES)  # warm caches that are not per page (content types, …)
    client.get(CONTACTS)
    searched = {"q": "массов", "sort": "responsible"}
    with_60 = [_count(client, COMPANIES), _count(client, COMPANIES, searched), _count(client, CONTACTS),
               _count(client, CONTACTS, searched)]
    _bulk(owner, 190, start=60)
    with_250 = [_count(client, COMPANIES), _count(client, COMPANIES, searched), _count(client, CONTACTS),
                _count(client, CONTACTS, searched)]
    assert with_60 == with_250
    with django_assert_max_num_queries(15):
        response = client.get(COMPANIES, searched)
    assert len(response.context["companies"]) == 50
    with django_assert_max_num_queries(15):
        response = client.get(CONTACTS, searched)
    assert len(response.context["contacts"]) == 50
