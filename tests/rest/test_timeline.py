"""crm.timeline.comment.* and crm.activity.* (our planned touches) through the webhook, in-process:
who may comment and plan on which record, what a touch reads as, the history «через REST», bad
input refused with nothing saved."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from crm import timeline
from crm.models import TimelineEntry
from rest import services as rest_services
from tasks_app import services as task_services
from tasks_app.models import Kind, Status, Task
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db


def rest(client, user, method, params=None, scopes=("crm", "task")):
    webhook, code = rest_services.webhook_create(user, name="test", scopes=list(scopes))
    response = client.post(f"/rest/{user.pk}/{code}/{method}", json.dumps(params or {}),
                           content_type="application/json")
    return response.status_code, response.json()


@pytest.fixture
def lead(owner):
    return LeadFactory(responsible=owner)


# --- Comments ---

def test_it_adds_a_comment_and_lists_it_with_the_lowercase_or_uppercase_fields_key(client, owner, lead):
    status, answer = rest(client, owner, "crm.timeline.comment.add", {"fields": {
        "ENTITY_ID": lead.pk, "ENTITY_TYPE": "lead", "COMMENT": "Позвонил, ЛПР в отпуске"}})
    assert status == 200, answer
    entry = TimelineEntry.objects.get(pk=answer["result"])
    assert (entry.kind, entry.text, entry.author, entry.data.get("via")) == ("comment", "Позвонил, ЛПР в отпуске",
                                                                            owner, "rest")
    status, answer = rest(client, owner, "crm.timeline.comment.add", {"FIELDS": {
        "ENTITY_ID": str(lead.pk), "ENTITY_TYPE": "LEAD", "COMMENT": "Второй"}})
    assert status == 200, answer

    status, answer = rest(client, owner, "crm.timeline.comment.list", {
        "filter": {"ENTITY_ID": lead.pk, "ENTITY_TYPE": "lead"}, "order": {"ID": "DESC"}})
    assert status == 200 and answer["total"] == 2
    assert [r["COMMENT"] for r in answer["result"]] == ["Второй", "Позвонил, ЛПР в отпуске"]
    first = answer["result"][1]
    assert first["ENTITY_TYPE"] == "lead" and first["ENTITY_ID"] == str(lead.pk)
    assert first["AUTHOR_ID"] == str(owner.pk) and first["CREATED"]

    status, answer = rest(client, owner, "crm.timeline.comment.get", {"id": entry.pk})
    assert answer["result"]["COMMENT"] == "Позвонил, ЛПР в отпуске"


def test_it_lists_only_comments_not_the_history(client, owner, lead):
    timeline.add_comment(lead, owner, "Комментарий")
    timeline.log(lead, timeline.Kind.SYSTEM, owner, "Событие")
    answer = rest(client, owner, "crm.timeline.comment.list", {"filter": {"ENTITY_ID": lead.pk, "ENTITY_TYPE": "lead"}})[1]
    assert [r["COMMENT"] for r in answer["result"]] == ["Комментарий"]


@pytest.mark.parametrize("persona, allowed", [("owner", True), ("teammate", False), ("outsider", False),
                                              ("head", True), ("crm_admin", True)])
def test_it_lets_comment_whoever_may_open_the_record(client, personas, persona, allowed):
    lead = LeadFactory(responsible=personas["owner"])
    entry = timeline.add_comment(lead, personas["owner"], "Свой")
    user = personas[persona]
    status, answer = rest(client, user, "crm.timeline.comment.add", {"fields": {
        "ENTITY_ID": lead.pk, "ENTITY_TYPE": "lead", "COMMENT": "Чужой"}})
    assert (status == 200) is allowed
    assert timeline.entries(lead).filter(text="Чужой").exists() is allowed
    status, answer = rest(client, user, "crm.timeline.comment.get", {"id": entry.pk})
    assert (status == 200) is allowed
    status, answer = rest(client, user, "crm.timeline.comment.list",
                          {"filter": {"ENTITY_ID": lead.pk, "ENTITY_TYPE": "lead"}})
    assert (status == 200) is allowed
    if not allowed:
        assert answer["error_description"] == "Not found"


@pytest.mark.parametrize("fields", [
    {"ENTITY_TYPE": "lead", "COMMENT": "x"},
    {"ENTITY_ID": "abc", "ENTITY_TYPE": "lead", "COMMENT": "x"},
    {"ENTITY_ID": 1, "ENTITY_TYPE": "quote", "COMMENT": "x"},
    {"ENTITY_ID": "LEAD_ID", "ENTITY_TYPE": "lead", "COMMENT": ""},
    {"ENTITY_ID": 999999, "ENTITY_TYPE": "deal", "COMMENT": "x"},
])
def test_it_refuses_a_bad_comment(client, owner, lead, fields):
    fields = {k: (lead.pk if v == "LEAD_ID" else v) for k, v in fields.items()}
    status, answer = rest(client, owner, "crm.timeline.comment.add", {"fields": fields})
    assert status == 400 and answer["error_description"]
    assert not TimelineEntry.objects.filter(kind="comment").exists()


def test_it_wants_the_record_in_the_comment_lists_filter(client, owner):
    status, answer = rest(client, owner, "crm.timeline.comment.list", {"filter": {}})
    assert status == 400 and "ENTITY_ID" in answer["error_description"]


# --- Activities (planned touches) ---

def test_it_plans_a_call_on_a_lead_as_the_card_does(client, owner, lead):
    deadline = (timezone.now() + timedelta(days=2)).replace(microsecond=0)
    status, answer = rest(client, owner, "crm.activity.add", {"fields": {
        "OWNER_TYPE_ID": 1, "OWNER_ID": lead.pk, "TYPE_ID": 2, "SUBJECT": "Перезвонить ЛПР",
        "START_TIME": deadline.isoformat(), "DESCRIPTION": "после обеда", "COMMUNICATIONS": [{"VALUE": "x"}]}})
    assert status == 200, answer
    task = Task.objects.get(pk=answer["result"])
    assert (task.kind, task.title, task.deadline, task.responsible, task.description) == (
        Kind.CALL, "Перезвонить ЛПР", deadline, owner, "после обеда")
    lead.refresh_from_db()
    assert lead.next_touch_date == timezone.localtime(deadline).date()  # the card's «Дата следующего касания»
    planned = timeline.entries(lead).filter(kind=timeline.Kind.SYSTEM).first()
    assert planned.data["via"] == "rest"

    got = rest(client, owner, "crm.activity.get", {"id": task.pk})[1]["result"]
    assert (got["OWNER_TYPE_ID"], got["OWNER_ID"], got["TYPE_ID"], got["SUBJECT"], got["COMPLETED"], got["STATUS"]) == (
        "1", str(lead.pk), "2", "Перезвонить ЛПР", "N", "1")
    assert got["DEADLINE"] == got["START_TIME"] == got["END_TIME"]
    listed = rest(client, owner, "crm.activity.list", {"filter": {"OWNER_TYPE_ID": 1, "OWNER_ID": lead.pk}})[1]
    assert [r["ID"] for r in listed["result"]] == [str(task.pk)]
    assert rest(client, owner, "crm.activity.list", {"filter": {"OWNER_TYPE_ID": 2, "OWNER_ID": lead.pk}})[1]["total"] == 0


def test_it_completes_renews_and_deletes_a_touch(client, owner, lead):
    task = task_services.task_create(data={"kind": Kind.MEETING, "title": "Встреча", "responsible": owner,
                                           "deadline": timezone.now() + timedelta(days=1)}, by=owner, records=[lead])
    status, answer = rest(client, owner, "crm.activity.update", {"id": task.pk, "fields": {"COMPLETED": "Y"}})
    assert status == 200, answer
    task.refresh_from_db()
    assert task.status == Status.COMPLETED
    assert rest(client, owner, "crm.activity.list", {"filter": {"COMPLETED": "Y"}})[1]["total"] == 1
    rest(client, owner, "crm.activity.update", {"id": task.pk, "fields": {"COMPLETED": "N", "SUBJECT": "Встреча в офисе"}})
    task.refresh_from_db()
    assert (task.status, task.title) == (Status.PENDING, "Встреча в офисе")
    status, answer = rest(client, owner, "crm.activity.delete", {"id": task.pk})
    assert status == 200 and not Task.objects.filter(pk=task.pk).exists()


@pytest.mark.parametrize("persona, plans", [("owner", True), ("teammate", False), ("outsider", False),
                                            ("head", True), ("crm_admin", True)])
def test_it_lets_plan_whoever_may_change_the_record(client, personas, persona, plans):
    lead = LeadFactory(responsible=personas["owner"])
    status, answer = rest(client, personas[persona], "crm.activity.add", {"fields": {
        "OWNER_TYPE_ID": 1, "OWNER_ID": lead.pk, "TYPE_ID": 2, "SUBJECT": "Звонок",
        "DEADLINE": (timezone.now() + timedelta(days=1)).isoformat()}})
    assert (status == 200) is plans, answer
    assert Task.objects.exists() is plans


def test_it_hides_touches_on_records_the_user_may_not_see(client, owner, outsider, lead):
    task = task_services.task_create(data={"kind": Kind.CALL, "title": "Звонок", "responsible": owner,
                                           "deadline": timezone.now() + timedelta(days=1)}, by=owner, records=[lead])
    assert rest(client, outsider, "crm.activity.get", {"id": task.pk})[0] == 400
    assert rest(client, outsider, "crm.activity.list", {})[1]["result"] == []
    status, answer = rest(client, outsider, "crm.activity.update", {"id": task.pk, "fields": {"COMPLETED": "Y"}})
    assert status == 400
    task.refresh_from_db()
    assert task.status == Status.PENDING


@pytest.mark.parametrize("fields", [
    {"OWNER_TYPE_ID": 1, "TYPE_ID": 2},
    {"OWNER_TYPE_ID": 9, "OWNER_ID": "LEAD_ID", "TYPE_ID": 2},
    {"OWNER_TYPE_ID": 1, "OWNER_ID": "LEAD_ID", "TYPE_ID": 42},
    {"OWNER_TYPE_ID": 1, "OWNER_ID": "LEAD_ID", "TYPE_ID": 2, "DEADLINE": "завтра"},
    {"OWNER_TYPE_ID": 1, "OWNER_ID": "LEAD_ID", "TYPE_ID": 2, "DEADLINE": "1900-01-01T10:00:00+03:00"},
    {"OWNER_TYPE_ID": 1, "OWNER_ID": "LEAD_ID", "TYPE_ID": 2, "RESPONSIBLE_ID": 999999},
    {"OWNER_TYPE_ID": 1, "OWNER_ID": "LEAD_ID", "TYPE_ID": 2, "SUBJECT": "Я" * 300},
    {"OWNER_TYPE_ID": 1, "OWNER_ID": "LEAD_ID", "TYPE_ID": 2, "COMPLETED": "может быть"},
])
def test_it_refuses_a_bad_touch_and_plans_nothing(client, owner, lead, fields):
    fields = {k: (lead.pk if v == "LEAD_ID" else v) for k, v in fields.items()}
    status, answer = rest(client, owner, "crm.activity.add", {"fields": fields})
    assert status == 400, answer
    assert answer["error_description"]
    assert not Task.objects.exists()
    lead.refresh_from_db()
    assert lead.next_touch_date is None


def test_it_reads_a_page_of_touches_in_a_fixed_number_of_queries(client, owner, django_assert_max_num_queries):
    leads = [LeadFactory(responsible=owner) for _ in range(3)]
    for i in range(55):
        task_services.task_create(data={"kind": Kind.CALL, "title": f"Звонок {i}", "responsible": owner,
                                        "deadline": timezone.now() + timedelta(days=1)}, by=owner, records=[leads[i % 3]])
    webhook, code = rest_services.webhook_create(owner, name="budget", scopes=["crm"])
    with django_assert_max_num_queries(12):
        response = client.post(f"/rest/{owner.pk}/{code}/crm.activity.list", "{}", content_type="application/json")
    answer = response.json()
    assert response.status_code == 200 and answer["total"] == 55 and len(answer["result"]) == 50
    assert {row["OWNER_ID"] for row in answer["result"]} == {str(lead.pk) for lead in leads}
