"""The calendar's pages: the week (default), day and month views per persona, private events of
others as «Занят», tasks' deadlines beside events, bad parameters as a message, query budgets."""

import datetime as dt

import pytest
from django.urls import reverse

from calendar_app import services
from tasks_app import services as task_services
from tasks_app.models import Kind

from .helpers import at, make_event

pytestmark = pytest.mark.django_db

MONDAY = dt.date(2026, 12, 7)
URL = reverse("calendar:index")


def week(client, reader, **params):
    client.force_login(reader)
    return client.get(URL, {"date": MONDAY.isoformat(), **params})


def test_it_shows_the_week_of_my_events_and_my_deadlines(client, django_assert_max_num_queries, owner, teammate):
    make_event(owner, at(MONDAY, 10), title="Планёрка группы")
    make_event(owner, at(MONDAY + dt.timedelta(days=2), 15), title="Встреча с «Ромашкой»", participants=[teammate])
    make_event(owner, at(MONDAY + dt.timedelta(days=7), 9), title="На следующей неделе")
    services.event_create(data={"title": "Выставка «Строй»", "all_day": True, "start_date": MONDAY,
                                "end_date": MONDAY + dt.timedelta(days=1)}, by=owner)
    task_services.task_create(data={"kind": Kind.CALL, "title": "Перезвонить в «Ромашку»", "responsible": owner,
                                    "deadline": at(MONDAY, 16)}, by=owner)
    client.force_login(owner)
    with django_assert_max_num_queries(14):
        response = client.get(URL, {"date": (MONDAY + dt.timedelta(days=3)).isoformat()})
    assert response.status_code == 200
    text = response.content.decode()
    assert "Планёрка группы" in text and "Встреча с «Ромашкой»" in text and "Выставка «Строй»" in text
    assert "Перезвонить в «Ромашку»" in text
    assert "На следующей неделе" not in text
    assert text.count('data-testid="calendar-column"') == 7
    # 10:00 is two hours below the grid's 8:00.
    assert "top: 96px" in text


def test_the_colleague_invited_sees_the_meeting_in_his_week(client, owner, teammate, outsider):
    make_event(owner, at(MONDAY, 15), title="Встреча с «Ромашкой»", participants=[teammate])
    assert "Встреча с «Ромашкой»" in week(client, teammate).content.decode()
    assert "Встреча с «Ромашкой»" not in week(client, outsider).content.decode()


def test_a_private_event_of_a_colleague_is_busy_time_in_his_calendar(client, owner, head):
    make_event(owner, at(MONDAY, 10), title="Собеседование", is_private=True)
    response = week(client, head, user=owner.pk)
    assert response.status_code == 200
    text = response.content.decode()
    assert "Собеседование" not in text and "Занят" in text
    assert "календарь сотрудника" in text
    assert "Собеседование" in week(client, owner).content.decode()


def test_an_outsider_does_not_see_another_groups_calendar(client, owner, outsider):
    make_event(owner, at(MONDAY, 10), title="Планёрка группы")
    response = week(client, outsider, user=owner.pk)
    assert response.status_code == 200
    assert "Планёрка группы" not in response.content.decode()


@pytest.mark.parametrize("view, columns", [("day", 1), ("week", 7)])
def test_it_shows_the_day_and_the_week(client, django_assert_max_num_queries, owner, view, columns):
    make_event(owner, at(MONDAY, 12), title="Обед с клиентом")
    client.force_login(owner)
    with django_assert_max_num_queries(14):
        response = client.get(URL, {"date": MONDAY.isoformat(), "view": view})
    assert response.status_code == 200
    text = response.content.decode()
    assert text.count('data-testid="calendar-column"') == columns and "Обед с клиентом" in text


def test_the_month_has_whole_weeks_and_a_phone_list(client, django_assert_max_num_queries, owner):
    daily = make_event(owner, at(dt.date(2026, 12, 1), 9), title="Утренний созвон", minutes=15, freq="daily")
    assert daily.pk
    client.force_login(owner)
    with django_assert_max_num_queries(14):
        response = client.get(URL, {"date": "2026-12-15", "view": "month"})
    assert response.status_code == 200
    text = response.content.decode()
    assert 'data-testid="calendar-month"' in text and 'data-testid="calendar-month-list"' in text
    # December 2026: Monday 30 November … Sunday 3 January, a daily event on each December day in both layouts,
    # and the wall calendar's days of the neighbouring months too.
    assert text.count("Утренний созвон") == 31 * 2 + 3


@pytest.mark.parametrize("params, message", [
    ({"date": "2026-13-45"}, "Дата должна быть в виде ГГГГ-ММ-ДД."),
    ({"date": "0001-01-01"}, "Дата должна быть между 1900 и 2999 годом."),
    ({"view": "year"}, "Неизвестный вид календаря"),
    ({"user": "999999"}, "Такого сотрудника нет."),
    ({"user": "abc"}, "Такого сотрудника нет."),
])
def test_bad_parameters_are_a_message_and_this_week(client, owner, params, message):
    client.force_login(owner)
    response = client.get(URL, params)
    assert response.status_code == 200
    text = response.content.decode()
    assert message in text and text.count('data-testid="calendar-column"') == 7


def test_htmx_navigation_gets_only_the_calendar(client, owner):
    client.force_login(owner)
    response = client.get(URL, {"date": MONDAY.isoformat()}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    text = response.content.decode()
    assert 'data-testid="calendar-grid"' in text and "<html" not in text
    assert "date=2026-11-30" in text and "date=2026-12-14" in text  # previous and next weeks


def test_the_menu_has_the_calendar(client, owner):
    client.force_login(owner)
    assert f'href="{URL}"' in client.get(reverse("tasks:day")).content.decode()
