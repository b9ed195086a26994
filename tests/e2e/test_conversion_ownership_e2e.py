"""Иванов converts a lead whose contact phone is Сидоров's contact's: the dialog says only whose
client it is, the click creates Иванов's own contact, Сидоров's stays as it was, and the new
contact's history carries the «Возможный дубль» flag for a supervisor."""

import pytest
from playwright.sync_api import expect

from clients import services as clients
from clients.models import Contact
from deals.models import Deal
from leads.models import Lead, Status

from .test_conversion_e2e import seed_lead_at_decision_maker

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_strangers_contact_is_neither_named_nor_reused(live_server, page, login, owner, outsider):
    problems = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    lead = seed_lead_at_decision_maker(owner)
    theirs = clients.contact_create(data={"first_name": "Тайный", "last_name": "Клиент", "responsible": outsider},
                                    communications=[("phone", "mobile", lead.contact_phone, "")], by=outsider)

    login(owner)
    page.goto(f"{live_server.url}/leads/{lead.pk}/")
    page.get_by_test_id("status-bar").get_by_role("button", name="Успешный", exact=True).click()
    dialog = page.get_by_test_id("convert-dialog")
    expect(dialog.get_by_test_id("existing-contact")).to_contain_text(
        "Такой клиент уже есть в CRM у Сидоров Алексей, Группа продаж 2")
    expect(dialog.get_by_test_id("existing-contact")).to_contain_text("Будет создан новый контакт")
    expect(dialog).not_to_contain_text("Тайный")
    dialog.get_by_test_id("convert-save").click()

    expect(page.get_by_test_id("current-status")).to_contain_text("Успешный")
    mine = Contact.objects.get(responsible=owner)
    link = page.get_by_test_id("conversion-result").get_by_role("link", name="Контакт: Лактионова Анна Игоревна")
    expect(link).to_have_attribute("href", mine.get_absolute_url())
    link.click()
    expect(page.get_by_test_id("contact-title")).to_have_text("Лактионова Анна Игоревна")
    expect(page.locator("#timeline")).to_contain_text("Возможный дубль")
    expect(page.locator("#timeline")).to_contain_text(f"№{theirs.pk} — Такой клиент уже есть в CRM у Сидоров Алексей")
    expect(page.locator("body")).not_to_contain_text("Тайный")

    theirs.refresh_from_db()
    assert list(theirs.companies.all()) == [] and not Deal.objects.filter(contacts=theirs).exists()
    assert Lead.objects.get(pk=lead.pk).status == Status.CONVERTED
    assert problems == []
