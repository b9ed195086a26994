"""The leads kanban in a real browser: drag and drop, the missing-fields dialog, the fallback form."""

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
    assert problems == []


def test_junk_by_drop_asks_for_the_reason_and_the_fallback_form_moves_without_drag(live_server, page, login, owner):
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

    # Without dragging: «Перевести в…» on the card.
    second = card(page, "Второй")
    second.get_by_text("Перевести в…").click()
    second.get_by_role("button", name="Первый звонок").click()
    expect(column(page, Status.FIRST_CALL).get_by_test_id("kanban-card").filter(has_text="Второй")).to_be_visible()
    expect(page.get_by_test_id("kanban-count-first_call")).to_have_text("1")
    expect(page.get_by_test_id("kanban-count-new")).to_have_text("0")
    assert Lead.objects.get(title="Второй").status == Status.FIRST_CALL
    # The moved card's form now offers its old column and not its new one.
    second.get_by_text("Перевести в…").click()
    expect(second.get_by_role("button", name="Не обработан")).to_be_visible()
    expect(second.get_by_role("button", name="Первый звонок")).to_be_hidden()


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
