"""«Сохранить всё равно» clicked in a real browser: a test posting `save_anyway=1` directly did not
see that the form's own hidden empty `save_anyway` came later in the request and won."""

import re

import pytest
from playwright.sync_api import expect

from leads.models import Lead
from tests.factories import LeadFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize(("width", "height"), [(1440, 900), (390, 844)])
def test_a_manager_creates_a_lead_that_duplicates_another_by_saving_anyway(
        live_server, page, login, owner, width, height):
    existing = LeadFactory(responsible=owner, title="Тест Решение", company_phone="+78800000000")
    page.set_viewport_size({"width": width, "height": height})
    login(owner)
    page.goto(f"{live_server.url}/leads/new/")
    page.locator("[name=title]").fill("Тест Решение — второй")
    page.locator("[name=source]").select_option(label="Контур.Компас")
    page.locator("[name=company_name]").fill('Тест "Решение"')
    page.locator("[name=company_phone]").fill("8 (880) 000-00-00")
    page.get_by_test_id("lead-save").click()

    warning = page.get_by_test_id("duplicates-confirm")
    expect(warning).to_be_visible()
    expect(page.locator("#duplicates")).to_contain_text("Тест Решение")
    assert Lead.objects.count() == 1
    page.screenshot(path=f"screenshots/lead-create-duplicate-{width}x{height}.png", full_page=True)
    warning.get_by_role("button", name="Сохранить всё равно").click()

    expect(page.get_by_test_id("lead-title")).to_have_text("Тест Решение — второй")
    new = Lead.objects.exclude(pk=existing.pk).get()
    expect(page).to_have_url(re.compile(rf"/leads/{new.pk}/$"))


def test_a_manager_edits_a_lead_into_a_duplicate_by_saving_anyway(live_server, page, login, owner):
    LeadFactory(responsible=owner, title="Тест Решение", company_phone="+78800000000")
    lead = LeadFactory(responsible=owner, title="Второй звонок")
    login(owner)
    page.goto(f"{live_server.url}/leads/{lead.pk}/edit/")
    page.locator("[name=company_phone]").fill("8 (880) 000-00-00")
    page.get_by_test_id("lead-save").click()

    warning = page.get_by_test_id("duplicates-confirm")
    expect(warning).to_be_visible()
    warning.get_by_role("button", name="Сохранить всё равно").click()

    expect(page.get_by_test_id("lead-title")).to_have_text("Второй звонок")
    expect(page).to_have_url(re.compile(rf"/leads/{lead.pk}/$"))
    lead.refresh_from_db()
    assert lead.company_phone == "+78800000000"
