"""The week grid: dragging an event (a POST to calendar:event_move, through services.event_move),
its refusals, overlapping events side by side, several calendars side by side, query budgets."""

import datetime as dt
import re

import pytest
from django.urls import reverse

from calendar_app import services
from calendar_app.models import Event, EventException
from calendar_app.views import _side_by_side
from notifications.models import Kind, Notification
from tests.factories import UserFactory

from .helpers import at, make_event

pytestmark = pytest.mark.django_db

MONDAY = dt.date(2026, 12, 7)
URL = reverse("calendar:index")
NAV = f"view=week&date={MONDAY.isoformat()}"


def move(client, event, start, **data):
    return client.post(f"{reverse('calendar:event_move', args=[event.pk])}?{NAV}", {"start": start, **data},
                       HTTP_HX_REQUEST="true")


def test_it_moves_a_dragged_meeting_to_another_day_and_hour_and_tells_the_participant(client, owner, teammate):
    event = make_event(owner, at(MONDAY, 10), minutes=90, title="Встреча с «Ромашкой»", participants=[teammate])
    client.force_login(owner)
    response = move(client, event, "2026-12-09T14:30", version=event.version)
    assert response.status_code == 200
    event.refresh_from_db()
    assert event.start == at(MONDAY + dt.timedelta(days=2), 14, 30)
    assert event.end == at(MONDAY + dt.timedelta(days=2), 16)
    text = response.content.decode()
    # The grid comes back (htmx swaps #calendar) with the outcome as a message.
    assert 'data-testid="calendar-grid"' in text and "<html" not in text
    assert "Событие «Встреча с «Ромашкой»» перенесено на 09.12.2026 14:30." in text
    assert Notification.objects.filter(recipient=teammate, kind=Kind.EVENT_CHANGED).exists()


def test_an_all_day_event_moves_by_dates(client, owner):
    event = services.event_create(data={"title": "Выставка «Строй»", "all_day": True, "start_date": MONDAY,
                                        "end_date": MONDAY + dt.timedelta(days=1)}, by=owner)
    client.force_login(owner)
    response = move(client, event, "2026-12-10")
    assert "перенесено на 10.12.2026." in response.content.decode()
    event.refresh_from_db()
    assert (event.start_date, event.end_date) == (dt.date(2026, 12, 10), dt.date(2026, 12, 11))


def test_one_occurrence_of_a_repeating_event_moves_and_the_others_stay(client, owner):
    event = make_event(owner, at(MONDAY, 9), title="Планёрка", freq="daily")
    client.force_login(owner)
    tuesday = at(MONDAY + dt.timedelta(days=1), 9)
    response = move(client, event, "2026-12-08T11:00", occurrence=tuesday.isoformat(), version=event.version)
    assert "перенесено" in response.content.decode()
    exception = EventException.objects.get(event=event)
    assert exception.original_start == tuesday and exception.new_start == at(MONDAY + dt.timedelta(days=1), 11)
    event.refresh_from_db()
    assert event.start == at(MONDAY, 9)


def test_a_repeating_event_without_its_occurrence_is_refused(client, owner):
    event = make_event(owner, at(MONDAY, 9), title="Планёрка", freq="daily")
    client.force_login(owner)
    response = move(client, event, "2026-12-08T11:00")
    assert "Укажите, какое повторение перенести." in response.content.decode()
    assert not EventException.objects.exists()


def test_a_participant_may_not_move_the_organizers_meeting(client, owner, teammate):
    event = make_event(owner, at(MONDAY, 10), title="Встреча с «Ромашкой»", participants=[teammate])
    client.force_login(teammate)
    response = move(client, event, "2026-12-09T14:00")
    assert response.status_code == 200
    assert "alert-danger" in response.content.decode()
    event.refresh_from_db()
    assert event.start == at(MONDAY, 10)


def test_an_outsider_gets_404_and_nothing_moves(client, owner, outsider):
    event = make_event(owner, at(MONDAY, 10), title="Встреча с «Ромашкой»")
    client.force_login(outsider)
    assert move(client, event, "2026-12-09T14:00").status_code == 404
    event.refresh_from_db()
    assert event.start == at(MONDAY, 10)


@pytest.mark.parametrize("start, message", [
    ("завтра", "Время переноса должно быть в виде ГГГГ-ММ-ДДTЧЧ:ММ или ГГГГ-ММ-ДД."),
    ("2026-12-09T25:00", "Время переноса должно быть в виде"),
    ("0001-01-01T10:00", "Дата должна быть между 1900 и 2999 годом."),
    ("", "Укажите, куда перенести событие."),
    # A timed event dropped on a day: the service's own refusal.
    ("2026-12-09", "Время события должно быть указано с часовым поясом."),
])
def test_a_bad_drop_is_a_message_and_nothing_moves(client, owner, start, message):
    event = make_event(owner, at(MONDAY, 10), title="Встреча с «Ромашкой»")
    client.force_login(owner)
    response = move(client, event, start)
    assert response.status_code == 200
    assert message in response.content.decode()
    event.refresh_from_db()
    assert event.start == at(MONDAY, 10)


def test_a_stale_drop_is_refused(client, owner):
    event = make_event(owner, at(MONDAY, 10), title="Встреча с «Ромашкой»")
    stale = event.version
    services.event_move(event, start=at(MONDAY, 12), by=owner, version=stale)
    client.force_login(owner)
    response = move(client, event, "2026-12-09T14:00", version=stale)
    assert "Событие уже изменил другой пользователь" in response.content.decode()
    event.refresh_from_db()
    assert event.start == at(MONDAY, 12)


def test_a_bad_occurrence_is_a_message(client, owner):
    event = make_event(owner, at(MONDAY, 9), title="Планёрка", freq="daily")
    client.force_login(owner)
    assert "Повторение события указано неверно." in move(client, event, "2026-12-08T11:00",
                                                          occurrence="2026-12-08T09:00").content.decode()


def test_without_htmx_the_drop_redirects_to_the_calendar(client, owner):
    event = make_event(owner, at(MONDAY, 10))
    client.force_login(owner)
    response = client.post(f"{reverse('calendar:event_move', args=[event.pk])}?{NAV}", {"start": "2026-12-09T14:00"})
    assert response.status_code == 302 and response["Location"] == f"{URL}?{NAV}"


def test_only_what_the_reader_may_change_is_draggable(client, owner, teammate):
    make_event(owner, at(MONDAY, 10), title="Встреча с «Ромашкой»", participants=[teammate])
    client.force_login(owner)
    text = client.get(URL, {"date": MONDAY.isoformat()}).content.decode()
    assert text.count('draggable="true"') == 1
    assert 'data-move-url="/calendar/events/' in text
    client.force_login(teammate)
    text = client.get(URL, {"date": MONDAY.isoformat()}).content.decode()
    assert "Встреча с «Ромашкой»" in text and 'draggable="true"' not in text


def test_the_grid_has_half_hour_slots_with_their_start(client, owner):
    client.force_login(owner)
    text = client.get(URL, {"date": MONDAY.isoformat(), "view": "day"}).content.decode()
    assert text.count('data-testid="calendar-slot"') == 24
    assert 'data-start="2026-12-07T14:30"' in text and 'data-start="2026-12-07T14:00"' in text
    # The full hours are marked (a darker line; a click on «14» is 14:00).
    assert text.count("data-hour=") == 12 and 'data-time="14:00" data-hour="14"' in text


# --- overlapping events side by side ---

def lanes(*spans):
    items = [{"top": top, "height": height} for top, height in spans]
    _side_by_side(items)
    return [re.search(r"left: calc\(([\d.]+)%.*width: calc\(([\d.]+)%", i["lane_style"]).groups() for i in items]


def test_overlapping_events_share_the_width_and_a_later_one_has_it_all():
    assert lanes((0, 48), (24, 48), (100, 48)) == [("0.000", "50.000"), ("50.000", "50.000"), ("0.000", "100.000")]


def test_a_cluster_takes_as_many_lanes_as_it_needs_at_once():
    # A long one and two short ones after another beside it: two lanes, the third reuses the second.
    assert lanes((0, 200), (0, 48), (48, 48)) == [("0.000", "50.000"), ("50.000", "50.000"), ("50.000", "50.000")]
    assert lanes((0, 96), (10, 96), (20, 96)) == [(f"{n * 100 / 3:.3f}", "33.333") for n in range(3)]


def test_the_week_draws_overlapping_meetings_side_by_side(client, owner):
    make_event(owner, at(MONDAY, 10), title="Первая")
    make_event(owner, at(MONDAY, 10, 30), title="Вторая")
    client.force_login(owner)
    text = client.get(URL, {"date": MONDAY.isoformat()}).content.decode()
    assert text.count("width: calc(50.000% - 2px)") == 2


# --- several calendars side by side ---

def test_the_head_sees_his_and_his_managers_calendars_side_by_side(client, head, owner, teammate):
    make_event(owner, at(MONDAY, 10), title="Планёрка группы")
    make_event(teammate, at(MONDAY, 12), title="Звонок поставщику")
    make_event(head, at(MONDAY, 15), title="Совещание руководителей")
    client.force_login(head)
    response = client.get(URL, {"date": MONDAY.isoformat(), "users": [owner.pk, teammate.pk]})
    assert response.status_code == 200
    text = response.content.decode()
    legend = text[text.index('data-testid="calendar-legend"'):]
    assert legend.index(str(head)) < legend.index(str(owner)) < legend.index(str(teammate))
    for title, colour in (("Совещание руководителей", 0), ("Планёрка группы", 1), ("Звонок поставщику", 2)):
        assert re.search(rf'class="cal-event cal-c{colour}[^"]*"[^>]*title="[^"]*{title}', text), title
    # The arrows keep the choice.
    assert f"&amp;users={owner.pk}&amp;users={teammate.pk}" in text


def test_the_picker_offers_only_the_calendars_the_reader_may_see(client, owner, teammate, head, outsider):
    client.force_login(head)
    text = client.get(URL).content.decode()
    assert 'data-testid="calendar-people"' in text
    assert f'value="{owner.pk}"' in text and f'value="{outsider.pk}"' in text
    # A manager sees his own records only: no colleague to pick, and a typed one is refused.
    client.force_login(owner)
    text = client.get(URL).content.decode()
    assert 'data-testid="calendar-people"' not in text
    text = client.get(URL, {"users": [teammate.pk]}).content.decode()
    assert "Календаря этого сотрудника вам не видно" in text
    assert 'data-testid="calendar-legend"' not in text


def test_a_meeting_of_two_chosen_people_is_drawn_once(client, head, owner, teammate):
    make_event(owner, at(MONDAY, 10), title="Встреча с «Ромашкой»", participants=[teammate])
    client.force_login(head)
    text = client.get(URL, {"date": MONDAY.isoformat(), "users": [teammate.pk, owner.pk]}).content.decode()
    assert text.count("Встреча с «Ромашкой»</a>") == 1
    # The colour of the first chosen calendar it is in: the teammate's, listed before the owner.
    assert re.search(r'class="cal-event cal-c1[^"]*"[^>]*title="[^"]*Встреча с «Ромашкой» · ', text)


def test_too_many_calendars_are_a_message(client, head, org):
    many = [UserFactory(department=org["group1"], role="Менеджер") for _ in range(9)]
    client.force_login(head)
    text = client.get(URL, {"users": [u.pk for u in many]}).content.decode()
    assert "Рядом можно показать не больше 8 календарей." in text


def test_four_colleagues_calendars_cost_what_one_does(client, django_assert_max_num_queries, head, org):
    people = [UserFactory(department=org["group1"], role="Менеджер") for _ in range(4)]
    for n, person in enumerate(people):
        make_event(person, at(MONDAY, 9 + n), title=f"Встреча {n}", participants=[people[(n + 1) % 4]])
        make_event(person, at(MONDAY + dt.timedelta(days=1), 9 + n), title=f"Повтор {n}", freq="daily")
    client.force_login(head)
    client.get(URL)  # the session and the access levels are warm as in the counted requests

    def count(users):
        with django_assert_max_num_queries(16) as queries:
            response = client.get(URL, {"date": MONDAY.isoformat(), "users": [u.pk for u in users]})
        assert response.status_code == 200
        assert all(f"Встреча {people.index(u)}" in response.content.decode() for u in users)
        return len(queries)

    assert count(people[:1]) == count(people)


def test_a_drop_costs_a_fixed_number_of_queries(client, django_assert_max_num_queries, owner, teammate):
    event = make_event(owner, at(MONDAY, 10), title="Встреча с «Ромашкой»", participants=[teammate])
    client.force_login(owner)
    with django_assert_max_num_queries(40):
        response = move(client, event, "2026-12-09T14:00", version=event.version)
    assert response.status_code == 200 and "перенесено" in response.content.decode()


def test_a_colleagues_calendar_alone_still_works_with_user(client, head, owner):
    make_event(owner, at(MONDAY, 10), title="Планёрка группы")
    client.force_login(head)
    text = client.get(URL, {"date": MONDAY.isoformat(), "user": owner.pk}).content.decode()
    assert "Планёрка группы" in text and "календарь сотрудника" in text
    assert Event.objects.count() == 1
