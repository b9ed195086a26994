"""The week grid in a real browser: the owner drags a meeting to another day and hour (it moves,
the message says so), the head picks a colleague's calendar beside his own, and the profile creates
and revokes the feed's address."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from calendar_app.models import CalendarToken, Event
from tests.calendar.helpers import make_event

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def this_week(weekday: int) -> dt.date:
    today = timezone.localdate()
    return today - dt.timedelta(days=today.weekday()) + dt.timedelta(days=weekday)


def test_a_meeting_dragged_to_another_day_moves(live_server, page, login, owner, teammate):
    problems = []
    page.on("console", lambda msg: msg.type == "error" and problems.append(msg.text))
    page.set_viewport_size({"width": 1440, "height": 900})
    monday, thursday = this_week(0), this_week(3)
    zone = timezone.get_current_timezone()
    event = make_event(owner, dt.datetime.combine(monday, dt.time(10), tzinfo=zone), title="Встреча с «Ромашкой»",
                       participants=[teammate])
    login(owner)
    page.goto(f"{live_server.url}/calendar/")
    target = page.locator(f'[data-testid="calendar-column"][data-date="{thursday.isoformat()}"] [data-time="15:30"]')
    page.get_by_test_id("calendar-event").filter(has_text="Встреча с «Ромашкой»").drag_to(target)
    expect(page.get_by_text("Событие «Встреча с «Ромашкой»» перенесено")).to_be_visible()
    moved = page.locator(f'[data-testid="calendar-column"][data-date="{thursday.isoformat()}"]').get_by_test_id(
        "calendar-event").filter(has_text="Встреча с «Ромашкой»")
    expect(moved).to_contain_text("15:30")
    event.refresh_from_db()
    assert timezone.localtime(event.start) == dt.datetime.combine(thursday, dt.time(15, 30), tzinfo=zone)
    assert problems == []


def test_the_head_picks_a_colleagues_calendar(live_server, page, login, head, owner):
    page.set_viewport_size({"width": 1440, "height": 900})
    zone = timezone.get_current_timezone()
    make_event(owner, dt.datetime.combine(this_week(1), dt.time(11), tzinfo=zone), title="Планёрка группы")
    login(head)
    page.goto(f"{live_server.url}/calendar/")
    expect(page.get_by_test_id("calendar-event").filter(has_text="Планёрка группы")).to_have_count(0)
    page.get_by_test_id("calendar-people").click()
    page.get_by_label(str(owner)).check()
    page.get_by_test_id("calendar-people-show").click()
    expect(page.get_by_test_id("calendar-legend")).to_contain_text(str(owner))
    expect(page.get_by_test_id("calendar-event").filter(has_text="Планёрка группы")).to_be_visible()
    assert f"users={owner.pk}" in page.url
    # The arrows keep the chosen calendars.
    page.get_by_test_id("calendar-next").click()
    expect(page.get_by_test_id("calendar-legend")).to_contain_text(str(owner))


def test_the_profile_creates_and_revokes_the_feed_address(live_server, page, login, owner):
    page.set_viewport_size({"width": 1440, "height": 900})
    login(owner)
    page.goto(f"{live_server.url}/profile/")
    page.get_by_test_id("calendar-feed-create").click()
    address = page.get_by_test_id("calendar-feed-url")
    expect(address).to_have_value(f"{live_server.url}/calendar/feed/{CalendarToken.objects.get().token}.ics")
    # On plain http (the test server) the clipboard API is not allowed: the address is selected
    # and copied the old way, and the button says so.
    page.get_by_test_id("calendar-feed-copy").click()
    expect(page.get_by_test_id("calendar-feed-copy")).to_have_text("Скопировано")
    assert page.evaluate("() => window.getSelection().toString() || document.activeElement.value") == address.input_value()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_test_id("calendar-feed-revoke").click()
    expect(page.get_by_text("Ссылка на календарь отозвана")).to_be_visible()
    expect(page.get_by_test_id("calendar-feed-create")).to_be_visible()
    assert not CalendarToken.objects.filter(revoked_at__isnull=True).exists()
    assert Event.objects.count() == 0
