import pytest

from clients import services

INN = "7707083893"  # a real, valid ИНН (ПАО Сбербанк): any checksum test can rely on it
OTHER_INN = "7736207543"


def make_company(owner, name="ООО «Ромашка»", phones=(), emails=(), **data):
    communications = [("phone", "work", p, "") for p in phones] + [("email", "work", e, "") for e in emails]
    return services.company_create(data={"name": name, "responsible": owner, **data}, communications=communications,
                                   by=owner)


def make_contact(owner, first_name="Анна", last_name="Лактионова", phones=(), emails=(), companies=(), **data):
    communications = [("phone", "mobile", p, "") for p in phones] + [("email", "work", e, "") for e in emails]
    contact = services.contact_create(data={"first_name": first_name, "last_name": last_name, "responsible": owner,
                                            **data}, communications=communications, by=owner)
    if companies:
        # Linked by the system: a test may need a link to a company the owner cannot see (as
        # when its own manager linked it); the owner himself may not make such a link.
        contact = services.contact_update(contact, data={}, companies=list(companies), by=None, version=contact.version)
    return contact


@pytest.fixture
def company(owner):
    return make_company(owner, name="ООО «Ромашка»", inn=INN, kpp="773601001", legal_name="ООО «Ромашка»",
                        phones=["+78800000000"], emails=["info@romashka.ru"], website="romashka.ru")


@pytest.fixture
def contact(owner, company):
    return make_contact(owner, middle_name="Игоревна", position="Руководитель отдела продаж",
                        phones=["+79522666348"], emails=["anna@romashka.ru"], companies=[company])
