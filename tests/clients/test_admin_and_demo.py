"""The admin's company and contact pages, and the demo data."""

from io import StringIO

import pytest
from django.urls import reverse

from clients.models import Company, Contact
from crm.inn import is_valid
from tests.factories import UserFactory

from .conftest import INN, make_company, make_contact

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser(org):
    return UserFactory(username="root", is_staff=True, is_superuser=True, department=org["root"])


def test_the_admin_lists_searches_and_filters_companies(client, superuser, owner, company):
    make_company(owner, name="Лютик", phones=["+79121234567"])
    client.force_login(superuser)
    url = reverse("admin:clients_company_changelist")
    page = client.get(url).content.decode()
    assert "ООО «Ромашка»" in page and "Лютик" in page
    for query in ("ромашка", INN, "8 (880) 000-00-00", "info@romashka.ru"):
        page = client.get(url, {"q": query}).content.decode()
        assert "ООО «Ромашка»" in page and "Лютик" not in page, query
    assert client.get(url, {"responsible__id__exact": owner.pk}).status_code == 200


def test_the_admin_change_page_is_read_only_with_phones_history_and_a_card_link(client, superuser, company):
    client.force_login(superuser)
    page = client.get(reverse("admin:clients_company_change", args=[company.pk])).content.decode()
    assert "+7 (880) 000-00-00" in page and "Компания создана" in page
    assert reverse("clients:company_detail", args=[company.pk]) in page
    assert 'name="name"' not in page  # edits go through the CRM card
    assert client.get(reverse("admin:clients_company_add")).status_code == 403


def test_the_admin_lists_contacts(client, superuser, contact):
    client.force_login(superuser)
    page = client.get(reverse("admin:clients_contact_changelist"), {"q": "лактионова"}).content.decode()
    assert "Лактионова Анна Игоревна" in page
    page = client.get(reverse("admin:clients_contact_change", args=[contact.pk])).content.decode()
    assert reverse("clients:contact_detail", args=[contact.pk]) in page


def test_demo_companies_and_contacts_are_valid_owned_by_the_managers_and_seeded_once(db):
    from accounts import demo as accounts_demo
    from clients import demo

    users = accounts_demo.seed()
    out = StringIO()
    demo.seed(users, out)
    demo.seed(users, out)
    assert Company.objects.count() == len(demo.COMPANIES) >= 10
    assert Contact.objects.count() == len(demo.CONTACTS) >= 15
    assert all(is_valid(inn) for inn in Company.objects.values_list("inn", flat=True))
    owners = set(Company.objects.values_list("responsible__username", flat=True))
    assert owners == {"ivanov", "petrova", "sidorov"}
    for company in Company.objects.all():
        assert company.communications.filter(kind="phone").exists() and company.created_by == company.responsible
    assert Contact.objects.filter(companies__isnull=False).distinct().count() == Contact.objects.count()
    assert "компании: 10" in out.getvalue()


def test_a_contact_with_no_company_is_fine_in_the_admin(client, superuser, owner):
    make_contact(owner, first_name="Одиночка", last_name="")
    client.force_login(superuser)
    assert "Одиночка" in client.get(reverse("admin:clients_contact_changelist")).content.decode()
