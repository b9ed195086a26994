import re

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_manager_logs_in_sees_the_shell_and_logs_out(live_server, page, login, owner):
    login(owner)
    expect(page.get_by_test_id("current-user")).to_contain_text("Иванов Пётр")
    expect(page.get_by_test_id("current-user")).to_contain_text("Группа продаж 1")
    page.get_by_test_id("current-user").click()
    page.get_by_role("link", name="Мой профиль").click()
    expect(page.get_by_test_id("access-table")).to_contain_text("Свои")
    page.screenshot(path="screenshots/shell-profile.png", full_page=True)
    page.get_by_test_id("current-user").click()
    page.get_by_role("button", name="Выйти").click()
    expect(page).to_have_url(re.compile(r"/login/"))


def test_a_wrong_password_is_explained_in_russian(live_server, page, owner):
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Имя пользователя").fill("owner")
    page.get_by_label("Пароль").fill("nope")
    page.get_by_role("button", name="Войти").click()
    expect(page.get_by_text("Неверный логин или пароль")).to_be_visible()


def test_the_language_switch_and_the_phone_menu(live_server, page, login, owner):
    login(owner)
    page.get_by_role("button", name="EN").click()
    expect(page.get_by_test_id("current-user")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.get_by_role("button", name="RU").click()
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    # On a phone the menu hides behind a button and opens as a side panel.
    page.set_viewport_size({"width": 390, "height": 800})
    menu_button = page.get_by_role("button", name="Меню")
    expect(menu_button).to_be_visible()
    menu_button.click()
    expect(page.locator("#crm-sidebar")).to_be_visible()
    page.screenshot(path="screenshots/shell-phone-menu.png")


def test_the_page_has_no_console_errors_or_blocked_resources(live_server, page, login, owner):
    login(owner)
    # Listen only once the landing page has settled: leaving it mid-request (its bell
    # count, say) aborts that request, which is navigation, not a blocked resource.
    page.wait_for_load_state("networkidle")
    problems = []
    page.on("console", lambda msg: msg.type == "error" and problems.append(msg.text))
    page.on("requestfailed", lambda req: problems.append(req.url))
    page.goto(f"{live_server.url}/profile/")
    page.wait_for_load_state("networkidle")
    assert page.evaluate("typeof htmx !== 'undefined' && typeof bootstrap !== 'undefined'")
    assert problems == []
