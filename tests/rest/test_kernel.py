"""The dispatcher in-process (Django's test client): credentials, scopes, methods' names, the
parameters in every form clients send them, Bitrix24's errors and statuses, one transaction per
call, the rate limit, the payload limit, the «через REST» mark on the history."""

import datetime as dt
import json

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext

from crm import timeline
from crm.models import TimelineEntry
from leads.models import Lead
from rest import services
from rest.models import Webhook
from rest.registry import RestError
from tests.factories import LeadFactory


def test_it_answers_user_current_with_the_whole_time_block(rest_call, owner):
    response = rest_call(owner, "user.current")
    assert response.status_code == 200
    data = response.json()
    assert data["result"]["ID"] == str(owner.pk) and data["result"]["LAST_NAME"] == "Иванов"
    assert set(data["time"]) == {"start", "finish", "duration", "processing", "date_start", "date_finish"}
    assert "operating" not in data["time"]  # fast-bitrix24 1.8.14 crashes on it


@pytest.mark.parametrize("name", ["User.Current", "user.current.json", "USER.CURRENT.JSON", "user.current/"])
def test_it_takes_method_names_in_any_case_with_or_without_json(rest_call, owner, name):
    response = rest_call(owner, name, http="get")
    assert response.status_code == 200 and response.json()["result"]["ID"] == str(owner.pk)


def test_it_refuses_a_wrong_code_a_revoked_webhook_and_an_inactive_user_alike(client, webhook_of, owner, teammate):
    webhook, base = webhook_of(owner)
    wrong = client.get(base.replace(base.split("/")[3], "x" * 32) + "user.current")
    someone_else = client.get(base.replace(f"/rest/{owner.pk}/", f"/rest/{teammate.pk}/") + "user.current")
    for response in (wrong, someone_else):
        assert response.status_code == 403
        assert response.json() == {"error": "INVALID_CREDENTIALS", "error_description": "Invalid request credentials"}
    services.webhook_revoke(webhook)
    assert client.get(base + "user.current").status_code == 403

    _, base = webhook_of(owner)
    owner.is_active = False
    owner.save()
    assert client.get(base + "user.current").json()["error"] == "INVALID_CREDENTIALS"


def test_it_keeps_only_the_hash_of_the_code(webhook_of, owner):
    webhook, base = webhook_of(owner)
    code = base.split("/")[3]
    assert len(code) == 32 and code not in webhook.code_hash and webhook.code_hash == services.hash_code(code)


def test_it_answers_an_unknown_method_and_a_missing_scope_as_bitrix24(client, webhook_of, owner):
    _, base = webhook_of(owner, scopes=("crm",))
    missing = client.get(base + "crm.nothing.here")
    assert missing.status_code == 404
    assert missing.json() == {"error": "ERROR_METHOD_NOT_FOUND", "error_description": "Method not found!"}
    scoped = client.get(base + "user.get")
    assert scoped.status_code == 403 and scoped.json()["error"] == "insufficient_scope"
    assert client.get(base + "user.current").json()["error"] == "insufficient_scope"  # Bitrix24's scope `user`
    assert client.get(base + "profile").json()["result"]["ID"] == str(owner.pk)  # basic: every webhook


def test_it_reads_parameters_from_a_query_a_php_form_multipart_and_json(client, webhook_of, owner, temp_method):
    temp_method("test.echo", lambda call: {"fields": call.param("fields"), "id": call.param("ID")})
    _, base = webhook_of(owner)
    expected = {"fields": {"TITLE": "Окна", "PHONE": {"0": {"VALUE": "+79120000000", "VALUE_TYPE": "WORK"}}},
                "id": "5"}
    query = "id=5&fields[TITLE]=%D0%9E%D0%BA%D0%BD%D0%B0&fields[PHONE][0][VALUE]=%2B79120000000" \
            "&fields[PHONE][0][VALUE_TYPE]=WORK&__order=x&"
    assert client.get(f"{base}test.echo?{query}").json()["result"] == expected
    form = client.post(base + "test.echo", query, content_type="application/x-www-form-urlencoded")
    assert form.json()["result"] == expected
    multipart = client.post(base + "test.echo", {"id": "5", "fields[TITLE]": "Окна",
                                                 "fields[PHONE][0][VALUE]": "+79120000000",
                                                 "fields[PHONE][0][VALUE_TYPE]": "WORK"})
    assert multipart.json()["result"] == expected
    as_json = client.post(base + "test.echo", {"ID": "5", "FIELDS": expected["fields"]}, content_type="application/json")
    assert as_json.json()["result"] == expected


def test_it_appends_php_list_items_and_ignores_unknown_parameters(client, webhook_of, owner, temp_method):
    temp_method("test.echo", lambda call: call.params)
    _, base = webhook_of(owner)
    answer = client.get(base + "test.echo?select[]=ID&select[]=TITLE&weird]=1").json()["result"]
    assert answer["select"] == {"0": "ID", "1": "TITLE"} and answer["weird]"] == "1"


@pytest.mark.parametrize("body, content_type", [("{not json", "application/json"), ("[1, 2]", "application/json"),
                                                ('{"a":' * 40 + "1" + "}" * 40, "application/json"),
                                                ("--x\r\nbroken", "multipart/form-data"),
                                                ("a=1", "multipart/form-data; boundary=")])
def test_it_answers_a_broken_body_with_a_bad_request(client, webhook_of, owner, body, content_type):
    _, base = webhook_of(owner)
    response = client.post(base + "user.current", body, content_type=content_type)
    assert response.status_code == 400 and response.json()["error"] in ("INVALID_REQUEST", "INVALID_ARG_VALUE")


@override_settings(REST_MAX_BODY=1000)
def test_it_refuses_a_huge_payload_before_reading_it(client, webhook_of, owner):
    _, base = webhook_of(owner)
    response = client.post(base + "user.current", json.dumps({"fields": {"TITLE": "x" * 5000}}),
                           content_type="application/json")
    assert response.status_code == 413 and response.json()["error"] == "ERROR_REQUEST_TOO_LARGE"


def test_it_needs_no_csrf_token_and_no_session(webhook_of, owner):
    _, base = webhook_of(owner)
    strict = Client(enforce_csrf_checks=True)
    assert strict.post(base + "user.current", {}, content_type="application/json").status_code == 200


def test_it_records_the_last_use(rest_call, owner):
    rest_call(owner, "profile")
    webhook = Webhook.objects.get(user=owner)
    assert webhook.last_used_at is not None and webhook.last_used_ip == "127.0.0.1"


@override_settings(REST_RATE_LIMIT=False)
def test_without_the_rate_limit_the_last_use_is_written_once_a_minute(rest_call, owner):
    rest_call(owner, "profile")
    first = Webhook.objects.get(user=owner).last_used_at
    with CaptureQueriesContext(connection) as queries:
        rest_call(owner, "profile")
    assert not [q for q in queries.captured_queries if q["sql"].startswith("UPDATE")]
    assert Webhook.objects.get(user=owner).last_used_at == first
    Webhook.objects.filter(user=owner).update(last_used_at=first - dt.timedelta(minutes=2))
    rest_call(owner, "profile")
    assert Webhook.objects.get(user=owner).last_used_at > first


@override_settings(REST_RATE_LIMIT=True, REST_BURST=3, REST_RATE=0.001)
def test_it_limits_the_rate_per_webhook_with_a_leaky_bucket(client, webhook_of, owner):
    _, base = webhook_of(owner)
    _, other = webhook_of(owner)
    assert [client.get(base + "profile").status_code for _ in range(3)] == [200, 200, 200]
    refused = client.get(base + "profile")
    assert refused.status_code == 503
    assert refused.json() == {"error": "QUERY_LIMIT_EXCEEDED", "error_description": "Too many requests"}
    assert client.get(other + "profile").status_code == 200  # another webhook has its own bucket


@override_settings(REST_RATE_LIMIT=True, REST_BURST=2, REST_RATE=1000)
def test_it_lets_requests_through_again_once_the_bucket_leaks(client, webhook_of, owner):
    _, base = webhook_of(owner)
    assert all(client.get(base + "profile").status_code == 200 for _ in range(10))


def test_it_saves_nothing_of_a_method_that_fails(rest_call, owner, temp_method):
    def half(call):
        LeadFactory(title="Полсделки", responsible=call.user)
        raise RestError.invalid("Required fields are not filled: TITLE")

    def crash(call):
        LeadFactory(title="Авария", responsible=call.user)
        raise ZeroDivisionError

    temp_method("test.half", half)
    temp_method("test.crash", crash)
    refused = rest_call(owner, "test.half")
    assert refused.status_code == 400
    assert refused.json() == {"error": "", "error_description": "Required fields are not filled: TITLE"}
    crashed = rest_call(owner, "test.crash")
    assert crashed.status_code == 500
    assert crashed.json() == {"error": "INTERNAL_SERVER_ERROR", "error_description": "Internal server error"}
    assert not Lead.objects.exists()


def test_it_marks_the_history_written_through_rest(rest_call, client, owner, temp_method):
    lead = LeadFactory(responsible=owner)

    def comment(call):
        timeline.log(lead, TimelineEntry.Kind.COMMENT, call.user, "Из интеграции")
        return True

    temp_method("test.comment", comment)
    assert rest_call(owner, "test.comment").json()["result"] is True
    entry = TimelineEntry.objects.get(text="Из интеграции")
    assert entry.data["via"] == "rest" and entry.author == owner
    timeline.log(lead, TimelineEntry.Kind.COMMENT, owner, "Со страницы")
    assert "via" not in TimelineEntry.objects.get(text="Со страницы").data

    client.force_login(owner)
    page = client.get(f"/leads/{lead.pk}/").content.decode()
    assert page.count('data-testid="entry-via"') == 1 and "через REST" in page


def test_it_makes_a_webhook_from_the_command_line(capsys, client, owner):
    call_command("create_webhook", "owner", "--scope", "crm,user", "--name", "Сайт")
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.startswith(f"/rest/{owner.pk}/") and last.endswith("/")
    webhook = Webhook.objects.get(user=owner)
    assert webhook.name == "Сайт" and webhook.scope_list == ["crm", "user"]
    assert client.get(last + "user.get").status_code == 200


@pytest.mark.parametrize("args", [["nobody"], ["owner", "--scope", "crm,admin"]])
def test_it_refuses_an_unknown_user_or_scope_on_the_command_line(owner, args):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("create_webhook", *args)
    assert not Webhook.objects.exists()


def test_it_answers_the_apps_refusals_as_bitrix24(rest_call, owner, temp_method):
    from django.core.exceptions import PermissionDenied, ValidationError
    from django.http import Http404

    def raising(error):
        def method(call):
            LeadFactory(responsible=call.user)
            raise error
        return method

    temp_method("test.hidden", raising(Http404("Лид не найден")))
    temp_method("test.denied", raising(PermissionDenied()))
    temp_method("test.gate", raising(ValidationError({"inn": ["Заполните ИНН."], "__all__": ["Нельзя."]})))
    temp_method("test.plain", raising(ValidationError("Сначала заполните поля: ИНН, Город.")))
    answers = {name: rest_call(owner, name) for name in ("test.hidden", "test.denied", "test.gate", "test.plain")}
    assert {n: (r.status_code, r.json()) for n, r in answers.items()} == {
        "test.hidden": (400, {"error": "", "error_description": "Not found"}),
        "test.denied": (400, {"error": "", "error_description": "Access denied."}),
        "test.gate": (400, {"error": "", "error_description": "inn: Заполните ИНН.; Нельзя."}),
        "test.plain": (400, {"error": "", "error_description": "Сначала заполните поля: ИНН, Город."}),
    }
    assert not Lead.objects.exists()


def test_it_answers_a_registered_refusal_by_its_class_and_anything_else_as_a_server_error(
        rest_call, owner, temp_method, monkeypatch):
    from leads.services import LeadError, MissingFields
    from rest import dispatch

    class QuotaSpent(Exception):
        pass

    class DailyQuotaSpent(QuotaSpent):
        pass

    monkeypatch.setattr(dispatch, "_refusals", dict(dispatch._refusals))  # this test's registration only
    dispatch.refusal(QuotaSpent, lambda error: f"Quota: {error}", code="QUERY_LIMIT_EXCEEDED", status=503)

    def raising(error):
        def method(call):
            LeadFactory(responsible=call.user)
            raise error
        return method

    temp_method("test.quota", raising(DailyQuotaSpent("на сегодня всё")))
    temp_method("test.lead", raising(LeadError("Лид уже сконвертирован.")))
    temp_method("test.bug", raising(KeyError("oops")))
    answers = {name: rest_call(owner, name) for name in ("test.quota", "test.lead", "test.bug")}
    assert {n: (r.status_code, r.json()) for n, r in answers.items()} == {
        "test.quota": (503, {"error": "QUERY_LIMIT_EXCEEDED", "error_description": "Quota: на сегодня всё"}),
        "test.lead": (400, {"error": "", "error_description": "Лид уже сконвертирован."}),
        "test.bug": (500, {"error": "INTERNAL_SERVER_ERROR", "error_description": "Internal server error"}),
    }
    assert not Lead.objects.exists()
    # The closest class wins: the lead's missing fields name the REST fields too (rest.methods.crm_leads).
    from leads.requirements import CATALOGUE

    missing = dispatch.refused(MissingFields(Lead(), "NEW", [CATALOGUE["source"]]))
    assert missing.status == 400 and missing.description.endswith("Поля REST: SOURCE_ID.")


def test_it_refuses_too_deep_or_too_many_form_parameters(client, webhook_of, owner):
    _, base = webhook_of(owner)
    deep = client.get(base + "user.current?a" + "[x]" * 20 + "=1")
    assert deep.status_code == 400 and deep.json()["error"] == "INVALID_ARG_VALUE"
    many = client.post(base + "user.current", "&".join(f"f[{i}]=1" for i in range(6000)),
                       content_type="application/x-www-form-urlencoded")
    assert many.status_code == 400 and many.json()["error"] == "INVALID_ARG_VALUE"


def test_it_marks_many_entries_written_at_once_through_rest(owner):
    leads = [LeadFactory(responsible=owner) for _ in range(2)]
    with timeline.via("rest"):
        timeline.log_many(leads, TimelineEntry.Kind.SYSTEM, owner, timeline.message("Импорт: %(file)s", file="a.csv"))
    timeline.log_many(leads, TimelineEntry.Kind.SYSTEM, owner, timeline.message("Импорт: %(file)s", file="b.csv"))
    marked = {entry.text: entry.data.get("via") for entry in TimelineEntry.objects.filter(kind=TimelineEntry.Kind.SYSTEM)}
    assert marked == {"Импорт: a.csv": "rest", "Импорт: b.csv": None}
    assert [timeline.render(e).via for e in TimelineEntry.objects.filter(text="Импорт: a.csv")] == ["через REST"] * 2
