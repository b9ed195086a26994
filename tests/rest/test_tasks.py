"""tasks.task.* through the webhook, in-process: Bitrix24's camelCase answers ({"task"}, {"tasks"}),
UF_CRM_TASK bindings, who may see, edit and complete a task (as on the task card), bad input
refused with nothing saved."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from crm import timeline
from rest import services as rest_services
from tasks_app import services as task_services
from tasks_app.models import Status, Task
from tests.factories import DealFactory, LeadFactory

pytestmark = pytest.mark.django_db


def rest(client, user, method, params=None, scopes=("task", "crm")):
    webhook, code = rest_services.webhook_create(user, name="test", scopes=list(scopes))
    response = client.post(f"/rest/{user.pk}/{code}/{method}", json.dumps(params or {}),
                           content_type="application/json")
    return response.status_code, response.json()


def a_task(creator, responsible=None, **data):
    return task_services.task_create(data={"title": "Подготовить КП", "responsible": responsible or creator, **data},
                                     by=creator)


def test_it_adds_a_task_bound_to_crm_records_and_answers_in_camel_case(client, owner, teammate):
    lead = LeadFactory(responsible=owner)
    deal = DealFactory(responsible=owner)
    deadline = (timezone.now() + timedelta(days=3)).replace(microsecond=0)
    status, answer = rest(client, owner, "tasks.task.add", {"fields": {
        "TITLE": "Подготовить КП", "DESCRIPTION": "по тарифу «Про»", "RESPONSIBLE_ID": teammate.pk,
        "DEADLINE": deadline.isoformat(), "PRIORITY": "2", "ACCOMPLICES": [owner.pk], "AUDITORS": [],
        "UF_CRM_TASK": [f"L_{lead.pk}", f"D_{deal.pk}"], "GROUP_ID": 5}})
    assert status == 200, answer
    task = answer["result"]["task"]
    assert task["title"] == "Подготовить КП" and task["responsibleId"] == str(teammate.pk)
    assert task["createdBy"] == str(owner.pk) and task["status"] == "2" and task["priority"] == "2"
    assert task["accomplices"] == [str(owner.pk)] and task["auditors"] == []
    assert sorted(task["ufCrmTask"]) == sorted([f"L_{lead.pk}", f"D_{deal.pk}"])
    saved = Task.objects.get(pk=task["id"])
    assert (saved.deadline, saved.is_important, saved.creator) == (deadline, True, owner)
    assert timeline.entries(saved).first().data["via"] == "rest"

    status, answer = rest(client, owner, "tasks.task.get", {"taskId": saved.pk, "select": ["ID", "TITLE", "UF_CRM_TASK"]})
    assert set(answer["result"]["task"]) == {"id", "title", "ufCrmTask"}


def test_it_lists_tasks_in_a_tasks_key_with_total_and_camel_case_filters(client, owner, teammate):
    for n in range(3):
        a_task(owner, title=f"Задача {n}")
    a_task(teammate, title="Чужая")
    status, answer = rest(client, owner, "tasks.task.list", {
        "filter": {"responsibleId": owner.pk}, "select": ["ID", "TITLE", "STATUS"], "order": {"ID": "asc"}})
    assert status == 200, answer
    assert answer["total"] == 3
    assert [t["title"] for t in answer["result"]["tasks"]] == ["Задача 0", "Задача 1", "Задача 2"]
    assert rest(client, owner, "tasks.task.list", {"filter": {"TITLE": "Задача 1"}})[1]["total"] == 1
    assert rest(client, owner, "tasks.task.list", {"filter": {"STATUS": 5}})[1]["total"] == 0


def test_it_updates_and_completes_as_the_task_card_allows(client, owner, teammate):
    task = a_task(owner, responsible=teammate)
    # The responsible may not edit what the creator set…
    status, answer = rest(client, teammate, "tasks.task.update", {"taskId": task.pk, "fields": {"TITLE": "Другое"}})
    assert status == 400
    task.refresh_from_db()
    assert task.title == "Подготовить КП"
    # …the creator may.
    status, answer = rest(client, owner, "tasks.task.update", {"taskId": task.pk, "fields": {"TITLE": "КП на 3 года"}})
    assert status == 200 and answer["result"]["task"]["title"] == "КП на 3 года"
    # The responsible completes.
    status, answer = rest(client, teammate, "tasks.task.complete", {"taskId": task.pk})
    assert status == 200 and answer["result"]["task"]["status"] == "5"
    task.refresh_from_db()
    assert task.status == Status.COMPLETED
    # Twice: refused, not a 500.
    status, answer = rest(client, teammate, "tasks.task.complete", {"taskId": task.pk})
    assert status == 400 and answer["error_description"]


def test_it_moves_the_status_through_its_transition(client, owner):
    task = a_task(owner)
    status, answer = rest(client, owner, "tasks.task.update", {"taskId": task.pk, "fields": {"STATUS": 3}})
    assert status == 200 and answer["result"]["task"]["status"] == "3"
    status, answer = rest(client, owner, "tasks.task.update", {"taskId": task.pk, "fields": {"STATUS": 6}})
    assert answer["result"]["task"]["status"] == "6"


def test_it_replaces_the_bindings_it_sees_and_keeps_those_it_does_not(client, owner, outsider, head):
    mine = LeadFactory(responsible=owner)
    other = LeadFactory(responsible=owner)
    theirs = LeadFactory(responsible=outsider)
    task = task_services.task_create(data={"title": "Т", "responsible": owner}, by=head, records=[mine, theirs])
    # The owner sees `mine` and `other` but not the outsider's lead (the head bound it).
    task = task_services.task_update(task, data={"creator": owner}, by=None)
    status, answer = rest(client, owner, "tasks.task.update", {"taskId": task.pk, "fields": {
        "UF_CRM_TASK": [f"L_{other.pk}"]}})
    assert status == 200, answer
    assert answer["result"]["task"]["ufCrmTask"] == [f"L_{other.pk}"]
    assert sorted(task.bindings.values_list("object_id", flat=True)) == sorted([other.pk, theirs.pk])


@pytest.mark.parametrize("persona, sees", [("owner", True), ("teammate", False), ("outsider", False),
                                           ("head", True), ("crm_admin", True)])
def test_it_shows_a_task_to_whom_the_task_list_shows_it(client, personas, persona, sees):
    task = a_task(personas["owner"])
    status, answer = rest(client, personas[persona], "tasks.task.get", {"taskId": task.pk})
    assert (status == 200) is sees
    listed = rest(client, personas[persona], "tasks.task.list", {})[1]["result"]["tasks"]
    assert ([t["id"] for t in listed] == [str(task.pk)]) is sees


@pytest.mark.parametrize("fields", [
    {"TITLE": ""},
    {"TITLE": "Т", "RESPONSIBLE_ID": 999999},
    {"TITLE": "Т", "DEADLINE": "в пятницу"},
    {"TITLE": "Т", "UF_CRM_TASK": ["X_1"]},
    {"TITLE": "Т", "UF_CRM_TASK": ["L_999999"]},
    {"TITLE": "Т", "STATUS": 9},
    {"TITLE": "Т", "ACCOMPLICES": ["abc"]},
    {"TITLE": "Я" * 300},
    {"TITLE": "Т", "TASK_CONTROL": "может быть"},
])
def test_it_refuses_a_bad_task_and_creates_nothing(client, owner, fields):
    status, answer = rest(client, owner, "tasks.task.add", {"fields": fields})
    assert status == 400, answer
    assert answer["error_description"]
    assert not Task.objects.exists()


def test_it_needs_the_task_scope(client, owner):
    status, answer = rest(client, owner, "tasks.task.list", {}, scopes=("crm",))
    assert status == 403 and answer["error"] == "insufficient_scope"


def test_it_reads_a_page_of_tasks_with_bindings_in_a_fixed_number_of_queries(client, owner,
                                                                            django_assert_max_num_queries):
    lead, deal = LeadFactory(responsible=owner), DealFactory(responsible=owner)
    for i in range(55):
        task_services.task_create(data={"title": f"Задача {i}", "responsible": owner}, by=owner,
                                  records=[lead, deal] if i % 2 else [lead])
    webhook, code = rest_services.webhook_create(owner, name="budget", scopes=["task"])
    params = json.dumps({"select": ["*", "UF_CRM_TASK", "ACCOMPLICES", "AUDITORS"]})
    with django_assert_max_num_queries(16):
        response = client.post(f"/rest/{owner.pk}/{code}/tasks.task.list", params, content_type="application/json")
    answer = response.json()
    assert response.status_code == 200 and answer["total"] == 55 and len(answer["result"]["tasks"]) == 50
    assert answer["result"]["tasks"][1]["ufCrmTask"] == [f"L_{lead.pk}", f"D_{deal.pk}"]


def test_it_starts_defers_renews_and_accepts_as_bitrix24s_state_methods(client, owner, teammate):
    task = a_task(owner, responsible=teammate, needs_acceptance=True)
    for who, name, status in ((teammate, "start", "3"), (teammate, "defer", "6"), (teammate, "renew", "2"),
                              (teammate, "complete", "4"), (owner, "disapprove", "2"), (teammate, "complete", "4"),
                              (owner, "approve", "5")):
        code, answer = rest(client, who, f"tasks.task.{name}", {"taskId": task.pk})
        assert code == 200, (name, answer)
        assert answer["result"]["task"]["status"] == status
    # The responsible may not accept his own work.
    task = a_task(owner, responsible=teammate, needs_acceptance=True)
    rest(client, teammate, "tasks.task.complete", {"taskId": task.pk})
    code, answer = rest(client, teammate, "tasks.task.approve", {"taskId": task.pk})
    assert code == 400
    task.refresh_from_db()
    assert task.status == Status.AWAITING_CONTROL
