"""Planned touches in a real browser: a manager plans a call from a lead card, completes it from
the card and plans the next one when asked, with no page load, and both show on the lead's
timeline; a head of sales finds the lead nobody plans to call with the filter «Дела» on the lead
board and the lead list."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tasks_app import services as tasks
from tasks_app.forms_touches import add_working_days
from tasks_app.models import Status, Task
from tests.e2e.seed import watch
from tests.factories import LeadFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SIZES = [(1440, 900), (390, 844)]


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_a_manager_plans_a_call_completes_it_and_plans_the_next_from_the_card(live_server, page, login, owner,
                                                                             width, height):
    lead = LeadFactory(responsible=owner, title="Ромашка: входящая заявка")
    page.set_viewport_size({"width": width, "height": height})
    login(owner)
    page.goto(f"{live_server.url}/leads/{lead.pk}/")
    seen = watch(page)
    panel = page.get_by_test_id("touches-panel")
    expect(panel.get_by_test_id("touches-none")).to_be_visible()

    panel.get_by_test_id("touch-plan").click()
    dialog = page.get_by_test_id("touch-plan-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("Звонок")).to_be_checked()
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    expect(dialog.get_by_label("Дата")).to_have_value(tomorrow.isoformat())
    expect(dialog.get_by_label("Время")).to_have_value("10:00")
    dialog.get_by_label("Название").fill("Звонок директору")
    page.screenshot(path=f"screenshots/touch-plan-{width}x{height}.png")
    dialog.get_by_test_id("touch-plan-save").click()
    expect(dialog).to_be_hidden()

    item = panel.get_by_test_id("touch-item").filter(has_text="Звонок директору")
    expect(item).to_contain_text(tomorrow.strftime("%d.%m.%Y"))
    timeline = page.get_by_test_id("timeline")
    expect(timeline).to_contain_text("Запланировано: звонок «Звонок директору»")
    # The card's «Дата следующего касания» is the touch's date, refreshed in place.
    expect(page.get_by_test_id("group-decision-maker")).to_contain_text(tomorrow.strftime("%d.%m.%Y"))

    item.get_by_test_id("touch-complete").click()
    done = page.get_by_test_id("touch-complete-dialog")
    expect(done).to_be_visible()
    expect(done).to_contain_text("Дело выполнено")
    next_day = add_working_days(timezone.localdate(), 2)
    expect(done.get_by_label("Дата")).to_have_value(next_day.isoformat())
    done.get_by_label("Результат").fill("Директор ждёт демо")
    done.get_by_label("Встреча").check()
    done.get_by_label("Название").fill("Демо портала")
    page.screenshot(path=f"screenshots/touch-complete-{width}x{height}.png")
    done.get_by_test_id("touch-complete-save").click()
    expect(done).to_be_hidden()

    expect(panel.get_by_test_id("touch-item")).to_have_count(1)
    expect(panel.get_by_test_id("touch-item")).to_contain_text("Демо портала")
    expect(panel.get_by_test_id("touches-done")).to_contain_text("Выполнено: 1")
    expect(timeline).to_contain_text("Выполнено: звонок «Звонок директору»")
    expect(timeline).to_contain_text("Запланировано: встреча «Демо портала»")
    expect(page.get_by_test_id("group-decision-maker")).to_contain_text(next_day.strftime("%d.%m.%Y"))
    page.screenshot(path=f"screenshots/touch-card-{width}x{height}.png", full_page=True)
    assert seen["loads"] == 0 and seen["problems"] == []
    first = Task.objects.get(title="Звонок директору")
    assert first.status == Status.COMPLETED and first.result == "Директор ждёт демо"


def test_a_head_finds_the_lead_with_nothing_planned_on_the_board_and_the_list(live_server, page, login, personas):
    owner, head = personas["owner"], personas["head"]
    planned = LeadFactory(responsible=owner, title="Лид с планом")
    LeadFactory(responsible=owner, title="Забытый лид")
    tasks.task_create(data={"kind": "call", "title": "Звонок", "responsible": owner,
                            "deadline": timezone.now() + dt.timedelta(days=2)}, by=owner, records=[planned])
    login(head)
    seen = watch(page)
    page.goto(f"{live_server.url}/leads/kanban/")
    cards = page.get_by_test_id("kanban-card")
    expect(cards).to_have_count(2)
    expect(cards.filter(has_text="Забытый лид").get_by_test_id("touch-none")).to_have_text("Нет дел")
    expect(cards.filter(has_text="Лид с планом").get_by_test_id("touch-planned")).to_be_visible()
    page.get_by_label("Дела", exact=True).select_option(label="Без запланированных дел")  # applies at once
    expect(cards).to_have_count(1)
    expect(cards).to_contain_text("Забытый лид")
    page.screenshot(path="screenshots/touches-kanban-filter.png")

    page.goto(f"{live_server.url}/leads/")
    table = page.get_by_test_id("lead-table")
    expect(table.get_by_test_id("touch-none")).to_have_count(1)
    page.get_by_test_id("lead-filters").get_by_label("Дела", exact=True).select_option("none")
    page.get_by_test_id("lead-filters").get_by_role("button", name="Применить").click()
    expect(table.locator("tbody tr")).to_have_count(1)
    expect(table).to_contain_text("Забытый лид")
    expect(table).not_to_contain_text("Лид с планом")
    page.screenshot(path="screenshots/touches-list-filter.png")
    assert seen["problems"] == []
