"""Events in the admin: the list scoped by the access gate, read-only, a private event named only
for its participants."""

import datetime as dt

import pytest
from django.urls import reverse

from .helpers import at, make_event

pytestmark = pytest.mark.django_db

MONDAY = dt.date(2026, 12, 7)


@pytest.fixture
def staff_head(head):
    from django.contrib.auth.models import Permission

    head.user_permissions.add(*Permission.objects.filter(content_type__app_label="calendar_app",
                                                         codename__in=["view_event", "change_event"]))
    return head


def test_the_admin_list_is_scoped_and_a_private_event_is_busy_time(client, django_assert_max_num_queries, owner,
                                                                  outsider, staff_head):
    make_event(owner, at(MONDAY, 10), title="Собеседование", is_private=True)
    make_event(owner, at(MONDAY, 12), title="Планёрка группы")
    make_event(outsider, at(MONDAY, 14), title="Встреча другой группы")
    client.force_login(staff_head)
    with django_assert_max_num_queries(15):
        response = client.get(reverse("admin:calendar_app_event_changelist"))
    assert response.status_code == 200
    text = response.content.decode()
    assert "Планёрка группы" in text and "Встреча другой группы" in text  # the head covers both groups
    assert "Собеседование" not in text and "Занят" in text


def test_a_private_events_admin_page_is_404_for_a_non_participant(client, owner, staff_head):
    event = make_event(owner, at(MONDAY, 10), title="Собеседование", is_private=True)
    open_event = make_event(owner, at(MONDAY, 12), title="Планёрка группы")
    client.force_login(staff_head)
    assert client.get(reverse("admin:calendar_app_event_change", args=[event.pk])).status_code == 404
    response = client.get(reverse("admin:calendar_app_event_change", args=[open_event.pk]))
    assert response.status_code == 200 and "Планёрка группы" in response.content.decode()
    assert client.get(reverse("admin:calendar_app_event_add")).status_code == 403
