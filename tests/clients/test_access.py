"""Who sees and changes which companies and contacts: every page goes through the access gate."""

import pytest
from django.urls import reverse

from clients.models import Company, Contact
from tests.factories import UserFactory

from .conftest import make_company, make_contact

pytestmark = pytest.mark.django_db


@pytest.fixture
def group_companies(personas):
    """One company and one contact per persona, so each persona's view is a one-line check."""
    return {name: (make_company(user, name=f"Компания {name}"), make_contact(user, first_name=f"Контакт {name}",
                                                                              last_name=""))
            for name, user in personas.items()}


VISIBLE = [
    ("owner", {"owner"}),
    ("teammate", {"teammate"}),
    ("outsider", {"outsider"}),
    # The head of sales sees the whole «Отдел продаж» tree, not the admin's records in the root.
    ("head", {"owner", "teammate", "outsider", "head"}),
    ("crm_admin", {"owner", "teammate", "outsider", "head", "crm_admin"}),
]


@pytest.mark.parametrize(("persona", "expected"), VISIBLE)
def test_the_company_list_shows_each_persona_only_what_it_may_see(client, personas, group_companies, persona, expected):
    client.force_login(personas[persona])
    response = client.get(reverse("clients:company_list"))
    assert response.status_code == 200
    assert {c.name for c in response.context["companies"]} == {f"Компания {n}" for n in expected}
    assert response.context["total"] == len(expected)


@pytest.mark.parametrize(("persona", "expected"), VISIBLE)
def test_the_contact_list_shows_each_persona_only_what_it_may_see(client, personas, group_companies, persona, expected):
    client.force_login(personas[persona])
    response = client.get(reverse("clients:contact_list"))
    assert response.status_code == 200
    assert {c.full_name for c in response.context["contacts"]} == {f"Контакт {n}" for n in expected}


@pytest.mark.parametrize(("persona", "status"), [("owner", 200), ("teammate", 404), ("outsider", 404), ("head", 200),
                                                 ("crm_admin", 200)])
def test_cards_and_edit_forms_open_only_for_those_who_may_see_them(client, personas, group_companies, persona, status):
    company, contact = group_companies["owner"]
    client.force_login(personas[persona])
    for url in (reverse("clients:company_detail", args=[company.pk]), reverse("clients:company_edit", args=[company.pk]),
                reverse("clients:contact_detail", args=[contact.pk]), reverse("clients:contact_edit", args=[contact.pk])):
        assert client.get(url).status_code == status, url


@pytest.mark.parametrize("persona", ["teammate", "outsider"])
def test_strangers_cannot_edit_or_comment(client, personas, group_companies, persona):
    company, contact = group_companies["owner"]
    client.force_login(personas[persona])
    assert client.post(reverse("clients:company_edit", args=[company.pk]),
                       {"name": "Чужая", "responsible": personas[persona].pk}).status_code == 404
    assert client.post(reverse("clients:contact_edit", args=[contact.pk]),
                       {"first_name": "Чужой", "responsible": personas[persona].pk}).status_code == 404
    assert client.post(reverse("crm:comment_add", args=["clients.company", company.pk]), {"text": "x"}).status_code == 404
    company.refresh_from_db()
    contact.refresh_from_db()
    assert company.name == "Компания owner" and contact.first_name == "Контакт owner"


def test_a_filter_cannot_widen_what_a_manager_sees(client, owner, teammate, group_companies):
    client.force_login(owner)
    response = client.get(reverse("clients:company_list"), {"responsible": teammate.pk})
    assert list(response.context["companies"]) == []
    response = client.get(reverse("clients:company_list"), {"q": "Компания teammate"})
    assert list(response.context["companies"]) == []
    # Another's company is not even offered in the contacts' «Компания» filter; forced, it is
    # refused (and reported), and the list stays the manager's own.
    teammates_company = group_companies["teammate"][0]
    response = client.get(reverse("clients:contact_list"), {"company": teammates_company.pk})
    assert "company" in response.context["form"].errors
    assert [c.full_name for c in response.context["contacts"]] == ["Контакт owner"]
    assert "Компания teammate" not in response.content.decode()


def test_a_user_without_rights_cannot_create(client, org):
    nobody = UserFactory(department=org["group1"])  # no role: no rights at all
    client.force_login(nobody)
    assert client.get(reverse("clients:company_create")).status_code == 403
    assert client.post(reverse("clients:contact_create"), {"first_name": "X", "responsible": nobody.pk}).status_code == 403
    assert not Company.objects.exists() and not Contact.objects.exists()
    assert client.get(reverse("clients:company_list")).context["companies"] == []


def test_the_menu_shows_companies_and_contacts(client, owner):
    client.force_login(owner)
    page = client.get(reverse("clients:company_list")).content.decode()
    assert 'href="/clients/contacts/"' in page and 'href="/clients/companies/"' in page


def test_the_pages_require_login(client, db):
    response = client.get(reverse("clients:company_list"))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_a_tampered_id_is_a_404_not_a_500(client, owner):
    client.force_login(owner)
    assert client.get("/clients/companies/999999/").status_code == 404
    assert client.get("/clients/contacts/999999/edit/").status_code == 404
