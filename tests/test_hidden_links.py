"""Links to records a user may not see (issue 7, kept by the services, not by the views): a new
link must be to a visible record, and an edit keeps the links its author could not see."""

import pytest
from django.core.exceptions import PermissionDenied

from clients import services as client_services
from deals import services as deal_services
from tests.factories import DealFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def strangers_company(outsider):
    return client_services.company_create(data={"name": "ООО «Чужая»", "responsible": outsider}, by=outsider)


@pytest.fixture
def my_company(owner):
    return client_services.company_create(data={"name": "ООО «Своя»", "responsible": owner}, by=owner)


def test_it_refuses_a_new_contact_linked_to_a_company_the_manager_cannot_see(owner, strangers_company):
    with pytest.raises(PermissionDenied):
        client_services.contact_create(data={"last_name": "Орлов", "first_name": "Олег", "responsible": owner}, companies=[strangers_company],
                                       by=owner)


def test_an_edit_keeps_the_company_links_its_author_cannot_see(owner, outsider, strangers_company, my_company):
    contact = client_services.contact_create(data={"last_name": "Орлов", "first_name": "Олег", "responsible": owner}, companies=[my_company],
                                             by=owner)
    # The outsider's company was linked by its own manager (the system here).
    client_services.contact_update(contact, data={}, companies=[my_company, strangers_company], by=None,
                                   version=contact.version)
    contact.refresh_from_db()
    client_services.contact_update(contact, data={"first_name": "Игорь"}, companies=[my_company], by=owner,
                                   version=contact.version)
    assert set(contact.companies.all()) == {my_company, strangers_company}
    with pytest.raises(PermissionDenied):
        contact.refresh_from_db()
        client_services.contact_update(contact, data={}, companies=[], by=outsider, version=contact.version)


def test_a_deal_may_not_be_linked_to_an_invisible_company_or_contact(owner, outsider, strangers_company):
    deal = DealFactory(responsible=owner)
    with pytest.raises(PermissionDenied):
        deal_services.deal_update(deal, data={"company": strangers_company}, by=owner, version=deal.version)
    hidden = client_services.contact_create(data={"last_name": "Скрытый", "first_name": "Иван", "responsible": outsider}, by=outsider)
    with pytest.raises(PermissionDenied):
        deal_services.deal_update(deal, data={}, m2m={"contacts": [hidden]}, by=owner, version=deal.version)
    deal.refresh_from_db()
    assert deal.company_id is None and not deal.contacts.exists()
