"""rest.lists.list_page and rest.fields.FieldMap over real leads (a test method with a small map, through
leads.selectors: the access gate first): filter prefixes, order, select, pages of 50 with
total/next, start=-1, keyset pages when ordered by ID, and Bitrix24's value formats."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from leads import selectors
from leads.models import Lead
from rest.fields import Field, FieldMap
from rest.lists import list_page
from rest.registry import RestError
from tests.factories import LeadFactory

LEADS = FieldMap([
    Field("ID", "integer", "pk", read_only=True),
    Field("TITLE", "string", "title", required=True),
    Field("STATUS_ID", "crm_status", "status", status_type="STATUS"),
    Field("OPPORTUNITY", "double", "amount"),
    Field("ASSIGNED_BY_ID", "user", "responsible_id"),
    Field("DATE_CREATE", "datetime", "created_at", read_only=True),
    Field("BIRTHDATE", "date", "contact_birth_date"),
    Field("OPENED", "char", get=lambda lead: True, read_only=True),
    Field("PHONE", "crm_multifield", get=lambda lead: [{"ID": "1", "VALUE_TYPE": "WORK", "VALUE": lead.company_phone,
                                                        "TYPE_ID": "PHONE"}]),
    Field("UF_CRM_INN", "string", "inn"),
])


@pytest.fixture
def lead_list(temp_method):
    counted = {"all": 0}

    def count_all():
        counted["all"] += 1
        return Lead.objects.count()

    temp_method("test.lead.list", lambda call: list_page(call, selectors.visible_leads(call.user), LEADS,
                                                         count_all=count_all), scope="crm")
    return counted


def listed(rest_call, user, **params):
    response = rest_call(user, "test.lead.list", params)
    assert response.status_code == 200, response.json()
    return response.json()


def test_it_pages_by_fifty_with_total_and_next(rest_call, owner, lead_list):
    made = [LeadFactory(responsible=owner).pk for _ in range(120)]
    first = listed(rest_call, owner)
    assert len(first["result"]) == 50 and first["total"] == 120 and first["next"] == 50
    assert [int(r["ID"]) for r in first["result"]] == made[:50]  # ID ascending unless asked otherwise
    last = listed(rest_call, owner, start=100)
    assert [int(r["ID"]) for r in last["result"]] == made[100:] and last["total"] == 120 and "next" not in last
    uncounted = listed(rest_call, owner, start=-1)
    assert len(uncounted["result"]) == 50 and "total" not in uncounted and "next" not in uncounted
    assert listed(rest_call, owner, start="abc")["result"][0]["ID"] == str(made[0])  # as Bitrix24: 0


def test_it_lists_only_what_the_user_may_see(rest_call, owner, teammate, head, lead_list):
    mine = LeadFactory(responsible=owner)
    LeadFactory(responsible=teammate)
    assert [r["ID"] for r in listed(rest_call, owner)["result"]] == [str(mine.pk)]
    assert listed(rest_call, head)["total"] == 2
    narrowed = listed(rest_call, owner, filter={"ASSIGNED_BY_ID": teammate.pk})
    assert narrowed["result"] == [] and narrowed["total"] == 0  # a filter only narrows


def test_it_filters_with_bitrix24s_prefixes(rest_call, owner, lead_list):
    a = LeadFactory(responsible=owner, title="Окна в дом", amount=Decimal("100"))
    b = LeadFactory(responsible=owner, title="Двери", amount=Decimal("500"), inn="7707083893")
    c = LeadFactory(responsible=owner, title="Окна ПВХ", amount=Decimal("900"))

    def ids(flt):
        return [int(r["ID"]) for r in listed(rest_call, owner, filter=flt)["result"]]

    assert ids({">=OPPORTUNITY": "500"}) == [b.pk, c.pk]
    assert ids({">OPPORTUNITY": 500, "<=OPPORTUNITY": "900.00"}) == [c.pk]
    assert ids({"<OPPORTUNITY": "500"}) == [a.pk]
    assert ids({"@ID": [a.pk, c.pk]}) == [a.pk, c.pk]
    assert ids({"ID": {"0": a.pk, "1": b.pk}}) == [a.pk, b.pk]  # a PHP array: one of
    assert ids({"!@ID": [a.pk, c.pk]}) == [b.pk]
    assert ids({"%TITLE": "Окна"}) == [a.pk, c.pk]
    assert ids({"=%TITLE": "Окна%"}) == [a.pk, c.pk]
    assert ids({"%=TITLE": "%ПВХ"}) == [c.pk]
    assert ids({"!%TITLE": "Окна"}) == [b.pk]
    assert ids({"!ID": b.pk}) == [a.pk, c.pk]
    assert ids({"!=ID": b.pk}) == [a.pk, c.pk]
    assert ids({"UF_CRM_INN": "7707083893"}) == [b.pk]
    assert ids({"UF_CRM_INN": ""}) == [a.pk, c.pk]  # empty: not filled
    assert ids({">=DATE_CREATE": "2000-01-01", "STATUS_ID": "new"}) == [a.pk, b.pk, c.pk]
    assert ids({">DATE_CREATE": (timezone.now() + dt.timedelta(days=1)).isoformat()}) == []


def test_it_orders_as_asked_and_breaks_ties_by_id(rest_call, owner, lead_list):
    a = LeadFactory(responsible=owner, amount=Decimal("300"))
    b = LeadFactory(responsible=owner, amount=Decimal("100"))
    c = LeadFactory(responsible=owner, amount=Decimal("300"))
    rows = listed(rest_call, owner, order={"OPPORTUNITY": "desc"})["result"]
    assert [int(r["ID"]) for r in rows] == [c.pk, a.pk, b.pk]
    rows = listed(rest_call, owner, order={"ID": "DESC"})["result"]
    assert [int(r["ID"]) for r in rows] == [c.pk, b.pk, a.pk]


def test_it_selects_fields_as_bitrix24(rest_call, owner, lead_list):
    LeadFactory(responsible=owner, company_phone="+79120000001", inn="7707083893")
    default = listed(rest_call, owner)["result"][0]
    assert "PHONE" not in default and "UF_CRM_INN" not in default and default["TITLE"]
    chosen = listed(rest_call, owner, select=["TITLE", "PHONE"])["result"][0]
    assert set(chosen) == {"ID", "TITLE", "PHONE"} and chosen["PHONE"][0]["VALUE"] == "+79120000001"
    everything = listed(rest_call, owner, select=["*", "UF_*"])["result"][0]
    assert everything["UF_CRM_INN"] == "7707083893" and "PHONE" not in everything


@pytest.mark.parametrize("params, message", [
    ({"filter": {"NOPE": 1}}, "Unknown field in filter: NOPE"),
    ({"filter": {">=OPPORTUNITY": "много"}}, "Invalid value of field OPPORTUNITY: a number expected"),
    ({"filter": {"@ID": ["x"]}}, "Invalid value of field ID"),
    ({"filter": {">ID": ""}}, "Filter >ID needs a value"),
    ({"filter": "ID=1"}, "Parameter filter must be an object"),
    ({"order": {"NOPE": "ASC"}}, "Unknown field in order: NOPE"),
    ({"order": {"ID": "UP"}}, "Invalid order direction of ID: UP"),
    ({"select": ["TITLE", "NOPE"]}, "Unknown field in select: NOPE"),
])
def test_it_refuses_unknown_fields_and_bad_values_with_bitrix24s_error(rest_call, owner, lead_list, params, message):
    response = rest_call(owner, "test.lead.list", params)
    assert response.status_code == 400
    assert response.json()["error"] == "" and response.json()["error_description"].startswith(message)


def test_it_counts_from_count_all_only_when_nothing_is_filtered(rest_call, owner, lead_list):
    LeadFactory(responsible=owner)
    listed(rest_call, owner)
    assert lead_list["all"] == 1
    listed(rest_call, owner, filter={">ID": 0})
    assert lead_list["all"] == 1


def test_it_reads_the_next_page_of_an_id_walk_by_keyset_without_an_offset(rest_call, owner, lead_list):
    made = [LeadFactory(responsible=owner).pk for _ in range(110)]
    first = listed(rest_call, owner, order={"ID": "ASC"}, select=["ID"], filter={">ID": 0})
    with CaptureQueriesContext(connection) as queries:
        second = listed(rest_call, owner, order={"ID": "ASC"}, select=["ID"], filter={">ID": 0}, start=first["next"])
    assert [int(r["ID"]) for r in second["result"]] == made[50:100] and second["total"] == 110
    pages = [q["sql"] for q in queries if "leads_lead" in q["sql"]]
    assert pages and not any("OFFSET" in sql for sql in pages)  # ID > the last one read, and the walk's total
    assert not any("COUNT(" in sql for sql in pages)

    # The same walk sent as a form (a batch command's query): its values are text, the cursor is found.
    with CaptureQueriesContext(connection) as queries:
        third = rest_call(owner, "test.lead.list", {"order[ID]": "ASC", "select[0]": "ID", "filter[>ID]": "0",
                                                            "start": "100"},
                          as_json=False).json()
    assert [int(r["ID"]) for r in third["result"]] == made[100:]
    assert not any("OFFSET" in q["sql"] for q in queries if "leads_lead" in q["sql"])

    # A page asked out of order (no cursor) skips its offset over the ids only, then reads by ID.
    backwards = listed(rest_call, owner, order={"ID": "DESC"}, start=100)
    assert [int(r["ID"]) for r in backwards["result"]] == made[9::-1]


def test_fieldmap_reads_values_in_bitrix24s_formats():
    lead = Lead(pk=7, title="Окна", amount=Decimal("15000"), status="new", responsible_id=3, inn="",
                contact_birth_date=dt.date(2000, 1, 15), created_at=dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC))
    row = LEADS.to_rest(lead, ["ID", "OPPORTUNITY", "ASSIGNED_BY_ID", "DATE_CREATE", "BIRTHDATE", "OPENED",
                               "UF_CRM_INN"])
    assert row == {"ID": "7", "OPPORTUNITY": "15000.00", "ASSIGNED_BY_ID": "3",
                   "DATE_CREATE": "2026-11-30T12:00:00+03:00", "BIRTHDATE": "2000-01-15T00:00:00+03:00",
                   "OPENED": "Y", "UF_CRM_INN": ""}


def test_fieldmap_parses_a_write_dropping_unknown_and_read_only_names():
    data, m2m, comms = LEADS.from_rest({"title": "Окна", "ID": 99, "DATE_CREATE": "2020-01-01", "NOPE": 1,
                                        "OPPORTUNITY": "1500,50", "BIRTHDATE": "1990-05-01T00:00:00+03:00",
                                        "PHONE": {"0": {"VALUE": "+7 912 000-00-01"},
                                                  "1": {"ID": "5", "VALUE": ""},
                                                  "2": {"VALUE_TYPE": "mobile", "VALUE": "89120000002"}}},
                                       adding=True)
    assert data == {"title": "Окна", "amount": Decimal("1500.50"), "contact_birth_date": dt.date(1990, 5, 1)}
    assert m2m == {}
    assert comms == {"PHONE": [
        {"ID": None, "VALUE": "+7 912 000-00-01", "VALUE_TYPE": "WORK", "DELETE": False},
        {"ID": 5, "VALUE": "", "VALUE_TYPE": "WORK", "DELETE": True},
        {"ID": None, "VALUE": "89120000002", "VALUE_TYPE": "MOBILE", "DELETE": False}]}


@pytest.mark.parametrize("fields, message", [
    ({"OPPORTUNITY": "1e400"}, "Invalid value of field OPPORTUNITY"),
    ({"ASSIGNED_BY_ID": "Иванов"}, "Invalid value of field ASSIGNED_BY_ID"),
    ({"BIRTHDATE": "вчера"}, "Invalid value of field BIRTHDATE: a date YYYY-MM-DD expected"),
    ({"PHONE": [{"VALUE": "1", "VALUE_TYPE": "SATELLITE"}]}, "Invalid VALUE_TYPE of PHONE: SATELLITE"),
    ({"TITLE": {"a": 1}}, "Invalid value of field TITLE: a single value expected"),
    ({"STATUS_ID": "NEW"}, "Required fields are not filled: TITLE"),
])
def test_fieldmap_refuses_bad_values_naming_the_field(fields, message):
    with pytest.raises(RestError) as refused:
        LEADS.from_rest(fields, adding=True)
    assert refused.value.description.startswith(message) and refused.value.status == 400


def test_fieldmap_describes_the_fields_as_crm_fields_answers():
    described = LEADS.describe()
    assert described["STATUS_ID"] == {"type": "crm_status", "isRequired": False, "isReadOnly": False,
                                      "isImmutable": False, "isMultiple": False, "isDynamic": False,
                                      "title": "STATUS_ID", "statusType": "STATUS"}
    assert described["PHONE"]["isMultiple"] and described["UF_CRM_INN"]["isDynamic"]
    assert described["ID"]["isReadOnly"] and described["TITLE"]["isRequired"]
