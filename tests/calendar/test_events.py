"""Events: creating, validating, access (private events per persona), cancelling and answering."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from calendar_app import selectors, services
from calendar_app.models import Answer, Event, Participant
from notifications.models import Kind as N
from notifications.models import Notification
from tests.factories import UserFactory

from .helpers import at, make_event

pytestmark = pytest.mark.django_db

MONDAY = dt.date(2026, 12, 7)


def test_it_creates_an_event_the_organizer_accepts_and_the_invited_hear_of(owner, teammate, outsider):
    event = make_event(owner, at(MONDAY, 10), participants=[teammate, outsider], reminders=[15, 60])
    answers = dict(event.participants.values_list("user__username", "answer"))
    assert answers == {"owner": Answer.ACCEPTED, "teammate": Answer.INVITED, "outsider": Answer.INVITED}
    assert sorted(event.reminders.values_list("minutes", flat=True)) == [15, 60]
    assert event.start == at(MONDAY, 10) and event.tz == "Europe/Moscow"
    invited = Notification.objects.filter(kind=N.EVENT_INVITED)
    assert sorted(invited.values_list("recipient__username", flat=True)) == ["outsider", "teammate"]


@pytest.mark.parametrize("data, participants, reminders, field_or_text", [
    ({"end": at(MONDAY, 9)}, [], [], "end"),
    ({"title": "  "}, [], [], "title"),
    ({"tz": "Mars/Olympus"}, [], [], "tz"),
    ({"freq": "weekly", "until": MONDAY - dt.timedelta(days=1)}, [], [], "until"),
    ({"freq": "daily", "count": 0}, [], [], "count"),
    ({"freq": "daily", "count": 1001}, [], [], "count"),
    ({"freq": "daily", "count": 3, "until": MONDAY}, [], [], "count"),
    ({"freq": "daily", "weekdays": [0]}, [], [], "weekdays"),
    ({"freq": "weekly", "weekdays": [7]}, [], [], "weekdays"),
    ({}, [999999], [], "неизвестный"),
    ({}, [], [-5], "после начала"),
    ({}, [], [60 * 24 * 60], "четыре недели"),
])
def test_it_refuses_a_wrong_event_with_a_clear_message_and_saves_nothing(owner, data, participants, reminders,
                                                                          field_or_text):
    with pytest.raises(ValidationError) as caught:
        make_event(owner, at(MONDAY, 10), participants=participants, reminders=reminders, **data)
    if hasattr(caught.value, "error_dict"):
        assert field_or_text in caught.value.error_dict
    else:
        assert field_or_text in caught.value.messages[0]
    assert not Event.objects.exists() and not Participant.objects.exists()


def test_it_refuses_an_all_day_event_ending_before_its_start(owner):
    with pytest.raises(ValidationError) as caught:
        services.event_create(data={"title": "Выставка", "all_day": True, "start_date": MONDAY,
                                    "end_date": MONDAY - dt.timedelta(days=1)}, by=owner)
    assert "раньше, чем началось" in caught.value.error_dict["end_date"][0].messages[0]


def test_it_refuses_to_invite_an_inactive_user(owner):
    gone = UserFactory(username="gone", is_active=False)
    with pytest.raises(ValidationError, match="неактивного"):
        make_event(owner, at(MONDAY, 10), participants=[gone])
    assert not Event.objects.exists()


def test_it_lets_only_the_organizer_and_his_supervisors_change_an_event(owner, teammate, head, outsider):
    event = make_event(owner, at(MONDAY, 10), participants=[teammate])
    for stranger in (teammate, outsider):
        with pytest.raises(PermissionDenied):
            services.event_update(event, data={"title": "Чужая правка"}, by=stranger)
    services.event_update(event, data={"title": "Планёрка (перенесена)"}, by=head)
    event.refresh_from_db()
    assert event.title == "Планёрка (перенесена)" and event.version == 2


def test_it_refuses_an_edit_made_on_a_stale_version(owner):
    event = make_event(owner, at(MONDAY, 10))
    services.event_update(event, data={"title": "Первая правка"}, by=owner, version=1)
    with pytest.raises(services.StaleEdit):
        services.event_update(event, data={"title": "Вторая правка"}, by=owner, version=1)
    assert Event.objects.get().title == "Первая правка"


def test_a_private_event_is_busy_time_for_those_who_see_the_calendar_and_details_for_participants(personas):
    owner, teammate = personas["owner"], personas["teammate"]
    make_event(owner, at(MONDAY, 10), title="Собеседование", is_private=True, participants=[teammate],
               location="Переговорная 2")
    start, end = at(MONDAY, 0), at(MONDAY + dt.timedelta(days=1), 0)
    seen = {}
    for name, user in personas.items():
        found = selectors.visible_occurrences(user, [owner.pk], start, end)
        seen[name] = [(o.display_title, o.location, o.hidden) for o in found]
    assert seen == {
        "owner": [("Собеседование", "Переговорная 2", False)],
        "teammate": [("Собеседование", "Переговорная 2", False)],  # a participant, whatever his level
        "outsider": [],  # another group's manager does not see the owner's calendar
        "head": [("Занят", "", True)],
        "crm_admin": [("Занят", "", True)],
    }


def test_a_participant_reads_an_event_whatever_his_level(owner, outsider):
    event = make_event(owner, at(MONDAY, 10), participants=[outsider])
    assert selectors.event_for(outsider, event.pk) == event
    other = make_event(owner, at(MONDAY, 12))
    assert not selectors.visible(outsider).filter(pk=other.pk).exists()


def test_cancelling_tells_the_participants_who_did_not_decline(owner, teammate, outsider):
    event = make_event(owner, at(MONDAY, 10), participants=[teammate, outsider])
    services.participant_answer(event, user=outsider, answer=Answer.DECLINED)
    services.event_cancel(event, by=owner)
    event.refresh_from_db()
    assert event.is_cancelled
    told = Notification.objects.filter(kind=N.EVENT_CANCELLED).values_list("recipient__username", flat=True)
    assert list(told) == ["teammate"]
    assert selectors.visible_occurrences(owner, None, at(MONDAY, 0), at(MONDAY, 23)) == []
    with pytest.raises(services.EventError):
        services.event_cancel(event, by=owner)


def test_a_decline_reaches_the_organizer_and_only_the_invited_may_answer(owner, teammate, outsider):
    event = make_event(owner, at(MONDAY, 10), participants=[teammate])
    services.participant_answer(event, user=teammate, answer=Answer.DECLINED)
    assert Notification.objects.filter(recipient=owner, kind=N.EVENT_CHANGED).count() == 1
    with pytest.raises(PermissionDenied):
        services.participant_answer(event, user=outsider, answer=Answer.ACCEPTED)
    with pytest.raises(ValidationError):
        services.participant_answer(event, user=teammate, answer="maybe")
    with pytest.raises(services.EventError):
        services.participant_answer(event, user=owner, answer=Answer.DECLINED)


def test_moving_an_event_keeps_its_duration_and_tells_the_participants(owner, teammate):
    event = make_event(owner, at(MONDAY, 10), minutes=90, participants=[teammate])
    services.event_move(event, start=at(MONDAY, 15), by=owner)
    event.refresh_from_db()
    assert (event.start, event.end) == (at(MONDAY, 15), at(MONDAY, 16, 30))
    assert Notification.objects.filter(recipient=teammate, kind=N.EVENT_CHANGED).exists()
    with pytest.raises(ValidationError):
        services.event_move(event, start=dt.datetime(2026, 12, 8, 10), by=owner)  # naive: which zone?


def test_the_event_ics_is_for_those_who_may_read_it(client, owner, teammate, outsider, head):
    event = make_event(owner, at(MONDAY, 10), is_private=True, participants=[teammate])
    url = reverse("calendar:event_ics", args=[event.pk])
    for user, status in ((owner, 200), (teammate, 200), (head, 404), (outsider, 404)):
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == status, user
    client.force_login(owner)
    assert b"BEGIN:VEVENT" in client.get(url).content
    client.logout()
    assert client.get(url).status_code == 302


def test_it_binds_an_event_to_a_visible_record_only(owner, outsider):
    from tests.factories import LeadFactory

    lead = LeadFactory(responsible=owner)
    event = make_event(owner, at(MONDAY, 10), records=[lead])
    assert event.bindings.get().record == lead
    with pytest.raises(PermissionDenied):
        make_event(outsider, at(MONDAY, 10), records=[lead])


def test_an_event_page_budget(client, django_assert_max_num_queries, owner, teammate):
    event = make_event(owner, at(MONDAY, 10), participants=[teammate], reminders=[15], freq="weekly")
    client.force_login(owner)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("calendar:event_ics", args=[event.pk]))
    assert response.status_code == 200


def test_a_weeks_occurrences_cost_a_few_queries_whatever_the_number_of_events(owner, teammate, head,
                                                                              django_assert_max_num_queries):
    for day in range(30):
        make_event(owner, at(MONDAY, 8 + day % 10), freq="daily" if day % 2 else "", is_private=day % 3 == 0,
                   participants=[teammate])
    week = (at(MONDAY, 0), at(MONDAY + dt.timedelta(days=7), 0))
    # The access levels and departments, the events, their exceptions, the reader's private ones.
    with django_assert_max_num_queries(6):
        found = selectors.visible_occurrences(head, [owner.pk], *week)
    assert len(found) == 15 * 7 + 15
    assert sum(o.hidden for o in found) == 5 * 7 + 5
