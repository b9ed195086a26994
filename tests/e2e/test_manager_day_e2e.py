"""Issue 9's day, end to end in a browser: a manager plans a call from a lead card, finds it on
«Мой день» with the menu's counter, completes it there and plans the next one when asked, and
reads both on the lead's timeline; the head finds the lead nobody plans to call by the filter."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.factories import LeadFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_manager_plans_a_call_works_it_from_my_day_and_the_head_finds_the_forgotten_lead(
        live_server, page, login, owner, head):
    lead = LeadFactory(responsible=owner, title="Ромашка: заявка с сайта")
    LeadFactory(responsible=owner, title="Забытый лид")
    # Due later today (or, in the day's last hour, early today: then overdue); either way on today's page.
    now = timezone.localtime()
    later = now + dt.timedelta(hours=1)
    due, section, counter = ((later.strftime("%H:%M"), "day-today", "menu-today") if later.date() == now.date()
                             else ("00:01", "day-overdue", "menu-overdue"))

    login(owner)
    page.goto(f"{live_server.url}/leads/{lead.pk}/")
    page.get_by_test_id("touches-panel").get_by_test_id("touch-plan").click()
    dialog = page.get_by_test_id("touch-plan-dialog")
    dialog.get_by_label("Название").fill("Позвонить директору")
    dialog.get_by_label("Дата").fill(now.date().isoformat())
    dialog.get_by_label("Время").fill(due)
    dialog.get_by_test_id("touch-plan-save").click()
    expect(dialog).to_be_hidden()

    page.get_by_test_id("menu").get_by_role("link", name="Мой день").click()
    expect(page).to_have_url(f"{live_server.url}/tasks/day/")
    expect(page.get_by_test_id("menu").get_by_test_id(counter)).to_have_text("1" + (" на сегодня" if counter == "menu-today" else " просрочено"))
    row = page.get_by_test_id(section).get_by_test_id("day-task").filter(has_text="Позвонить директору")
    expect(row).to_have_count(1)

    row.get_by_test_id("day-complete").click()
    done = page.get_by_test_id("touch-complete-dialog")
    expect(done).to_contain_text("Дело выполнено")
    done.get_by_label("Результат").fill("Договорились о демо")
    done.get_by_label("Встреча").check()
    done.get_by_label("Название").fill("Демо портала")
    done.get_by_test_id("touch-complete-save").click()
    expect(done).to_be_hidden()
    expect(page.get_by_test_id(section)).not_to_contain_text("Позвонить директору")

    page.goto(f"{live_server.url}/leads/{lead.pk}/")
    timeline = page.get_by_test_id("timeline")
    expect(timeline).to_contain_text("Выполнено: звонок «Позвонить директору»")
    expect(timeline).to_contain_text("Запланировано: встреча «Демо портала»")
    expect(page.get_by_test_id("touches-panel").get_by_test_id("touch-item")).to_contain_text("Демо портала")

    page.get_by_test_id("current-user").click()
    page.get_by_role("button", name="Выйти").click()
    login(head)
    page.goto(f"{live_server.url}/leads/")
    filters = page.get_by_test_id("lead-filters")
    filters.get_by_label("Дела", exact=True).select_option("none")
    filters.get_by_role("button", name="Применить").click()
    table = page.get_by_test_id("lead-table")
    expect(table.locator("tbody tr")).to_have_count(1)
    expect(table).to_contain_text("Забытый лид")
