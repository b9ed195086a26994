"""The issue's browser test: a manager opens his lead's card, clicks «Запланировать встречу», fills
the dialog with a colleague invited and saves; back on the card the meeting is in «Встречи», in
«Дела» as the next touch (and the lead's «Дата следующего касания»), and on the timeline; the
colleague sees it in his week and has a notification. Then the organizer drags it to another day
in the week view, and the colleague's notification and the lead's timeline show the move."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from calendar_app.models import Event
from tests.calendar.helpers import at
from tests.factories import LeadFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

TITLE = "Встреча в офисе «Ромашки»"


def test_a_meeting_planned_from_a_lead_card_is_its_next_touch_and_in_the_colleagues_week(
        live_server, page, login, owner, teammate):
    problems = []
    page.on("console", lambda msg: msg.type == "error" and problems.append(msg.text))
    page.set_viewport_size({"width": 1440, "height": 900})
    lead = LeadFactory(title="Окна для «Ромашки»", company_name="ООО «Ромашка»", responsible=owner)
    today = timezone.localdate()
    day = today - dt.timedelta(days=today.weekday()) + dt.timedelta(days=8)  # next week's Tuesday: all to come
    later = day + dt.timedelta(days=2)  # its Thursday, where the meeting is dragged
    login(owner)
    page.goto(f"{live_server.url}{lead.get_absolute_url()}")
    panel = page.get_by_test_id("meetings-panel")
    expect(panel.get_by_test_id("meetings-none")).to_be_visible()
    panel.get_by_test_id("meeting-plan").click()

    dialog = page.get_by_test_id("event-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("Название")).to_have_value("Встреча: Окна для «Ромашки»")
    dialog.get_by_label("Название").fill(TITLE)
    dialog.get_by_label("Начало").fill(day.isoformat())
    dialog.get_by_label("Время начала").fill("11:00")
    dialog.get_by_label("Время окончания").fill("12:30")
    dialog.get_by_label("Место").fill("Офис клиента, 3 этаж")
    dialog.get_by_label("Участники").select_option(label=str(teammate))
    page.get_by_test_id("event-save").click()

    # Back on the lead's card: «Встречи», «Дела» (the next touch) and its date, the timeline.
    expect(page).to_have_url(f"{live_server.url}{lead.get_absolute_url()}")
    expect(page.locator("#messages")).to_contain_text(f"Событие «{TITLE}» создано.")
    meeting = page.get_by_test_id("meetings-panel").get_by_test_id("meeting-item")
    expect(meeting).to_contain_text(TITLE)
    expect(meeting).to_contain_text(f"{day:%d.%m.%Y} 11:00")
    touch = page.get_by_test_id("touches-panel").get_by_test_id("touch-item")
    expect(touch).to_contain_text(TITLE)
    expect(touch.get_by_test_id("touch-deadline")).to_contain_text(f"{day:%d.%m.%Y} 11:00")
    expect(page.get_by_test_id("group-decision-maker")).to_contain_text(f"{day:%d.%m.%Y}")
    expect(page.get_by_test_id("timeline")).to_contain_text(f"Запланирована встреча «{TITLE}» на {day:%d.%m.%Y} 11:00")
    page.screenshot(path="screenshots/calendar-meeting-lead-card.png", full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.get_by_test_id("meetings-panel").scroll_into_view_if_needed()
    page.screenshot(path="screenshots/calendar-meeting-lead-card-phone.png")
    page.set_viewport_size({"width": 1440, "height": 900})
    event = Event.objects.get(title=TITLE)
    assert event.bindings.get().record == lead and event.participants.filter(user=teammate).exists()

    # The meeting's link opens its day in the calendar.
    meeting.get_by_test_id("meeting-link").click()
    expect(page.get_by_test_id("calendar-event").filter(has_text=TITLE)).to_be_visible()

    page.context.clear_cookies()
    login(teammate)
    page.goto(f"{live_server.url}/calendar/?date={day.isoformat()}")
    column = page.locator(f'[data-testid="calendar-column"][data-date="{day.isoformat()}"]')
    expect(column.get_by_test_id("calendar-event").filter(has_text=TITLE)).to_contain_text("11:00")
    expect(page.get_by_test_id("bell-count")).to_be_visible()
    page.goto(f"{live_server.url}/notifications/")
    expect(page.get_by_test_id("notification").filter(has_text=f"Вас пригласили на событие: {TITLE}")).to_be_visible()

    # The organizer drags the meeting in his week to Thursday 15:00.
    page.context.clear_cookies()
    login(owner)
    page.goto(f"{live_server.url}/calendar/?date={day.isoformat()}")
    target = page.locator(f'[data-testid="calendar-column"][data-date="{later.isoformat()}"]').locator(
        '[data-testid="calendar-slot"][data-hour="15"]')
    page.get_by_test_id("calendar-event").filter(has_text=TITLE).drag_to(target)
    moved = page.locator(f'[data-testid="calendar-column"][data-date="{later.isoformat()}"]').get_by_test_id(
        "calendar-event").filter(has_text=TITLE)
    expect(moved).to_contain_text("15:00")
    assert Event.objects.get(title=TITLE).start == at(later, 15)

    page.goto(f"{live_server.url}{lead.get_absolute_url()}")
    expect(page.get_by_test_id("timeline")).to_contain_text(
        f"Встреча «{TITLE}» перенесена: {day:%d.%m.%Y} 11:00 → {later:%d.%m.%Y} 15:00")
    expect(page.get_by_test_id("touches-panel").get_by_test_id("touch-deadline")).to_contain_text(
        f"{later:%d.%m.%Y} 15:00")

    page.context.clear_cookies()
    login(teammate)
    page.goto(f"{live_server.url}/notifications/")
    expect(page.get_by_test_id("notification").filter(
        has_text=f"Событие перенесено или изменено: {TITLE}")).to_be_visible()
    page.goto(f"{live_server.url}/calendar/?date={later.isoformat()}")
    expect(page.locator(f'[data-testid="calendar-column"][data-date="{later.isoformat()}"]').get_by_test_id(
        "calendar-event").filter(has_text=TITLE)).to_contain_text("15:00")
    assert problems == []
