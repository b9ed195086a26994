"""Tasks in a real browser: a head sets a task with a checklist through the dialog, the manager
works it from «Делаю» to «Завершить», the head accepts it; a drag on the deadline board."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tasks_app import services
from tasks_app.models import Status, Task

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def switch_to(page, login, user):
    page.context.clear_cookies()
    return login(user)


def drag(card, column):
    # The board scrolls sideways on a laptop: bring the column in before the mouse goes there.
    column.scroll_into_view_if_needed()
    card.drag_to(column)


def test_a_head_sets_a_task_the_manager_does_it_and_the_head_accepts_it(live_server, page, login, owner, head):
    problems = []
    page.on("console", lambda msg: msg.type == "error" and problems.append(msg.text))
    login(head)
    page.goto(f"{live_server.url}/tasks/")
    page.get_by_test_id("task-create").click()
    dialog = page.get_by_test_id("task-dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Название").fill("Подготовить КП для «Ромашки»")
    dialog.get_by_label("Ответственный").select_option(label=str(owner))
    tomorrow = timezone.localdate() + timedelta(days=1)
    dialog.get_by_label("Крайний срок: дата").fill(tomorrow.isoformat())
    dialog.get_by_label("Время").fill("15:00")
    dialog.get_by_label("Принять работу после завершения").check()
    dialog.get_by_label("Чек-лист").fill("Собрать цены\nСогласовать скидку\nОтправить КП")
    page.screenshot(path="screenshots/task-dialog.png")
    page.get_by_test_id("task-save").click()

    # The new task's card.
    expect(page.get_by_test_id("task-status")).to_have_text("Ждёт выполнения")
    expect(page.get_by_test_id("task-checklist-progress")).to_have_text("0/3")
    task = Task.objects.get(title="Подготовить КП для «Ромашки»")
    assert task.responsible == owner and task.creator == head and task.needs_acceptance

    # The manager finds it under «Делаю», with the menu's «today»/overdue counters untouched (due tomorrow).
    switch_to(page, login, owner)
    page.goto(f"{live_server.url}/tasks/")
    expect(page.get_by_test_id("task-tab-doing")).to_have_class("nav-link active")
    row = page.get_by_test_id("task-table").locator("tr", has_text="Подготовить КП")
    expect(row).to_contain_text("0/3")
    page.screenshot(path="screenshots/task-list.png", full_page=True)
    row.get_by_role("link", name="Подготовить КП для «Ромашки»").click()

    page.get_by_test_id("task-do-start").click()
    expect(page.get_by_test_id("task-status")).to_have_text("Выполняется")
    ticks = page.get_by_test_id("task-tick")
    ticks.nth(0).click()
    expect(page.get_by_test_id("task-checklist-progress")).to_have_text("1/3")
    ticks.nth(1).click()
    expect(page.get_by_test_id("task-checklist-progress")).to_have_text("2/3")
    ticks.nth(2).click()
    expect(page.get_by_test_id("task-checklist-progress")).to_have_text("3/3")
    page.get_by_test_id("task-result-input").fill("КП отправлено, ждём ответа")
    page.screenshot(path="screenshots/task-card.png", full_page=True)
    page.get_by_test_id("task-do-complete").click()
    expect(page.get_by_test_id("task-status")).to_have_text("Ждёт контроля")
    expect(page.get_by_test_id("task-result")).to_contain_text("КП отправлено")
    expect(page.get_by_test_id("task-do-accept")).to_have_count(0)

    # The head returns it once, then accepts.
    switch_to(page, login, head)
    page.goto(f"{live_server.url}/tasks/{task.pk}/")
    page.get_by_test_id("task-do-send_back").click()
    expect(page.get_by_test_id("task-status")).to_have_text("Ждёт выполнения")
    task.refresh_from_db()
    services.task_transition(task, "complete", by=owner)
    page.reload()
    page.get_by_test_id("task-do-accept").click()
    expect(page.get_by_test_id("task-status")).to_have_text("Завершена")
    task.refresh_from_db()
    assert task.status == Status.COMPLETED
    assert problems == []


def test_a_drag_on_the_deadline_board_moves_the_deadline_and_a_refused_one_returns(live_server, page, login,
                                                                                     owner, head):
    later = timezone.now() + timedelta(days=30)
    mine = services.task_create(data={"title": "Моя задача", "responsible": owner, "deadline": later}, by=owner)
    services.task_create(data={"title": "Задача от руководителя", "responsible": owner, "deadline": later}, by=head)
    login(owner)
    page.goto(f"{live_server.url}/tasks/board/")
    board = page.get_by_test_id("tboard")
    expect(page.get_by_test_id("tboard-count-later")).to_have_text("2")

    card = board.get_by_test_id("tboard-card").filter(has_text="Моя задача")
    drag(card, page.get_by_test_id("tboard-column-none"))
    expect(page.get_by_test_id("tboard-column-none").get_by_test_id("tboard-card").filter(has_text="Моя задача")).to_be_visible()
    expect(page.get_by_test_id("tboard-count-none")).to_have_text("1")
    expect(page.get_by_test_id("tboard-count-later")).to_have_text("1")
    mine.refresh_from_db()
    assert mine.deadline is None

    # Not the creator: the deadline is the head's to move; the message says so and the card stays.
    theirs = board.get_by_test_id("tboard-card").filter(has_text="Задача от руководителя")
    drag(theirs, page.get_by_test_id("tboard-column-today"))
    refused = page.get_by_test_id("move-refused")
    expect(refused).to_contain_text("Крайний срок меняет постановщик задачи")
    expect(page.get_by_test_id("tboard-column-later").get_by_test_id("tboard-card")
           .filter(has_text="Задача от руководителя")).to_be_visible()
    refused.get_by_role("button", name="Понятно").click()
    expect(page.locator("#crm-modal")).to_be_hidden()
    expect(page.locator(".modal-backdrop")).to_have_count(0)

    # «Перенести на…» does the same without a mouse drag.
    card = board.get_by_test_id("tboard-card").filter(has_text="Моя задача")
    card.get_by_role("button", name="Перенести на…").click()
    page.get_by_test_id("tboard-move-menu").get_by_role("button", name="На следующей неделе").click()
    expect(page.get_by_test_id("tboard-column-next_week").get_by_test_id("tboard-card")
           .filter(has_text="Моя задача")).to_be_visible()
    page.screenshot(path="screenshots/task-board.png", full_page=True)
    mine.refresh_from_db()
    assert mine.deadline is not None and mine.deadline > timezone.now()


def test_the_creator_edits_pauses_works_the_checklist_and_deletes_a_task(live_server, page, login, owner, head):
    """The card's other buttons: «Изменить» and «Сохранить», the checklist's «Добавить» and «✕», the
    list's view switch and tabs, and «Удалить», which asks once."""
    task = services.task_create(data={"title": "Сверить прайс", "responsible": head,
                                      "deadline": timezone.now() + timedelta(days=2)}, by=head, observers=[owner])
    login(head)
    page.goto(f"{live_server.url}/tasks/{task.pk}/")
    page.get_by_test_id("task-edit").click()
    page.get_by_label("Название").fill("Сверить прайс с поставщиком")
    page.get_by_test_id("task-save").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Сверить прайс с поставщиком")

    page.get_by_test_id("task-do-start").click()
    expect(page.get_by_test_id("task-status")).to_have_text("Выполняется")
    page.get_by_test_id("task-do-pause").click()
    expect(page.get_by_test_id("task-status")).to_have_text("Ждёт выполнения")

    checklist = page.get_by_test_id("task-checklist")
    checklist.locator("#checklist-new").fill("Запросить цены")
    checklist.get_by_test_id("task-item-add").click()
    expect(checklist.get_by_test_id("task-checklist-item")).to_have_count(1)
    checklist.get_by_test_id("task-item-delete").click()
    expect(checklist.get_by_test_id("task-checklist-item")).to_have_count(0)

    page.goto(f"{live_server.url}/tasks/")
    page.get_by_test_id("tasks-view-board").click()
    expect(page).to_have_url(f"{live_server.url}/tasks/board/")
    page.get_by_test_id("tasks-view-list").click()
    page.get_by_role("link", name="Поручил").click()
    expect(page.get_by_test_id("task-table")).not_to_contain_text("Сверить прайс")  # his own task: «Делаю»

    asked = []
    page.on("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    page.goto(f"{live_server.url}/tasks/{task.pk}/")
    page.get_by_test_id("task-delete").click()
    expect(page).to_have_url(f"{live_server.url}/tasks/")
    assert len(asked) == 1  # the card loaded its script once
    assert not Task.objects.filter(pk=task.pk).exists()
