"""The «Успешный» dialog on the lead card: choice, preview, one click, links back."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from clients import services as clients
from clients.models import Company, Contact
from deals.models import Deal
from leads import services
from leads.models import Status
from tests.factories import COLD, GENERAL, pipeline

pytestmark = pytest.mark.django_db


@pytest.fixture
def decided(ready_lead, owner):
    return services.lead_move(ready_lead, to=Status.DECISION_MAKER, by=owner)


def html(response):
    return response.content.decode()


def test_the_status_bar_offers_conversion_only_from_decision_maker(client, owner, lead, decided):
    client.force_login(owner)
    page = html(client.get(reverse("leads:detail", args=[decided.pk])))
    assert reverse("leads:convert", args=[decided.pk]) in page
    other = type(lead).objects.create(title="Ранний", source=decided.source, company_name="X",
                                      company_phone="+79120000077", responsible=owner)
    assert reverse("leads:convert", args=[other.pk]) not in html(client.get(reverse("leads:detail", args=[other.pk])))


def test_the_dialog_previews_values_and_defaults_the_pipeline_by_source(client, owner, decided):
    client.force_login(owner)
    response = client.post(reverse("leads:convert", args=[decided.pk]), HTTP_HX_REQUEST="true")
    page = html(response)
    assert response["HX-Retarget"] == "#crm-modal-content"
    assert "Успешный лид: что создать в CRM" in page
    assert 'Тест "Решение"' in page or "Тест &quot;Решение&quot;" in page
    assert "Лактионова Анна" in page and "+7 (880) 000-00-00" in page and "Тренинги" in page
    assert f'value="{pipeline(COLD).pk}" selected' in page


def test_the_dialog_says_which_existing_company_will_be_reused(client, owner, decided):
    services.lead_update(decided, data={"inn": "7707083893"}, by=owner, version=decided.version)
    clients.company_create(data={"name": "ПАО Сбербанк", "inn": "7707083893", "responsible": owner}, by=None)
    client.force_login(owner)
    page = html(client.post(reverse("leads:convert", args=[decided.pk])))
    assert "Уже есть в CRM" in page and "ПАО Сбербанк" in page


def test_converting_creates_the_records_and_links_them_from_the_lead(client, owner, decided):
    client.force_login(owner)
    response = client.post(reverse("leads:convert", args=[decided.pk]),
                           {"dialog": "1", "contact": "on", "company": "on", "deal": "on",
                            "pipeline": pipeline(GENERAL).pk})
    deal = Deal.objects.get()
    assert response.status_code == 302 and response["Location"] == deal.get_absolute_url()
    assert deal.pipeline.name == GENERAL
    page = html(client.get(reverse("leads:detail", args=[decided.pk])))
    assert "Создано при конвертации" in page and deal.get_absolute_url() in page
    assert deal.company.get_absolute_url() in page


def test_nothing_chosen_is_refused_and_nothing_created(client, owner, decided):
    client.force_login(owner)
    page = html(client.post(reverse("leads:convert", args=[decided.pk]), {"dialog": "1"}))
    assert "Выберите, что создать" in page
    decided.refresh_from_db()
    assert decided.status == Status.DECISION_MAKER and not Deal.objects.exists()


def test_a_pipeline_the_user_may_not_use_is_refused(client, owner, decided):
    from accounts.models import Permission

    Permission.objects.create(role=owner.roles.get(), entity="deal", action="add", level=0,
                              scope=pipeline(GENERAL).access_scope)
    client.force_login(owner)
    page = html(client.post(reverse("leads:convert", args=[decided.pk]),
                            {"dialog": "1", "deal": "on", "pipeline": pipeline(GENERAL).pk}))
    assert "недоступна" in page and not Deal.objects.exists()


def test_strangers_cannot_convert(client, teammate, decided):
    client.force_login(teammate)
    assert client.post(reverse("leads:convert", args=[decided.pk]), {"dialog": "1", "deal": "on"}).status_code == 404


def test_the_company_and_contact_cards_show_the_leads_pinned_comment(client, owner, decided):
    result = services.lead_convert(decided, contact=True, company=True, deal=False, by=owner)
    client.force_login(owner)
    for record in (result.company, result.contact):
        page = html(client.get(record.get_absolute_url()))
        assert 'data-testid="lead-pinned-comment"' in page and "Разведка: 12 магазинов" in page


def convert(client, lead, **fields):
    data = {"dialog": "1", "contact": "on", "company": "on", "deal": "on", "pipeline": pipeline(GENERAL).pk,
            "amount": "0", "currency": "RUB", **fields}
    return client.post(reverse("leads:convert", args=[lead.pk]), data)


def test_it_prefills_the_deal_amount_and_currency_from_the_lead_and_leaves_the_close_date_empty(
        client, owner, decided):
    decided = services.lead_update(decided, data={"amount": Decimal("150000.50"), "currency": "USD"}, by=owner,
                                   version=decided.version)
    client.force_login(owner)
    page = html(client.post(reverse("leads:convert", args=[decided.pk]), HTTP_HX_REQUEST="true"))
    assert 'name="amount" value="150\xa0000,50"' in page
    assert '<option value="USD" selected>' in page
    assert re.search(r'<input type="date" name="close_date" min="[-\d]+"[^>]*>', page)
    assert 'name="close_date" value' not in page
    assert 'data-testid="convert-deal-fields">' in page  # «Сделка» is ticked: the fields are enabled


@pytest.mark.parametrize("typed, amount", [("150 000,50", "150000.50"), ("150\xa0000,50\xa0₽", "150000.50"),
                                           ("150000.5", "150000.50"), ("", "0")])
def test_it_converts_with_the_typed_amount_currency_and_close_date(client, owner, decided, typed, amount):
    close = timezone.localdate() + timedelta(days=30)
    client.force_login(owner)
    response = convert(client, decided, amount=typed, currency="EUR", close_date=close.isoformat())
    deal = Deal.objects.get()
    assert response.status_code == 302 and response["Location"] == deal.get_absolute_url()
    assert (deal.amount, deal.currency, deal.close_date) == (Decimal(amount), "EUR", close)
    # The lead's «Тренинги» row carries the amount: the rows still add up to the deal's amount.
    assert [(row.product.name, row.price) for row in deal.products.all()] == [("Тренинги", Decimal(amount))]


def test_it_reads_amounts_the_english_way_in_english(client, owner, decided):
    client.force_login(owner)
    client.post(reverse("set_language"), {"language": "en"})
    convert(client, decided, amount="150,000.50")
    assert Deal.objects.get().amount == Decimal("150000.50")


@pytest.mark.parametrize("field, typed, message", [
    ("amount", "-100", "Сумма не может быть отрицательной."),
    ("amount", "сто тысяч", "Введите сумму числом, например 150 000,50."),
    ("amount", "NaN", "Введите сумму числом, например 150 000,50."),
    ("amount", "1,5,0", "Введите сумму числом, например 150 000,50."),
    ("amount", "1 000 000 000 000 000", "не более 14 цифр"),
    ("currency", "XYZ", "Такой валюты нет: выберите из списка."),
    ("close_date", "yesterday", "Дата закрытия не может быть раньше сегодняшнего дня."),
    ("close_date", "31.02.2026", "Введите дату, например 02.12.2026."),
])
def test_bad_deal_fields_are_refused_with_a_message_and_nothing_converted(client, owner, decided, field, typed,
                                                                         message):
    if typed == "yesterday":
        typed = (timezone.localdate() - timedelta(days=1)).isoformat()
    client.force_login(owner)
    response = convert(client, decided, **{field: typed})
    page = html(response)
    assert response.status_code == 200 and message in page
    assert 'data-testid="convert-dialog"' in page
    decided.refresh_from_db()
    assert decided.status == Status.DECISION_MAKER
    assert (Deal.objects.count(), Company.objects.count(), Contact.objects.count()) == (0, 0, 0)


def test_the_deal_fields_do_not_matter_when_no_deal_is_made(client, owner, decided):
    client.force_login(owner)
    response = client.post(reverse("leads:convert", args=[decided.pk]),
                           {"dialog": "1", "company": "on", "amount": "-1", "close_date": "2000-01-01"})
    assert response.status_code == 302 and response["Location"] == reverse("leads:detail", args=[decided.pk])
    decided.refresh_from_db()
    assert decided.status == Status.CONVERTED and Company.objects.count() == 1 and not Deal.objects.exists()


def test_a_refused_dialog_keeps_the_deal_fields_disabled_when_no_deal_was_ticked(client, owner, decided):
    client.force_login(owner)
    page = html(client.post(reverse("leads:convert", args=[decided.pk]), {"dialog": "1"}))
    assert "Выберите, что создать" in page
    assert 'data-testid="convert-deal-fields" disabled>' in page


def test_a_lead_without_an_amount_leaves_the_field_empty_to_type_into(client, owner, decided):
    client.force_login(owner)
    page = html(client.post(reverse("leads:convert", args=[decided.pk]), HTTP_HX_REQUEST="true"))
    field = re.search(r'<input[^>]* name="amount"[^>]*>', page).group()
    assert 'placeholder="0"' in field and "value=" not in field
