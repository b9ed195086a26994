"""crm.lead.* through both client libraries, unchanged, against the real TLS server
(tests/rest/conftest.py): fast-bitrix24's get_all / call (always a batch) / call of many, b24pysdk's
list().as_list() / as_list_fast() / add / update / productrows, and their errors."""

import pytest

from crm.models import TimelineEntry
from leads.models import Lead, Status
from tests.factories import LeadFactory, ref
from tests.rest.conftest import b24_client, fast_bitrix

pytestmark = pytest.mark.django_db(transaction=True)

FORM_LEAD = {"TITLE": "Заявка с сайта", "SOURCE_ID": "WEB", "COMPANY_TITLE": "ООО «Ромашка»", "NAME": "Анна",
             "PHONE": [{"VALUE": "+7 912 859-87-48", "VALUE_TYPE": "WORK"}], "EMAIL": [{"VALUE": "anna@romashka.ru"}]}


def many_leads(owner, count):
    """`count` leads of `owner` in one insert (as an import writes them)."""
    return Lead.objects.bulk_create(LeadFactory.build_batch(count, responsible=owner, source=ref("Source")))


def test_it_walks_thousands_of_leads_with_get_all_of_fast_bitrix24(webhook_url, owner, teammate):

    mine = many_leads(owner, 2600)  # 52 pages: the first call and a batch of 50 list commands, then one more
    many_leads(teammate, 30)  # not his: never listed
    bitrix = fast_bitrix(webhook_url(owner))
    rows = bitrix.get_all("crm.lead.list", {"select": ["ID", "TITLE", "PHONE"]})
    assert sorted(int(r["ID"]) for r in rows) == sorted(lead.pk for lead in mine)
    assert rows[0]["PHONE"][0]["ID"] == "1" and set(rows[0]) == {"ID", "TITLE", "PHONE"}
    some = bitrix.get_all("crm.lead.list", {"filter": {">ID": mine[-10].pk}})
    assert len(some) == 9


def test_it_adds_and_updates_leads_through_fast_bitrix24s_batches(webhook_url, owner):
    from fast_bitrix24.server_response import ErrorInServerResponseException

    bitrix = fast_bitrix(webhook_url(owner))
    pk = bitrix.call("crm.lead.add", {"fields": FORM_LEAD})  # one item: sent as a batch, «__order» and all
    lead = Lead.objects.get(pk=pk)
    assert (lead.title, lead.source.name, lead.company_phone, lead.contact_first_name, lead.responsible) == (
        "Заявка с сайта", "Сайт", "+79128598748", "Анна", owner)
    created = bitrix.call("crm.lead.add", [{"fields": {**FORM_LEAD, "TITLE": f"Заявка {i}"}} for i in range(3)])
    assert sorted(Lead.objects.filter(pk__in=created).values_list("title", flat=True)) == [
        "Заявка 0", "Заявка 1", "Заявка 2"]
    assert bitrix.call("crm.lead.update", {"id": pk, "fields": {"OPPORTUNITY": 15000, "UF_CRM_EMPLOYEES": 40}}) is True
    lead.refresh_from_db()
    assert lead.amount == 15000 and lead.employees_count == 40
    with pytest.raises(ErrorInServerResponseException):
        bitrix.call("crm.lead.update", {"id": pk, "fields": {"STATUS_ID": "QUALIFICATION"}})
    lead.refresh_from_db()
    assert lead.status == Status.NEW
    # call() answers a dict result under its batch key; raw=True posts the call itself.
    got = bitrix.call("crm.lead.get", {"id": pk}, raw=True)["result"]
    assert got["OPPORTUNITY"] == "15000.00" and got["UF_CRM_EMPLOYEES"] == "40"
    entry = TimelineEntry.objects.filter(object_id=pk, kind="created").get()
    assert entry.author == owner and entry.data.get("via") == "rest"


def test_it_lists_leads_to_b24pysdk_as_list_and_as_list_fast(webhook_url, owner, outsider):
    mine = many_leads(owner, 130)
    many_leads(outsider, 5)
    client = b24_client(webhook_url(owner))
    listed = list(client.crm.lead.list(select=["ID", "TITLE"]).as_list().result)
    assert sorted(int(r["ID"]) for r in listed) == sorted(lead.pk for lead in mine)
    fast = list(client.crm.lead.list(select=["ID", "STATUS_ID"]).as_list_fast().result)
    assert sorted(int(r["ID"]) for r in fast) == sorted(lead.pk for lead in mine)
    assert {r["STATUS_ID"] for r in fast} == {"NEW"}


def test_it_adds_updates_and_refuses_through_b24pysdk(webhook_url, owner, teammate):
    from b24pysdk.errors import BitrixAPIBadRequest

    client = b24_client(webhook_url(owner))
    pk = client.crm.lead.add(fields=FORM_LEAD).result
    assert Lead.objects.get(pk=pk).title == "Заявка с сайта"
    assert client.crm.lead.update(bitrix_id=pk, fields={"STATUS_ID": "FIRST_CALL", "COMMENTS": "Дозвонились"}).result
    lead = Lead.objects.get(pk=pk)
    assert lead.status == Status.FIRST_CALL and lead.comment == "Дозвонились"
    assert client.crm.lead.get(bitrix_id=pk).result["STATUS_ID"] == "FIRST_CALL"
    assert client.crm.lead.productrows.set(bitrix_id=pk, rows=[{"PRODUCT_ID": ref("Product").pk}]).result is True
    assert [r["PRODUCT_NAME"] for r in client.crm.lead.productrows.get(bitrix_id=pk).result] == [ref("Product").name]
    theirs = LeadFactory(responsible=teammate)
    with pytest.raises(BitrixAPIBadRequest) as error:
        _ = client.crm.lead.update(bitrix_id=theirs.pk, fields={"TITLE": "Моё"}).result
    assert error.value.error_description == "Not found"
    with pytest.raises(BitrixAPIBadRequest) as error:
        _ = client.crm.lead.add(fields={"TITLE": "Без источника"}).result
    assert "Источник" in error.value.error_description
    assert Lead.objects.count() == 2


def test_it_reads_the_dictionaries_with_both_libraries(webhook_url, owner):

    url = webhook_url(owner)
    statuses = fast_bitrix(url).get_all("crm.status.list", {"filter": {"ENTITY_ID": "STATUS"}})
    assert [s["STATUS_ID"] for s in statuses] == ["NEW", "FIRST_CALL", "QUALIFICATION", "RECONNAISSANCE",
                                                  "DECISION_MAKER", "CONVERTED", "JUNK"]
    client = b24_client(url)
    categories = client.crm.category.list(entity_type_id=2).result["categories"]
    assert [c["id"] for c in categories][0] == 0 and len(categories) == 3
    stages = client.crm.status.list(filter={"ENTITY_ID": "DEAL_STAGE"}).as_list().result
    assert [s["STATUS_ID"] for s in stages][:2] == ["NEW", "PREPARATION"]
