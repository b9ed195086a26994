"""The calendar in a real browser: the owner clicks a free slot of the week, fills the dialog with a
colleague invited, and both see the meeting in their week; the arrows move by htmx and the address
follows."""

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from calendar_app.models import Event

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_meeting_created_from_a_free_slot_is_in_both_weeks(live_server, page, login, owner, teammate):
    problems = []
    page.on("console", lambda msg: msg.type == "error" and problems.append(msg.text))
    page.set_viewport_size({"width": 1440, "height": 900})
    login(owner)
    page.goto(f"{live_server.url}/calendar/")
    wednesday = timezone.localdate() - dt.timedelta(days=timezone.localdate().weekday()) + dt.timedelta(days=2)
    column = page.locator(f'[data-testid="calendar-column"][data-date="{wednesday.isoformat()}"]')
    column.locator('[data-hour="14"]').click()
    dialog = page.get_by_test_id("event-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("Время начала")).to_have_value("14:00")
    dialog.get_by_label("Название").fill("Встреча с «Ромашкой»")
    dialog.get_by_label("Место").fill("Офис клиента")
    dialog.get_by_label("Участники").select_option(label=str(teammate))
    dialog.get_by_label("За 15 минут").check()
    page.get_by_test_id("event-save").click()

    event = column.get_by_test_id("calendar-event").filter(has_text="Встреча с «Ромашкой»")
    expect(event).to_be_visible()
    expect(event).to_contain_text("14:00")
    saved = Event.objects.get(title="Встреча с «Ромашкой»")
    assert saved.participants.filter(user=teammate).exists() and saved.reminders.get().minutes == 15
    page.screenshot(path="screenshots/calendar-week.png")

    # Next week by htmx: the address follows, the meeting is not there; «Сегодня» brings it back.
    page.get_by_test_id("calendar-next").click()
    expect(page).to_have_url(re.compile(f"date={(wednesday + dt.timedelta(days=7)).isoformat()}"))
    meetings = page.get_by_test_id("calendar-event").filter(has_text="Встреча с «Ромашкой»")
    expect(meetings).to_have_count(0)
    page.get_by_test_id("calendar-prev").click()
    expect(meetings).to_have_count(1)

    page.context.clear_cookies()
    login(teammate)
    page.goto(f"{live_server.url}/calendar/")
    expect(page.get_by_test_id("calendar-event").filter(has_text="Встреча с «Ромашкой»")).to_be_visible()
    assert problems == []
