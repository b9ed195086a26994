"""The iCalendar exports, read back with the icalendar library and expanded independently with
recurring_ical_events: the subscriber sees the occurrences the CRM computes."""

import datetime as dt

import icalendar
import pytest
import recurring_ical_events
from django.urls import reverse

from calendar_app import ical, recurrence, services
from calendar_app.models import Answer, CalendarToken, Event
from tasks_app import services as task_services

from .helpers import MSK, at, make_event

pytestmark = pytest.mark.django_db

UTC = dt.UTC
MONDAY = dt.date(2026, 12, 7)


@pytest.fixture
def series(owner, teammate):
    """A weekly 10:00 meeting: its 2nd occurrence moved to Wednesday 15:00, its 3rd cancelled."""
    event = make_event(owner, at(MONDAY, 10), freq="weekly", participants=[teammate], reminders=[15])
    services.event_move(event, start=at(MONDAY + dt.timedelta(days=9), 15), by=owner,
                        occurrence=at(MONDAY + dt.timedelta(days=7), 10).astimezone(UTC))
    services.event_cancel(event, by=owner, occurrence=at(MONDAY + dt.timedelta(days=14), 10).astimezone(UTC))
    services.participant_answer(event, user=teammate, answer=Answer.ACCEPTED)
    return Event.objects.get(pk=event.pk)


def feed_url(token):
    return reverse("calendar:feed", args=[token.token])


def test_the_feed_expands_to_the_occurrences_the_crm_computes(client, owner, series):
    token = services.calendar_token_create(owner)
    response = client.get(feed_url(token))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
    window = (at(MONDAY, 0), at(MONDAY + dt.timedelta(days=42), 0))
    cal = icalendar.Calendar.from_ical(response.content)
    theirs = sorted((e.decoded("dtstart").astimezone(UTC), e.decoded("dtend").astimezone(UTC))
                    for e in recurring_ical_events.of(cal).between(*window))
    ours = [(o.start, o.end) for o in recurrence.occurrences(series, *window)]
    assert theirs == ours
    local = [s.astimezone(MSK).strftime("%d %a %H:%M") for s, _ in ours]
    assert local == ["07 Mon 10:00", "16 Wed 15:00", "28 Mon 10:00", "04 Mon 10:00",
                     "11 Mon 10:00"]


def test_the_event_speaks_rrule_exdate_recurrence_id_alarms_and_attendees(series):
    cal = icalendar.Calendar.from_ical(ical.event_to_ical(series))
    main, override = [c for c in cal.walk("VEVENT")]
    assert main["rrule"]["FREQ"] == ["WEEKLY"]
    assert main["dtstart"].dt.tzinfo is not None and str(main["dtstart"].params["TZID"]) == "Europe/Moscow"
    assert [d.dt for d in main["exdate"].dts] == [at(MONDAY + dt.timedelta(days=14), 10)]
    assert override.decoded("recurrence-id") == at(MONDAY + dt.timedelta(days=7), 10)
    assert main.walk("VALARM")[0].decoded("trigger") == -dt.timedelta(minutes=15)
    partstat = {str(a).split(":", 1)[1] if not str(a).startswith("urn") else str(a): a.params["PARTSTAT"]
                for a in main.get("attendee")}
    assert sorted(partstat.values()) == ["ACCEPTED", "ACCEPTED"]
    assert cal.walk("VTIMEZONE")


def test_an_all_day_event_is_dates_in_the_feed(owner):
    event = services.event_create(data={"title": "Выставка «Связь»", "all_day": True, "start_date": MONDAY,
                                        "end_date": MONDAY + dt.timedelta(days=2)}, by=owner)
    component = icalendar.Calendar.from_ical(ical.event_to_ical(event)).walk("VEVENT")[0]
    assert component.decoded("dtstart") == MONDAY
    assert component.decoded("dtend") == MONDAY + dt.timedelta(days=3)  # exclusive


def test_the_feed_holds_the_users_events_and_tasks_with_deadlines_and_no_one_elses(client, owner, teammate, head):
    mine = make_event(owner, at(MONDAY, 10), title="Моя встреча")
    make_event(teammate, at(MONDAY, 12), title="Встреча Марии")
    declined = make_event(teammate, at(MONDAY, 14), title="Я отказался", participants=[owner])
    services.participant_answer(declined, user=owner, answer=Answer.DECLINED)
    task_services.task_create(data={"title": "Отправить КП", "responsible": owner, "creator": head,
                                    "deadline": at(MONDAY, 18)}, by=None)
    task_services.task_create(data={"title": "Задача Марии", "responsible": teammate, "creator": head,
                                    "deadline": at(MONDAY, 18)}, by=None)
    token = services.calendar_token_create(owner)
    cal = icalendar.Calendar.from_ical(client.get(feed_url(token)).content)
    summaries = sorted(str(c["summary"]) for c in cal.walk("VEVENT"))
    assert summaries == ["Крайний срок: Отправить КП", "Моя встреча"]
    task = [c for c in cal.walk("VEVENT") if str(c["uid"]).startswith("task-")][0]
    assert task.decoded("dtend") == at(MONDAY, 18)
    assert mine.pk


def test_a_revoked_or_unknown_token_is_404_and_a_new_one_replaces_the_old(client, owner):
    old = services.calendar_token_create(owner)
    new = services.calendar_token_create(owner)
    assert client.get(feed_url(old)).status_code == 404
    assert client.get(feed_url(new)).status_code == 200
    services.calendar_token_revoke(owner)
    assert client.get(feed_url(new)).status_code == 404
    assert client.get(reverse("calendar:feed", args=["not-a-token"])).status_code == 404
    assert CalendarToken.objects.filter(user=owner, revoked_at__isnull=True).count() == 0


def test_an_inactive_users_feed_is_closed(client, owner):
    token = services.calendar_token_create(owner)
    owner.is_active = False
    owner.save()
    assert client.get(feed_url(token)).status_code == 404


def test_the_feed_query_budget(client, django_assert_max_num_queries, owner, teammate):
    for day in range(20):
        make_event(owner, at(MONDAY + dt.timedelta(days=day), 10), participants=[teammate], reminders=[15],
                   freq="weekly")
        task_services.task_create(data={"title": f"Звонок {day}", "responsible": owner, "creator": owner,
                                        "deadline": at(MONDAY + dt.timedelta(days=day), 18)}, by=None)
    token = services.calendar_token_create(owner)
    with django_assert_max_num_queries(8):
        response = client.get(feed_url(token))
    assert response.status_code == 200
    assert len(icalendar.Calendar.from_ical(response.content).walk("VEVENT")) == 40
