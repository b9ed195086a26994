"""The phone layout (390×844) in a real browser: lists as cards without sideways scrolling, a
one-line top bar, pipeline tabs that scroll sideways, and cards whose status bar, key fields and
comment box come within the first two screens. A desktop check (1440×900) keeps the tables tables."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from clients import services as clients
from tests.e2e.test_conversion_e2e import seed_lead_at_decision_maker
from tests.factories import COLD, INBOUND, DealFactory, LeadFactory, pipeline, stage

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1440, "height": 900}

LISTS = [("/leads/", "lead-table"), ("/deals/list/", "deal-table"), ("/clients/companies/", "company-table"),
         ("/clients/contacts/", "contact-table")]


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def header_height(page) -> float:
    return page.evaluate("document.querySelector('.crm-topbar').getBoundingClientRect().height")


def box(locator) -> dict:
    return locator.evaluate("el => { const r = el.getBoundingClientRect(); "
                            "return {top: r.top, bottom: r.bottom, left: r.left, right: r.right}; }")


def seed_lists(owner):
    """One record of each kind with the long names and numbers a real list has."""
    LeadFactory(title="Лид с очень длинным названием для проверки телефона", responsible=owner,
                company_name="ООО «Торговый дом «Северо-Западная промышленная компания»»",
                company_phone="+79128598748", amount=Decimal("1500000"))
    company = clients.company_create(data={"name": "ООО «Торговый дом «Северо-Западная промышленная компания»»",
                                           "responsible": owner},
                                     communications=[("phone", "work", "+79128598748", ""),
                                                     ("email", "work", "office@sever-zapad-prom.example", "")],
                                     by=owner)
    clients.contact_create(data={"last_name": "Константинопольская", "first_name": "Анна", "responsible": owner},
                           communications=[("phone", "mobile", "+79522666348", "")], companies=[company], by=owner)
    DealFactory(title="Внедрение Битрикс24 в филиалах по всей стране", company=company, responsible=owner,
                amount=Decimal("150000"), stage_id=stage(COLD, "Презентация").pk)


def test_it_shows_lists_as_cards_on_a_phone_and_as_tables_on_a_desktop(live_server, page, login, owner):
    seed_lists(owner)
    page.set_viewport_size(PHONE)
    login(owner)
    for path, table in LISTS:
        page.goto(f"{live_server.url}{path}")
        row = page.get_by_test_id(table).locator("tbody tr").first
        assert no_sideways_scroll(page), path
        assert header_height(page) < 64, path
        # A card, not a squeezed table row: the key facts are in sight, the phone is a link.
        assert row.evaluate("el => getComputedStyle(el).display") == "flex", path
        expect(row.get_by_text("Иванов П.")).to_be_visible()
        if path != "/deals/list/":
            expect(row.locator("a[href^='tel:']")).to_be_visible()
        page.screenshot(path=f"screenshots/phone-list{path.replace('/', '-').rstrip('-')}.png", full_page=True)

    # The bulk checkbox still works on a phone.
    page.goto(f"{live_server.url}/leads/")
    page.get_by_test_id("lead-table").locator("tbody .crm-row-check").first.check()
    expect(page.locator("#lead-selected")).to_contain_text("1")

    page.set_viewport_size(DESKTOP)
    for path, table in LISTS:
        page.goto(f"{live_server.url}{path}")
        assert page.get_by_test_id(table).locator("tbody tr").first.evaluate(
            "el => getComputedStyle(el).display") == "table-row", path
        expect(page.get_by_test_id(table).locator("thead th").filter(has_text="Ответственный")).to_be_visible()


def test_it_keeps_the_top_bar_on_one_line_with_the_users_initials(live_server, page, login, owner):
    lead = LeadFactory(title="Очень длинное название лида, которое не помещается в заголовок телефона",
                       responsible=owner)
    page.set_viewport_size(PHONE)
    login(owner)
    page.goto(f"{live_server.url}/leads/{lead.pk}/")
    assert header_height(page) < 64
    assert no_sideways_scroll(page)
    user_button = page.get_by_test_id("current-user")
    expect(user_button.locator(".crm-user-initials")).to_have_text("ИП")
    # The title gives way with an ellipsis instead of pushing the user menu to a second line.
    title = page.locator(".crm-page-title")
    assert title.evaluate("el => el.scrollWidth > el.clientWidth")
    assert box(user_button)["right"] <= PHONE["width"]
    user_button.click()
    expect(page.get_by_role("menuitem", name="Мой профиль").or_(page.get_by_role("link", name="Мой профиль"))).to_be_visible()
    expect(page.locator(".dropdown-menu.show .dropdown-header")).to_contain_text("Иванов Пётр")
    page.screenshot(path="screenshots/phone-topbar-menu.png")

    page.set_viewport_size(DESKTOP)
    page.reload()
    expect(page.get_by_test_id("current-user").locator(".crm-user-name")).to_be_visible()
    expect(page.get_by_test_id("current-user").locator(".crm-user-initials")).to_be_hidden()


def test_it_scrolls_the_pipeline_tabs_sideways_to_the_open_one(live_server, page, login, owner):
    DealFactory(title="Заявка с сайта", pipeline=pipeline(INBOUND), responsible=owner)
    page.set_viewport_size(PHONE)
    login(owner)
    page.goto(f"{live_server.url}/deals/?pipeline={pipeline(INBOUND).pk}")
    tabs = page.get_by_test_id("pipeline-tabs")
    assert no_sideways_scroll(page)
    assert header_height(page) < 64
    assert tabs.evaluate("el => el.scrollWidth > el.clientWidth && getComputedStyle(el).overflowX === 'auto'")
    assert tabs.evaluate("el => getComputedStyle(el).flexWrap") == "nowrap"
    assert tabs.locator(".nav-link").first.evaluate("el => getComputedStyle(el).whiteSpace") == "nowrap"
    # The open pipeline (the last tab) is scrolled into sight.
    active, strip = box(tabs.locator(".nav-link.active")), box(tabs)
    assert strip["left"] - 1 <= active["left"] and active["right"] <= strip["right"] + 1
    page.screenshot(path="screenshots/phone-deal-board.png")


def test_a_lead_card_on_a_phone_shows_status_key_fields_and_the_comment_box_first(live_server, page, login, owner):
    lead = seed_lead_at_decision_maker(owner)
    page.set_viewport_size(PHONE)
    login(owner)
    page.goto(f"{live_server.url}/leads/{lead.pk}/")
    assert no_sideways_scroll(page)
    assert header_height(page) < 64
    bar = page.get_by_test_id("status-bar")
    assert box(bar)["bottom"] < PHONE["height"]
    # The bar scrolls sideways in one line, and «Выход на ЛПР», far to the right, is in sight.
    assert bar.evaluate("el => el.scrollWidth > el.clientWidth")
    current, strip = box(bar.locator(".crm-step-current")), box(bar)
    assert strip["left"] - 1 <= current["left"] and current["right"] <= strip["right"] + 1
    comment_box = page.get_by_test_id("timeline").locator("textarea")
    textarea_top = box(comment_box)["top"]
    assert box(page.get_by_test_id("group-about"))["top"] < textarea_top
    assert box(page.get_by_test_id("group-company"))["top"] < textarea_top
    assert textarea_top < 2 * PHONE["height"]
    assert box(page.get_by_test_id("group-decision-maker"))["top"] > textarea_top
    page.screenshot(path="screenshots/phone-lead-card.png", full_page=True)

    comment_box.fill("Перезвонить после обеда")
    page.get_by_test_id("comment-send").click()
    expect(page.get_by_test_id("timeline")).to_contain_text("Перезвонить после обеда")

    # On a desktop the history keeps its right-hand column.
    page.set_viewport_size(DESKTOP)
    assert box(page.get_by_test_id("timeline"))["left"] > box(page.get_by_test_id("group-about"))["right"]


def test_a_deal_card_on_a_phone_shows_the_stage_bar_and_the_comment_box_first(live_server, page, login, owner):
    deal = DealFactory(title="Внедрение Битрикс24 в филиалах по всей стране", responsible=owner,
                       amount=Decimal("150000"), stage_id=stage(COLD, "Счёт выставлен").pk)
    page.set_viewport_size(PHONE)
    login(owner)
    page.goto(f"{live_server.url}/deals/{deal.pk}/")
    assert no_sideways_scroll(page)
    bar = page.get_by_test_id("stage-bar")
    assert box(bar)["bottom"] < PHONE["height"]
    current, strip = box(bar.locator(".deals-step-current")), box(bar)
    assert strip["left"] - 1 <= current["left"] and current["right"] <= strip["right"] + 1
    textarea_top = box(page.get_by_test_id("timeline").locator("textarea"))["top"]
    assert box(page.get_by_test_id("deal-fields"))["top"] < textarea_top < 2 * PHONE["height"]
    assert box(page.get_by_test_id("deal-products"))["top"] > textarea_top
    page.screenshot(path="screenshots/phone-deal-card.png", full_page=True)
