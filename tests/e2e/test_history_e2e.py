"""The history on a card reads in the reader's language (issue 8 §1): a manager moves a deal by its
stage bar and edits it; after «EN» the same entries read in English, values in English formats."""

import datetime
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from deals import services
from tests.factories import DealFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_deal_history_follows_the_language_switch(live_server, page, login, owner):
    page.set_viewport_size({"width": 1440, "height": 900})
    deal = DealFactory(title="Внедрение Битрикс24", responsible=owner, amount=Decimal("50000"))
    services.deal_update(deal, data={"close_date": datetime.date(2026, 12, 2)}, by=owner, version=deal.version)
    login(owner)
    page.goto(f"{live_server.url}/deals/{deal.pk}/")
    page.get_by_test_id("stage-bar").get_by_role("button", name="Презентация").click()
    expect(page.get_by_test_id("current-stage")).to_contain_text("Презентация")
    page.get_by_test_id("stage-bar").get_by_role("button", name="Отказ").click()
    dialog = page.get_by_test_id("missing-fields-dialog")
    dialog.get_by_label("Причина провала").select_option(label="Дорого")
    page.get_by_test_id("missing-fields-save").click()
    expect(page.get_by_test_id("current-stage")).to_contain_text("Отказ — Дорого")

    page.reload()
    history = page.get_by_test_id("timeline")
    expect(history).to_contain_text("Стадия: Новая → Презентация")
    expect(history).to_contain_text("Причина: Дорого")
    expect(history).to_contain_text("Предполагаемая дата закрытия: — → 02.12.2026")

    page.get_by_role("button", name="EN").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    history = page.get_by_test_id("timeline")
    # Stage names are the company's data; the sentence around them is the reader's.
    expect(history).to_contain_text("Stage: Новая → Презентация")
    expect(history).to_contain_text("Reason: Дорого")
    expect(history).to_contain_text("Expected close date: — → 12/02/2026")
    expect(history).not_to_contain_text("Стадия:")
    expect(history).not_to_contain_text("Причина:")
    page.screenshot(path="screenshots/history-en.png", full_page=True)
