"""The seed document's example, end to end: «Тест Решение», already in «Выход на ЛПР», is converted
(«Успешный») into a company, a contact and a deal in «Холодное подключение «Битрикс 24»»; then the
deal is dragged on the board «Новая» → «Презентация» → «КП отправлено» (the missing-fields dialog)."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from clients.models import Company, Contact
from deals.models import Deal
from leads import services
from leads.models import Lead, Status
from tests.e2e.seed import PINNED, seed_lead
from tests.factories import COLD, pipeline, stage

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

def seed_lead_at_decision_maker(owner) -> Lead:
    lead = seed_lead(owner, upto=Status.DECISION_MAKER)
    assert lead.status == Status.DECISION_MAKER
    assert [p.name for p in lead.products_to_sell.all()] == ["Тренинги"]
    return lead


def column(page, stage_obj):
    return page.get_by_test_id(f"board-column-{stage_obj.pk}")


def test_the_seed_lead_converts_into_a_deal_that_is_dragged_to_kp_sent(live_server, page, login, owner):
    problems = []
    page.on("console", lambda msg: msg.type == "error" and problems.append(msg.text))
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    lead = seed_lead_at_decision_maker(owner)
    companies, contacts, deals = Company.objects.count(), Contact.objects.count(), Deal.objects.count()
    cold = pipeline(COLD)
    new, presentation, kp = stage(COLD, "Новая"), stage(COLD, "Презентация"), stage(COLD, "КП отправлено")

    # --- «Успешный»: the conversion dialog with its preview ---
    login(owner)
    page.goto(f"{live_server.url}/leads/{lead.pk}/")
    expect(page.get_by_test_id("current-status")).to_contain_text("Выход на ЛПР")
    page.get_by_test_id("status-bar").get_by_role("button", name="Успешный", exact=True).click()
    dialog = page.get_by_test_id("convert-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Успешный лид: что создать в CRM")
    expect(dialog).to_contain_text('Тест "Решение"')  # the company's name
    expect(dialog).to_contain_text("+7 (880) 000-00-00")
    expect(dialog).to_contain_text("Лактионова Анна Игоревна")  # the contact's ФИО
    expect(dialog).to_contain_text("Руководитель отдела продаж")
    expect(dialog).to_contain_text("Тест Решение")  # the deal's title
    expect(dialog).to_contain_text("Тренинги")
    expect(dialog.get_by_test_id("existing-company")).to_have_count(0)
    expect(dialog.get_by_test_id("existing-contact")).to_have_count(0)
    for label in ("Контакт", "Компания", "Сделка"):
        expect(dialog.get_by_label(label, exact=True)).to_be_checked()
    select = dialog.get_by_label("Воронка сделки")
    expect(select).to_have_value(str(cold.pk))  # Контур.Компас is a cold source
    expect(select.locator("option:checked")).to_have_text(COLD)
    page.wait_for_timeout(400)  # the modal's fade-in, for the screenshot
    page.screenshot(path="screenshots/lead-convert-dialog.png")
    dialog.get_by_test_id("convert-save").click()

    # htmx: the dialog closes and the lead card reloads with the conversion's links.
    expect(page.locator("#crm-modal")).to_be_hidden()
    expect(page.get_by_test_id("current-status")).to_contain_text("Успешный")
    result = page.get_by_test_id("conversion-result")
    expect(result).to_be_visible()
    deal = Deal.objects.get(lead=lead)
    company, contact = Company.objects.get(name='Тест "Решение"'), Contact.objects.get(last_name="Лактионова")
    expect(result.get_by_role("link", name='Компания: Тест "Решение"')).to_have_attribute(
        "href", company.get_absolute_url())
    expect(result.get_by_role("link", name="Контакт: Лактионова Анна Игоревна")).to_have_attribute(
        "href", contact.get_absolute_url())
    expect(result.get_by_role("link", name="Сделка: Тест Решение")).to_have_attribute("href", deal.get_absolute_url())
    expect(page.get_by_test_id("status-bar").locator('[data-status="converted"]')).to_have_class(
        re.compile(r"crm-step-current"))
    expect(page.locator("#messages")).to_contain_text("Лид сконвертирован.")
    # The reload keeps the scroll position, which leaves the message under the sticky header: to the top.
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path="screenshots/lead-converted.png", full_page=True)

    # --- The deal card ---
    result.get_by_role("link", name="Сделка: Тест Решение").click()
    expect(page.get_by_test_id("deal-title")).to_have_text("Тест Решение")
    expect(page.get_by_test_id("current-stage")).to_contain_text("Новая")
    fields = page.get_by_test_id("deal-fields")
    expect(fields).to_contain_text(COLD)
    expect(fields.get_by_role("link", name='Тест "Решение"')).to_have_attribute("href", company.get_absolute_url())
    expect(fields.get_by_role("link", name="Лактионова Анна Игоревна")).to_have_attribute(
        "href", contact.get_absolute_url())
    expect(fields).to_contain_text("Контур.Компас")
    expect(page.get_by_test_id("deal-lead").get_by_role("link", name="Тест Решение")).to_have_attribute(
        "href", f"/leads/{lead.pk}/")
    expect(page.get_by_test_id("deal-products")).to_contain_text("Тренинги")
    expect(page.get_by_test_id("lead-pinned-comment")).to_contain_text(PINNED)
    page.screenshot(path="screenshots/deal-card-converted.png", full_page=True)

    # The company's and the contact's cards open from the lead's links.
    page.go_back()
    expect(page.get_by_test_id("conversion-result")).to_be_visible()
    page.get_by_test_id("conversion-result").get_by_role("link", name=re.compile("^Компания:")).click()
    expect(page.get_by_test_id("company-title")).to_have_text('Тест "Решение"')
    expect(page.get_by_test_id("card-contacts")).to_contain_text("Лактионова Анна Игоревна")
    expect(page.get_by_test_id("card-deals")).to_contain_text("Тест Решение")
    expect(page.get_by_test_id("card-leads")).to_contain_text("Тест Решение")
    expect(page.get_by_test_id("card-leads")).to_contain_text("Успешный")
    page.screenshot(path="screenshots/company-card-converted.png", full_page=True)
    page.go_back()
    page.get_by_test_id("conversion-result").get_by_role("link", name=re.compile("^Контакт:")).click()
    expect(page.get_by_test_id("contact-title")).to_have_text("Лактионова Анна Игоревна")
    expect(page.get_by_test_id("card-companies")).to_contain_text('Тест "Решение"')
    expect(page.get_by_test_id("card-deals")).to_contain_text("Тест Решение")
    expect(page.get_by_test_id("card-leads")).to_contain_text("Тест Решение")

    # --- The board: «Новая» → «Презентация» → «КП отправлено» ---
    page.set_viewport_size({"width": 2000, "height": 900})  # every column in sight
    page.goto(f"{live_server.url}/deals/?pipeline={cold.pk}")
    card = page.get_by_test_id("board-card").filter(has_text="Тест Решение")
    expect(column(page, new).get_by_test_id("board-card").filter(has_text="Тест Решение")).to_be_visible()
    expect(card).to_contain_text('Тест "Решение"')

    card.drag_to(column(page, presentation))
    expect(column(page, presentation).get_by_test_id("board-card").filter(has_text="Тест Решение")).to_be_visible()
    expect(page.get_by_test_id(f"board-count-{new.pk}")).to_have_text("0")
    expect(page.get_by_test_id(f"board-count-{presentation.pk}")).to_have_text("1")
    assert Deal.objects.get(pk=deal.pk).current_stage.name == "Презентация"

    card.drag_to(column(page, kp))
    dialog = page.get_by_test_id("missing-fields-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Для перевода сделки на стадию заполните обязательные поля")
    expect(dialog).to_contain_text("Сделка «Тест Решение» → «КП отправлено»")
    # The deal came with a «Тренинги» row (price 0): the product rule is met, only the amount is asked.
    expect(dialog.get_by_label("Сумма")).to_be_visible()
    expect(dialog.get_by_test_id("dialog-product-rows")).to_have_count(0)
    expect(column(page, presentation).get_by_test_id("board-card").filter(has_text="Тест Решение")).to_be_visible()
    page.wait_for_timeout(400)
    page.screenshot(path="screenshots/deal-converted-missing-fields.png")
    assert Deal.objects.get(pk=deal.pk).current_stage.name == "Презентация"

    dialog.get_by_label("Сумма").fill("30000")
    page.get_by_test_id("missing-fields-save").click()
    expect(page.locator("#crm-modal")).to_be_hidden()
    moved = column(page, kp).get_by_test_id("board-card").filter(has_text="Тест Решение")
    expect(moved).to_be_visible()
    expect(moved).to_contain_text("30 000 ₽")
    expect(page.get_by_test_id(f"board-count-{presentation.pk}")).to_have_text("0")
    expect(page.get_by_test_id(f"board-count-{kp.pk}")).to_have_text("1")
    expect(page.get_by_test_id(f"board-sum-{kp.pk}")).to_have_text("30 000 ₽")
    page.wait_for_timeout(1300)  # let the arrival highlight fade before the screenshot
    page.screenshot(path="screenshots/deals-board-converted.png", full_page=True)

    # The card after the move: the stage, the amount from the dialog, the lead's pinned comment.
    moved.get_by_role("link", name="Тест Решение").click()
    expect(page.get_by_test_id("current-stage")).to_contain_text("КП отправлено")
    expect(page.get_by_test_id("deal-amount")).to_contain_text("30 000 ₽")
    expect(page.get_by_test_id("lead-pinned-comment")).to_contain_text(PINNED)
    page.screenshot(path="screenshots/deal-card-kp-sent.png", full_page=True)

    # --- The database ---
    deal = Deal.objects.get(pk=deal.pk)
    assert deal.current_stage.name == "КП отправлено" and deal.pipeline == cold
    assert deal.amount == Decimal("30000")
    assert [(r.product.name, r.quantity) for r in deal.products.all()] == [("Тренинги", Decimal("1"))]
    assert (Company.objects.count(), Contact.objects.count(), Deal.objects.count()) == (
        companies + 1, contacts + 1, deals + 1)
    lead = Lead.objects.get(pk=lead.pk)
    assert lead.status == Status.CONVERTED
    assert lead.company == company and lead.contact == contact
    assert deal.lead == lead and deal.company == company
    assert list(deal.contacts.all()) == [contact]
    assert list(contact.companies.all()) == [company]
    assert company.responsible == owner and contact.responsible == owner and deal.responsible == owner
    assert problems == []


@pytest.mark.parametrize(("width", "height"), [(1440, 900), (390, 844)])
def test_the_manager_sets_the_deals_amount_and_close_date_in_the_conversion_dialog(
        live_server, page, login, owner, width, height):
    problems = []
    page.on("console", lambda msg: msg.type == "error" and problems.append(msg.text))
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    lead = seed_lead_at_decision_maker(owner)
    lead = services.lead_update(lead, data={"amount": Decimal("90000")}, by=owner, version=lead.version)
    close = timezone.localdate() + timedelta(days=30)
    page.set_viewport_size({"width": width, "height": height})
    login(owner)
    page.goto(f"{live_server.url}/leads/{lead.pk}/")
    page.get_by_test_id("status-bar").get_by_role("button", name="Успешный", exact=True).click()
    dialog = page.get_by_test_id("convert-dialog")
    expect(dialog).to_be_visible()

    # Prefilled from the lead, as the card writes it; the close date is left to the manager.
    amount, currency = dialog.get_by_label("Сумма"), dialog.get_by_label("Валюта")
    close_date = dialog.get_by_label("Предполагаемая дата закрытия")
    expect(amount).to_have_value("90\xa0000")
    expect(currency.locator("option:checked")).to_have_text("Российский рубль")
    expect(close_date).to_have_value("")
    # The deal's fields follow the «Сделка» switch.
    deal_switch = dialog.get_by_label("Сделка", exact=True)
    deal_switch.uncheck()
    expect(amount).to_be_disabled()
    expect(close_date).to_be_disabled()
    deal_switch.check()
    expect(amount).to_be_enabled()

    # A date in the past is refused in the dialog; nothing is converted.
    amount.fill("150 000")
    close_date.fill((timezone.localdate() - timedelta(days=1)).isoformat())
    dialog.get_by_test_id("convert-save").click()
    expect(dialog).to_contain_text("Дата закрытия не может быть раньше сегодняшнего дня.")
    assert Lead.objects.get(pk=lead.pk).status == Status.DECISION_MAKER and not Deal.objects.exists()
    expect(amount).to_have_value("150 000")  # what was typed survives the refusal

    close_date.fill(close.isoformat())
    page.wait_for_timeout(300)  # the modal's fade-in, for the screenshot
    page.screenshot(path=f"screenshots/lead-convert-dialog-amount-{width}x{height}.png")
    dialog.get_by_test_id("convert-save").click()
    expect(page.locator("#crm-modal")).to_be_hidden()
    page.get_by_test_id("conversion-result").get_by_role("link", name="Сделка: Тест Решение").click()

    expect(page.get_by_test_id("deal-amount")).to_contain_text("150\xa0000\xa0₽")
    expect(page.get_by_test_id("deal-fields")).to_contain_text(close.strftime("%d.%m.%Y"))
    expect(page.get_by_test_id("deal-products")).to_contain_text("Тренинги")
    page.screenshot(path=f"screenshots/deal-card-converted-amount-{width}x{height}.png", full_page=True)
    deal = Deal.objects.get(lead=lead)
    assert (deal.amount, deal.currency, deal.close_date) == (Decimal("150000"), "RUB", close)
    assert problems == []
