"""Bad input never answers 500 (issue 7 §3): a `next` that is not a URL, concurrent pinning, a
website that is not an http(s) link, a phone extension that is not digits."""

import pytest
from django.urls import reverse

from leads.models import Status
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db

LIST = reverse("leads:list")

# Each of these answered 500: `url_has_allowed_host_and_scheme` calls them safe (no host, no
# scheme) and `redirect()` then looks them up as view names.
NOT_URLS = ["ab\x00cd", "😀", '{"a":1}', "leads:list", "ab cd", "/leads/\x00", "/leads/\n/x", "?page=2"]


# --- `next` ---

@pytest.mark.parametrize("bad", NOT_URLS)
def test_it_sends_a_bulk_action_with_a_broken_next_back_to_the_list(client, owner, bad):
    lead = LeadFactory(responsible=owner)
    client.force_login(owner)
    response = client.post(reverse("leads:bulk"), {"action": "move", "to": "first_call", "ids": [lead.pk], "next": bad})
    assert response.status_code == 302 and response["Location"] == LIST
    lead.refresh_from_db()
    assert lead.status == Status.FIRST_CALL  # the action itself was done


@pytest.mark.parametrize("bad", NOT_URLS)
def test_it_refuses_a_bulk_action_with_a_broken_next_on_the_list(client, owner, bad):
    client.force_login(owner)
    response = client.post(reverse("leads:bulk"), {"action": "dance", "next": bad})
    assert response.status_code == 302 and response["Location"] == LIST


@pytest.mark.parametrize("bad", NOT_URLS)
def test_it_sends_a_move_with_a_broken_next_to_the_card(client, owner, bad):
    lead = LeadFactory(responsible=owner)
    client.force_login(owner)
    response = client.post(reverse("leads:move", args=[lead.pk]), {"to": "first_call", "next": bad})
    assert response.status_code == 302 and response["Location"] == lead.get_absolute_url()


def test_it_still_goes_back_to_a_local_page_with_its_query(client, owner):
    lead = LeadFactory(responsible=owner)
    client.force_login(owner)
    back = "/leads/kanban/?q=%D0%9B%D0%B8%D0%B4&responsible=1"
    response = client.post(reverse("leads:move", args=[lead.pk]), {"to": "first_call", "next": back})
    assert response["Location"] == back


@pytest.mark.parametrize("bad", NOT_URLS)
def test_it_switches_the_language_whatever_the_next(client, owner, bad):
    """Django's own set_language (the menu's language switch) takes `next` too; it never uses
    `redirect()`, so it only has to answer, not 500."""
    client.force_login(owner)
    response = client.post(reverse("set_language"), {"language": "en", "next": bad})
    assert response.status_code == 302 and response.cookies["django_language"].value == "en"
