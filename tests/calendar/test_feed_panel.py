"""The feed's secret address on the user's own profile (create, replace, revoke) and the feed
bounded in time: what ended more than a year ago and closed tasks are not in it."""

import datetime as dt

import icalendar
import pytest
from django.urls import reverse
from django.utils import timezone

from calendar_app import services
from calendar_app.models import CalendarToken
from tasks_app import services as task_services
from tasks_app.models import Kind

from .helpers import at, make_event

pytestmark = pytest.mark.django_db

PROFILE = reverse("profile")


def test_the_profile_creates_replaces_and_revokes_the_feed_address(client, owner, django_assert_max_num_queries):
    client.force_login(owner)
    with django_assert_max_num_queries(14):
        response = client.get(PROFILE)
    assert response.status_code == 200
    text = response.content.decode()
    assert "Календарь на телефоне" in text and 'data-testid="calendar-feed-create"' in text
    assert "calendar-feed-url" not in text

    text = client.post(reverse("calendar:feed_token_create"), follow=True).content.decode()
    first = CalendarToken.objects.get(user=owner, revoked_at__isnull=True)
    assert "Ссылка на календарь создана" in text
    assert f'value="http://testserver/calendar/feed/{first.token}.ics"' in text
    assert client.get(reverse("calendar:feed", args=[first.token])).status_code == 200

    text = client.post(reverse("calendar:feed_token_create"), follow=True).content.decode()
    second = CalendarToken.objects.get(user=owner, revoked_at__isnull=True)
    assert second != first and "старая больше не работает" in text and second.token in text
    assert client.get(reverse("calendar:feed", args=[first.token])).status_code == 404

    text = client.post(reverse("calendar:feed_token_revoke"), follow=True).content.decode()
    assert "Ссылка на календарь отозвана" in text and second.token not in text
    assert client.get(reverse("calendar:feed", args=[second.token])).status_code == 404
    assert not CalendarToken.objects.filter(revoked_at__isnull=True).exists()


def test_revoking_without_an_address_says_so(client, owner):
    client.force_login(owner)
    assert "Действующей ссылки на календарь нет." in client.post(reverse("calendar:feed_token_revoke"),
                                                                   follow=True).content.decode()


def test_the_address_is_only_on_ones_own_profile(client, owner, teammate):
    token = services.calendar_token_create(owner)
    client.force_login(teammate)
    assert token.token not in client.get(PROFILE).content.decode()


def test_the_token_views_take_only_post(client, owner):
    client.force_login(owner)
    assert client.get(reverse("calendar:feed_token_create")).status_code == 405
    assert not CalendarToken.objects.exists()


def feed_titles(client, user) -> set[str]:
    token = services.calendar_token_create(user)
    cal = icalendar.Calendar.from_ical(client.get(reverse("calendar:feed", args=[token.token])).content)
    return {str(c["SUMMARY"]) for c in cal.walk("VEVENT")}


def test_the_feed_leaves_out_what_ended_more_than_a_year_ago(client, owner):
    today = timezone.localdate()
    long_ago, recently = today - dt.timedelta(days=400), today - dt.timedelta(days=100)
    make_event(owner, at(long_ago, 10), title="Давняя встреча")
    make_event(owner, at(recently, 10), title="Недавняя встреча")
    make_event(owner, at(long_ago, 9), title="Давняя серия", freq="daily", until=long_ago + dt.timedelta(days=5))
    make_event(owner, at(long_ago, 9), title="Серия по счёту", freq="daily", count=3)
    make_event(owner, at(long_ago, 9), title="Длинная серия по счёту", freq="daily", count=300)
    make_event(owner, at(long_ago, 8), title="Бессрочная серия", freq="weekly")
    services.event_create(data={"title": "Давняя выставка", "all_day": True, "start_date": long_ago,
                                "end_date": long_ago + dt.timedelta(days=2)}, by=owner)
    done = task_services.task_create(data={"kind": Kind.CALL, "title": "Сделанный звонок", "responsible": owner,
                                           "deadline": at(today + dt.timedelta(days=1), 10)}, by=owner)
    task_services.task_transition(done, "complete", by=owner)
    task_services.task_create(data={"kind": Kind.CALL, "title": "Звонок завтра", "responsible": owner,
                                    "deadline": at(today + dt.timedelta(days=1), 11)}, by=owner)
    titles = feed_titles(client, owner)
    assert {"Недавняя встреча", "Длинная серия по счёту", "Бессрочная серия", "Крайний срок: Звонок завтра"} <= titles
    assert not titles & {"Давняя встреча", "Давняя серия", "Серия по счёту", "Давняя выставка", "Сделанный звонок"}
