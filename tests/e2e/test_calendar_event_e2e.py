"""The event's card in a real browser: a participant opens a meeting from his week and answers
«Не смогу»; the organizer opens one occurrence of the series, «Изменить» → «только это» → another
time (the dialog warns that the colleague is busy then) → saves; then «Отменить» on another
occurrence."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from calendar_app import services
from calendar_app.models import Answer, Event, EventException

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def at(day, hour):
    return dt.datetime.combine(day, dt.time(hour), tzinfo=timezone.get_current_timezone())


def test_a_participant_answers_and_the_organizer_edits_and_cancels_occurrences(live_server, page, login, owner,
                                                                              teammate):
    problems = []
    page.on("console", lambda msg: msg.type == "error" and problems.append(msg.text))
    page.set_viewport_size({"width": 1440, "height": 900})
    monday = timezone.localdate() - dt.timedelta(days=timezone.localdate().weekday())
    tuesday, wednesday = monday + dt.timedelta(days=1), monday + dt.timedelta(days=2)
    series = services.event_create(data={"title": "Планёрка группы", "start": at(monday, 10), "end": at(monday, 11),
                                         "freq": "daily", "count": 3, "location": "Переговорная"},
                                   by=owner, participants=[teammate], reminder_minutes=[15])
    services.event_create(data={"title": "Звонок клиенту", "start": at(tuesday, 12), "end": at(tuesday, 13)},
                          by=teammate)

    def occurrence(day):
        column = page.locator(f'[data-testid="calendar-column"][data-date="{day.isoformat()}"]')
        return column.get_by_test_id("calendar-event").filter(has_text="Планёрка группы")

    # The participant: his week → the meeting's card → «Не смогу».
    login(teammate)
    page.goto(f"{live_server.url}/calendar/")
    occurrence(tuesday).get_by_test_id("calendar-event-link").click()
    card = page.get_by_test_id("event-card")
    expect(card).to_be_visible()
    expect(card.get_by_test_id("event-when")).to_contain_text("10:00–11:00")
    expect(card).to_contain_text("Ежедневно; повторений: 3")
    expect(card).to_contain_text("Переговорная")
    expect(card.get_by_test_id("event-edit")).to_have_count(0)
    card.get_by_test_id("event-answer-declined").click()
    expect(card.get_by_test_id("event-card-notice")).to_contain_text("Отказался")
    expect(card.get_by_test_id("event-answer-declined")).to_have_attribute("aria-pressed", "true")
    assert series.participants.get(user=teammate).answer == Answer.DECLINED
    page.screenshot(path="screenshots/calendar-event-card.png")

    # The organizer: Tuesday's occurrence → «Изменить» → «только это» → 12:00; the colleague is busy then.
    page.context.clear_cookies()
    login(owner)
    page.goto(f"{live_server.url}/calendar/")
    occurrence(tuesday).get_by_test_id("calendar-event-link").click()
    page.get_by_test_id("event-card").get_by_test_id("event-edit").click()
    dialog = page.get_by_test_id("event-dialog")
    expect(dialog.get_by_test_id("event-scope")).to_be_visible()
    expect(dialog.locator("[name=date]")).to_have_value(tuesday.isoformat())
    dialog.get_by_label("Участники").select_option(label=str(teammate))  # he declined: he stays invited
    dialog.get_by_label("Время начала").fill("12:00")
    dialog.get_by_label("Время окончания").fill("13:00")
    dialog.get_by_label("Время окончания").dispatch_event("change")
    expect(dialog.get_by_test_id("event-conflicts")).to_contain_text(f"{teammate} — Занят 12:00–13:00")
    expect(dialog.get_by_test_id("event-conflicts")).to_contain_text("Свободны все: 08:00–12:00, 13:00–20:00")
    dialog.get_by_label("только это").check()
    page.screenshot(path="screenshots/calendar-event-dialog-occurrence.png")
    page.get_by_test_id("event-save").click()
    expect(occurrence(tuesday)).to_contain_text("12:00")
    expect(occurrence(monday)).to_contain_text("10:00")
    moved = EventException.objects.get()
    assert moved.new_start == at(tuesday, 12) and Event.objects.count() == 2

    # «Отменить» on Wednesday's occurrence, confirmed: only that one goes.
    occurrence(wednesday).get_by_test_id("calendar-event-link").click()
    card = page.get_by_test_id("event-card")
    card.get_by_test_id("event-cancel").click()
    expect(card.get_by_label("Только это повторение", exact=False)).to_be_checked()
    card.get_by_test_id("event-cancel-confirm").click()
    expect(occurrence(wednesday)).to_have_count(0)
    expect(occurrence(monday)).to_have_count(1)
    expect(occurrence(tuesday)).to_have_count(1)
    assert EventException.objects.filter(is_cancelled=True).count() == 1
    assert problems == [], problems
