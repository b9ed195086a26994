"""The deadline board («По срокам»): columns by deadline, a drop moves the deadline through
task_set_deadline, a refused drop says why and moves nothing; the menu counters."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tasks_app import selectors, views_tasks
from tasks_app.models import Status, Task
from tests.tasks.test_task_pages import in_days, make_task

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}


def column_titles(page: str, key: str) -> str:
    start = page.index(f'data-testid="tboard-column-{key}"')
    end = page.find("</section>", start)
    return page[start:end]


def test_it_puts_each_active_task_of_mine_in_its_column(client, owner, head):
    now = timezone.now()
    tasks = {
        "overdue": make_task(head, owner, "Т-просрочена", deadline=in_days(1)),
        "today": make_task(head, owner, "Т-сегодня"),
        "none": make_task(head, owner, "Т-без-срока"),
        "later": make_task(head, owner, "Т-позже", deadline=in_days(30)),
    }
    Task.objects.filter(pk=tasks["overdue"].pk).update(deadline=now - timedelta(hours=1))
    # «Today» is a minute ahead: the board's moment is a little later than this test's `now`.
    Task.objects.filter(pk=tasks["today"].pk).update(deadline=max(now + timedelta(minutes=1),
                                                                  views_tasks.deadline_for("today", now)))
    done = make_task(head, owner, "Т-завершена", deadline=in_days(1))
    Task.objects.filter(pk=done.pk).update(status=Status.COMPLETED)
    make_task(head, head, "Т-чужая", deadline=in_days(1))
    client.force_login(owner)
    page = client.get(reverse("tasks:board")).content.decode()
    for key, task in tasks.items():
        if views_tasks.column_of(Task.objects.get(pk=task.pk).deadline, timezone.now()) == key:
            assert task.title in column_titles(page, key), key
    assert "Т-завершена" not in page and "Т-чужая" not in page
    assert 'data-testid="tboard-count-overdue">1<' in page


@pytest.mark.parametrize("column", ["today", "week", "next_week", "later", "none"])
def test_a_drop_moves_the_deadline_into_that_column(client, owner, column):
    task = make_task(owner, owner, "Перенести", deadline=in_days(60) if column != "later" else None)
    client.force_login(owner)
    response = client.post(reverse("tasks:board_move", args=[task.pk]), {"to": column}, headers=HX)
    assert response.status_code == 200
    event = json.loads(response["HX-Trigger"])["task-deadline-moved"]
    task.refresh_from_db()
    now = timezone.now()
    landed = views_tasks.column_of(task.deadline, now)
    assert event["id"] == task.pk and event["to"] == landed and f'data-task-id="{task.pk}"' in event["card"]
    if column == "none":
        assert task.deadline is None
    else:
        assert task.deadline > now
        # Sunday's column may be «today» itself when today is Sunday; otherwise the column asked for.
        assert landed == column or (column == "week" and timezone.localtime(now).weekday() == 6)
    assert "крайний срок" in event["message"]


def test_the_deadlines_of_the_columns():
    # A Wednesday at 10:00 Moscow time.
    now = timezone.make_aware(datetime(2026, 12, 2, 10, 0))
    shown = {key: timezone.localtime(views_tasks.deadline_for(key, now)).strftime("%a %d %H:%M")
             for key in ("today", "week", "next_week", "later")}
    assert shown == {"today": "Wed 02 18:00", "week": "Sun 06 18:00", "next_week": "Sun 13 18:00",
                     "later": "Sun 20 18:00"}
    evening = timezone.make_aware(datetime(2026, 12, 2, 19, 0))
    assert timezone.localtime(views_tasks.deadline_for("today", evening)).strftime("%H:%M") == "23:59"
    assert views_tasks.deadline_for("none", now) is None
    sunday_evening = timezone.make_aware(datetime(2026, 12, 6, 19, 0))
    assert timezone.localtime(views_tasks.deadline_for("week", sunday_evening)).strftime("%a %d %H:%M") == "Sun 06 23:59"


def test_a_drop_by_someone_who_may_not_move_the_deadline_is_refused_and_moves_nothing(client, owner, head):
    task = make_task(head, owner, "Поставлена руководителем", deadline=in_days(3))
    before = task.deadline
    client.force_login(owner)  # the responsible, not the creator
    response = client.post(reverse("tasks:board_move", args=[task.pk]), {"to": "none"}, headers=HX)
    page = response.content.decode()
    assert response["HX-Retarget"] == "#crm-modal-content"
    assert "Срок не изменён" in page and "Крайний срок меняет постановщик задачи" in page
    task.refresh_from_db()
    assert task.deadline == before


@pytest.mark.parametrize("to", ["overdue", "", "yesterday", "x" * 200])
def test_a_drop_on_overdue_or_nowhere_is_refused_in_russian(client, owner, to):
    task = make_task(owner, owner, deadline=in_days(3))
    client.force_login(owner)
    page = client.post(reverse("tasks:board_move", args=[task.pk]), {"to": to}, headers=HX).content.decode()
    assert "Срок не изменён" in page
    assert ("В «Просрочены» задачу не переносят" if to == "overdue" else "Неизвестная колонка") in page


def test_without_javascript_a_move_goes_back_to_the_board_with_a_message(client, owner):
    task = make_task(owner, owner, deadline=in_days(3))
    client.force_login(owner)
    response = client.post(reverse("tasks:board_move", args=[task.pk]), {"to": "none", "next": "/tasks/board/"})
    assert response.status_code == 302 and response.url == "/tasks/board/"
    task.refresh_from_db()
    assert task.deadline is None


def test_the_head_sees_a_managers_board_and_a_manager_may_not_choose_one(client, owner, outsider, head):
    make_task(outsider, outsider, "Задача Сидорова", deadline=in_days(2))
    client.force_login(head)
    page = client.get(reverse("tasks:board"), {"responsible": outsider.pk}).content.decode()
    assert "Задача Сидорова" in page
    client.force_login(owner)
    page = client.get(reverse("tasks:board"), {"responsible": outsider.pk}).content.decode()
    assert "Задача Сидорова" not in page and 'data-testid="tboard-filter-errors"' in page
    page = client.get(reverse("tasks:board"), {"responsible": "абв"}).content.decode()
    assert 'data-testid="tboard-filter-errors"' in page


def test_the_counts_come_back_out_of_band(client, owner):
    make_task(owner, owner, deadline=in_days(2))
    client.force_login(owner)
    page = client.get(reverse("tasks:board_counts")).content.decode()
    assert 'id="tboard-count-none"' in page and 'hx-swap-oob="true"' in page


def test_the_board_costs_the_same_whatever_the_number_of_tasks(client, owner, head, django_assert_max_num_queries):
    def build(n):
        for i in range(n):
            make_task(head, owner, f"Задача {i}", deadline=in_days(i % 20) if i % 3 else None, checklist=["a"])

    build(5)
    client.force_login(owner)
    with django_assert_max_num_queries(14) as few:
        assert client.get(reverse("tasks:board")).status_code == 200
    build(60)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(reverse("tasks:board")).status_code == 200


def test_the_menu_counts_my_overdue_and_todays_tasks(client, owner, head):
    now = timezone.now()
    late = make_task(head, owner, "Просрочена", deadline=in_days(1))
    Task.objects.filter(pk=late.pk).update(deadline=now - timedelta(hours=2))
    today = make_task(head, owner, "Сегодня", deadline=in_days(1))
    _start, tomorrow = selectors.day_bounds(now)
    Task.objects.filter(pk=today.pk).update(deadline=now + (tomorrow - now) / 2)  # later today, whatever the hour
    make_task(head, owner, "Завтра", deadline=tomorrow + timedelta(hours=1))
    client.force_login(owner)
    page = client.get(reverse("tasks:list")).content.decode()
    menu = page[page.index('data-testid="menu"'):page.index("</ul>", page.index('data-testid="menu"'))]
    # The page leaves a slot the badges come into after it loads.
    assert f'hx-get="{reverse("tasks:menu_counters")}"' in menu
    assert menu.count(reverse("tasks:menu_counters")) == 1  # fetched once per page
    badges = client.get(reverse("tasks:menu_counters")).content.decode()
    assert 'data-testid="menu-overdue" title="Просрочено">1<' in badges
    assert 'data-testid="menu-today" title="На сегодня">1<' in badges
    client.force_login(head)
    assert "menu-overdue" not in client.get(reverse("tasks:menu_counters")).content.decode()


def test_the_counters_cost_one_query_of_tasks(client, owner, django_assert_max_num_queries):
    make_task(owner, owner, deadline=in_days(0.01))
    client.force_login(owner)
    with django_assert_max_num_queries(10) as queries:
        assert client.get(reverse("tasks:menu_counters")).status_code == 200
    assert sum("tasks_app_task" in q["sql"] for q in queries.captured_queries) == 1
