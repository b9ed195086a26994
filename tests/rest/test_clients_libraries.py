"""Companies, contacts, comments, touches, duplicates and tasks through both client libraries,
unchanged, against the real TLS server (tests/rest/conftest.py): fast_bitrix24's get_all, call
(which goes through batch) and call_batch; b24pysdk's Client with as_list and as_list_fast.
One module, so the server starts once for all of them."""

import pytest

from clients import services as client_services
from clients.models import Company, Contact
from crm import timeline
from tasks_app.models import Status, Task
from tests.rest.conftest import b24_client, fast_bitrix

pytestmark = pytest.mark.django_db(transaction=True)


def companies(owner, n):
    return [client_services.company_create(data={"name": f"Компания {i:03d}", "responsible": owner},
                                           communications=[("phone", "work", f"+7912{i:07d}", "")], by=owner)
            for i in range(n)]


def test_fast_bitrix24_adds_contacts_in_a_batch_and_gets_them_all(webhook_url, owner, outsider):
    firm = companies(owner, 1)[0]
    companies(outsider, 3)  # another department's: never listed for the owner
    bitrix = fast_bitrix(webhook_url(owner))
    # call() of a list goes through batch, values as str(): PHP-nested and «None» for None.
    ids = bitrix.call("crm.contact.add", [
        {"fields": {"NAME": f"Контакт {i}", "LAST_NAME": "Иванов", "COMPANY_ID": firm.pk, "SECOND_NAME": None,
                    "PHONE": [{"VALUE": f"+7 912 500-00-{i:02d}", "VALUE_TYPE": "MOBILE"}]}} for i in range(60)])
    assert len(ids) == 60 and Contact.objects.count() == 60
    assert Contact.objects.filter(middle_name="").count() == 60
    everyone = bitrix.get_all("crm.contact.list", {"select": ["ID", "NAME", "PHONE", "COMPANY_ID"]})
    assert len(everyone) == 60
    assert {row["COMPANY_ID"] for row in everyone} == {str(firm.pk)}
    assert all(row["PHONE"][0]["VALUE_TYPE"] == "MOBILE" for row in everyone)
    assert len(bitrix.get_all("crm.company.list")) == 1

    answer = bitrix.call_batch({"halt": 0, "cmd": {
        "firm": f"crm.company.get?id={firm.pk}",
        "people": "crm.contact.list?filter[COMPANY_ID]=$result[firm][ID]&select[]=ID",
    }})
    assert answer["firm"]["TITLE"] == firm.name and len(answer["people"]) == 50


def test_b24pysdk_adds_a_company_and_walks_the_lists(webhook_url, owner):
    client = b24_client(webhook_url(owner))
    pk = client.crm.company.add(fields={"TITLE": "ООО «Вектор»", "UF_CRM_INN": "7707083893",
                                        "PHONE": [{"VALUE": "8 (912) 859-87-48", "VALUE_TYPE": "WORK"}]}).result
    saved = Company.objects.get(pk=pk)
    assert saved.inn == "7707083893" and timeline.entries(saved).get().data["via"] == "rest"
    got = client.crm.company.get(bitrix_id=pk).result
    assert got["TITLE"] == "ООО «Вектор»" and got["PHONE"][0]["VALUE"] == "+79128598748"
    companies(owner, 120)
    assert len({row["ID"] for row in client.crm.company.list().as_list().result}) == 121
    assert len({row["ID"] for row in client.crm.company.list().as_list_fast().result}) == 121
    assert client.crm.company.update(bitrix_id=pk, fields={"ADDRESS": "Казань"}).result is True
    saved.refresh_from_db()
    assert saved.address == "Казань"


def test_b24pysdk_gets_bitrix24s_errors_for_bad_input(webhook_url, owner, outsider):
    from b24pysdk.errors import BitrixAPIBadRequest

    client = b24_client(webhook_url(owner))
    with pytest.raises(BitrixAPIBadRequest):
        _ = client.crm.contact.add(fields={"NAME": "Анна", "EMAIL": [{"VALUE": "не e-mail"}]}).result
    hidden = companies(outsider, 1)[0]
    with pytest.raises(BitrixAPIBadRequest):
        _ = client.crm.company.get(bitrix_id=hidden.pk).result
    assert not Contact.objects.exists()


def test_both_libraries_comment_plan_and_find_duplicates(webhook_url, owner):
    firm = companies(owner, 1)[0]
    url = webhook_url(owner)
    client = b24_client(url)
    entry = client.crm.timeline.comment.add(fields={"ENTITY_ID": firm.pk, "ENTITY_TYPE": "company",
                                                    "COMMENT": "Договорились о встрече"}).result
    assert timeline.entries(firm).get(pk=entry).data["via"] == "rest"
    bitrix = fast_bitrix(url)
    comments = bitrix.get_all("crm.timeline.comment.list", {"filter": {"ENTITY_ID": firm.pk, "ENTITY_TYPE": "company"}})
    assert [c["COMMENT"] for c in comments] == ["Договорились о встрече"]

    touch = bitrix.call("crm.activity.add", {"fields": {"OWNER_TYPE_ID": 4, "OWNER_ID": firm.pk, "TYPE_ID": 1,
                                                        "SUBJECT": "Встреча в офисе",
                                                        "START_TIME": "2030-03-04T11:00:00+03:00"}})
    assert Task.objects.get(pk=touch).title == "Встреча в офисе"
    listed = bitrix.get_all("crm.activity.list", {"filter": {"OWNER_TYPE_ID": 4, "OWNER_ID": firm.pk}})
    assert [a["ID"] for a in listed] == [str(touch)]

    found = client.crm.duplicate.findbycomm(type="PHONE", values=["8 912 000-00-00"]).result
    assert found == {"COMPANY": [firm.pk]}
    assert bitrix.call("crm.duplicate.findbycomm", {"type": "EMAIL", "values": ["nobody@example.ru"]}, raw=True)[
        "result"] == []


def test_both_libraries_set_and_walk_tasks(webhook_url, owner):
    firm = companies(owner, 1)[0]
    url = webhook_url(owner)
    client = b24_client(url)
    task = client.tasks.task.add(fields={"TITLE": "Выставить счёт", "RESPONSIBLE_ID": owner.pk,
                                         "UF_CRM_TASK": [f"CO_{firm.pk}"]}).result["task"]
    assert task["ufCrmTask"] == [f"CO_{firm.pk}"]
    bitrix = fast_bitrix(url)
    bitrix.call("tasks.task.add", [{"fields": {"TITLE": f"Задача {i}", "RESPONSIBLE_ID": owner.pk}} for i in range(55)])
    assert Task.objects.count() == 56
    walked = bitrix.get_all("tasks.task.list", {"select": ["ID", "TITLE"]})
    assert len({t["id"] for t in walked}) == 56
    listed = client.tasks.task.list(select=["ID", "TITLE"]).as_list().result
    assert len({t["id"] for t in listed}) == 56
    done = client.tasks.task.complete(task_id=int(task["id"])).result["task"]
    assert done["status"] == "5" and Task.objects.get(pk=task["id"]).status == Status.COMPLETED
