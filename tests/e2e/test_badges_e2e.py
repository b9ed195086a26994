"""Status and stage badges: a long name wraps on a phone instead of widening the list, and a badge
of two lines stays a rounded tag — a pill's radius on two lines made it an oval."""

import pytest
from playwright.sync_api import expect

from tests.factories import COLD, DealFactory, LeadFactory, stage

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SHAPE = """el => {
  const range = document.createRange();
  range.selectNodeContents(el);
  return {lines: range.getClientRects().length, radius: parseFloat(getComputedStyle(el).borderTopLeftRadius)};
}"""


def assert_tag_shaped(badges):
    shapes = [b.evaluate(SHAPE) for b in badges.all()]
    assert shapes
    for shape in shapes:
        # A tag's corners are small (at most .5rem), whether it has one line or two.
        assert shape["radius"] <= 8, shape
    return shapes


@pytest.mark.parametrize(("width", "height"), [(1440, 900), (390, 844)])
def test_deal_stage_and_lead_status_badges_stay_tags(live_server, page, login, owner, width, height):
    DealFactory(responsible=owner, title="Сделка с долгой стадией",
                stage_id=stage(COLD, "Бесплатный продукт согласован").pk)
    LeadFactory(responsible=owner)
    page.set_viewport_size({"width": width, "height": height})
    login(owner)
    page.goto(f"{live_server.url}/deals/list/")
    badges = page.locator(".deals-stage-badge")
    expect(badges.first).to_be_visible()
    page.screenshot(path=f"screenshots/deal-list-{width}x{height}.png", full_page=True)
    [shape] = assert_tag_shaped(badges)
    # On a desktop the long stage name takes one line; on a phone the row is a card (the phone layout)
    # and the badge, wrapped or not, stays within the window instead of widening the list.
    if width >= 576:
        assert shape["lines"] == 1, shape
    else:
        assert badges.first.evaluate("el => el.getBoundingClientRect().right <= window.innerWidth")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.goto(f"{live_server.url}/leads/")
    badges = page.locator(".crm-lead-table .badge")
    expect(badges.first).to_be_visible()
    page.screenshot(path=f"screenshots/lead-list-{width}x{height}.png", full_page=True)
    assert_tag_shaped(badges)


@pytest.mark.parametrize(("width", "height"), [(1440, 900), (390, 844)])
def test_the_checklist_marks_keep_one_line(live_server, page, login, owner, width, height):
    lead = LeadFactory(responsible=owner)
    page.set_viewport_size({"width": width, "height": height})
    login(owner)
    page.goto(f"{live_server.url}/leads/{lead.pk}/")
    marks = page.get_by_test_id("checklist").locator(".badge")
    expect(marks.first).to_be_visible()
    for mark in marks.all():
        assert mark.evaluate(SHAPE)["lines"] == 1
        # Not stretched to the height of a long item's text either: a one-line tag.
        assert mark.bounding_box()["height"] < 30, mark.bounding_box()
