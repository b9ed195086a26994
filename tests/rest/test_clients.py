"""crm.contact.* and crm.company.* through the webhook, in-process (Django's test client): the
fields in Bitrix24's names, the multifield writes, access per persona, bad input as Bitrix24's
error answers with nothing half-saved, and the history «через REST»."""

import json

import pytest

from clients import services as client_services
from clients.models import Company, Contact
from crm import timeline
from rest import services as rest_services

pytestmark = pytest.mark.django_db


def rest(client, user, method, params=None, scopes=("crm", "task")):
    """POST `params` as JSON to the user's webhook, as fast-bitrix24 does: (status, answer)."""
    webhook, code = rest_services.webhook_create(user, name="test", scopes=list(scopes))
    response = client.post(f"/rest/{user.pk}/{code}/{method}", json.dumps(params or {}),
                           content_type="application/json")
    return response.status_code, response.json()


def company(owner, name="ООО «Ромашка»", **data):
    return client_services.company_create(data={"name": name, "responsible": owner, **data},
                                          communications=[("phone", "work", "+79128598748", "")], by=owner)


def test_it_adds_a_company_with_phones_and_requisites_and_reads_it_back(client, owner):
    status, answer = rest(client, owner, "crm.company.add", {"fields": {
        "TITLE": "ООО «Ромашка»", "ADDRESS": "Москва", "UF_CRM_INN": "7707083893", "UF_CRM_KPP": "770701001",
        "PHONE": [{"VALUE": "8 (912) 859-87-48", "VALUE_TYPE": "WORK"}, {"VALUE": "+7 912 000-00-01", "VALUE_TYPE": "FAX"}],
        "EMAIL": [{"VALUE": "Info@Romashka.ru", "VALUE_TYPE": "WORK"}],
        "WEB": [{"VALUE": "romashka.ru", "VALUE_TYPE": "WORK"}],
        "UNKNOWN_FIELD": "ignored"}})
    assert status == 200, answer
    pk = answer["result"]
    saved = Company.objects.get(pk=pk)
    assert (saved.name, saved.inn, saved.kpp, saved.responsible, saved.website) == (
        "ООО «Ромашка»", "7707083893", "770701001", owner, "romashka.ru")

    status, answer = rest(client, owner, "crm.company.get", {"id": pk})
    got = answer["result"]
    assert got["ID"] == str(pk) and got["TITLE"] == "ООО «Ромашка»" and got["ASSIGNED_BY_ID"] == str(owner.pk)
    assert [(p["VALUE"], p["VALUE_TYPE"]) for p in got["PHONE"]] == [("+79128598748", "WORK"), ("+79120000001", "OTHER")]
    assert got["EMAIL"][0]["VALUE"] == "info@romashka.ru"
    assert got["WEB"][0]["VALUE"] == "romashka.ru"
    assert got["UF_CRM_INN"] == "7707083893"
    created = timeline.entries(saved).get()
    assert created.data.get("via") == "rest"


def test_it_adds_a_contact_linked_to_a_company_and_lists_it(client, owner):
    firm = company(owner)
    status, answer = rest(client, owner, "crm.contact.add", {"fields": {
        "NAME": "Анна", "LAST_NAME": "Смирнова", "SECOND_NAME": "Петровна", "POST": "Директор",
        "BIRTHDATE": "1990-05-17", "COMPANY_ID": firm.pk, "PHONE": [{"VALUE": "89128598749"}]}})
    assert status == 200, answer
    contact = Contact.objects.get(pk=answer["result"])
    assert list(contact.companies.all()) == [firm]
    assert (contact.full_name, contact.position, str(contact.birth_date)) == (
        "Смирнова Анна Петровна", "Директор", "1990-05-17")

    status, answer = rest(client, owner, "crm.contact.list", {
        "filter": {"LAST_NAME": "Смирнова"}, "select": ["ID", "NAME", "COMPANY_ID", "PHONE"]})
    assert status == 200 and answer["total"] == 1
    row = answer["result"][0]
    assert row["NAME"] == "Анна" and row["COMPANY_ID"] == str(firm.pk)
    assert row["PHONE"][0]["VALUE"] == "+79128598749"
    # By phone as a client would type it, and by the company.
    assert rest(client, owner, "crm.contact.list", {"filter": {"PHONE": "8 912 859-87-49"}})[1]["total"] == 1
    assert rest(client, owner, "crm.contact.list", {"filter": {"COMPANY_ID": firm.pk}})[1]["total"] == 1
    assert rest(client, owner, "crm.contact.list", {"filter": {"PHONE": "+79990000000"}})[1]["total"] == 0


def test_it_writes_multifields_as_bitrix24_does(client, owner):
    firm = company(owner)
    first = firm.communications.get()
    status, answer = rest(client, owner, "crm.company.update", {"id": firm.pk, "fields": {
        "PHONE": [{"VALUE": "+7 912 111-11-11", "VALUE_TYPE": "MOBILE"},  # no ID: added
                  {"ID": first.pk, "VALUE": "+7 912 222-22-22", "VALUE_TYPE": "WORK"}]}})  # ID: changed
    assert status == 200 and answer["result"] is True
    assert sorted(firm.communications.values_list("value", "type")) == [("+79121111111", "mobile"),
                                                                          ("+79122222222", "work")]
    kept = firm.communications.get(value="+79121111111")
    gone = firm.communications.get(value="+79122222222")
    rest(client, owner, "crm.company.update", {"id": firm.pk, "fields": {
        "PHONE": [{"ID": gone.pk, "VALUE": ""}]}})  # ID and an empty value: deleted
    assert list(firm.communications.values_list("value", flat=True)) == [kept.value]
    change = timeline.entries(firm).filter(kind=timeline.Kind.CHANGE).first()
    assert change.data["via"] == "rest"


@pytest.mark.parametrize("fields, words", [
    ({"TITLE": ""}, "TITLE"),
    ({"TITLE": "X", "PHONE": [{"VALUE": "телефон"}]}, "Телефон"),
    ({"TITLE": "X", "EMAIL": [{"VALUE": "not-an-email"}]}, "e-mail"),
    ({"TITLE": "X", "PHONE": [{"VALUE": "+79128598748", "VALUE_TYPE": "SATELLITE"}]}, "VALUE_TYPE"),
    ({"TITLE": "X", "UF_CRM_INN": "1234567890"}, "ИНН"),
    ({"TITLE": "X", "ASSIGNED_BY_ID": 999999}, "ASSIGNED_BY_ID"),
    ({"TITLE": "X", "INDUSTRY": "no such niche"}, "INDUSTRY"),
    ({"TITLE": "X", "DATE_CREATE": "2020-01-01", "ASSIGNED_BY_ID": "abc"}, "ASSIGNED_BY_ID"),
    ({"TITLE": "Я" * 300}, "255"),
    ({"TITLE": "X", "EMAIL": [{"VALUE": "a" * 250 + "@example.ru"}]}, "EMAIL"),
    ({"TITLE": "X", "ORIGIN_ID": "1" * 100}, "64"),
])
def test_it_refuses_bad_input_with_bitrix24s_error_and_saves_nothing(client, owner, fields, words):
    status, answer = rest(client, owner, "crm.company.add", {"fields": fields})
    assert status == 400, answer
    assert set(answer) == {"error", "error_description"}
    assert words.lower() in answer["error_description"].lower()
    assert not Company.objects.exists()


def test_it_refuses_an_inn_taken_by_another_company(client, owner):
    company(owner, inn="7707083893")
    status, answer = rest(client, owner, "crm.company.add", {"fields": {"TITLE": "Другая", "UF_CRM_INN": "7707083893"}})
    assert status == 400 and "ИНН" in answer["error_description"]
    assert Company.objects.count() == 1


def test_it_keeps_a_contact_unchanged_when_one_of_its_values_is_bad(client, owner):
    contact = client_services.contact_create(data={"first_name": "Анна", "responsible": owner}, by=owner)
    status, answer = rest(client, owner, "crm.contact.update", {"id": contact.pk, "fields": {
        "NAME": "Мария", "PHONE": [{"VALUE": "abc"}]}})
    assert status == 400
    contact.refresh_from_db()
    assert contact.first_name == "Анна" and not contact.communications.exists()


@pytest.mark.parametrize("persona, sees, changes, deletes", [
    ("owner", True, True, True),
    ("teammate", False, False, False),
    ("outsider", False, False, False),
    ("head", True, True, True),
    ("crm_admin", True, True, True),
])
def test_it_gives_each_persona_what_the_browser_gives(client, personas, persona, sees, changes, deletes):
    owner = personas["owner"]
    firm = company(owner)
    user = personas[persona]
    status, answer = rest(client, user, "crm.company.get", {"id": firm.pk})
    assert (status == 200) is sees
    if not sees:
        assert answer == {"error": "", "error_description": "Not found"}
    listed = rest(client, user, "crm.company.list", {})[1]["result"]
    assert ([r["ID"] for r in listed] == [str(firm.pk)]) is sees
    status, answer = rest(client, user, "crm.company.update", {"id": firm.pk, "fields": {"TITLE": "Новое"}})
    assert (status == 200) is changes
    firm.refresh_from_db()
    assert (firm.name == "Новое") is changes
    status, _answer = rest(client, user, "crm.company.delete", {"id": firm.pk})
    assert (status == 200) is deletes
    assert Company.objects.filter(pk=firm.pk).exists() is not deletes


def test_it_does_not_link_a_contact_to_a_company_the_user_may_not_see(client, owner, outsider):
    hidden = company(outsider, name="Чужая")
    status, answer = rest(client, owner, "crm.contact.add", {"fields": {"NAME": "Анна", "COMPANY_IDS": [hidden.pk]}})
    assert status == 400 and str(hidden.pk) in answer["error_description"]
    assert not Contact.objects.exists()


def test_it_describes_the_fields(client, owner):
    status, answer = rest(client, owner, "crm.contact.fields")
    fields = answer["result"]
    assert fields["NAME"]["isRequired"] is True and fields["PHONE"]["type"] == "crm_multifield"
    assert fields["ID"]["isReadOnly"] is True
    status, answer = rest(client, owner, "crm.company.fields")
    assert answer["result"]["UF_CRM_INN"]["isDynamic"] is True
    assert answer["result"]["INDUSTRY"]["statusType"] == "INDUSTRY"


def test_it_refuses_a_company_with_deals_on_delete(client, owner):
    from tests.factories import DealFactory

    firm = company(owner)
    DealFactory(company=firm, responsible=owner)
    status, answer = rest(client, owner, "crm.company.delete", {"id": firm.pk})
    assert status == 400 and answer["error_description"]
    assert Company.objects.filter(pk=firm.pk).exists()


def test_it_needs_the_crm_scope(client, owner):
    firm = company(owner)
    status, answer = rest(client, owner, "crm.company.get", {"id": firm.pk}, scopes=("task",))
    assert status == 403 and answer["error"] == "insufficient_scope"


def test_it_reads_a_page_of_contacts_in_a_fixed_number_of_queries(client, owner, django_assert_max_num_queries):
    firm = company(owner)
    for i in range(60):
        client_services.contact_create(data={"first_name": f"Контакт {i}", "responsible": owner},
                                       communications=[("phone", "work", f"+7912500{i:04d}", "")], companies=[firm],
                                       by=owner)
    webhook, code = rest_services.webhook_create(owner, name="budget", scopes=["crm"])
    params = json.dumps({"select": ["*", "PHONE", "EMAIL", "COMPANY_IDS"], "filter": {"COMPANY_ID": firm.pk}})
    with django_assert_max_num_queries(14):
        response = client.post(f"/rest/{owner.pk}/{code}/crm.contact.list", params, content_type="application/json")
    assert response.status_code == 200
    answer = response.json()
    assert answer["total"] == 60 and answer["next"] == 50 and len(answer["result"]) == 50
    assert all(row["COMPANY_IDS"] == [str(firm.pk)] and row["PHONE"] for row in answer["result"])


def test_it_sets_and_clears_a_contacts_companies_as_bitrix24s_items(client, owner, outsider):
    mine, other = company(owner, name="Своя"), company(owner, name="Вторая")
    hidden = company(outsider, name="Чужая")
    contact = client_services.contact_create(data={"first_name": "Анна", "responsible": owner}, companies=[mine],
                                             by=owner)
    contact.companies.add(hidden)  # linked by someone who sees it: it stays
    status, answer = rest(client, owner, "crm.contact.company.items.set", {"id": contact.pk, "items": [
        {"COMPANY_ID": other.pk, "SORT": 10, "IS_PRIMARY": "Y"}]})
    assert (status, answer["result"]) == (200, True) and set(contact.companies.all()) == {other, hidden}
    status, answer = rest(client, owner, "crm.contact.company.items.set", {"id": contact.pk, "items": [
        {"COMPANY_ID": mine.pk}, {"COMPANY_ID": hidden.pk}]})
    assert status == 400 and "не найдена" in answer["error_description"]
    assert set(contact.companies.all()) == {other, hidden}
    status, answer = rest(client, owner, "crm.contact.company.items.set", {"id": contact.pk, "items": [{"SORT": 10}]})
    assert status == 400 and "COMPANY_ID" in answer["error_description"]
    assert rest(client, owner, "crm.contact.company.items.delete", {"id": contact.pk})[0] == 200
    assert set(contact.companies.all()) == {hidden}
    assert rest(client, owner, "crm.contact.company.items.get", {"id": contact.pk})[1]["result"] == []


def test_it_links_and_unlinks_companies_and_names_only_those_the_user_sees(client, owner, outsider):
    mine, other = company(owner, name="Своя"), company(owner, name="Вторая")
    hidden = company(outsider, name="Чужая")
    contact = client_services.contact_create(data={"first_name": "Анна", "responsible": owner}, companies=[mine],
                                             by=owner)
    contact.companies.add(hidden)  # linked by someone who sees it
    got = rest(client, owner, "crm.contact.get", {"id": contact.pk})[1]["result"]
    assert got["COMPANY_IDS"] == [str(mine.pk)] and got["COMPANY_ID"] == str(mine.pk)

    assert rest(client, owner, "crm.contact.company.add", {"id": contact.pk, "fields": {"COMPANY_ID": other.pk}})[0] == 200
    items = rest(client, owner, "crm.contact.company.items.get", {"id": contact.pk})[1]["result"]
    assert [i["COMPANY_ID"] for i in items] == [mine.pk, other.pk] and items[0]["IS_PRIMARY"] == "Y"
    assert rest(client, owner, "crm.company.contact.items.get", {"id": other.pk})[1]["result"][0]["CONTACT_ID"] == contact.pk

    assert rest(client, owner, "crm.contact.company.delete", {"id": contact.pk, "fields": {"COMPANY_ID": mine.pk}})[0] == 200
    # A COMPANY_IDS write replaces what he sees; the company he does not see stays linked.
    rest(client, owner, "crm.contact.update", {"id": contact.pk, "fields": {"COMPANY_IDS": [mine.pk]}})
    assert set(contact.companies.all()) == {mine, hidden}
    status, answer = rest(client, owner, "crm.contact.company.add", {"id": contact.pk, "fields": {"COMPANY_ID": "x"}})
    assert status == 400
    # COMPANY_ID alone adds a link, the others stay.
    rest(client, owner, "crm.contact.update", {"id": contact.pk, "fields": {"COMPANY_ID": other.pk}})
    assert set(contact.companies.all()) == {mine, other, hidden}
