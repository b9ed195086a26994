"""`batch` as Bitrix24 runs it and as both libraries send it: at most 50 commands, none of them a
batch, `halt`, `$result[key][path]` references (URL-encoded too), the five result keys with PHP's
arrays, each command that writes its own transaction (a list none)."""

import json
from urllib.parse import quote

import pytest

from leads.models import Lead
from rest.registry import RestError
from tests.factories import LeadFactory


def batch(rest_call, user, cmd, halt=0):
    return rest_call(user, "batch", {"halt": halt, "cmd": cmd})


def test_it_answers_the_five_keys_with_empty_maps_as_lists(rest_call, owner):
    answer = batch(rest_call, owner, {"me": "user.current"}).json()["result"]
    assert set(answer) == {"result", "result_error", "result_total", "result_next", "result_time"}
    assert answer["result"]["me"]["ID"] == str(owner.pk)
    assert answer["result_error"] == [] and answer["result_total"] == [] and answer["result_next"] == []
    assert set(answer["result_time"]["me"]) == {"start", "finish", "duration", "processing", "date_start", "date_finish"}


def test_it_answers_keys_zero_to_n_as_a_list_and_takes_cmd_as_a_list(rest_call, owner):
    by_keys = batch(rest_call, owner, {"0": "user.current", "1": "profile"}).json()["result"]
    as_list = batch(rest_call, owner, ["user.current", "profile"]).json()["result"]
    for answer in (by_keys, as_list):
        assert isinstance(answer["result"], list) and answer["result"][1]["ID"] == str(owner.pk)
    one_based = batch(rest_call, owner, {"1": "user.current", "2": "profile"}).json()["result"]
    assert set(one_based["result"]) == {"1", "2"}  # b24pysdk starts at 1 to keep it a map


def test_it_takes_method_names_in_any_case_and_ignores_fast_bitrix24s_extras(rest_call, owner):
    answer = batch(rest_call, owner, {"order0000000000": "User.Current.json?__order=order0000000000&",
                                      "order0000000001": f"USER.GET?__order=order0000000001&ID={owner.pk}&"}).json()
    assert answer["result"]["result_error"] == []
    assert answer["result"]["result"]["order0000000001"][0]["ID"] == str(owner.pk)


def test_it_refuses_more_than_fifty_commands_and_a_nested_batch_before_running_any(rest_call, owner, temp_method):
    temp_method("test.add", lambda call: LeadFactory(responsible=call.user).pk)
    too_many = batch(rest_call, owner, {f"c{i}": "test.add" for i in range(51)})
    assert too_many.status_code == 400 and too_many.json()["error"] == "ERROR_BATCH_LENGTH_EXCEEDED"
    nested = batch(rest_call, owner, {"a": "test.add", "b": "batch?cmd[x]=user.current"})
    assert nested.status_code == 405 and nested.json()["error"] == "ERROR_BATCH_METHOD_NOT_ALLOWED"
    assert not Lead.objects.exists()
    assert batch(rest_call, owner, {f"c{i}": "test.add" for i in range(50)}).status_code == 200
    assert Lead.objects.count() == 50


def test_it_resolves_references_plain_and_url_encoded_as_b24pysdk_sends_them(rest_call, owner, teammate, temp_method):
    temp_method("test.echo", lambda call: call.params)
    encoded = quote("filter[>ID]", safe="") + "=" + quote("$result[1][0][ID]", safe="")
    answer = batch(rest_call, owner, {
        "1": f"user.get?ID={teammate.pk}",
        "2": f"test.echo?{encoded}&title=Лид+для+$result[1][0][LAST_NAME]",
        "3": "test.echo?who=$result[1][0]",
        "4": "test.echo?$result[1][0]=x&id[$result[1][0][ID]]=y",
    }).json()["result"]
    assert answer["result_error"] == []
    assert answer["result"]["2"]["filter"] == {">ID": str(teammate.pk)}
    assert answer["result"]["2"]["title"] == "Лид для Петрова"
    assert answer["result"]["3"]["who"]["LAST_NAME"] == "Петрова"  # a whole reference keeps its shape
    assert answer["result"]["4"]["id"] == {str(teammate.pk): "y"}  # in a name: written in as text


def test_it_answers_a_broken_reference_as_that_commands_error(rest_call, owner, temp_method):
    temp_method("test.echo", lambda call: call.params)
    answer = batch(rest_call, owner, {
        "1": "user.get?ID=0",  # no one: an empty page
        "2": "test.echo?filter[>ID]=$result[1][49][ID]",
        "3": "test.echo?x=$result[nothing]",
        "4": "profile",
    }).json()["result"]
    assert set(answer["result_error"]) == {"2", "3"}
    assert answer["result_error"]["2"]["error_description"] == "Wrong reference $result[1][49][ID]: no such result"
    assert answer["result"]["4"]["ID"] == str(owner.pk)


def test_it_stops_at_the_first_error_with_halt_and_goes_on_without(rest_call, owner, temp_method):
    def add(call):
        lead = LeadFactory(title=call.param("title"), responsible=call.user)
        if call.param("fail"):
            raise RestError.invalid("Refused")
        return lead.pk

    temp_method("test.add", add)
    cmd = {"a": "test.add?title=Первый", "b": "test.add?title=Второй&fail=1", "c": "test.add?title=Третий"}
    halted = batch(rest_call, owner, cmd, halt=1).json()["result"]
    assert list(halted["result"]) == ["a"] and list(halted["result_error"]) == ["b"]
    assert sorted(Lead.objects.values_list("title", flat=True)) == ["Первый"]  # the failed command left nothing

    Lead.objects.all().delete()
    went_on = batch(rest_call, owner, cmd, halt=0).json()["result"]
    assert list(went_on["result"]) == ["a", "c"] and went_on["result_error"]["b"]["error_description"] == "Refused"
    assert sorted(Lead.objects.values_list("title", flat=True)) == ["Первый", "Третий"]


def test_it_keeps_the_other_commands_when_one_crashes(rest_call, owner, temp_method):
    temp_method("test.add", lambda call: LeadFactory(responsible=call.user).pk)

    def crash(call):
        LeadFactory(title="Авария", responsible=call.user)
        raise KeyError("bug")

    temp_method("test.crash", crash)
    answer = batch(rest_call, owner, {"a": "test.add", "b": "test.crash", "c": "test.add"}).json()["result"]
    assert answer["result_error"]["b"]["error"] == "INTERNAL_SERVER_ERROR"
    assert Lead.objects.count() == 2 and not Lead.objects.filter(title="Авария").exists()


def test_it_checks_each_commands_scope_and_method(rest_call, client, webhook_of, owner):
    _, base = webhook_of(owner, scopes=("crm",))
    answer = client.post(base + "batch", {"cmd": {"a": "user.get", "b": "no.such", "c": "profile"}},
                         content_type="application/json").json()["result"]
    assert answer["result_error"]["a"]["error"] == "insufficient_scope"
    assert answer["result_error"]["b"]["error"] == "ERROR_METHOD_NOT_FOUND"
    assert answer["result"]["c"]["ID"] == str(owner.pk)


@pytest.mark.parametrize("cmd", [None, "user.current", {"a": 5}, {}])
def test_it_answers_a_malformed_batch_with_a_bad_request(rest_call, owner, cmd):
    response = rest_call(owner, "batch", {"cmd": cmd} if cmd is not None else {})
    assert response.status_code == 400 and response.json()["error"] == "INVALID_ARG_VALUE"


def test_it_takes_a_batch_as_a_php_form(client, webhook_of, owner):
    _, base = webhook_of(owner)
    body = "halt=0&cmd[me]=" + quote("user.current") + "&cmd[prof]=" + quote("profile?x=$result[me][ID]")
    answer = client.post(base + "batch", body, content_type="application/x-www-form-urlencoded").json()
    assert answer["result"]["result"]["prof"]["ID"] == str(owner.pk)
    assert json.dumps(answer)  # JSON all the way


def test_it_reads_a_batch_of_pages_without_a_savepoint_per_command(rest_call, owner):
    """fast-bitrix24's get_all sends fifty pages a batch: a list writes nothing, and a savepoint
    around each would cost two round trips a page."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(3):
        LeadFactory(responsible=owner)
    pages = {f"page{start}": f"crm.lead.list?select[0]=ID&order[ID]=ASC&start={start}" for start in (0, 1, 2, 3, 4)}
    with CaptureQueriesContext(connection) as queries:
        answer = batch(rest_call, owner, pages).json()["result"]
    assert answer["result_error"] == [] and len(answer["result"]["page0"]) == 3
    savepoints = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SAVEPOINT")]
    assert len(savepoints) <= 1  # the webhook's last use (rest.services.record_use), not the pages


def test_it_reads_a_walks_next_pages_with_one_query_and_never_answers_them_stale(rest_call, owner, monkeypatch):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from rest import lists

    monkeypatch.setattr(lists, "PAGE_SIZE", 2)
    monkeypatch.setattr(lists, "READ_AHEAD", 3)
    leads = [LeadFactory(responsible=owner, title=f"Лид {i}") for i in range(9)]
    query = "crm.lead.list?select[0]=ID&select[1]=TITLE&order[ID]=ASC&start="
    pages = {f"p{start}": f"{query}{start}" for start in (2, 4, 6, 8)}
    one_by_one = {key: rest_call(owner, "batch", {"cmd": {key: command}}).json()["result"]["result"][key]
                  for key, command in pages.items()}
    with CaptureQueriesContext(connection) as queries:
        answer = batch(rest_call, owner, pages).json()["result"]
    assert answer["result"] == one_by_one
    assert [row["TITLE"] for row in answer["result"]["p2"] + answer["result"]["p8"]] == ["Лид 2", "Лид 3", "Лид 8"]
    assert answer["result_next"] == {"p2": 4, "p4": 6, "p6": 8}
    reads = [q for q in queries.captured_queries if '"leads_lead"."title"' in q["sql"]]
    assert len(reads) == 2  # pages 2, 4, 6 at once (three ahead at most), then page 8

    # A write between the pages: what was read ahead is read again.
    answer = batch(rest_call, owner, {"p2": f"{query}2", "rename": f"crm.lead.update?id={leads[5].pk}&fields[TITLE]=Новое",
                                      "p4": f"{query}4"}).json()["result"]
    assert answer["result_error"] == [] and [r["TITLE"] for r in answer["result"]["p4"]] == ["Лид 4", "Новое"]
