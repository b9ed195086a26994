"""Deals in a real browser: the board's drag and drop with the missing-fields dialog (amount and a
product row), the card's stage bar and «Сменить воронку», the list."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from clients.models import Company
from crm import timeline
from deals.models import Deal, LossReason
from tests.factories import COLD, INBOUND, DealFactory, LeadFactory, pipeline, stage

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def column(page, stage_obj):
    return page.get_by_test_id(f"board-column-{stage_obj.pk}")


def card(page, title):
    return page.get_by_test_id("board-card").filter(has_text=title)


def test_a_manager_drags_a_deal_to_presentation_and_to_kp_sent(live_server, page, login, owner):
    problems = []
    page.on("console", lambda msg: msg.type == "error" and problems.append(msg.text))
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    company = Company.objects.create(name="ООО «Тест Решение»", responsible=owner)
    deal = DealFactory(title="Внедрение Битрикс24", company=company, responsible=owner)
    DealFactory(title="Обучение продавцов", responsible=owner, amount=Decimal("1234567"),
                stage_id=stage(COLD, "Презентация").pk)
    new, presentation, kp = stage(COLD, "Новая"), stage(COLD, "Презентация"), stage(COLD, "КП отправлено")
    page.set_viewport_size({"width": 2000, "height": 900})  # every column in sight
    login(owner)
    page.goto(f"{live_server.url}/deals/?pipeline={pipeline(COLD).pk}")
    expect(page.get_by_test_id("pipeline-tabs").get_by_role("link", name=COLD)).to_have_attribute("aria-current", "page")
    expect(page.get_by_test_id(f"board-count-{new.pk}")).to_have_text("1")
    expect(page.get_by_test_id(f"board-sum-{presentation.pk}")).to_have_text("1 234 567 ₽")

    # «Новая» → «Презентация»: nothing is required, the card moves.
    card(page, "Внедрение Битрикс24").drag_to(column(page, presentation))
    expect(column(page, presentation).get_by_test_id("board-card").filter(has_text="Внедрение Битрикс24")).to_be_visible()
    expect(page.get_by_test_id(f"board-count-{new.pk}")).to_have_text("0")
    expect(page.get_by_test_id(f"board-count-{presentation.pk}")).to_have_text("2")
    assert Deal.objects.get(pk=deal.pk).stage_id == presentation.pk

    # → «КП отправлено»: the dialog asks for the amount and a product row; the card stays meanwhile.
    card(page, "Внедрение Битрикс24").drag_to(column(page, kp))
    dialog = page.get_by_test_id("missing-fields-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Для перевода сделки на стадию заполните обязательные поля")
    expect(dialog.get_by_label("Сумма")).to_be_visible()
    expect(dialog.get_by_test_id("dialog-product-rows")).to_be_visible()
    expect(column(page, presentation).get_by_test_id("board-card").filter(has_text="Внедрение Битрикс24")).to_be_visible()
    assert Deal.objects.get(pk=deal.pk).stage_id == presentation.pk

    # Saving without a row is asked again (nothing saved).
    dialog.get_by_label("Сумма").fill("30000")
    page.get_by_test_id("missing-fields-save").click()
    expect(dialog.locator(".invalid-feedback").first).to_be_visible()
    page.screenshot(path="screenshots/deals-missing-fields.png")
    assert Deal.objects.get(pk=deal.pk).stage_id == presentation.pk

    dialog.get_by_label("Товар/услуга (строка 1)").select_option(label="Тренинги")
    dialog.get_by_label("Количество (строка 1)").fill("2")
    dialog.get_by_label("Цена (строка 1)").fill("15000")
    page.get_by_test_id("missing-fields-save").click()

    expect(page.locator("#crm-modal")).to_be_hidden()
    moved = column(page, kp).get_by_test_id("board-card").filter(has_text="Внедрение Битрикс24")
    expect(moved).to_be_visible()
    expect(moved).to_contain_text("30 000 ₽")
    expect(page.get_by_test_id(f"board-count-{kp.pk}")).to_have_text("1")
    expect(page.get_by_test_id(f"board-count-{presentation.pk}")).to_have_text("1")
    expect(page.get_by_test_id(f"board-sum-{kp.pk}")).to_have_text("30 000 ₽")
    fresh = Deal.objects.get(pk=deal.pk)
    assert fresh.stage_id == kp.pk and fresh.amount == Decimal("30000")
    assert [(r.product.name, r.quantity) for r in fresh.products.all()] == [("Тренинги", Decimal("2"))]
    page.wait_for_timeout(1300)  # let the arrival highlight fade before the screenshot
    page.screenshot(path="screenshots/deals-board.png", full_page=True)

    # The keyboard way: «Перевести в…» opens the board's one menu, without the card's own stage.
    toggle = moved.get_by_role("button", name="Перевести в…")
    toggle.click()
    menu = page.get_by_test_id("board-move-menu")
    expect(menu).to_have_count(1)
    expect(menu.get_by_role("button", name="КП отправлено")).to_be_hidden()
    expect(menu.get_by_role("button", name="Новая", exact=True)).to_be_focused()
    page.screenshot(path="screenshots/deals-move-menu.png")
    page.keyboard.press("Escape")
    expect(menu).to_have_count(0)
    assert problems == []


def test_the_card_moves_by_its_stage_bar_and_changes_pipeline(live_server, page, login, owner):
    problems = []
    page.on("console", lambda msg: msg.type == "error" and problems.append(msg.text))
    lead = LeadFactory(title="Тест Решение", responsible=owner)
    timeline.add_comment(lead, owner, "Разведка: 12 магазинов, Битрикс24 куплен, но не внедрён", pin_it=True)
    deal = DealFactory(title="Внедрение Битрикс24", responsible=owner, lead=lead, amount=Decimal("50000"))
    login(owner)
    page.goto(f"{live_server.url}/deals/{deal.pk}/")
    expect(page.get_by_test_id("lead-pinned-comment")).to_contain_text("Разведка: 12 магазинов")
    bar = page.get_by_test_id("stage-bar")
    bar.get_by_role("button", name="Презентация").click()
    expect(page.get_by_test_id("current-stage")).to_contain_text("Презентация")
    page.screenshot(path="screenshots/deal-card.png", full_page=True)

    # «Отказ» asks for the loss reason.
    page.get_by_test_id("stage-bar").get_by_role("button", name="Отказ").click()
    dialog = page.get_by_test_id("missing-fields-dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Причина провала").select_option(label="Дорого")
    page.get_by_test_id("missing-fields-save").click()
    expect(page.get_by_test_id("current-stage")).to_contain_text("Отказ — Дорого")
    assert Deal.objects.get(pk=deal.pk).loss_reason == LossReason.objects.get(name="Дорого")

    # «Сменить воронку»: the select shows the deal's pipeline and the button waits for another one.
    select = page.get_by_test_id("change-pipeline").get_by_role("combobox")
    expect(select.locator("option:checked")).to_have_text(pipeline(COLD).name)
    expect(page.get_by_test_id("change-pipeline-submit")).to_be_disabled()
    select.select_option(label=INBOUND)
    page.get_by_test_id("change-pipeline-submit").click()
    expect(page.get_by_test_id("current-stage")).to_contain_text("Новая заявка")
    assert Deal.objects.get(pk=deal.pk).pipeline == pipeline(INBOUND)
    assert problems == []


def test_the_list_filters_by_pipeline(live_server, page, login, owner):
    DealFactory(title="Холодная сделка", responsible=owner, amount=Decimal("150000"))
    DealFactory(title="Входящая сделка", responsible=owner, pipeline=pipeline(INBOUND),
                stage_id=stage(INBOUND, "Демонстрация").pk)
    login(owner)
    page.goto(f"{live_server.url}/deals/list/")
    table = page.get_by_test_id("deal-table")
    expect(table).to_contain_text("Холодная сделка")
    expect(table).to_contain_text("Входящая сделка")
    page.get_by_test_id("deal-filters").get_by_label("Воронка").select_option(label=INBOUND)
    page.get_by_test_id("deal-filters").get_by_role("button", name="Применить").click()
    expect(table).not_to_contain_text("Холодная сделка")
    expect(table).to_contain_text("Демонстрация")
    page.screenshot(path="screenshots/deals-list.png", full_page=True)


def test_a_manager_creates_a_deal_from_the_board(live_server, page, login, owner):
    login(owner)
    page.goto(f"{live_server.url}/deals/?pipeline={pipeline(INBOUND).pk}")
    page.get_by_test_id("deal-create").click()
    form = page.get_by_test_id("deal-form")
    expect(form.get_by_label("Воронка")).to_have_value(str(pipeline(INBOUND).pk))
    form.get_by_label("Название").fill("Заявка с сайта: внедрение")
    form.get_by_label("Сумма").fill("-5")
    page.get_by_test_id("deal-save").click()
    expect(page.get_by_test_id("form-errors")).to_be_visible()
    expect(form).to_contain_text("Сумма не может быть отрицательной")
    page.screenshot(path="screenshots/deal-create.png", full_page=True)
    form.get_by_label("Сумма").fill("120000")
    page.get_by_test_id("deal-save").click()
    expect(page.get_by_test_id("deal-title")).to_have_text("Заявка с сайта: внедрение")
    expect(page.get_by_test_id("current-stage")).to_contain_text("Новая заявка")
    expect(page.get_by_test_id("deal-amount")).to_contain_text("120 000 ₽")
