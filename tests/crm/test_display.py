"""Numbers, dates and phones as the reader's language writes them, on every card (issue: a number
printed as «150000.00» is a bug)."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from crm import phones
from crm.display import field_value
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db


def test_a_phone_is_shown_in_the_russian_format():
    assert phones.display("+79128598748") == "+7 (912) 859-87-48"


def test_the_lead_card_shows_money_dates_and_links_the_russian_way(client, owner):
    lead = LeadFactory(responsible=owner, amount=Decimal("150000"), company_phone="+79128598748",
                       contact_email="anna@example.ru", next_touch_date=datetime.date(2026, 12, 2))
    client.force_login(owner)
    page = client.get(reverse("leads:detail", args=[lead.pk])).content.decode()
    assert "150\xa0000\xa0₽" in page and "150000.00" not in page
    assert "02.12.2026" in page and "2026-12-02" not in page
    assert '<a href="tel:+79128598748" class="text-decoration-none">+7 (912) 859-87-48</a>' in page
    assert 'href="mailto:anna@example.ru"' in page


def test_english_readers_get_english_forms(owner):
    lead = LeadFactory(responsible=owner, amount=Decimal("150000.5"), next_touch_date=datetime.date(2026, 12, 2))
    with translation.override("en"):
        assert field_value(lead, "amount").text == "150,000.50\xa0₽"
        assert field_value(lead, "next_touch_date").text == "12/02/2026"


def test_an_amount_input_shows_the_sum_as_the_card_does_and_reads_it_back(client, owner):
    lead = LeadFactory(responsible=owner, amount=Decimal("150000.5"))
    client.force_login(owner)
    page = client.get(reverse("leads:edit", args=[lead.pk])).content.decode()
    assert 'value="150\xa0000,50"' in page and "150000.50" not in page
