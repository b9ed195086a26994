"""The user's time zone: a profile setting, the project's zone when blank; every page shows times in
it (accounts.middleware), the calendar too."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.calendar.helpers import at, make_event

pytestmark = pytest.mark.django_db

MONDAY = dt.date(2026, 12, 7)


def test_it_shows_a_10_oclock_moscow_meeting_at_12_in_yekaterinburg(client, owner, teammate):
    make_event(owner, at(MONDAY, 10), title="Планёрка из Москвы", participants=[teammate])
    teammate.time_zone = "Asia/Yekaterinburg"
    teammate.save()
    client.force_login(teammate)
    text = client.get(reverse("calendar:index"), {"date": MONDAY.isoformat(), "view": "day"}).content.decode()
    assert '<span class="cal-event-time">12:00</span>' in text
    # 12:00 is four hours below the grid's 8:00 (48 px an hour).
    assert "top: 192px" in text
    client.force_login(owner)
    text = client.get(reverse("calendar:index"), {"date": MONDAY.isoformat(), "view": "day"}).content.decode()
    assert '<span class="cal-event-time">10:00</span>' in text


def test_a_blank_zone_is_the_projects(client, owner, settings):
    client.force_login(owner)
    response = client.get(reverse("profile"))
    assert response.status_code == 200
    assert f'data-testid="profile-time-zone">{settings.TIME_ZONE}<' in response.content.decode()


def test_it_saves_the_zone_from_the_profile_and_other_pages_follow(client, owner):
    client.force_login(owner)
    response = client.post(reverse("profile_time_zone"), {"time_zone": "Asia/Yekaterinburg"}, follow=True)
    owner.refresh_from_db()
    assert owner.time_zone == "Asia/Yekaterinburg"
    text = response.content.decode()
    assert "Часовой пояс сохранён" in text
    assert 'data-testid="profile-time-zone">Asia/Yekaterinburg<' in text
    # The request is over: the next one in this thread starts from the project's zone again.
    assert str(timezone.get_current_timezone()) != "Asia/Yekaterinburg"


def test_an_unknown_zone_is_a_message_and_keeps_the_saved_one(client, owner):
    owner.time_zone = "Asia/Omsk"
    owner.save()
    client.force_login(owner)
    response = client.post(reverse("profile_time_zone"), {"time_zone": "Mars/Olympus"}, follow=True)
    assert response.status_code == 200
    assert "Неизвестный часовой пояс: «Mars/Olympus»" in response.content.decode()
    owner.refresh_from_db()
    assert owner.time_zone == "Asia/Omsk"


def test_back_to_the_companys_zone(client, owner):
    owner.time_zone = "Asia/Omsk"
    owner.save()
    client.force_login(owner)
    client.post(reverse("profile_time_zone"), {"time_zone": ""})
    owner.refresh_from_db()
    assert owner.time_zone == ""


def test_the_profile_lists_russian_zones_first(client, owner):
    client.force_login(owner)
    text = client.get(reverse("profile")).content.decode()
    assert text.index("Екатеринбург (UTC+5)") < text.index("America/New_York")
