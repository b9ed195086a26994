"""The calendar's pages: the week (default), day and month views per persona, private events of
others as «Занят», tasks' deadlines beside events, bad parameters as a message, query budgets."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

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


NEW = reverse("calendar:event_create")


def form(**fields):
    return {"title": "Встреча с «Ромашкой»", "date": "2026-12-07", "start_time": "10:00", "end_time": "11:30",
            "availability": "busy", "reminders": ["15"], **fields}


def test_it_creates_an_event_with_a_colleague_invited(client, owner, teammate):
    from calendar_app.models import Event

    client.force_login(owner)
    response = client.post(NEW, form(participants=[teammate.pk], location="Офис"), headers={"HX-Request": "true"})
    assert response.status_code == 204 and response["HX-Redirect"].endswith("?date=2026-12-07")
    event = Event.objects.get()
    assert (event.organizer, event.location, [r.minutes for r in event.reminders.all()]) == (owner, "Офис", [15])
    assert timezone.localtime(event.start).hour == 10 and (event.end - event.start) == dt.timedelta(minutes=90)
    assert set(event.participants.values_list("user__username", flat=True)) == {"owner", "teammate"}


def test_a_free_slot_opens_the_dialog_at_its_hour(client, django_assert_max_num_queries, owner):
    client.force_login(owner)
    with django_assert_max_num_queries(8):
        response = client.get(NEW, {"start": "2026-12-09T14:00"}, headers={"HX-Request": "true"})
    assert response.status_code == 200 and response["HX-Retarget"] == "#crm-modal-content"
    text = response.content.decode()
    assert 'value="2026-12-09"' in text and 'value="14:00"' in text and 'value="15:00"' in text
    assert client.get(NEW, {"start": "2026-99-09T14:00"}).status_code == 200  # a bad slot: an empty dialog


@pytest.mark.parametrize("fields, message", [
    ({"end_time": "09:00"}, "Событие не может закончиться раньше, чем началось."),
    ({"title": ""}, "Укажите название события."),
    ({"date": "2026-02-30"}, "Дата должна быть в виде ГГГГ-ММ-ДД."),
    ({"participants": ["999999"]}, "Такого сотрудника нет среди активных"),
    ({"freq": "daily", "until": "2026-12-01"}, "Повторения не могут закончиться раньше, чем началось событие."),
    ({"reminders": ["7"]}, "Такого напоминания нет."),
    ({"start_time": ""}, "Укажите время начала или отметьте «Весь день»."),
])
def test_bad_input_is_a_russian_message_and_nothing_saved(client, owner, fields, message):
    from calendar_app.models import Event

    client.force_login(owner)
    response = client.post(NEW, form(**fields), headers={"HX-Request": "true"})
    assert response.status_code == 200 and message in response.content.decode()
    assert not Event.objects.exists()


def test_the_organizer_edits_his_event_and_an_outsider_cannot(client, owner, outsider, teammate):
    event = make_event(owner, at(MONDAY, 10), title="Планёрка группы")
    url = reverse("calendar:event_edit", args=[event.pk])
    client.force_login(owner)
    page = client.get(url)
    assert page.status_code == 200 and 'value="Планёрка группы"' in page.content.decode()
    response = client.post(url, form(title="Планёрка группы (перенесена)", start_time="12:00", end_time="13:00",
                                     version=event.version))
    assert response.status_code == 302
    event.refresh_from_db()
    assert event.title == "Планёрка группы (перенесена)" and timezone.localtime(event.start).hour == 12
    stale = client.post(url, form(version=1))
    assert "уже изменил другой пользователь" in stale.content.decode()
    client.force_login(outsider)
    assert client.get(url).status_code == 404


def test_all_day_events_are_created_from_the_dialog(client, owner):
    from calendar_app.models import Event

    client.force_login(owner)
    client.post(NEW, form(all_day="on", start_time="", end_time="", end_date="2026-12-08"))
    event = Event.objects.get()
    assert (event.all_day, event.start_date, event.end_date) == (True, MONDAY, MONDAY + dt.timedelta(days=1))


def test_a_message_is_shown_once(client, owner):
    client.force_login(owner)
    text = client.get(URL, {"date": "2026-13-45"}).content.decode()
    assert text.count("Дата должна быть в виде ГГГГ-ММ-ДД.") == 1
    swapped = client.get(URL, {"date": "2026-13-45"}, headers={"HX-Request": "true"}).content.decode()
    assert swapped.count("Дата должна быть в виде ГГГГ-ММ-ДД.") == 1


def test_a_deadline_outside_the_grids_hours_goes_to_the_all_day_row(client, owner):
    task_services.task_create(data={"kind": Kind.CALL, "title": "Поздний звонок в Хабаровск", "responsible": owner,
                                    "deadline": at(MONDAY, 22)}, by=owner)
    text = week(client, owner).content.decode()
    all_day_row = text.split('data-testid="calendar-all-day"')[1].split("</div>\n")[0]
    assert "Поздний звонок в Хабаровск" in all_day_row and text.count("Поздний звонок в Хабаровск") == 1


def test_the_grid_opens_the_events_card_for_the_organizer_and_a_participant(client, owner, teammate):
    event = make_event(owner, at(MONDAY, 10), title="Планёрка группы", participants=[teammate])
    card, edit = reverse("calendar:event", args=[event.pk]), reverse("calendar:event_edit", args=[event.pk])
    for reader in (owner, teammate):
        text = week(client, reader).content.decode()
        assert f'hx-get="{card}"' in text and edit not in text


def test_a_weekly_meeting_on_chosen_days_from_the_dialog(client, owner):
    from calendar_app.models import Event

    client.force_login(owner)
    response = client.post(NEW, form(freq="weekly", interval="2", weekdays=["0", "3"], count="6"))
    assert response.status_code == 302
    event = Event.objects.get()
    assert (event.freq, event.interval, event.weekdays, event.count) == ("weekly", 2, [0, 3], 6)
    page = client.get(reverse("calendar:event_edit", args=[event.pk])).content.decode()
    assert 'name="interval" value="2"' in page and 'name="count" value="6"' in page


@pytest.mark.parametrize("fields, message", [
    ({"freq": "daily", "weekdays": ["1"]}, "Дни недели задаются только для еженедельного повторения."),
    ({"freq": "daily", "count": "3", "until": "2026-12-31"}, "Укажите либо дату окончания повторений, либо их количество."),
    ({"freq": "daily", "interval": "0"}, "Интервал повторения — от 1 до 999."),
    ({"freq": "weekly", "weekdays": ["9"]}, "Дни недели указаны неверно."),
])
def test_a_bad_repetition_is_refused_in_russian(client, owner, fields, message):
    from calendar_app.models import Event

    client.force_login(owner)
    response = client.post(NEW, form(**fields))
    assert response.status_code == 200 and message in response.content.decode()
    assert not Event.objects.exists()


def test_a_new_title_from_the_dialog_keeps_the_series_cancelled_occurrence(client, owner):
    """The dialog sends every field, the repetition's too: only a real change of the rule or the
    start may drop the series' exceptions, not a new title."""
    from calendar_app import recurrence, services
    from calendar_app.models import Event

    client.force_login(owner)
    assert client.post(NEW, form(freq="daily", count="5")).status_code == 302
    event = Event.objects.get()
    second = recurrence.occurrences(event, event.start, event.start + dt.timedelta(days=5))[1].original_start
    services.event_cancel(event, by=owner, occurrence=second)
    event.refresh_from_db()
    response = client.post(reverse("calendar:event_edit", args=[event.pk]),
                           form(title="Планёрка (новое название)", freq="daily", count="5", version=event.version))
    assert response.status_code == 302
    event.refresh_from_db()
    assert event.title == "Планёрка (новое название)"
    assert event.exceptions.filter(original_start=second, is_cancelled=True).exists()
    assert len(recurrence.occurrences(event, event.start, event.start + dt.timedelta(days=5))) == 4
