"""Dialogs taller than the window scroll: the «Выход на ЛПР» missing-fields dialog is taller than
1440×900, and its form wrapped the modal's header, body and footer, so Bootstrap's scrollable modal
clipped the footer instead of scrolling the body. Checked at a desktop and a phone size."""

import pytest
from playwright.sync_api import expect

from leads.models import Status
from tests.e2e.seed import fill_decision_maker_dialog, seed_lead
from tests.e2e.test_conversion_e2e import seed_lead_at_decision_maker
from tests.factories import DealFactory, LeadFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize(("width", "height"), [(1440, 900), (390, 844)])
def test_the_decision_maker_dialog_scrolls_and_its_save_button_is_clicked_by_mouse(
        live_server, page, login, owner, width, height):
    lead = seed_lead(owner, upto=Status.RECONNAISSANCE)
    page.set_viewport_size({"width": width, "height": height})
    login(owner)
    page.goto(f"{live_server.url}/leads/{lead.pk}/")
    page.get_by_test_id("status-bar").get_by_role("button", name="Выход на ЛПР", exact=True).click()
    dialog = page.get_by_test_id("missing-fields-dialog")
    expect(dialog).to_be_visible()
    save = dialog.get_by_test_id("missing-fields-save")
    # The footer stays on screen while the body is longer than the window.
    expect(save).to_be_in_viewport()
    body = dialog.locator(".modal-body")
    assert body.evaluate("el => el.scrollHeight > el.clientHeight")
    page.screenshot(path=f"screenshots/dialog-decision-maker-{width}x{height}.png")

    fill_decision_maker_dialog(dialog)

    # The wheel over the body scrolls it, both ways.
    body.evaluate("el => el.scrollTop = 0")
    body.hover()
    page.mouse.wheel(0, 3000)
    page.wait_for_function("el => el.scrollTop > 0", arg=body.element_handle())
    page.screenshot(path=f"screenshots/dialog-decision-maker-scrolled-{width}x{height}.png")

    expect(save).to_be_in_viewport()
    save.click()
    expect(page.get_by_test_id("current-status")).to_contain_text("Выход на ЛПР")
    lead.refresh_from_db()
    assert lead.status == Status.DECISION_MAKER


def assert_footer_on_screen_and_body_reachable(page, dialog, button_test_id, name, width, height):
    """The dialog's action button is on screen without scrolling the page, and whatever of the
    body does not fit scrolls inside it."""
    button = dialog.get_by_test_id(button_test_id)
    expect(button).to_be_in_viewport()
    body = dialog.locator(".modal-body")
    box = body.bounding_box()
    assert box["y"] >= 0 and box["y"] + box["height"] <= height, (name, box)
    overflow = body.evaluate("el => getComputedStyle(el).overflowY")
    assert body.evaluate("el => el.scrollHeight <= el.clientHeight") or overflow == "auto", name
    page.wait_for_timeout(300)  # the modal's fade-in, for the screenshot
    page.screenshot(path=f"screenshots/dialog-{name}-{width}x{height}.png")
    dialog.get_by_role("link", name="Отмена").click()
    expect(page.locator("#crm-modal")).to_be_hidden()


@pytest.mark.parametrize(("width", "height"), [(1440, 900), (390, 844)])
def test_the_junk_conversion_and_deal_dialogs_keep_their_buttons_on_screen(
        live_server, page, login, owner, width, height):
    lead = seed_lead_at_decision_maker(owner)
    fresh = LeadFactory(responsible=owner, title="Новый лид")
    deal = DealFactory(responsible=owner, title="Внедрение Битрикс24")
    page.set_viewport_size({"width": width, "height": height})
    login(owner)

    page.goto(f"{live_server.url}/leads/{lead.pk}/")
    page.get_by_test_id("status-bar").get_by_role("button", name="Успешный", exact=True).click()
    dialog = page.get_by_test_id("convert-dialog")
    expect(dialog).to_be_visible()
    assert_footer_on_screen_and_body_reachable(page, dialog, "convert-save", "convert", width, height)

    page.goto(f"{live_server.url}/leads/{fresh.pk}/")
    page.get_by_test_id("status-bar").get_by_role("button", name="Забраковать", exact=True).click()
    dialog = page.get_by_test_id("junk-dialog")
    expect(dialog).to_be_visible()
    assert_footer_on_screen_and_body_reachable(page, dialog, "junk-save", "junk", width, height)

    page.goto(f"{live_server.url}/deals/{deal.pk}/")
    page.get_by_test_id("stage-bar").get_by_role("button", name="КП отправлено").click()
    dialog = page.get_by_test_id("missing-fields-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_test_id("dialog-product-rows")).to_be_visible()
    assert_footer_on_screen_and_body_reachable(page, dialog, "missing-fields-save", "deal-kp-sent", width, height)


def test_a_dialog_closed_while_it_is_still_fading_in_closes(live_server, page, login, owner):
    """A quick save answers «close the modal» while Bootstrap is still showing it, which Bootstrap
    ignores: the modal must close all the same (the card is refreshed in place, not reloaded)."""
    lead = seed_lead(owner, upto=Status.RECONNAISSANCE)
    login(owner)
    page.goto(f"{live_server.url}/leads/{lead.pk}/")
    page.get_by_test_id("status-bar").get_by_role("button", name="Выход на ЛПР", exact=True).click()
    page.wait_for_selector("#crm-modal.show")  # the fade-in has begun
    page.evaluate("document.body.dispatchEvent(new CustomEvent('crm:close-modal'))")
    expect(page.locator("#crm-modal")).to_be_hidden()
