"""The kernel through both client libraries, unchanged, against a real TLS server (tests/rest/conftest.py):
who the webhook is, batches, `$result` references and Bitrix24's errors as each library raises them."""

import pytest

from rest.models import Webhook
from tests.rest.conftest import b24_client, fast_bitrix

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_answers_user_current_to_fast_bitrix24(webhook_url, owner):
    bitrix = fast_bitrix(webhook_url(owner))
    me = bitrix.call("user.current", raw=True)["result"]
    assert me["ID"] == str(owner.pk) and me["LAST_NAME"] == "Иванов" and me["NAME"] == "Пётр"
    assert Webhook.objects.get(user=owner).last_used_at is not None


def test_it_answers_user_current_to_b24pysdk_with_its_time_block(webhook_url, owner):
    client = b24_client(webhook_url(owner))
    request = client.user.current()
    assert request.result["ID"] == str(owner.pk)
    assert request.response.time.duration >= 0  # the SDK parsed the whole `time` block


def test_it_runs_a_batch_with_references_for_both_libraries(webhook_url, owner, teammate):
    url = webhook_url(owner)
    bitrix = fast_bitrix(url)
    answer = bitrix.call_batch({"halt": 0, "cmd": {
        "me": "user.current",
        "mate": f"user.get?ID={teammate.pk}",
        "again": "user.get?filter[ID]=$result[me][ID]",
    }})
    assert answer["me"]["ID"] == str(owner.pk)
    assert answer["mate"][0]["LAST_NAME"] == "Петрова"
    assert [row["ID"] for row in answer["again"]] == [str(owner.pk)]

    client = b24_client(url)
    batch = client.call_batch({"me": client.user.current(), "mate": client.user.get(filter={"ID": teammate.pk})},
                              halt=True).result
    assert batch.result["me"]["ID"] == str(owner.pk)
    assert [row["LAST_NAME"] for row in batch.result["mate"]] == ["Петрова"]
    assert batch.result_total["mate"] == 1 and not batch.result_error


def test_it_walks_user_get_pages_with_get_all_and_as_list(webhook_url, owner, org):
    from tests.factories import UserFactory

    for i in range(120):
        UserFactory(username=f"colleague{i}", department=org["group1"])
    url = webhook_url(owner)
    everyone = fast_bitrix(url).get_all("user.get")
    assert len({row["ID"] for row in everyone}) == 121  # 120 colleagues and the owner, over three pages

    listed = list(b24_client(url).user.get().as_list().result)
    assert len({row["ID"] for row in listed}) == 121
    # as_list_fast: start=-1 and ID > the last, chained by $result[k-1][49][ID] inside one batch —
    # the chain runs past the last page, which ends it without an error the client would raise.
    fast = list(b24_client(url).user.get().as_list_fast().result)
    assert sorted(int(row["ID"]) for row in fast) == sorted(int(row["ID"]) for row in listed)


def test_it_refuses_a_wrong_code_and_a_missing_scope_as_bitrix24(webhook_url, owner):
    from b24pysdk.errors import BitrixAPIInsufficientScope, BitrixAPIInvalidCredentials

    url = webhook_url(owner, scopes=("crm",))
    client = b24_client(url)
    with pytest.raises(BitrixAPIInsufficientScope):
        _ = client.user.get().result
    wrong = b24_client(url.rstrip("/")[:-4] + "zzzz/")
    with pytest.raises(BitrixAPIInvalidCredentials):
        _ = wrong.user.current().result
