"""The admin as the demo's head of sales uses it: staff, in the supervisors' group that
`accounts.demo.grant_supervisors` sets up, role «Руководитель отдела продаж» (his department tree)."""

import pytest

from accounts.demo import grant_supervisors
from tests.clients.conftest import make_company, make_contact
from tests.factories import DealFactory, DepartmentFactory, LeadFactory, UserFactory


@pytest.fixture
def supervisor(head):
    grant_supervisors({"head": head})
    return head


@pytest.fixture
def stranger(org):
    """A manager of another root department: nothing of his is the head's business."""
    return UserFactory(username="stranger", last_name="Чужой", first_name="Пётр",
                       department=DepartmentFactory(name="Филиал"), role="Менеджер")


@pytest.fixture
def superuser(org):
    return UserFactory(username="root", is_staff=True, is_superuser=True, department=org["root"])


# kind → (admin URL prefix, a maker taking (owner, title))
KINDS = {
    "lead": ("leads_lead", lambda user, title: LeadFactory(responsible=user, title=title)),
    "deal": ("deals_deal", lambda user, title: DealFactory(responsible=user, title=title)),
    "company": ("clients_company", lambda user, title: make_company(user, name=title)),
    "contact": ("clients_contact", lambda user, title: make_contact(user, first_name=title, last_name="")),
}
