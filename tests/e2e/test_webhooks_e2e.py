"""«Вебхуки» in a real browser: the owner opens them from his profile, makes one for the CRM (the
address shown once), the address answers Bitrix24's `profile`, and «Отозвать» (after asking)
stops it."""

import json
import urllib.error
import urllib.request

import pytest
from playwright.sync_api import expect

from rest.models import Webhook

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def get_json(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.mark.parametrize("viewport", [{"width": 1440, "height": 900}, {"width": 390, "height": 844}])
def test_the_owner_creates_and_revokes_a_webhook_in_his_profile(live_server, page, login, owner, viewport):
    page.set_viewport_size(viewport)
    login(owner)
    page.goto(f"{live_server.url}/profile/")
    page.get_by_test_id("webhooks-open").click()
    page.get_by_label("Название").fill("Форма на сайте")
    page.get_by_label("CRM").check()
    page.get_by_test_id("webhook-create").click()

    address = page.get_by_test_id("webhook-url").input_value()
    assert address.startswith(f"{live_server.url}/rest/{owner.pk}/")
    expect(page.get_by_test_id("webhook-row")).to_contain_text("Форма на сайте")
    expect(page.get_by_test_id("webhook-row")).to_contain_text("не использовался")
    status, answer = get_json(address + "profile.json")
    assert status == 200 and answer["result"]["LAST_NAME"] == "Иванов"
    status, answer = get_json(address + "user.current.json")
    assert status == 403 and answer["error"] == "insufficient_scope"  # only «CRM» was ticked
    assert Webhook.objects.get().scope_list == ["crm"]

    page.reload()  # the address is not shown again; the last use is
    expect(page.get_by_test_id("webhook-url")).to_have_count(0)
    expect(page.get_by_test_id("webhook-row")).not_to_contain_text("не использовался")

    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_test_id("webhook-revoke").click()
    expect(page.get_by_test_id("webhook-revoke")).to_be_visible()  # asked, and the owner said no
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_test_id("webhook-revoke").click()
    expect(page.get_by_test_id("webhook-revoked")).to_be_visible()
    status, answer = get_json(address + "profile.json")
    assert status == 403 and answer["error"] == "INVALID_CREDENTIALS"
