"""«Вебхуки» on the profile (the user's own: create — the code shown once —, scopes, revoke, last
use) and in the admin (a supervisor sees and revokes, never a code, never adds one)."""

import re

import pytest
from django.urls import reverse

from rest import services
from rest.models import Webhook


def test_it_links_the_webhooks_page_from_the_profile(client, owner, django_assert_max_num_queries):
    services.webhook_create(owner, name="Сайт", scopes=["crm"])
    client.force_login(owner)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("profile"))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-testid="webhooks-panel"' in page and "Сайт" in page and reverse("rest:webhooks") in page


def test_it_creates_a_webhook_and_shows_its_address_once(client, owner, django_assert_max_num_queries):
    client.force_login(owner)
    response = client.post(reverse("rest:webhooks"), {"name": "Форма на сайте", "scopes": ["crm", "user"]})
    assert response.status_code == 302
    with django_assert_max_num_queries(10):
        shown = client.get(reverse("rest:webhooks"))
    assert shown.status_code == 200
    url = re.search(r'data-testid="webhook-url"[^>]*|value="([^"]+/rest/[^"]+)"', shown.content.decode())
    address = re.search(r'value="(http://testserver/rest/\d+/[a-z0-9]+/)"', shown.content.decode()).group(1)
    assert url and address.startswith(f"http://testserver/rest/{owner.pk}/")
    webhook = Webhook.objects.get(user=owner)
    assert webhook.name == "Форма на сайте" and webhook.scope_list == ["crm", "user"]
    assert client.get(address.removeprefix("http://testserver") + "user.current").json()["result"]["ID"] == str(owner.pk)
    again = client.get(reverse("rest:webhooks")).content.decode()
    assert f"/rest/{owner.pk}/" not in again and "Форма на сайте" in again  # the code only once


def test_it_asks_for_a_scope_and_keeps_what_was_typed(client, owner):
    client.force_login(owner)
    response = client.post(reverse("rest:webhooks"), {"name": "Без прав"})
    assert response.status_code == 400
    assert "Отметьте хотя бы одно право." in response.content.decode() and 'value="Без прав"' in response.content.decode()
    response = client.post(reverse("rest:webhooks"), {"name": "x", "scopes": ["admin"]})
    assert response.status_code == 400 and not Webhook.objects.exists()


def test_it_shows_only_the_users_own_webhooks_with_their_last_use(client, owner, teammate):
    _, mine = services.webhook_create(owner, name="Мой", scopes=["crm"])
    services.webhook_create(teammate, name="Чужой", scopes=["crm"])
    client.get(services.base_path(owner.pk, mine) + "profile")
    client.force_login(owner)
    page = client.get(reverse("rest:webhooks")).content.decode()
    assert "Мой" in page and "Чужой" not in page and "127.0.0.1" in page


def test_it_revokes_the_users_own_webhook_only(client, owner, teammate):
    own, code = services.webhook_create(owner, scopes=["crm"])
    others, _ = services.webhook_create(teammate, scopes=["crm"])
    client.force_login(owner)
    assert client.post(reverse("rest:webhook_revoke", args=[others.pk])).status_code == 404
    assert client.get(reverse("rest:webhook_revoke", args=[own.pk])).status_code == 405
    assert client.post(reverse("rest:webhook_revoke", args=[own.pk])).status_code == 302
    own.refresh_from_db()
    others.refresh_from_db()
    assert own.revoked_at is not None and others.revoked_at is None
    assert client.get(services.base_path(owner.pk, code) + "profile").status_code == 403
    assert "Отозван" in client.get(reverse("rest:webhooks")).content.decode()


@pytest.fixture
def supervisor(db):
    from tests.factories import UserFactory

    return UserFactory(username="root", is_staff=True, is_superuser=True)


def test_it_lets_a_supervisor_see_and_revoke_webhooks_but_never_add_or_read_a_code(client, supervisor, owner):
    webhook, code = services.webhook_create(owner, name="Телефония", scopes=["crm"])
    client.force_login(supervisor)
    listing = client.get(reverse("admin:rest_webhook_changelist"))
    assert listing.status_code == 200 and "Телефония" in listing.content.decode()
    change = client.get(reverse("admin:rest_webhook_change", args=[webhook.pk])).content.decode()
    assert code not in change and webhook.code_hash not in change
    assert client.get(reverse("admin:rest_webhook_add")).status_code == 403
    response = client.post(reverse("admin:rest_webhook_changelist"),
                           {"action": "revoke", "_selected_action": [webhook.pk]})
    assert response.status_code == 302
    assert "Отозвано вебхуков: 1." in client.get(response.url).content.decode()
    webhook.refresh_from_db()
    assert webhook.revoked_at is not None
    # Nothing in the change form is editable: a supervisor cannot widen the scopes.
    client.post(reverse("admin:rest_webhook_change", args=[webhook.pk]), {"scopes": "crm,task,user,disk"})
    webhook.refresh_from_db()
    assert webhook.scope_list == ["crm"]


def test_it_shows_a_head_the_webhooks_of_his_tree_only(client, head, owner, org):
    from django.contrib.auth.models import Permission

    from tests.factories import UserFactory

    head.user_permissions.add(*Permission.objects.filter(content_type__app_label="rest"))
    stranger = UserFactory(username="stranger", department=None)
    services.webhook_create(owner, name="Сайт отдела", scopes=["crm"])
    services.webhook_create(stranger, name="Чужая телефония", scopes=["crm"])
    client.force_login(head)
    page = client.get(reverse("admin:rest_webhook_changelist")).content.decode()
    assert "Сайт отдела" in page and "Чужая телефония" not in page
