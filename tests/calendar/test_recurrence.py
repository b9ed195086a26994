"""Repeating events: the rule expanded in the event's zone, exceptions applied, only the range
asked expanded; the three edit scopes of a repeating event."""

import datetime as dt
import time
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from calendar_app import recurrence, services
from calendar_app.models import Event, EventException

from .helpers import MSK, at, make_event

pytestmark = pytest.mark.django_db

UTC = dt.UTC
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
TOKYO = ZoneInfo("Asia/Tokyo")
MONDAY = dt.date(2026, 12, 7)


def starts(event, start, end, zone=MSK):
    return [o.start.astimezone(zone) for o in recurrence.occurrences(event, start, end)]


def test_a_weekly_10_00_moscow_meeting_stays_at_10_00_for_a_year(owner):
    event = make_event(owner, at(dt.date(2026, 1, 5), 10), freq="weekly")
    found = starts(event, at(dt.date(2026, 1, 1), 0), at(dt.date(2027, 1, 1), 0))
    assert len(found) == 52
    assert {(s.hour, s.minute, s.weekday()) for s in found} == {(10, 0, 0)}


def test_a_weekly_meeting_keeps_its_wall_clock_time_across_a_dst_change(owner):
    """Berlin moves its clocks on 29 March 2026: the 10:00 meeting is at 09:00 UTC before, 08:00 after."""
    event = make_event(owner, dt.datetime(2026, 3, 16, 10, tzinfo=BERLIN), freq="weekly", tz="Europe/Berlin")
    found = recurrence.occurrences(event, dt.datetime(2026, 3, 1, tzinfo=UTC), dt.datetime(2026, 4, 10, tzinfo=UTC))
    assert [o.start.astimezone(BERLIN).hour for o in found] == [10] * 4
    assert [o.start.astimezone(UTC).hour for o in found] == [9, 9, 8, 8]


def test_an_all_day_event_stays_on_its_day_whatever_the_readers_zone(owner):
    event = services.event_create(data={"title": "День рождения компании", "all_day": True, "start_date": MONDAY,
                                        "end_date": MONDAY, "freq": "yearly"}, by=owner)
    for zone in (MSK, NEW_YORK, TOKYO, UTC):
        day_start = dt.datetime.combine(MONDAY, dt.time(), tzinfo=zone)
        found = recurrence.occurrences(event, day_start, day_start + dt.timedelta(days=1))
        assert [(o.start, o.end, o.all_day) for o in found] == [(MONDAY, MONDAY, True)], zone
        # The day before and after, in that zone, has none.
        assert recurrence.occurrences(event, day_start - dt.timedelta(days=1), day_start) == []
    next_year = dt.datetime(2027, 12, 7, tzinfo=NEW_YORK)
    assert [o.start for o in recurrence.occurrences(event, next_year, next_year + dt.timedelta(days=1))] == [
        dt.date(2027, 12, 7)]


def test_weekdays_interval_until_and_count(owner):
    event = make_event(owner, at(MONDAY, 9), freq="weekly", weekdays=[0, 2, 4], interval=2, until=dt.date(2026, 12, 31))
    days = [s.date() for s in starts(event, at(MONDAY, 0), at(dt.date(2027, 2, 1), 0))]
    assert days == [dt.date(2026, 12, d) for d in (7, 9, 11, 21, 23, 25)]
    counted = make_event(owner, at(MONDAY, 9), freq="daily", count=3)
    assert [s.day for s in starts(counted, at(MONDAY, 0), at(dt.date(2027, 2, 1), 0))] == [7, 8, 9]


def test_a_daily_event_without_an_end_costs_what_a_single_one_does(owner, django_assert_num_queries):
    """Ten years of a daily rule: only the week asked is expanded (one query, the exceptions)."""
    daily = make_event(owner, at(dt.date(2016, 1, 1), 9), freq="daily")
    single = make_event(owner, at(dt.date(2036, 1, 8), 9))
    week = (at(dt.date(2036, 1, 6), 0), at(dt.date(2036, 1, 13), 0))
    daily, single = Event.objects.get(pk=daily.pk), Event.objects.get(pk=single.pk)
    with django_assert_num_queries(1):
        found = recurrence.occurrences(daily, *week)
    assert [s.day for s in (o.start.astimezone(MSK) for o in found)] == list(range(6, 13))
    began = time.perf_counter()
    for _ in range(50):
        recurrence.occurrences(Event.objects.prefetch_related("exceptions").get(pk=daily.pk), *week)
    daily_cost = time.perf_counter() - began
    began = time.perf_counter()
    for _ in range(50):
        recurrence.occurrences(Event.objects.prefetch_related("exceptions").get(pk=single.pk), *week)
    single_cost = time.perf_counter() - began
    assert daily_cost < single_cost * 3 + 0.05


def test_only_this_occurrence_moves_renames_or_cancels(owner, teammate):
    event = make_event(owner, at(MONDAY, 10), freq="daily", participants=[teammate])
    tuesday, wednesday = at(MONDAY + dt.timedelta(days=1), 10), at(MONDAY + dt.timedelta(days=2), 10)
    services.event_update(event, data={"start": at(MONDAY + dt.timedelta(days=1), 15), "title": "Планёрка с директором"},
                          by=owner, scope=services.THIS, occurrence=tuesday.astimezone(UTC))
    services.event_cancel(event, by=owner, occurrence=wednesday.astimezone(UTC))
    found = recurrence.occurrences(Event.objects.get(pk=event.pk), at(MONDAY, 0), at(MONDAY + dt.timedelta(days=4), 0))
    assert [(o.start.astimezone(MSK).strftime("%d %H:%M"), o.display_title) for o in found] == [
        ("07 10:00", "Планёрка отдела продаж"), ("08 15:00", "Планёрка с директором"),
        ("10 10:00", "Планёрка отдела продаж")]
    with pytest.raises(ValidationError, match="повторения"):
        services.event_update(event, data={"title": "x"}, by=owner, scope=services.THIS,
                              occurrence=at(MONDAY, 11).astimezone(UTC))


def test_a_moved_occurrence_is_found_in_the_range_it_was_moved_to(owner):
    event = make_event(owner, at(MONDAY, 10), freq="weekly")
    services.event_move(event, start=at(MONDAY + dt.timedelta(days=12), 10), by=owner,
                        occurrence=at(MONDAY + dt.timedelta(days=7), 10).astimezone(UTC))
    saturday = MONDAY + dt.timedelta(days=12)
    found = recurrence.occurrences(Event.objects.get(pk=event.pk), at(saturday, 0), at(saturday, 23))
    assert [(o.start.astimezone(MSK), o.moved) for o in found] == [(at(saturday, 10), True)]


def test_this_and_following_ends_the_series_and_starts_a_new_one(owner, teammate):
    event = make_event(owner, at(MONDAY, 10), freq="weekly", participants=[teammate], reminders=[15])
    third = at(MONDAY + dt.timedelta(days=14), 10)
    services.event_cancel(event, by=owner, occurrence=at(MONDAY + dt.timedelta(days=21), 10).astimezone(UTC))
    new = services.event_update(event, data={"start": third.replace(hour=12), "end": third.replace(hour=13)}, by=owner,
                                scope=services.FOLLOWING, occurrence=third.astimezone(UTC))
    event.refresh_from_db()
    assert new.pk != event.pk and event.until == dt.date(2026, 12, 20)
    # The cancelled 4th was after the split, and is another occurrence at the new time: forgotten.
    assert not EventException.objects.exists()
    assert list(new.participants.values_list("user__username", flat=True).order_by("user__username")) == [
        "owner", "teammate"]
    assert list(new.reminders.values_list("minutes", flat=True)) == [15]
    window = (at(MONDAY, 0), at(MONDAY + dt.timedelta(days=35), 0))
    old = [s.strftime("%d %H") for s in starts(event, *window)]
    following = [s.strftime("%d %H") for s in starts(new, *window)]
    assert old == ["07 10", "14 10"]
    assert following == ["21 12", "28 12", "04 12"]


def test_this_and_following_shares_a_count_between_the_two_series(owner):
    event = make_event(owner, at(MONDAY, 10), freq="daily", count=5)
    new = services.event_update(event, data={"title": "Планёрка (новый формат)"}, by=owner, scope=services.FOLLOWING,
                                occurrence=at(MONDAY + dt.timedelta(days=2), 10).astimezone(UTC))
    event.refresh_from_db()
    assert (event.count, new.count) == (2, 3)


def test_this_and_following_keeps_the_later_exceptions_when_the_time_stays(owner):
    event = make_event(owner, at(MONDAY, 10), freq="daily")
    fifth = at(MONDAY + dt.timedelta(days=4), 10).astimezone(UTC)
    services.event_cancel(event, by=owner, occurrence=fifth)
    new = services.event_update(event, data={"title": "Планёрка (новый формат)"}, by=owner, scope=services.FOLLOWING,
                                occurrence=at(MONDAY + dt.timedelta(days=2), 10).astimezone(UTC))
    assert list(EventException.objects.values_list("event_id", "original_start", "is_cancelled")) == [
        (new.pk, fifth, True)]
    found = starts(Event.objects.get(pk=new.pk), at(MONDAY, 0), at(MONDAY + dt.timedelta(days=6), 0))
    assert [s.day for s in found] == [9, 10, 12]


def test_this_and_following_from_the_first_occurrence_edits_the_series(owner):
    event = make_event(owner, at(MONDAY, 10), freq="daily")
    same = services.event_update(event, data={"title": "Утренняя планёрка"}, by=owner, scope=services.FOLLOWING,
                                 occurrence=at(MONDAY, 10).astimezone(UTC))
    assert same.pk == event.pk and Event.objects.count() == 1 and same.title == "Утренняя планёрка"


def test_all_edits_the_series_and_forgets_exceptions_its_new_rule_makes_meaningless(owner):
    event = make_event(owner, at(MONDAY, 10), freq="daily")
    services.event_cancel(event, by=owner, occurrence=at(MONDAY + dt.timedelta(days=1), 10).astimezone(UTC))
    services.event_update(event, data={"title": "Переименована"}, by=owner, scope=services.ALL)
    assert EventException.objects.count() == 1  # a rename keeps them
    services.event_update(event, data={"start": at(MONDAY, 11), "end": at(MONDAY, 12)}, by=owner, scope=services.ALL)
    assert EventException.objects.count() == 0
    found = starts(Event.objects.get(pk=event.pk), at(MONDAY, 0), at(MONDAY + dt.timedelta(days=2), 0))
    assert [s.strftime("%d %H") for s in found] == ["07 11", "08 11"]
