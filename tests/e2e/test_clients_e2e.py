"""Companies and contacts in a browser: a manager creates a company with a phone (typed the way
people type phones), adds a second phone row, sees the duplicate warning live, then creates a
contact from the company card and finds both by phone."""

import pytest
from playwright.sync_api import expect

from clients import services as client_services
from clients.models import Company, Contact

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_manager_creates_a_company_with_a_phone_and_a_contact_linked_to_it(live_server, page, login, owner):
    login(owner)
    page.goto(f"{live_server.url}/clients/companies/")
    expect(page.get_by_test_id("client-empty")).to_contain_text("Компаний пока нет")
    page.get_by_test_id("company-create").click()

    page.get_by_label("Название компании").fill('ООО "Тест Решение"')
    page.get_by_label("ИНН").fill("7707083893")
    page.get_by_label("Сайт").fill("reshenie.example")
    page.get_by_label("Адрес", exact=True).fill("Санкт-Петербург, проспект Косыгина, 25 к1")
    page.locator("[name=comm-0-value]").fill("8 (880) 000-00-00")
    page.locator("[name=comm-0-ext]").fill("12")
    page.locator("[name=comm-1-value]").fill("proshenia.hr@yandex.ru")
    page.get_by_test_id("add-phone").click()
    expect(page.locator("[name=comm-2-kind]")).to_have_value("phone")
    page.locator("[name=comm-2-type]").select_option("mobile")
    page.locator("[name=comm-2-value]").fill("+7 952 266-63-48")
    page.get_by_label("Ниша компании").select_option(index=1)
    page.screenshot(path="screenshots/company-create.png", full_page=True)
    page.get_by_test_id("company-save").click()

    expect(page.get_by_test_id("company-title")).to_have_text('ООО "Тест Решение"')
    communications = page.get_by_test_id("card-communications")
    expect(communications).to_contain_text("+7 (880) 000-00-00")
    expect(communications).to_contain_text("доб. 12")
    expect(communications).to_contain_text("+7 (952) 266-63-48")
    expect(communications).to_contain_text("proshenia.hr@yandex.ru")

    # A comment in the shared timeline, without leaving the card.
    page.get_by_test_id("timeline").locator("textarea[name=text]").fill("Разведка: 3 магазина, Битрикс24 не внедрён")
    page.get_by_test_id("comment-send").click()
    expect(page.get_by_test_id("timeline")).to_contain_text("Разведка: 3 магазина")
    page.screenshot(path="screenshots/company-card.png", full_page=True)

    # A wrong ИНН and a half-typed phone are refused in words, and nothing typed is lost.
    page.get_by_test_id("company-edit").click()
    expect(page.locator("[name=comm-0-value]")).to_have_value("+7 (880) 000-00-00")
    expect(page.locator("[name=comm-0-ext]")).to_have_value("12")
    page.get_by_label("ИНН").fill("7707083894")
    page.get_by_test_id("add-phone").click()
    page.locator("[name=comm-4-value]").fill("8 912 34")
    page.get_by_test_id("company-save").click()
    expect(page.get_by_test_id("form-errors")).to_contain_text("Проверьте выделенные поля")
    expect(page.locator(".crm-fieldset")).to_contain_text(["не проходит проверку контрольной суммы"])
    expect(page.get_by_test_id("communications")).to_contain_text("Неверная длина номера")
    expect(page.locator("[name=comm-4-value]")).to_have_value("8 912 34")
    page.screenshot(path="screenshots/company-edit-errors.png", full_page=True)
    page.get_by_role("link", name="Отмена").click()
    expect(page.get_by_test_id("company-title")).to_have_text('ООО "Тест Решение"')

    # «+ Контакт» on the card: the new contact belongs to this company.
    page.get_by_test_id("company-add-contact").click()
    page.get_by_label("Фамилия").fill("Лактионова")
    page.locator("[name=first_name]").fill("Анна")
    page.get_by_label("Отчество").fill("Игоревна")
    page.get_by_label("Должность").fill("Руководитель отдела продаж")
    page.locator("[name=comm-0-type]").select_option("mobile")
    page.locator("[name=comm-0-value]").fill("8 952 266 63 48")
    page.locator("[name=comm-0-value]").press("Tab")  # a text input reports «change» when left
    # The same number as the company's mobile: the live check warns while typing…
    expect(page.get_by_test_id("duplicates")).to_contain_text("Тест Решение")
    page.screenshot(path="screenshots/contact-create-duplicates.png", full_page=True)
    page.get_by_test_id("contact-save").click()
    # …and saving asks once more; «Сохранить всё равно» saves and records it.
    page.get_by_test_id("save-anyway").click()

    expect(page.get_by_test_id("contact-title")).to_have_text("Лактионова Анна Игоревна")
    expect(page.get_by_test_id("card-companies")).to_contain_text('ООО "Тест Решение"')
    expect(page.get_by_test_id("timeline")).to_contain_text("Сохранён, несмотря на возможные дубликаты")
    page.screenshot(path="screenshots/contact-card.png", full_page=True)

    # Both are found by the phone typed in another format.
    page.goto(f"{live_server.url}/clients/contacts/?q=%2B79522666348")
    expect(page.get_by_test_id("contact-table")).to_contain_text("Лактионова Анна Игоревна")
    expect(page.get_by_test_id("contact-table")).to_contain_text('ООО "Тест Решение"')
    page.screenshot(path="screenshots/contacts-list.png", full_page=True)
    page.goto(f"{live_server.url}/clients/companies/?q=8800000000")
    expect(page.get_by_test_id("company-table")).to_contain_text("7707083893")
    page.screenshot(path="screenshots/companies-list.png", full_page=True)

    company = Company.objects.get()
    contact = Contact.objects.get()
    assert list(contact.companies.all()) == [company]
    assert sorted(company.communications.values_list("value", flat=True)) == [
        "+78800000000", "+79522666348", "proshenia.hr@yandex.ru"]


def test_a_company_card_opens_its_deals_in_the_deals_list(live_server, page, login, owner):
    from tests.factories import DealFactory

    company = client_services.company_create(data={"name": "ООО «Ромашка»", "responsible": owner}, by=owner)
    DealFactory(title="Ромашка — внедрение", responsible=owner, company=company)
    DealFactory(title="Чужая сделка другой компании", responsible=owner)
    login(owner)
    page.goto(f"{live_server.url}{company.get_absolute_url()}")
    page.get_by_test_id("company-deals-list").click()
    table = page.get_by_test_id("deal-table")
    expect(table).to_contain_text("Ромашка — внедрение")
    expect(table).not_to_contain_text("Чужая сделка другой компании")
