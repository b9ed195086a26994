"""«Успешный»: conversion into contact, company and deal — atomic, matching existing records."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from clients import services as clients
from clients.models import Company, Contact
from crm import timeline
from crm.models import Communication
from deals.models import Deal
from leads import services
from leads.models import Status
from tests.factories import COLD, GENERAL, INBOUND, pipeline, ref

pytestmark = pytest.mark.django_db


@pytest.fixture
def decided(ready_lead, owner):
    lead = services.lead_update(ready_lead, data={"inn": "7707083893", "company_email": "info@reshenie.example",
                                                  "contact_middle_name": "Игоревна", "amount": 90000},
                                by=owner, version=ready_lead.version)
    return services.lead_move(lead, to=Status.DECISION_MAKER, by=owner)


@pytest.mark.parametrize("chosen", [
    {"contact": True, "company": True, "deal": True}, {"contact": True, "company": False, "deal": True},
    {"contact": False, "company": True, "deal": True}, {"contact": False, "company": False, "deal": True},
    {"contact": True, "company": True, "deal": False}, {"contact": True, "company": False, "deal": False},
    {"contact": False, "company": True, "deal": False},
])
def test_every_entity_set_converts_and_closes_the_lead(decided, owner, chosen):
    result = services.lead_convert(decided, by=owner, **chosen)
    assert result.lead.status == Status.CONVERTED
    assert Company.objects.count() == chosen["company"]
    assert Contact.objects.count() == chosen["contact"]
    assert Deal.objects.count() == chosen["deal"]
    assert timeline.entries(result.lead).filter(kind="system", text__startswith="Лид сконвертирован").exists()


def test_the_lead_data_maps_onto_the_new_records(decided, owner):
    result = services.lead_convert(decided, contact=True, company=True, deal=True, by=owner)
    company, contact, deal = result.company, result.contact, result.deal
    assert (company.name, company.inn) == ('Тест "Решение"', "7707083893")
    assert {c.value for c in company.communications.all()} == {"+78800000000", "info@reshenie.example"}
    assert (contact.full_name, list(contact.companies.all())) == ("Лактионова Анна Игоревна", [company])
    assert contact.communications.get(kind=Communication.Kind.PHONE).value == "+79522666348"
    # A cold source («Контур.Компас») goes to «Холодное подключение» by default.
    assert deal.pipeline.name == COLD and deal.current_stage.name == "Новая"
    assert deal.lead == result.lead and deal.company == company and list(deal.contacts.all()) == [contact]
    assert [p.product.name for p in deal.products.all()] == ["Тренинги"] and deal.amount == 90000
    assert (result.lead.company, result.lead.contact) == (company, contact)


def test_inbound_sources_default_to_the_inbound_pipeline_and_a_choice_wins(decided, owner):
    services.lead_update(decided, data={"source": ref("Source", "Сайт")}, by=owner, version=decided.version)
    assert services.default_pipeline(type(decided).objects.get(pk=decided.pk)).name == INBOUND
    result = services.lead_convert(decided, contact=False, company=False, deal=True, by=owner,
                                   pipeline=pipeline(GENERAL))
    assert result.deal.pipeline.name == GENERAL


def test_an_existing_company_is_matched_by_inn_not_duplicated(decided, owner):
    existing = clients.company_create(data={"name": "ПАО Сбербанк", "inn": "7707083893", "responsible": owner},
                                      by=None)
    result = services.lead_convert(decided, contact=False, company=True, deal=True, by=owner)
    assert result.company == existing and result.company_found
    assert Company.objects.count() == 1 and result.deal.company == existing


def test_an_existing_company_is_matched_by_name_and_phone(decided, owner):
    services.lead_update(decided, data={"inn": ""}, by=owner, version=decided.version)
    existing = clients.company_create(data={"name": "ООО «Тест Решение»", "responsible": owner}, by=None,
                                      communications=[("phone", "work", "8 (880) 000-00-00", "")])
    result = services.lead_convert(type(decided).objects.get(pk=decided.pk), contact=False, company=True, deal=False,
                                   by=owner)
    assert result.company == existing


def test_an_existing_contact_is_matched_by_phone_and_joins_the_company(decided, owner):
    known = clients.contact_create(data={"first_name": "Анна", "last_name": "Лактионова", "responsible": owner},
                                   communications=[("phone", "mobile", "+7 952 266-63-48", "")], by=None)
    result = services.lead_convert(decided, contact=True, company=True, deal=False, by=owner)
    assert result.contact == known and result.contact_found
    assert list(known.companies.all()) == [result.company]


def test_a_failed_conversion_leaves_nothing_behind(decided, owner, monkeypatch):
    from deals import services as deals

    def broken(**kwargs):
        raise deals.DealError("сбой при создании сделки")

    monkeypatch.setattr(deals, "deal_create", broken)
    with pytest.raises(services.LeadError, match="сбой при создании сделки"):
        services.lead_convert(decided, contact=True, company=True, deal=True, by=owner)
    decided.refresh_from_db()
    assert decided.status == Status.DECISION_MAKER and decided.company is None
    assert (Company.objects.count(), Contact.objects.count(), Deal.objects.count()) == (0, 0, 0)


def test_conversion_needs_a_choice_and_the_decision_maker_status(ready_lead, decided, owner):
    with pytest.raises(services.LeadError, match="Выберите"):
        services.lead_convert(decided, contact=False, company=False, deal=False, by=owner)
    other = type(ready_lead).objects.create(title="Рано", source=ref("Source"), company_name="X",
                                            company_phone="+79120000009", responsible=owner)
    with pytest.raises(services.LeadError, match="Выход на ЛПР"):
        services.lead_convert(other, contact=False, company=True, deal=False, by=owner)


def test_conversion_needs_change_rights_on_the_lead(decided, teammate):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.lead_convert(decided, contact=True, company=True, deal=True, by=teammate)
    assert Company.objects.count() == 0


def test_the_deal_rows_add_up_to_the_lead_amount(decided, owner):
    services.lead_update(decided, data={}, m2m={"products_to_sell": [ref("Product", "Тренинги"),
                                                                    ref("Product", "Консультации")]},
                         by=owner, version=decided.version)
    deal = services.lead_convert(type(decided).objects.get(pk=decided.pk), contact=False, company=False, deal=True,
                                 by=owner).deal
    assert sum(row.total for row in deal.products.all()) == deal.amount == 90000


def test_the_dialog_sets_the_deals_amount_currency_and_close_date(decided, owner):
    close = timezone.localdate() + timedelta(days=10)
    deal = services.lead_convert(decided, contact=False, company=False, deal=True, by=owner, deal_data={
        "amount": Decimal("150000.50"), "currency": "USD", "close_date": close}).deal
    assert (deal.amount, deal.currency, deal.close_date) == (Decimal("150000.50"), "USD", close)
    assert [(row.product.name, row.price) for row in deal.products.all()] == [("Тренинги", Decimal("150000.50"))]
    assert deal.start_date == timezone.localdate() and deal.current_stage.name == "Новая"


def test_without_the_dialogs_values_the_deal_takes_the_leads(decided, owner):
    deal = services.lead_convert(decided, contact=False, company=False, deal=True, by=owner, deal_data={}).deal
    assert (deal.amount, deal.currency, deal.close_date) == (Decimal("90000"), "RUB", None)


def test_a_negative_amount_is_refused_and_nothing_is_left_behind(decided, owner):
    with pytest.raises(services.LeadError, match="Сумма не может быть отрицательной"):
        services.lead_convert(decided, contact=True, company=True, deal=True, by=owner,
                              deal_data={"amount": Decimal("-1")})
    decided.refresh_from_db()
    assert decided.status == Status.DECISION_MAKER
    assert (Company.objects.count(), Contact.objects.count(), Deal.objects.count()) == (0, 0, 0)


def test_a_close_date_in_the_past_is_refused_by_the_service_too(decided, owner):
    import datetime

    with pytest.raises(services.LeadError, match="Дата закрытия не может быть раньше"):
        services.lead_convert(decided, contact=False, company=False, deal=True, by=owner,
                              deal_data={"close_date": datetime.date(2020, 1, 1)})
    assert not Deal.objects.exists()


def test_the_dialog_may_set_only_the_amount_currency_and_close_date(decided, owner):
    with pytest.raises(TypeError, match="deal_data"):
        services.lead_convert(decided, contact=False, company=False, deal=True, by=owner,
                              deal_data={"title": "Другое"})
    assert not Deal.objects.exists()
