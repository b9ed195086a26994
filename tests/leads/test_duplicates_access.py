"""The duplicate warnings are no oracle (README, «Доступ»): a record the user may see is shown in
full with a link; one he may not see only as «Такой клиент уже есть в CRM у <ответственный>,
<отдел>», and only to a user who may add that kind of record; a user who may neither add nor
change leads gets no answer at all."""

import pytest
from django.urls import reverse

from clients import services as clients
from crm import timeline
from leads.models import Lead
from tests.factories import LeadFactory, UserFactory

from .test_card import create_payload

pytestmark = pytest.mark.django_db

PHONE = "+78800000000"
MASKED = "Такой клиент уже есть в CRM у Иванов Пётр, Группа продаж 1"


@pytest.fixture
def ivanovs(owner):
    """Иванов's lead, company and contact, all with one phone."""
    lead = LeadFactory(responsible=owner, company_phone=PHONE, title="СЕКРЕТ-лид", company_name="СЕКРЕТ-компания-лида")
    company = clients.company_create(data={"name": "СЕКРЕТ-компания", "responsible": owner},
                                     communications=[("phone", "work", PHONE, "")], by=owner)
    contact = clients.contact_create(data={"first_name": "СЕКРЕТ", "last_name": "Контакт", "responsible": owner},
                                     communications=[("phone", "mobile", PHONE, "")], by=owner)
    return lead, company, contact


def html(response):
    return response.content.decode()


def check(client, user):
    client.force_login(user)
    return client.post(reverse("leads:duplicates"), {"company_phone": "8 880 000-00-00"})


@pytest.mark.parametrize("persona", ["owner", "head", "crm_admin"])
def test_it_shows_records_the_user_may_see_in_full_with_links(client, personas, ivanovs, persona):
    page = html(check(client, personas[persona]))
    for record in ivanovs:
        assert record.get_absolute_url() in page
    assert "СЕКРЕТ-лид" in page and "СЕКРЕТ-компания" in page and "Контакт СЕКРЕТ" in page
    assert "Такой клиент уже есть" not in page


@pytest.mark.parametrize("persona", ["teammate", "outsider"])
def test_it_tells_others_only_whose_client_it_is(client, personas, ivanovs, persona):
    page = html(check(client, personas[persona]))
    assert "СЕКРЕТ" not in page
    for record in ivanovs:
        assert record.get_absolute_url() not in page
    assert MASKED in page and "телефон" in page
    assert page.count(MASKED) == 3  # once per kind: several records of one owner are not counted


def test_a_user_without_a_role_gets_nothing(client, ivanovs):
    response = check(client, UserFactory())
    assert response.status_code == 403 and "СЕКРЕТ" not in html(response) and "Иванов" not in html(response)


def test_a_user_who_may_add_leads_only_is_told_nothing_of_clients_he_may_not_add(client, ivanovs, org):
    from accounts.models import Action, Entity, Level, Permission, Role

    role = Role.objects.create(name="Только лиды")
    Permission.objects.create(role=role, entity=Entity.LEAD, action=Action.ADD, level=Level.OWN)
    Permission.objects.create(role=role, entity=Entity.LEAD, action=Action.VIEW, level=Level.OWN)
    user = UserFactory(department=org["group2"])
    user.roles.add(role)
    page = html(check(client, user))
    assert "СЕКРЕТ" not in page
    assert page.count(MASKED) == 1 and "Лид:" in page


def test_saving_anyway_records_the_masked_warning_not_the_strangers_title(client, outsider, ivanovs):
    client.force_login(outsider)
    payload = create_payload(responsible=outsider.pk, company_phone="8 880 000-00-00")
    assert MASKED in html(client.post(reverse("leads:create"), payload))
    client.post(reverse("leads:create"), {**payload, "save_anyway": "1"})
    new = Lead.objects.get(responsible=outsider)
    entry = timeline.entries(new).get(kind="duplicate")
    assert "СЕКРЕТ" not in str(entry.data) and MASKED in str(entry.data)
    page = html(client.get(reverse("leads:detail", args=[new.pk])))
    assert MASKED in page and "СЕКРЕТ" not in page and 'href=""' not in page


@pytest.mark.parametrize("raw", ["²", "١٢", "-1", "abc", "99999999999999999999999", ""])
def test_a_bad_lead_id_is_ignored_not_a_server_error(client, owner, ivanovs, raw):
    client.force_login(owner)
    response = client.post(reverse("leads:duplicates"), {"company_phone": PHONE, "lead_id": raw})
    assert response.status_code == 200 and "СЕКРЕТ-лид" in html(response)


def test_the_lead_being_edited_is_left_out(client, owner, ivanovs):
    client.force_login(owner)
    lead = ivanovs[0]
    page = html(client.post(reverse("leads:duplicates"), {"company_phone": PHONE, "lead_id": str(lead.pk)}))
    assert "СЕКРЕТ-лид" not in page and "СЕКРЕТ-компания" in page
