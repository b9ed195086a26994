"""The company and contact cards: fields, phones with their types, linked records, the timeline."""

from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crm import timeline
from tests.factories import COLD, DealFactory, LeadFactory, pipeline, ref

from .conftest import INN, make_company, make_contact

pytestmark = pytest.mark.django_db


def html(response) -> str:
    return unescape(response.content.decode()).replace("\xa0", " ")


def test_the_company_card_shows_groups_requisites_and_typed_phones(client, owner, company):
    services_data = {"niche": ref("Niche"), "address": "Санкт-Петербург, проспект Косыгина, 25 к1"}
    from clients import services

    company = services.company_update(company, data=services_data, by=owner, version=company.version)
    client.force_login(owner)
    page = html(client.get(reverse("clients:company_detail", args=[company.pk])))
    for value in ("О компании", "Реквизиты", "Работа с клиентом", "Телефоны и e-mail", INN, "773601001",
                  "Телефон (рабочий)", "+7 (880) 000-00-00", "E-mail (рабочий)", "info@romashka.ru",
                  str(ref("Niche")), "Санкт-Петербург, проспект Косыгина, 25 к1", "Иванов Пётр",
                  'href="https://romashka.ru"', "История и комментарии", "Компания создана"):
        assert value in page, value


def test_the_company_card_lists_its_contacts_deals_and_leads(client, owner, teammate, company, contact):
    deal = DealFactory(title="Внедрение Битрикс24", company=company, responsible=owner, amount=150000)
    DealFactory(title="Чужая сделка", company=company, responsible=teammate)
    lead = LeadFactory(title="Лид про тренинги", company=company, responsible=owner)
    client.force_login(owner)
    page = html(client.get(reverse("clients:company_detail", args=[company.pk])))
    assert "Лактионова Анна Игоревна" in page and reverse("clients:contact_detail", args=[contact.pk]) in page
    assert "+7 (952) 266-63-48" in page
    assert "Внедрение Битрикс24" in page and COLD in page and "Новая" in page and "150 000 ₽" in page
    assert deal.current_stage.name == "Новая"
    assert "Чужая сделка" not in page and "Ещё сделок, недоступных вам: 1." in page
    assert "Лид про тренинги" in page and reverse("leads:detail", args=[lead.pk]) in page
    assert "Не обработан" in page
    assert reverse("clients:contact_create") + f"?company={company.pk}" in page


def test_the_contact_card_lists_its_companies_deals_and_leads(client, owner, teammate, company, contact):
    theirs = make_company(teammate, name="Чужая компания")
    contact.companies.add(theirs)
    deal = DealFactory(title="Тайный покупатель", pipeline=pipeline(COLD), responsible=owner)
    deal.contacts.add(contact)
    LeadFactory(title="Лид Анны", contact=contact, responsible=owner)
    client.force_login(owner)
    page = html(client.get(reverse("clients:contact_detail", args=[contact.pk])))
    for value in ("О контакте", "Лактионова Анна Игоревна", "Руководитель отдела продаж", "Телефон (мобильный)",
                  "+7 (952) 266-63-48", "anna@romashka.ru", "ООО «Ромашка»", "Тайный покупатель", "Лид Анны",
                  "Связанная компания есть (нет доступа)"):
        assert value in page, value
    assert "Чужая компания" not in page  # a company the manager may not see is not named
    assert reverse("clients:company_detail", args=[company.pk]) in page
    assert reverse("clients:company_detail", args=[theirs.pk]) not in page


def test_a_comment_on_a_company_goes_through_the_shared_timeline(client, owner, company):
    client.force_login(owner)
    url = reverse("crm:comment_add", args=["clients.company", company.pk])
    response = client.post(url, {"text": "Разведка: 12 магазинов", "pin": "on"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "Разведка: 12 магазинов" in html(response)
    assert timeline.pinned(company).text == "Разведка: 12 магазинов"
    response = client.post(reverse("crm:comment_add", args=["clients.contact", 999999]), {"text": "x"})
    assert response.status_code == 404
    page = html(client.get(reverse("clients:company_detail", args=[company.pk])))
    assert 'data-testid="pinned-comment"' in page and "Разведка: 12 магазинов" in page


def test_a_head_sees_a_teammates_card_and_may_edit_it(client, head, company):
    client.force_login(head)
    page = html(client.get(reverse("clients:company_detail", args=[company.pk])))
    assert reverse("clients:company_edit", args=[company.pk]) in page  # the head may change the department's records


def _count(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def _grow(company, owner, n, start=0):
    for i in range(start, start + n):
        contact = make_contact(owner, first_name=f"Имя{i}", phones=[f"+7913{i:07d}"], emails=[f"p{i}@example.ru"],
                               companies=[company])
        deal = DealFactory(company=company, responsible=owner)
        deal.contacts.add(contact)
        LeadFactory(company=company, contact=contact, responsible=owner)
        timeline.add_comment(company, owner, f"комментарий {i}")


def test_the_cards_cost_a_fixed_number_of_queries(client, owner, django_assert_max_num_queries):
    company = make_company(owner, name="Большая", phones=["+78800000000"])
    _grow(company, owner, 2)
    contact = company.contacts.first()
    client.force_login(owner)
    company_url, contact_url = company.get_absolute_url(), contact.get_absolute_url()
    client.get(company_url)
    client.get(contact_url)
    few = _count(client, company_url), _count(client, contact_url)
    _grow(company, owner, 20, start=2)
    for _i in range(5):
        contact.companies.add(make_company(owner, name=f"Ещё {_i}"))
    many = _count(client, company_url), _count(client, contact_url)
    assert few == many
    with django_assert_max_num_queries(19):  # 20 before issue 13
        assert client.get(company_url).status_code == 200


def test_a_card_reads_no_list_of_leads_or_deals_it_has_none_of(client, owner):
    company = make_company(owner, name="Без сделок")
    client.force_login(owner)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(company.get_absolute_url()).status_code == 200
    read = [q["sql"] for q in queries.captured_queries if 'FROM "leads_lead"' in q["sql"] or 'FROM "deals_deal"' in q["sql"]]
    # Only the counts: the lists themselves would cost a walk of a date index on SQLite.
    assert len(read) == 2 and all("COUNT(*)" in sql for sql in read)
