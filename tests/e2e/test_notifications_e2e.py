"""Notifications in a browser: ivanov hands a lead to petrova with the list's bulk «Назначить»;
petrova sees 1 on the bell, opens it, clicks the item, lands on the lead and the bell is clear."""

import re

import pytest
from playwright.sync_api import expect

from tests.factories import LeadFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_an_assigned_lead_rings_the_bell_of_its_new_responsible(live_server, page, login, owner, teammate):
    lead = LeadFactory(title="Внедрение Битрикс24 — Ромашка", company_name="ООО «Ромашка»", responsible=owner)
    login(owner)
    page.goto(f"{live_server.url}/leads/")
    expect(page.get_by_test_id("bell")).to_be_visible()
    page.get_by_label("Выбрать «Внедрение Битрикс24 — Ромашка»").check()
    page.get_by_test_id("lead-bulk").get_by_label("Ответственный").select_option(label=str(teammate))
    page.get_by_test_id("bulk-assign").click()
    expect(page.locator("#messages")).to_be_visible()
    expect(page.get_by_test_id("bell-count")).to_have_count(0)  # nothing for the one who assigned

    page.context.clear_cookies()
    login(teammate)
    count = page.get_by_test_id("bell-count")
    expect(count).to_have_text(re.compile(r"^1\b"))
    page.screenshot(path="screenshots/notifications-bell.png")
    page.get_by_test_id("bell").click()
    expect(page.get_by_test_id("notification")).to_have_count(1)
    expect(page.get_by_test_id("notification")).to_contain_text(
        "Иванов Пётр назначил(а) вас ответственным: Внедрение Битрикс24 — Ромашка")
    page.screenshot(path="screenshots/notifications-list.png", full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path="screenshots/notifications-list-phone.png", full_page=True)
    page.set_viewport_size({"width": 1440, "height": 900})
    page.screenshot(path="screenshots/notifications-list-wide.png", full_page=True)

    page.get_by_test_id("notification-open").click()
    expect(page).to_have_url(f"{live_server.url}{lead.get_absolute_url()}")
    expect(page.get_by_test_id("bell")).to_be_visible()
    page.wait_for_load_state("networkidle")
    expect(page.get_by_test_id("bell-count")).to_have_count(0)
    page.goto(f"{live_server.url}/notifications/")
    expect(page.get_by_test_id("unread-total")).to_have_text("Непрочитанных: 0")


def test_a_manager_chooses_what_comes_by_email_on_the_profile(live_server, page, login, owner):
    page.set_viewport_size({"width": 1440, "height": 900})
    login(owner)
    page.goto(f"{live_server.url}/profile/")
    form = page.get_by_test_id("email-kinds")
    form.get_by_label("Назначено мне").uncheck()
    form.get_by_role("button", name="Сохранить").click()
    expect(page.locator("#messages")).to_contain_text("Настройки писем сохранены.")
    expect(page.get_by_test_id("email-kinds").get_by_label("Назначено мне")).not_to_be_checked()
    expect(page.get_by_test_id("email-kinds").get_by_label("Упоминание")).to_be_checked()
    page.screenshot(path="screenshots/profile-email-kinds.png", full_page=True)


def test_read_one_then_read_all(live_server, page, login, owner, teammate):
    from crm import timeline
    from notifications import services

    leads = [LeadFactory(title=f"Лид {n}", responsible=teammate) for n in (1, 2, 3)]
    for lead in leads:
        services.notify(teammate, "comment", timeline.message("Новый комментарий к вашей записи: %(record)s",
                                                              record=lead.title), record=lead, actor=owner)
    login(teammate)
    page.goto(f"{live_server.url}/notifications/")
    expect(page.get_by_test_id("unread-total")).to_have_text("Непрочитанных: 3")
    page.get_by_test_id("notification-read").first.click()
    expect(page.get_by_test_id("unread-total")).to_have_text("Непрочитанных: 2")
    expect(page.get_by_test_id("notification-read")).to_have_count(2)
    page.get_by_test_id("read-all").click()
    expect(page.locator("#messages")).to_contain_text("Все уведомления прочитаны.")
    expect(page.get_by_test_id("unread-total")).to_have_text("Непрочитанных: 0")
    expect(page.get_by_test_id("notification-read")).to_have_count(0)
    expect(page.get_by_test_id("bell-count")).to_have_count(0)
