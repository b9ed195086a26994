"""Rights in a deal pipeline are not rights on companies (issue 7 §2): the board's cards and the
deals list name a deal's company only to a user who may see that company."""

import pytest
from django.urls import reverse

from accounts.models import Action, Entity, Level, Permission, Role
from clients import services as client_services
from tests.factories import GENERAL, DealFactory, UserFactory, pipeline

pytestmark = pytest.mark.django_db


@pytest.fixture
def pipeline_only(org):
    role = Role.objects.create(name="Только «Общая воронка»")
    for action in (Action.VIEW, Action.CHANGE):
        Permission.objects.create(role=role, entity=Entity.DEAL, action=action, level=Level.ALL,
                                  scope=pipeline(GENERAL).access_scope)
    user = UserFactory(username="pipeline", department=org["group1"])
    user.roles.add(role)
    return user


@pytest.fixture
def deal(owner):
    company = client_services.company_create(data={"name": "ООО «Тайная компания»", "responsible": owner},
                                             by=None)
    return DealFactory(title="Сделка с тайной компанией", responsible=owner, pipeline=pipeline(GENERAL),
                       company=company)


@pytest.mark.parametrize("url", [
    reverse("deals:board") + "?pipeline={}",
    reverse("deals:list"),
])
def test_it_shows_the_deal_but_not_its_company_to_a_user_with_rights_in_the_pipeline_only(
        client, pipeline_only, deal, url):
    client.force_login(pipeline_only)
    page = client.get(url.format(pipeline(GENERAL).pk)).content.decode()
    assert "Сделка с тайной компанией" in page
    assert "Тайная компания" not in page


@pytest.mark.parametrize("url", [reverse("deals:board") + "?pipeline={}", reverse("deals:list")])
def test_it_names_the_company_to_its_owner(client, owner, deal, url):
    client.force_login(owner)
    page = client.get(url.format(pipeline(GENERAL).pk)).content.decode()
    assert "Тайная компания" in page


def test_it_names_the_company_on_a_column_page_only_to_who_may_see_it(client, owner, pipeline_only, deal):
    url = reverse("deals:board_column", args=[deal.stage_id])
    client.force_login(pipeline_only)
    assert "Тайная компания" not in client.get(url).content.decode()
    client.force_login(owner)
    assert "Тайная компания" in client.get(url).content.decode()
