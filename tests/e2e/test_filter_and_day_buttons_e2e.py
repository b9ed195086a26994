"""Buttons no other browser test clicked: the boards' date ranges with «Применить» and the deals
board's «Сбросить», the task board's «Ответственный» for a head, and on «Мой день» a head's
«Проверить» and a manager's «Не планировать» when completing a touch."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from deals.models import Deal
from leads.models import Lead
from tasks_app import services as tasks
from tasks_app.models import Kind, Status, Task
from tests.factories import DealFactory, LeadFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_manager_narrows_the_lead_board_to_a_creation_date_range(live_server, page, login, owner):
    LeadFactory(responsible=owner, title="Лид прошлого месяца")
    LeadFactory(responsible=owner, title="Лид этой недели")
    Lead.objects.filter(title="Лид прошлого месяца").update(created_at=timezone.now() - dt.timedelta(days=40))
    login(owner)
    page.goto(f"{live_server.url}/leads/kanban/")
    cards = page.get_by_test_id("kanban-card")
    expect(cards).to_have_count(2)
    since = (timezone.localdate() - dt.timedelta(days=7)).isoformat()
    page.get_by_label("Дата создания: с").fill(since)
    page.get_by_role("button", name="Применить").click()
    expect(cards).to_have_count(1)
    expect(cards).to_contain_text("Лид этой недели")
    assert f"created_after={since}" in page.url


def test_a_manager_filters_the_deals_board_by_closing_date_and_resets_it(live_server, page, login, owner):
    soon = DealFactory(responsible=owner, title="Закроем на неделе")
    DealFactory(responsible=owner, title="Закроем весной")
    Deal.objects.filter(pk=soon.pk).update(close_date=timezone.localdate() + dt.timedelta(days=3))
    Deal.objects.filter(title="Закроем весной").update(close_date=timezone.localdate() + dt.timedelta(days=120))
    login(owner)
    page.goto(f"{live_server.url}/deals/?pipeline={soon.pipeline_id}")
    cards = page.get_by_test_id("board-card")
    expect(cards).to_have_count(2)
    page.get_by_label("Предполагаемая дата закрытия: по").fill((timezone.localdate() + dt.timedelta(days=30)).isoformat())
    page.get_by_role("button", name="Применить").click()
    expect(cards).to_have_count(1)
    expect(cards).to_contain_text("Закроем на неделе")
    page.get_by_test_id("board-filter-reset").click()
    expect(cards).to_have_count(2)
    assert "close_before" not in page.url


def test_a_head_looks_at_a_manager_s_task_board(live_server, page, login, head, owner):
    tasks.task_create(data={"title": "Задача менеджера", "responsible": owner}, by=owner)
    tasks.task_create(data={"title": "Задача руководителя", "responsible": head}, by=head)
    login(head)
    page.goto(f"{live_server.url}/tasks/board/")
    cards = page.get_by_test_id("tboard-card")
    expect(cards.filter(has_text="Задача руководителя")).to_have_count(1)
    expect(cards.filter(has_text="Задача менеджера")).to_have_count(0)
    filters = page.get_by_test_id("tboard-filters")
    filters.get_by_label("Ответственный").select_option(label=str(owner))
    filters.get_by_role("button", name="Показать").click()
    expect(cards.filter(has_text="Задача менеджера")).to_have_count(1)
    expect(cards.filter(has_text="Задача руководителя")).to_have_count(0)


def test_a_head_checks_the_finished_work_from_his_day(live_server, page, login, head, owner):
    task = tasks.task_create(data={"title": "Собрать отчёт по звонкам", "responsible": owner, "needs_acceptance": True},
                             by=head)
    tasks.task_transition(task, "complete", by=owner)
    login(head)
    page.goto(f"{live_server.url}/tasks/day/")
    waiting = page.get_by_test_id("day-control-task").filter(has_text="Собрать отчёт по звонкам")
    waiting.get_by_role("link", name="Проверить").click()
    expect(page.get_by_test_id("task-status")).to_be_visible()
    page.get_by_test_id("task-do-accept").click()
    expect(page.get_by_test_id("task-status")).to_have_text("Завершена")
    assert Task.objects.get(pk=task.pk).status == Status.COMPLETED


def test_a_manager_completes_a_touch_without_planning_the_next(live_server, page, login, owner):
    lead = LeadFactory(responsible=owner, title="Лид без продолжения")
    tasks.task_create(data={"kind": Kind.CALL, "title": "Последний звонок", "responsible": owner,
                            "deadline": timezone.now() + dt.timedelta(hours=2)}, by=owner, records=[lead])
    login(owner)
    page.goto(f"{live_server.url}/leads/{lead.pk}/")
    panel = page.get_by_test_id("touches-panel")
    panel.get_by_test_id("touch-item").filter(has_text="Последний звонок").get_by_test_id("touch-complete").click()
    done = page.get_by_test_id("touch-complete-dialog")
    done.get_by_label("Результат").fill("Клиент взял паузу до весны")
    done.get_by_label("Не планировать").check()
    done.get_by_test_id("touch-complete-save").click()
    expect(done).to_be_hidden()
    expect(panel.get_by_test_id("touches-none")).to_be_visible()
    assert not Task.objects.filter(bindings__object_id=lead.pk, status__in=["pending", "in_progress"]).exists()
    lead.refresh_from_db()
    assert lead.next_touch_date is None
