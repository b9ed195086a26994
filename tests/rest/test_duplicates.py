"""crm.duplicate.findbycomm through the webhook, in-process: the ids of the leads, contacts and
companies with these phones or e-mails — only those the user may see (the forms' masked notice
cannot be an id, and an id of a hidden record would tell whose client the number is)."""

import json

import pytest

from clients import services as client_services
from rest import services as rest_services
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db


def rest(client, user, method, params=None, scopes=("crm",)):
    webhook, code = rest_services.webhook_create(user, name="test", scopes=list(scopes))
    response = client.post(f"/rest/{user.pk}/{code}/{method}", json.dumps(params or {}),
                           content_type="application/json")
    return response.status_code, response.json()


@pytest.fixture
def records(owner, outsider):
    phone = [("phone", "work", "+79128598748", "")]
    return {
        "company": client_services.company_create(data={"name": "Ромашка", "responsible": owner},
                                                  communications=phone, by=owner),
        "contact": client_services.contact_create(
            data={"first_name": "Анна", "responsible": owner},
            communications=phone + [("email", "work", "anna@romashka.ru", "")], by=owner),
        "lead": LeadFactory(responsible=owner, company_phone="+79128598748"),
        "hidden": client_services.company_create(data={"name": "Чужая", "responsible": outsider},
                                                 communications=phone, by=outsider),
    }


def test_it_finds_every_kind_by_a_phone_typed_any_way(client, owner, records):
    status, answer = rest(client, owner, "crm.duplicate.findbycomm", {"type": "PHONE", "values": ["8 (912) 859-87-48"]})
    assert status == 200, answer
    assert answer["result"] == {"COMPANY": [records["company"].pk], "CONTACT": [records["contact"].pk],
                                "LEAD": [records["lead"].pk]}


def test_it_finds_by_e_mail_and_narrows_to_one_kind(client, owner, records):
    answer = rest(client, owner, "crm.duplicate.findbycomm", {"type": "email", "values": ["Anna@Romashka.ru"]})[1]
    assert answer["result"] == {"CONTACT": [records["contact"].pk]}
    answer = rest(client, owner, "crm.duplicate.findbycomm", {"type": "PHONE", "values": ["+79128598748"],
                                                              "entity_type": "COMPANY"})[1]
    assert answer["result"] == {"COMPANY": [records["company"].pk]}


def test_it_answers_an_empty_list_when_nothing_matches(client, owner, records):
    answer = rest(client, owner, "crm.duplicate.findbycomm", {"type": "PHONE", "values": ["+79990000000", "не телефон"]})[1]
    assert answer["result"] == []


@pytest.mark.parametrize("persona, found", [
    ("owner", {"COMPANY", "CONTACT", "LEAD"}),
    ("teammate", set()),  # own records only: the owner's are not his to see
    ("outsider", {"COMPANY"}),  # his own company only
    ("head", {"COMPANY", "CONTACT", "LEAD"}),
    ("crm_admin", {"COMPANY", "CONTACT", "LEAD"}),
])
def test_it_names_only_records_the_user_may_see(client, personas, records, persona, found):
    user = personas[persona]
    answer = rest(client, user, "crm.duplicate.findbycomm", {"type": "PHONE", "values": ["+79128598748"]})[1]
    result = answer["result"] or {}
    assert set(result) == found
    if persona == "outsider":
        assert result["COMPANY"] == [records["hidden"].pk]
    if persona == "owner":
        assert records["hidden"].pk not in result["COMPANY"]


@pytest.mark.parametrize("params", [
    {"type": "FAX", "values": ["+79128598748"]},
    {"type": "PHONE"},
    {"type": "PHONE", "values": [f"+7912000{i:04d}" for i in range(21)]},
    {"type": "PHONE", "values": ["+79128598748"], "entity_type": "DEAL"},
])
def test_it_refuses_bad_parameters_as_bitrix24(client, owner, params):
    status, answer = rest(client, owner, "crm.duplicate.findbycomm", params)
    assert status == 400 and answer["error_description"]
