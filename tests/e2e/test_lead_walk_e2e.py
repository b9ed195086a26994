"""The seed document's example, walked by a manager in a real browser: create «Тест Решение»,
then «Не обработан» → «Первый звонок» → «Квалификация» (the missing-fields dialog) → «Разведка» →
«Выход на ЛПР» (the dialog again, with the pinned comment and the checklist)."""

import pytest
from playwright.sync_api import expect

from leads.models import Lead, Status

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def click_status(page, label):
    page.get_by_test_id("status-bar").get_by_role("button", name=label, exact=True).click()


def test_the_seed_example_from_not_processed_to_decision_maker(live_server, page, login, owner):
    login(owner)
    page.goto(f"{live_server.url}/leads/new/")
    page.locator("[name=title]").fill("Тест Решение")
    page.locator("[name=source]").select_option(label="Контур.Компас")
    page.locator("[name=company_name]").fill('Тест "Решение"')
    page.locator("[name=company_phone]").fill("8 (880) 000-00-00")
    page.get_by_label("E-mail", exact=True).fill("proshenia.hr@yandex.ru")
    page.get_by_label("Адрес", exact=True).fill("Санкт-Петербург, проспект Косыгина, 25 к1")
    page.get_by_label("Фамилия").fill("Лактионова")
    page.get_by_label("Имя", exact=True).fill("Анна")
    page.get_by_label("Отчество").fill("Игоревна")
    page.get_by_label("Должность").fill("Руководитель отдела продаж")
    page.get_by_label("Телефон контакта").fill("8 (952) 266-63-48")
    page.screenshot(path="screenshots/lead-create.png", full_page=True)
    page.get_by_test_id("lead-save").click()

    expect(page.get_by_test_id("lead-title")).to_have_text("Тест Решение")
    expect(page.get_by_test_id("current-status")).to_contain_text("Не обработан")
    expect(page.locator(".crm-card")).to_contain_text("+7 (880) 000-00-00")

    click_status(page, "Первый звонок")
    expect(page.get_by_test_id("current-status")).to_contain_text("Первый звонок")

    # «Квалификация» without its data: the lead stays, the dialog asks for exactly three fields.
    click_status(page, "Квалификация")
    dialog = page.get_by_test_id("missing-fields-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Для изменения статуса лида заполните обязательные поля")
    expect(dialog.locator("select")).to_have_count(3)
    page.screenshot(path="screenshots/lead-missing-fields.png")
    dialog.get_by_test_id("missing-fields-save").click()  # empty: refused, still open
    expect(dialog).to_contain_text("Обязательное поле")
    dialog.get_by_label("Ниша компании").select_option(label="Розничная торговля")
    dialog.get_by_label("Корпоративный портал (CRM система)").select_option(label="Битрикс24 (облако)")
    dialog.get_by_label("Тип клиента").select_option(label="Розничные магазины (до 5)")
    dialog.get_by_test_id("missing-fields-save").click()
    expect(page.get_by_test_id("current-status")).to_contain_text("Квалификация")

    click_status(page, "Разведка")
    expect(page.get_by_test_id("current-status")).to_contain_text("Разведка")

    click_status(page, "Выход на ЛПР")
    dialog = page.get_by_test_id("missing-fields-dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Закреплённый комментарий").fill("Разведка: 3 магазина, Битрикс24 (облако) не внедрён; ЛПР — Лактионова А. И.")
    dialog.get_by_label("Канал сбыта").select_option(label="Розничные точки")
    dialog.get_by_label("Количество сотрудников").fill("25")
    dialog.get_by_label("Разговор с ЛПР/ЛВР состоялся").check()
    dialog.get_by_label("Тренинги", exact=True).check()
    dialog.get_by_label("ЛПР/ЛВР ознакомлен с УТП компании «Решение»").check()
    dialog.get_by_label("Ничем не пользовалась").check()
    dialog.get_by_label("Договорённость о следующем касании или о бесплатном продукте").fill("Бесплатный аудит портала")
    dialog.get_by_label("Какое обучение проводят для сотрудников").fill("Внутреннее, раз в квартал")
    page.screenshot(path="screenshots/lead-decision-maker-dialog.png", full_page=True)
    dialog.get_by_test_id("missing-fields-save").click()

    expect(page.get_by_test_id("current-status")).to_contain_text("Выход на ЛПР")
    expect(page.get_by_test_id("pinned-comment")).to_contain_text("Разведка: 3 магазина")
    expect(page.get_by_test_id("checklist").locator('[data-done="1"]')).to_have_count(10)
    page.screenshot(path="screenshots/lead-card.png", full_page=True)

    lead = Lead.objects.get(title="Тест Решение")
    assert lead.status == Status.DECISION_MAKER
    assert lead.company_phone == "+78800000000"
    assert lead.contact_full_name == "Лактионова Анна Игоревна"
