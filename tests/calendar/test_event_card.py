"""The event's card (read-only, the participant's answer, «Изменить» for the organizer and his
supervisors, «Отменить»), editing one occurrence of a series from the dialog, the dialog's
conflicts and free slots, and the admin's private events — per persona, with query budgets."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils.http import urlencode

from calendar_app import recurrence, selectors, services
from calendar_app.models import Answer, Event, EventException
from notifications.models import Kind as N
from notifications.models import Notification
from tests.factories import LeadFactory, UserFactory

from .helpers import MSK, at, make_event

pytestmark = pytest.mark.django_db

MONDAY = dt.date(2026, 12, 7)
HTMX = {"HX-Request": "true"}


def card(event, occurrence=None) -> str:
    url = reverse("calendar:event", args=[event.pk])
    return url + ("?" + urlencode({"occurrence": occurrence.isoformat()}) if occurrence else "")


def keys(event, days=10) -> list[dt.datetime]:
    """The original starts of a series' occurrences in its first days."""
    event.refresh_from_db()
    return [o.original_start for o in recurrence.occurrences(event, at(MONDAY, 0), at(MONDAY + dt.timedelta(days=days), 0))]


@pytest.fixture
def meeting(owner, teammate):
    return make_event(owner, at(MONDAY, 10), minutes=90, title="Встреча с «Ромашкой»", participants=[teammate],
                      reminders=[15, 1440], location="Офис клиента", description="Обсудить договор поставки",
                      importance="high")


# --- the card ---

def test_it_shows_the_event_to_a_participant_with_his_answer_buttons(client, django_assert_max_num_queries, meeting,
                                                                     owner, teammate):
    client.force_login(teammate)
    with django_assert_max_num_queries(10):  # 9 + the disk's «Файлы» panel (crm.cards)
        response = client.get(card(meeting), headers=HTMX)
    assert response.status_code == 200 and response["HX-Retarget"] == "#crm-modal-content"
    text = response.content.decode()
    assert "<html" not in text
    for shown in ("Встреча с «Ромашкой»", "07.12.2026 10:00–11:30", "Офис клиента", "Обсудить договор поставки",
                  str(owner), str(teammate), "Приглашён", "За день, За 15 минут", "Занят", "Высокая",
                  "Приму участие", "Не смогу", "Скачать .ics"):
        assert shown in text, shown
    assert 'data-testid="event-edit"' not in text and 'data-testid="event-cancel"' not in text


def test_the_card_is_a_page_of_its_own_without_htmx(client, meeting, teammate):
    client.force_login(teammate)
    response = client.get(card(meeting))
    assert response.status_code == 200
    text = response.content.decode()
    assert "<html" in text and 'data-testid="event-card"' in text and "hx-post" not in text


@pytest.mark.parametrize("persona", ["owner", "head", "crm_admin"])
def test_the_organizer_and_his_supervisors_may_change_it(client, django_assert_max_num_queries, personas, meeting,
                                                         persona):
    client.force_login(personas[persona])
    with django_assert_max_num_queries(13):  # 11 + the disk's «Файлы» panel (its files; the right to change)
        response = client.get(card(meeting))
    assert response.status_code == 200
    text = response.content.decode()
    assert 'data-testid="event-edit"' in text and 'data-testid="event-cancel"' in text
    assert 'data-testid="event-answer"' not in text  # none of them is invited (the organizer cannot decline)
    edit = reverse("calendar:event_edit", args=[meeting.pk])
    assert client.get(edit).status_code == 200


def test_an_outsider_gets_no_card(client, meeting, outsider):
    client.force_login(outsider)
    assert client.get(card(meeting)).status_code == 404
    assert client.post(reverse("calendar:event_answer", args=[meeting.pk]), {"answer": "accepted"}).status_code == 404


def test_a_private_event_of_someone_else_has_no_card_even_for_the_head(client, owner, teammate, head):
    event = make_event(owner, at(MONDAY, 10), title="Собеседование", is_private=True, participants=[teammate])
    client.force_login(head)
    assert client.get(card(event)).status_code == 404
    client.force_login(teammate)
    assert "Собеседование" in client.get(card(event)).content.decode()


def test_a_superuser_who_is_not_invited_sees_only_busy_time(client, owner):
    root = UserFactory(username="root", is_superuser=True, is_staff=True)
    event = make_event(owner, at(MONDAY, 10), title="Собеседование", is_private=True)
    client.force_login(root)
    assert client.get(card(event)).status_code == 404
    week = client.get(reverse("calendar:index"), {"date": MONDAY.isoformat(), "user": owner.pk}).content.decode()
    assert "Собеседование" not in week and "Занят" in week


def test_the_bound_records_are_shown_only_to_those_who_may_see_them(client, owner, teammate):
    mine, theirs = LeadFactory(title="Лид «Ромашка»", responsible=owner), LeadFactory(title="Лид «Лютик»",
                                                                                        responsible=teammate)
    event = services.event_create(data={"title": "Встреча", "organizer": owner, "start": at(MONDAY, 10),
                                        "end": at(MONDAY, 11)}, by=None, participants=[teammate],
                                  records=[mine, theirs])
    client.force_login(owner)
    text = client.get(card(event)).content.decode()
    assert f'href="{mine.get_absolute_url()}"' in text and "Лид «Лютик»" not in text and "ещё без доступа: 1" in text
    client.force_login(teammate)
    text = client.get(card(event)).content.decode()
    assert "Лид «Лютик»" in text and "Лид «Ромашка»" not in text


def test_the_card_of_an_occurrence_shows_its_own_time_and_the_rule_in_words(client, owner):
    event = make_event(owner, at(MONDAY, 9), title="Планёрка", freq="weekly", weekdays=[0, 3], interval=2, count=6)
    thursday = keys(event)[1]
    client.force_login(owner)
    text = client.get(card(event, thursday)).content.decode()
    assert "10.12.2026 09:00–10:00" in text and "Каждую 2-ю неделю: Пн, Чт; повторений: 6" in text
    assert f"?{urlencode({'occurrence': thursday.isoformat()})}" in text  # «Изменить» edits this occurrence
    bad = client.get(card(event, thursday + dt.timedelta(hours=1))).content.decode()
    assert "Такого повторения у события нет" in bad
    assert "Повторение события указано неверно." in client.get(card(event) + "?occurrence=вчера").content.decode()


def test_the_grid_opens_the_card_for_everyone(client, owner, teammate):
    event = make_event(owner, at(MONDAY, 9), title="Планёрка", freq="daily", count=3)
    client.force_login(teammate)
    assert client.get(reverse("calendar:index"), {"date": MONDAY.isoformat()}).status_code == 200
    client.force_login(owner)
    week = client.get(reverse("calendar:index"), {"date": MONDAY.isoformat()}).content.decode()
    first = urlencode({"occurrence": keys(event)[0].isoformat()})
    assert f'hx-get="{card(event)}?{first}"' in week.replace("&amp;", "&")
    assert week.count('data-testid="calendar-event-link"') == 3


# --- answers ---

def test_a_participant_declines_and_the_organizer_hears_of_it(client, django_assert_max_num_queries, meeting, owner,
                                                               teammate):
    client.force_login(teammate)
    url = reverse("calendar:event_answer", args=[meeting.pk])
    with django_assert_max_num_queries(17):  # 15 + the disk's «Файлы» panel on the card answered
        response = client.post(url, {"answer": "declined"}, headers=HTMX)
    assert response.status_code == 200
    text = response.content.decode()
    assert "Ваш ответ: «Отказался»." in text
    assert 'class="btn btn-sm btn-danger"\n                aria-pressed="true" data-testid="event-answer-declined"' in text
    assert meeting.participants.get(user=teammate).answer == Answer.DECLINED
    assert Notification.objects.filter(recipient=owner, kind=N.EVENT_CHANGED).exists()
    again = client.post(url, {"answer": "accepted"})
    assert again.status_code == 302 and again["Location"] == card(meeting)
    assert meeting.participants.get(user=teammate).answer == Answer.ACCEPTED


@pytest.mark.parametrize("answer", ["", "maybe"])
def test_a_bad_answer_is_a_russian_message(client, meeting, teammate, answer):
    client.force_login(teammate)
    response = client.post(reverse("calendar:event_answer", args=[meeting.pk]), {"answer": answer}, headers=HTMX)
    assert response.status_code == 200 and "Ответ на приглашение указан неверно." in response.content.decode()
    assert meeting.participants.get(user=teammate).answer == Answer.INVITED


def test_the_head_who_is_not_invited_cannot_answer(client, meeting, head):
    client.force_login(head)
    response = client.post(reverse("calendar:event_answer", args=[meeting.pk]), {"answer": "accepted"}, headers=HTMX)
    assert response.status_code == 200 and "Вы не приглашены на это событие." in response.content.decode()


# --- cancel ---

def test_the_organizer_cancels_a_meeting_and_the_participant_hears_of_it(client, django_assert_max_num_queries, meeting,
                                                                        owner, teammate):
    client.force_login(owner)
    with django_assert_max_num_queries(14):
        response = client.post(reverse("calendar:event_cancel", args=[meeting.pk]), {"version": meeting.version},
                               headers=HTMX)
    assert response.status_code == 204 and response["HX-Redirect"].endswith("?date=2026-12-07")
    meeting.refresh_from_db()
    assert meeting.is_cancelled
    assert Notification.objects.filter(recipient=teammate, kind=N.EVENT_CANCELLED).exists()


def test_a_participant_cannot_cancel(client, meeting, teammate):
    client.force_login(teammate)
    assert client.post(reverse("calendar:event_cancel", args=[meeting.pk])).status_code == 403
    meeting.refresh_from_db()
    assert not meeting.is_cancelled


def test_cancelling_one_occurrence_or_the_whole_series(client, owner):
    event = make_event(owner, at(MONDAY, 9), title="Планёрка", freq="daily", count=5)
    second = keys(event)[1]
    url = reverse("calendar:event_cancel", args=[event.pk])
    client.force_login(owner)
    undecided = client.post(url, {"occurrence": second.isoformat(), "version": event.version}, headers=HTMX)
    assert "Выберите, что отменить" in undecided.content.decode()
    assert not EventException.objects.exists()
    one = client.post(url, {"occurrence": second.isoformat(), "what": "this", "version": event.version}, headers=HTMX)
    assert one.status_code == 204 and one["HX-Redirect"].endswith("?date=2026-12-08")
    assert len(keys(event)) == 4 and not Event.objects.get().is_cancelled
    stale = client.post(url, {"what": "all", "version": 1}, headers=HTMX)
    assert "уже изменил другой пользователь" in stale.content.decode()
    event.refresh_from_db()
    assert client.post(url, {"what": "all", "version": event.version}).status_code == 302
    assert Event.objects.get().is_cancelled


# --- editing one occurrence from the dialog ---

def dialog(**fields):
    return {"title": "Планёрка", "date": "2026-12-08", "start_time": "09:00", "end_time": "10:00",
            "availability": "busy", "importance": "normal", "freq": "daily", "count": "5", **fields}


def test_the_dialog_of_an_occurrence_asks_how_far_the_change_goes(client, django_assert_max_num_queries, owner):
    event = make_event(owner, at(MONDAY, 9), title="Планёрка", freq="daily", count=5)
    second = keys(event)[1]
    url = reverse("calendar:event_edit", args=[event.pk]) + "?" + urlencode({"occurrence": second.isoformat()})
    client.force_login(owner)
    with django_assert_max_num_queries(10):
        page = client.get(url, headers=HTMX)
    assert page.status_code == 200
    text = page.content.decode()
    assert 'data-testid="event-scope"' in text and "только это" in text and "это и следующие" in text
    assert 'value="2026-12-08"' in text  # the occurrence's day, not the series' first
    refused = client.post(url, dialog(start_time="12:00", end_time="13:00", version=event.version))
    assert "Выберите, что изменить" in refused.content.decode()
    assert not EventException.objects.exists()
    # A single event's dialog asks nothing.
    single = make_event(owner, at(MONDAY, 15))
    assert 'data-testid="event-scope"' not in client.get(reverse("calendar:event_edit", args=[single.pk])).content.decode()


def test_only_this_occurrence_moves(client, owner, teammate):
    event = make_event(owner, at(MONDAY, 9), title="Планёрка", freq="daily", count=5, participants=[teammate])
    second = keys(event)[1]
    url = reverse("calendar:event_edit", args=[event.pk]) + "?" + urlencode({"occurrence": second.isoformat()})
    client.force_login(owner)
    response = client.post(url, dialog(scope="this", start_time="12:00", end_time="13:00", version=event.version,
                                       participants=[teammate.pk]), headers=HTMX)
    assert response.status_code == 204 and response["HX-Redirect"].endswith("?date=2026-12-08")
    exception = EventException.objects.get()
    assert (exception.original_start, exception.new_start) == (second, at(MONDAY + dt.timedelta(days=1), 12))
    event.refresh_from_db()
    assert event.start == at(MONDAY, 9) and event.count == 5
    # The card of the moved occurrence shows its new time.
    assert "08.12.2026 12:00–13:00" in client.get(card(event, second)).content.decode()


def test_this_and_the_following_ones_get_a_new_title(client, owner):
    event = make_event(owner, at(MONDAY, 9), title="Планёрка", freq="daily", count=5)
    third = keys(event)[2]
    url = reverse("calendar:event_edit", args=[event.pk]) + "?" + urlencode({"occurrence": third.isoformat()})
    client.force_login(owner)
    response = client.post(url, dialog(scope="following", title="Планёрка (новый формат)", date="2026-12-09",
                                       version=event.version))
    assert response.status_code == 302
    old, new = Event.objects.order_by("pk")
    assert (old.title, old.count) == ("Планёрка", 2)
    # The series' count is recounted from this occurrence on: 5 in all, as before.
    assert (new.title, new.count, new.start) == ("Планёрка (новый формат)", 3, at(MONDAY + dt.timedelta(days=2), 9))


def test_all_of_them_move_from_one_occurrence_and_keep_their_first_day(client, owner):
    event = make_event(owner, at(MONDAY, 9), title="Планёрка", freq="daily", count=5)
    third = keys(event)[2]
    url = reverse("calendar:event_edit", args=[event.pk]) + "?" + urlencode({"occurrence": third.isoformat()})
    client.force_login(owner)
    response = client.post(url, dialog(scope="all", date="2026-12-09", start_time="11:00", end_time="11:30",
                                       importance="high", version=event.version))
    assert response.status_code == 302
    event = Event.objects.get()
    assert (event.start, event.end, event.count, event.importance) == (at(MONDAY, 11), at(MONDAY, 11, 30), 5, "high")


def test_the_head_edits_his_managers_occurrence(client, owner, head):
    event = make_event(owner, at(MONDAY, 9), title="Планёрка", freq="daily", count=5)
    second = keys(event)[1]
    url = reverse("calendar:event_edit", args=[event.pk]) + "?" + urlencode({"occurrence": second.isoformat()})
    client.force_login(head)
    assert client.post(url, dialog(scope="this", title="Планёрка с руководителем",
                                   version=event.version)).status_code == 302
    assert EventException.objects.get().title == "Планёрка с руководителем"


def test_a_stale_occurrence_link_saves_nothing(client, owner):
    event = make_event(owner, at(MONDAY, 9), title="Планёрка", freq="daily", count=5)
    second = keys(event)[1]
    services.event_cancel(event, by=owner, occurrence=second)
    event.refresh_from_db()
    url = reverse("calendar:event_edit", args=[event.pk]) + "?" + urlencode({"occurrence": second.isoformat()})
    client.force_login(owner)
    page = client.get(url, headers=HTMX)
    assert page.status_code == 200 and "Такого повторения у события нет" in page.content.decode()
    response = client.post(url, dialog(scope="all", title="Всё сразу", version=event.version))
    assert response.status_code == 200 and "Такого повторения у события нет" in response.content.decode()
    event.refresh_from_db()
    assert event.title == "Планёрка"


def test_importance_is_set_in_the_dialog(client, owner):
    client.force_login(owner)
    response = client.post(reverse("calendar:event_create"), {
        "title": "Переговоры", "date": "2026-12-07", "start_time": "10:00", "end_time": "11:00",
        "availability": "busy", "importance": "high"})
    assert response.status_code == 302 and Event.objects.get().importance == "high"
    bad = client.post(reverse("calendar:event_create"), {
        "title": "Переговоры", "date": "2026-12-07", "start_time": "10:00", "availability": "busy",
        "importance": "urgent"})
    assert "Неизвестная важность." in bad.content.decode() and Event.objects.count() == 1


# --- conflicts and free slots ---

@pytest.fixture
def busy_day(owner, teammate, outsider):
    """Monday: the teammate's own meeting 10:00–11:00, a meeting 14:00–15:30 he declined, a «Свободен»
    event at 16:00, and the outsider's all-day training."""
    make_event(teammate, at(MONDAY, 10), title="Звонок клиенту")
    make_event(owner, at(MONDAY, 14), minutes=90, title="Обед", participants=[teammate])
    Event.objects.get(title="Обед").participants.filter(user=teammate).update(answer=Answer.DECLINED)
    make_event(teammate, at(MONDAY, 16), title="Свободное окно", availability="free")
    services.event_create(data={"title": "Обучение", "all_day": True, "start_date": MONDAY, "end_date": MONDAY},
                          by=outsider)


def test_busy_and_free_slots_cost_two_queries_whatever_the_number_of_people(django_assert_num_queries, busy_day,
                                                                            owner, teammate, outsider):
    people = [owner.pk, teammate.pk, outsider.pk] + [UserFactory().pk for _ in range(5)]
    with django_assert_num_queries(2):
        times = selectors.busy(people, at(MONDAY, 0), at(MONDAY + dt.timedelta(days=1), 0))
    assert times[teammate.pk] == [(at(MONDAY, 10), at(MONDAY, 11))]
    assert times[owner.pk] == [(at(MONDAY, 14), at(MONDAY, 15, 30))]
    assert times[outsider.pk] == [(at(MONDAY, 0), at(MONDAY + dt.timedelta(days=1), 0))]
    assert times[people[-1]] == []
    with django_assert_num_queries(0):
        slots = selectors.free_slots({k: v for k, v in times.items() if k != outsider.pk}, MONDAY, MSK)
    assert slots == [(at(MONDAY, 8), at(MONDAY, 10)), (at(MONDAY, 11), at(MONDAY, 14)), (at(MONDAY, 15, 30), at(MONDAY, 20))]
    assert selectors.free_slots(times, MONDAY, MSK) == []


def test_the_dialog_warns_who_is_busy_and_offers_the_free_slots(client, django_assert_max_num_queries, busy_day,
                                                               owner, teammate, outsider):
    client.force_login(owner)
    params = {"date": "2026-12-07", "start_time": "10:30", "end_time": "14:30", "participants": [teammate.pk]}
    with django_assert_max_num_queries(8):
        response = client.get(reverse("calendar:event_conflicts"), params, headers=HTMX)
    assert response.status_code == 200
    text = response.content.decode()
    assert f"{teammate} — Занят 10:00–11:00" in text and f"{owner} — Занят 14:00–15:30" in text
    assert "Свободны все: 08:00–10:00, 11:00–14:00, 15:30–20:00" in text
    # Declined and «Свободен» do not count: the teammate is free at 14:00 and 16:00.
    free = client.get(reverse("calendar:event_conflicts"), {**params, "start_time": "16:00", "end_time": "17:00"})
    assert "Все участники свободны в это время." in free.content.decode()
    allday = client.get(reverse("calendar:event_conflicts"), {**params, "participants": [outsider.pk]})
    assert f"{outsider} — Занят весь день" in allday.content.decode()
    assert "Общего свободного времени" in allday.content.decode()


def test_the_edited_event_itself_is_no_conflict(client, owner, teammate):
    event = make_event(owner, at(MONDAY, 10), participants=[teammate])
    client.force_login(owner)
    params = {"date": "2026-12-07", "start_time": "10:00", "end_time": "11:00", "participants": [teammate.pk]}
    assert "Занят 10:00–11:00" in client.get(reverse("calendar:event_conflicts"), params).content.decode()
    text = client.get(reverse("calendar:event_conflicts"), {**params, "event": event.pk}).content.decode()
    assert "Все участники свободны в это время." in text


@pytest.mark.parametrize("params", [
    {}, {"date": "2026-13-01"}, {"date": "2026-12-07"}, {"date": "2026-12-07", "start_time": "25:00"},
    {"date": "9999-12-31", "all_day": "on"}, {"date": "2026-12-07", "all_day": "on", "end_date": "9999-12-31"},
    {"date": "2026-12-07", "start_time": "10:00", "participants": ["abc"]}, {"date": "2026-12-07", "event": "x"},
])
def test_bad_conflict_parameters_show_nothing_and_never_fail(client, owner, params):
    client.force_login(owner)
    response = client.get(reverse("calendar:event_conflicts"), params)
    assert response.status_code == 200 and "Занят" not in response.content.decode()


def test_the_dialog_asks_for_conflicts_when_it_changes(client, owner):
    client.force_login(owner)
    text = client.get(reverse("calendar:event_create"), headers=HTMX).content.decode()
    assert f'hx-get="{reverse("calendar:event_conflicts")}"' in text and "change from:closest form" in text


# --- the admin ---

def test_the_admin_shows_a_private_event_as_busy_even_to_a_superuser(client, owner):
    root = UserFactory(username="root", is_superuser=True, is_staff=True)
    private = make_event(owner, at(MONDAY, 10), title="Собеседование", is_private=True)
    make_event(owner, at(MONDAY, 12), title="Планёрка группы")
    client.force_login(root)
    listing = client.get(reverse("admin:calendar_app_event_changelist")).content.decode()
    assert "Собеседование" not in listing and "Занят" in listing and "Планёрка группы" in listing
    assert client.get(reverse("admin:calendar_app_event_change", args=[private.pk])).status_code == 404
    found = client.get(reverse("admin:calendar_app_event_changelist"), {"q": "Собеседование"}).content.decode()
    assert "Занят" not in found  # the search does not tell him what it is

