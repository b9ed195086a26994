"""The company and contact forms' duplicate check, per persona (README, «Доступ»): records the
user may see in full with a link; others only as «Такой клиент уже есть в CRM у <ответственный>,
<отдел>» and only to a user who may add such records; nothing for a user without a role."""

import pytest
from django.urls import reverse

from tests.factories import UserFactory

from .conftest import INN, make_company, make_contact
from .test_forms import comms, html

pytestmark = pytest.mark.django_db

PHONE = "+78800000000"
MASKED = "Такой клиент уже есть в CRM у Иванов Пётр, Группа продаж 1"


@pytest.fixture
def ivanovs(owner):
    return (make_company(owner, name="СЕКРЕТ-компания", inn=INN, phones=[PHONE]),
            make_contact(owner, first_name="СЕКРЕТ", last_name="Контакт", phones=[PHONE]))


def check(client, user, entity, **data):
    client.force_login(user)
    return client.post(reverse("clients:duplicates"), {"entity": entity, **comms(("phone", "work", "88800000000")),
                                                       **data})


@pytest.mark.parametrize("persona", ["owner", "head", "crm_admin"])
@pytest.mark.parametrize("entity", ["company", "contact"])
def test_it_shows_records_the_user_may_see_in_full_with_links(client, personas, ivanovs, persona, entity):
    page = html(check(client, personas[persona], entity))
    company, contact = ivanovs
    assert "СЕКРЕТ-компания" in page and company.get_absolute_url() in page
    assert "Контакт СЕКРЕТ" in page and contact.get_absolute_url() in page
    assert "Такой клиент уже есть" not in page


@pytest.mark.parametrize("persona", ["teammate", "outsider"])
@pytest.mark.parametrize("entity", ["company", "contact"])
def test_it_tells_others_only_whose_client_it_is(client, personas, ivanovs, persona, entity):
    page = html(check(client, personas[persona], entity, inn=INN, name="СЕКРЕТ-компания"))
    assert "СЕКРЕТ" not in page
    for record in ivanovs:
        assert record.get_absolute_url() not in page
    assert MASKED in page


@pytest.mark.parametrize("entity", ["company", "contact"])
def test_a_user_without_a_role_gets_nothing(client, ivanovs, entity):
    response = check(client, UserFactory(), entity)
    assert response.status_code == 403 and "СЕКРЕТ" not in html(response) and "Иванов" not in html(response)


def test_a_user_who_may_add_contacts_only_is_told_of_contacts_not_companies(client, ivanovs, org):
    from accounts.models import Action, Entity, Level, Permission, Role

    role = Role.objects.create(name="Только контакты")
    Permission.objects.create(role=role, entity=Entity.CONTACT, action=Action.ADD, level=Level.OWN)
    user = UserFactory(department=org["group2"])
    user.roles.add(role)
    page = html(check(client, user, "contact"))
    assert "СЕКРЕТ" not in page and page.count(MASKED) == 1 and "Контакт:" in page and "Компания:" not in page
    assert check(client, user, "company").status_code == 403
