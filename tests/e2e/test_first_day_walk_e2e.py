"""A manager's first day, counted: the company's own example lead «Тест Решение» is created from the
leads list, walked «Не обработан» → «Выход на ЛПР» through the missing-fields dialogs, converted into a
deal in «Холодное подключение «Битрикс 24»» with its amount typed in the conversion dialog, and the deal
is moved two stages on («Презентация», «КП отправлено») from its card — at 1440×900 and 390×844.

Every user action goes through `act`, which counts it: clicks (buttons, links, ticks) and choices in a
drop-down; typing is not counted. Full page loads are counted by the page's «load» event: a status or
stage move must not cause one (the card swaps its content in place)."""

import datetime
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from deals.models import Deal
from leads.models import Lead, Status
from tests.e2e.seed import fill_decision_maker_dialog
from tests.factories import COLD, pipeline

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

MAX_ACTIONS = 30


class Counter:
    def __init__(self, page):
        self.clicks, self.choices, self.loads = 0, 0, []
        page.on("load", lambda p: self.loads.append(p.url))

    def click(self, locator):
        self.clicks += 1
        locator.click()

    def check(self, locator):
        self.clicks += 1
        locator.check()

    def choose(self, locator, label) -> None:
        self.choices += 1
        locator.select_option(label=label)

    @property
    def actions(self) -> int:
        return self.clicks + self.choices


def move(page, act, bar, label, current):
    """Click a status or stage on the card's bar; the card shows it without a page load."""
    page.wait_for_load_state("load")  # the card's own load has been counted before the move
    loads = len(act.loads)
    act.click(page.get_by_test_id(bar).get_by_role("button", name=label, exact=True))
    if current:
        expect(page.get_by_test_id(current)).to_contain_text(label)
        assert len(act.loads) == loads, f"moving to «{label}» loaded the whole page"


@pytest.mark.parametrize(("width", "height"), [(1440, 900), (390, 844)])
def test_the_seed_lead_becomes_a_deal_two_stages_on_within_thirty_actions(live_server, page, login, owner,
                                                                            width, height):
    page.set_viewport_size({"width": width, "height": height})
    problems = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    login(owner)
    page.goto(f"{live_server.url}/leads/")
    act = Counter(page)

    # --- Create the lead (the seed's values) ---
    act.click(page.get_by_test_id("lead-create"))
    page.locator("[name=title]").fill("Тест Решение")
    act.choose(page.locator("[name=source]"), "Контур.Компас")
    page.locator("[name=company_name]").fill('Тест "Решение"')
    page.locator("[name=company_phone]").fill("8 (880) 000-00-00")
    page.get_by_label("Фамилия").fill("Лактионова")
    page.get_by_label("Имя", exact=True).fill("Анна")
    page.get_by_label("Отчество").fill("Игоревна")
    page.get_by_label("Должность").fill("Руководитель отдела продаж")
    page.get_by_label("Телефон контакта").fill("8 (952) 266-63-48")
    act.click(page.get_by_test_id("lead-save"))
    expect(page.get_by_test_id("current-status")).to_contain_text("Не обработан")

    # --- Through the statuses, on the card ---
    move(page, act, "status-bar", "Первый звонок", "current-status")
    move(page, act, "status-bar", "Квалификация", None)
    dialog = page.get_by_test_id("missing-fields-dialog")
    expect(dialog).to_be_visible()
    act.choose(dialog.get_by_label("Ниша компании"), "Розничная торговля")
    act.choose(dialog.get_by_label("Корпоративный портал (CRM система)"), "Битрикс24 (облако)")
    act.choose(dialog.get_by_label("Тип клиента"), "Розничные магазины (до 5)")
    page.wait_for_load_state("load")
    loads = len(act.loads)
    act.click(dialog.get_by_test_id("missing-fields-save"))
    expect(page.get_by_test_id("current-status")).to_contain_text("Квалификация")
    move(page, act, "status-bar", "Разведка", "current-status")
    move(page, act, "status-bar", "Выход на ЛПР", None)
    dialog = page.get_by_test_id("missing-fields-dialog")
    expect(dialog).to_be_visible()
    fill_decision_maker_dialog(dialog, click=act.check, choose=act.choose)
    act.click(dialog.get_by_test_id("missing-fields-save"))
    expect(page.get_by_test_id("current-status")).to_contain_text("Выход на ЛПР")
    expect(page.get_by_test_id("pinned-comment")).to_contain_text("Разведка: 3 магазина")
    expect(page.get_by_test_id("checklist").locator('[data-done="1"]')).to_have_count(10)
    assert len(act.loads) == loads, "a move through a dialog loaded the whole page"

    # --- «Успешный»: company, contact and a deal with its amount and close date ---
    move(page, act, "status-bar", "Успешный", None)
    dialog = page.get_by_test_id("convert-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("Воронка сделки").locator("option:checked")).to_have_text(COLD)
    dialog.get_by_label("Сумма").fill("150 000")
    close = datetime.date.today() + datetime.timedelta(days=30)
    dialog.get_by_label("Предполагаемая дата закрытия").fill(close.isoformat())
    act.click(dialog.get_by_test_id("convert-save"))
    result = page.get_by_test_id("conversion-result")
    expect(result).to_be_visible()
    assert len(act.loads) == loads, "the conversion loaded the whole page"

    # --- The deal, two stages on from its card ---
    act.click(result.get_by_role("link", name="Сделка: Тест Решение"))
    expect(page.get_by_test_id("current-stage")).to_contain_text("Новая")
    expect(page.get_by_test_id("deal-amount")).to_contain_text("150 000 ₽")
    page.wait_for_load_state("load")
    loads = len(act.loads)
    move(page, act, "stage-bar", "Презентация", "current-stage")
    move(page, act, "stage-bar", "КП отправлено", "current-stage")
    assert len(act.loads) == loads

    deal = Deal.objects.get(lead__title="Тест Решение")
    assert deal.pipeline == pipeline(COLD) and deal.current_stage.name == "КП отправлено"
    assert deal.amount == Decimal("150000") and deal.close_date == close
    assert Lead.objects.get(pk=deal.lead_id).status == Status.CONVERTED
    assert problems == []
    # The numbers for the closing note, and the budget they must keep.
    print(f"\n{width}×{height}: {act.clicks} clicks + {act.choices} choices = {act.actions} actions, "
          f"{len(act.loads)} full page loads ({', '.join(u.split('/', 3)[-1] for u in act.loads)})")
    assert act.actions <= MAX_ACTIONS
    assert len(act.loads) <= 3  # the new lead's card, the form's page and the deal's card: never a move
