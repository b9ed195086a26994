"""The leads kanban in a real browser: drag and drop, the missing-fields dialog, the «Перевести в…» menu."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from leads.models import Lead, Status
from tests.factories import LeadFactory, ref

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def column(page, status):
    return page.get_by_test_id(f"kanban-column-{status}")


def card(page, title):
    return page.get_by_test_id("kanban-card").filter(has_text=title)


def test_a_manager_drags_a_lead_through_first_call_and_qualification(live_server, page, login, owner):
    problems = []
    page.on("console", lambda msg: msg.type == "error" and problems.append(msg.text))
    lead = LeadFactory(title="Тест Решение", company_name="ООО «Тест Решение»", responsible=owner,
                       amount=Decimal("150000"))
    LeadFactory(title="Ромашка", company_name="ООО «Ромашка»", responsible=owner, status=Status.FIRST_CALL,
                amount=Decimal("1234567"))
    LeadFactory(title="Брак", responsible=owner, status=Status.JUNK, junk_reason=ref("JunkReason"))
    login(owner)
    page.goto(f"{live_server.url}/leads/kanban/")
    expect(page.get_by_test_id("kanban-count-new")).to_have_text("1")
    expect(page.get_by_test_id("kanban-count-first_call")).to_have_text("1")
    expect(page.get_by_test_id("kanban-sum-first_call")).to_have_text("1 234 567 ₽")

    # «Не обработан» → «Первый звонок»: nothing more is required, the card moves.
    card(page, "Тест Решение").drag_to(column(page, Status.FIRST_CALL))
    expect(column(page, Status.FIRST_CALL).get_by_test_id("kanban-card").filter(has_text="Тест Решение")).to_be_visible()
    expect(page.get_by_test_id("kanban-count-new")).to_have_text("0")
    expect(page.get_by_test_id("kanban-count-first_call")).to_have_text("2")
    expect(page.get_by_test_id("kanban-sum-first_call")).to_have_text("1 384 567 ₽")
    lead.refresh_from_db()
    assert lead.status == Status.FIRST_CALL

    # A drop on its own column does nothing.
    card(page, "Тест Решение").drag_to(column(page, Status.FIRST_CALL))
    expect(page.locator("#crm-modal")).to_be_hidden()

    # → «Квалификация»: the required fields are asked for; the card stays until they are saved.
    card(page, "Тест Решение").drag_to(column(page, Status.QUALIFICATION))
    dialog = page.get_by_test_id("missing-fields-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Для изменения статуса лида заполните обязательные поля")
    expect(column(page, Status.FIRST_CALL).get_by_test_id("kanban-card").filter(has_text="Тест Решение")).to_be_visible()
    lead.refresh_from_db()
    assert lead.status == Status.FIRST_CALL
    dialog.get_by_label("Ниша компании").select_option(label="IT и телеком")
    dialog.get_by_label("Корпоративный портал (CRM система)").select_option(label="Битрикс24 (облако)")
    dialog.get_by_label("Тип клиента").select_option(label="Услуги")
    page.get_by_test_id("missing-fields-save").click()

    expect(page.locator("#crm-modal")).to_be_hidden()
    moved = column(page, Status.QUALIFICATION).get_by_test_id("kanban-card").filter(has_text="Тест Решение")
    expect(moved).to_be_visible()
    expect(page.get_by_test_id("kanban-count-qualification")).to_have_text("1")
    expect(page.get_by_test_id("kanban-count-first_call")).to_have_text("1")
    expect(page.get_by_test_id("kanban-sum-qualification")).to_have_text("150 000 ₽")
    lead.refresh_from_db()
    assert lead.status == Status.QUALIFICATION
    assert lead.niche.name == "IT и телеком"

    page.wait_for_timeout(1300)  # let the arrival highlight fade before the screenshot
    page.screenshot(path="screenshots/kanban.png", full_page=True)

    # The closed columns are collapsed; «Не успешный» opens on a click.
    expect(column(page, Status.JUNK).get_by_test_id("kanban-card")).to_have_count(0)
    page.get_by_test_id("kanban-expand-junk").click()
    expect(column(page, Status.JUNK).get_by_test_id("kanban-card").filter(has_text="Брак")).to_be_visible()
    page.screenshot(path="screenshots/kanban-closed.png", full_page=True)
    # A card loaded later (here with its column) opens the same board menu, without its own status.
    card(page, "Брак").get_by_role("button", name="Перевести в…").click()
    menu = card(page, "Брак").get_by_test_id("kanban-move-menu")
    expect(menu.get_by_role("button", name="Не успешный")).to_be_hidden()
    expect(menu.get_by_role("button", name="Не обработан")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("kanban-move-menu")).to_have_count(0)
    assert problems == []


def test_junk_by_drop_asks_for_the_reason_and_the_move_menu_moves_without_drag(live_server, page, login, owner):
    lead = LeadFactory(title="Тест Решение", responsible=owner)
    LeadFactory(title="Второй", responsible=owner)
    # Wide enough for all seven columns: dragging from the first column to the last one.
    page.set_viewport_size({"width": 2000, "height": 900})
    login(owner)
    page.goto(f"{live_server.url}/leads/kanban/")

    # «Не успешный» needs a reason: the junk dialog.
    card(page, "Тест Решение").drag_to(column(page, Status.JUNK))
    expect(page.get_by_test_id("junk-dialog")).to_be_visible()
    page.get_by_test_id("junk-dialog").get_by_label("Причина закрытия").select_option(label="Дубликат")
    page.get_by_test_id("junk-save").click()
    expect(page.locator("#crm-modal")).to_be_hidden()
    expect(card(page, "Тест Решение")).to_have_count(0)  # gone into the collapsed column
    expect(page.get_by_test_id("kanban-count-junk")).to_have_text("1")
    lead.refresh_from_db()
    assert lead.status == Status.JUNK

    # «Успешный» is refused by a drop (conversion is a feature of its own).
    card(page, "Второй").drag_to(column(page, Status.CONVERTED))
    expect(page.get_by_test_id("move-refused")).to_be_visible()
    page.get_by_test_id("move-refused").get_by_role("button", name="Понятно").click()
    expect(page.locator("#crm-modal")).to_be_hidden()
    expect(column(page, Status.NEW).get_by_test_id("kanban-card").filter(has_text="Второй")).to_be_visible()

    # Without dragging: the card's «Перевести в…» opens the board's one move menu under it,
    # without the card's own status.
    menu = page.get_by_test_id("kanban-move-menu")
    expect(menu).to_have_count(0)
    second = card(page, "Второй")
    toggle = second.get_by_role("button", name="Перевести в…")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    toggle.click()
    expect(menu).to_have_count(1)
    expect(second.get_by_test_id("kanban-move-menu")).to_be_visible()  # opened in this card
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(menu.get_by_role("button", name="Не обработан")).to_be_hidden()
    for label in ("Первый звонок", "Квалификация", "Разведка", "Выход на ЛПР", "Успешный", "Не успешный"):
        expect(menu.get_by_role("button", name=label, exact=True)).to_be_visible()
    expect(menu.get_by_role("button", name="Первый звонок")).to_be_focused()  # keyboard: the first choice
    page.screenshot(path="screenshots/kanban-move-menu.png", full_page=True)
    menu.get_by_role("button", name="Первый звонок").click()
    expect(column(page, Status.FIRST_CALL).get_by_test_id("kanban-card").filter(has_text="Второй")).to_be_visible()
    expect(page.get_by_test_id("kanban-count-first_call")).to_have_text("1")
    expect(page.get_by_test_id("kanban-count-new")).to_have_text("0")
    expect(menu).to_have_count(0)  # the choice closed the menu
    assert Lead.objects.get(title="Второй").status == Status.FIRST_CALL

    # The moved card's menu offers its old column and not its new one; Escape closes it.
    toggle.click()
    expect(menu.get_by_role("button", name="Не обработан")).to_be_visible()
    expect(menu.get_by_role("button", name="Первый звонок")).to_be_hidden()
    page.keyboard.press("Escape")
    expect(menu).to_have_count(0)
    expect(toggle).to_be_focused()
    expect(toggle).to_have_attribute("aria-expanded", "false")

    # By keyboard only: → «Квалификация» asks for the missing fields, as a drop does; the card stays.
    page.keyboard.press("Enter")
    expect(menu).to_be_visible()
    page.keyboard.press("ArrowDown")  # «Не обработан» → «Квалификация» («Первый звонок» is hidden)
    expect(menu.get_by_role("button", name="Квалификация")).to_be_focused()
    second.screenshot(path="screenshots/kanban-move-menu-keyboard.png")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("missing-fields-dialog")).to_be_visible()
    expect(menu).to_have_count(0)
    expect(column(page, Status.FIRST_CALL).get_by_test_id("kanban-card").filter(has_text="Второй")).to_be_visible()
    assert Lead.objects.get(title="Второй").status == Status.FIRST_CALL

    # Only one menu at a time, and a click elsewhere closes it.
    page.get_by_test_id("missing-fields-dialog").get_by_role("button", name="Закрыть").click()
    expect(page.locator("#crm-modal")).to_be_hidden()
    toggle.click()
    expect(menu).to_have_count(1)
    page.get_by_test_id("kanban-filters").click(position={"x": 5, "y": 5})
    expect(menu).to_have_count(0)


def test_show_more_loads_the_next_page(live_server, page, login, owner):
    from leads.views_kanban import PAGE_SIZE

    LeadFactory.create_batch(PAGE_SIZE + 3, responsible=owner)
    login(owner)
    page.goto(f"{live_server.url}/leads/kanban/")
    cards = column(page, Status.NEW).get_by_test_id("kanban-card")
    expect(cards).to_have_count(PAGE_SIZE)
    page.get_by_test_id("kanban-more").click()
    expect(cards).to_have_count(PAGE_SIZE + 3)
    expect(page.get_by_test_id("kanban-more")).to_have_count(0)
