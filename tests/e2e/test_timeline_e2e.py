"""The card's history in a browser: a comment is sent, pinned and unpinned with the real buttons,
in place (no page load)."""

import pytest
from playwright.sync_api import expect

from tests.factories import LeadFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize(("width", "height"), [(1440, 900), (390, 844)])
def test_a_manager_comments_pins_and_unpins(live_server, page, login, owner, width, height):
    lead = LeadFactory(responsible=owner)
    page.set_viewport_size({"width": width, "height": height})
    login(owner)
    page.goto(f"{live_server.url}/leads/{lead.pk}/")
    loads = []
    page.on("load", lambda p: loads.append(p.url))
    timeline = page.get_by_test_id("timeline")
    timeline.get_by_label("Комментарий").fill("Разведка: 5 магазинов, ЛПР — директор")
    timeline.get_by_test_id("comment-send").click()
    expect(timeline.locator(".crm-entry-comment")).to_contain_text("Разведка: 5 магазинов")
    timeline.get_by_test_id("pin").first.click()
    expect(page.get_by_test_id("pinned-comment")).to_contain_text("Разведка: 5 магазинов")
    page.get_by_test_id("pinned-comment").get_by_role("button", name="Открепить").click()
    expect(page.get_by_test_id("pinned-comment")).to_have_count(0)
    assert loads == []
