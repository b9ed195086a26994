"""Conversion reuses only what the converting manager may see and change (README, «Доступ»):
anything else stays untouched and unnamed; a new record is created and the match is flagged on
it as a possible duplicate for a supervisor. The dialog tells the same as the service does."""

import pytest
from django.urls import reverse

from clients import services as clients
from clients.models import Company, Contact
from crm import timeline
from deals.models import Deal
from leads import services
from leads.models import Status

pytestmark = pytest.mark.django_db

INN = "7707083893"


@pytest.fixture
def decided(ready_lead, owner):
    """Иванов's lead at «Выход на ЛПР»: contact phone +7 952 266-63-48, ИНН 7707083893."""
    lead = services.lead_update(ready_lead, data={"inn": INN}, by=owner, version=ready_lead.version)
    return services.lead_move(lead, to=Status.DECISION_MAKER, by=owner)


@pytest.fixture
def sidorovs(outsider):
    """Сидоров's company with the same ИНН and his contact with the same phone as Иванов's lead."""
    company = clients.company_create(data={"name": "Сидоровская компания", "inn": INN, "responsible": outsider},
                                     by=outsider)
    contact = clients.contact_create(data={"first_name": "Тайный", "last_name": "Контакт", "responsible": outsider},
                                     communications=[("phone", "mobile", "+7 952 266-63-48", "")],
                                     companies=[company], by=outsider)
    return company, contact


def html(response):
    return response.content.decode()


def test_it_leaves_a_strangers_contact_untouched_and_creates_a_flagged_new_one(decided, owner, sidorovs):
    company, theirs = sidorovs
    history = timeline.entries(theirs).count()
    result = services.lead_convert(decided, contact=True, company=True, deal=True, by=owner)

    assert result.contact != theirs and not result.contact_found
    assert result.contact.responsible == owner and result.contact.full_name == "Лактионова Анна"
    assert list(theirs.companies.all()) == [company]  # no new company linked to Сидоров's contact
    assert timeline.entries(theirs).count() == history
    assert list(result.deal.contacts.all()) == [result.contact]
    flag = timeline.entries(result.contact).get(kind="duplicate")
    assert flag.text == "Возможный дубль"
    [match] = flag.data["matches"]
    assert match["title"] == f"№{theirs.pk} — Такой клиент уже есть в CRM у Сидоров Алексей, Группа продаж 2"
    assert match["reasons"] == ["телефон"] and match["url"] == ""
    assert "Тайный" not in str(flag.data)


def test_it_does_not_reuse_a_strangers_company_by_inn_and_keeps_the_new_one_without_it(decided, owner, sidorovs):
    company, _contact = sidorovs
    result = services.lead_convert(decided, contact=False, company=True, deal=True, by=owner)

    assert result.company != company and not result.company_found
    assert result.company.name == 'Тест "Решение"' and result.company.inn == ""  # the ИНН is unique: it stays on the lead
    assert result.deal.company == result.company and not Deal.objects.filter(company=company).exists()
    flag = timeline.entries(result.company).get(kind="duplicate")
    assert flag.data["matches"][0]["reasons"] == ["ИНН"] and str(company.pk) in flag.data["matches"][0]["title"]
    summary = timeline.entries(result.lead).get(kind="system", text__startswith="Лид сконвертирован").text
    assert "Сидоровская" not in summary and "возможный дубль отмечен" in summary


def test_a_supervisor_who_may_change_the_match_reuses_it(decided, owner, head, sidorovs):
    company, theirs = sidorovs
    result = services.lead_convert(decided, contact=True, company=True, deal=False, by=head)
    assert (result.company, result.contact) == (company, theirs)
    assert result.company_found and result.contact_found
    assert Company.objects.count() == 1 and Contact.objects.count() == 1


def test_a_reused_contact_joining_the_company_is_in_its_history(decided, owner):
    mine = clients.contact_create(data={"first_name": "Анна", "last_name": "Лактионова", "responsible": owner},
                                  communications=[("phone", "mobile", "+7 952 266-63-48", "")], by=owner)
    result = services.lead_convert(decided, contact=True, company=True, deal=False, by=owner)
    assert result.contact == mine and list(mine.companies.all()) == [result.company]
    change = timeline.entries(mine).get(kind="change")
    assert timeline.render(change).changes[0][2] == str(result.company)


def test_linking_a_contact_needs_the_right_to_change_it(owner, sidorovs):
    from django.core.exceptions import PermissionDenied

    company, theirs = sidorovs
    mine = clients.company_create(data={"name": "Моя", "responsible": owner}, by=owner)
    with pytest.raises(PermissionDenied):
        clients.contact_link_company(theirs, mine, by=owner)
    assert list(theirs.companies.all()) == [company]


def test_a_contact_is_not_linked_to_a_company_one_may_not_see(owner, sidorovs):
    from django.core.exceptions import PermissionDenied

    company, _theirs = sidorovs
    mine = clients.contact_create(data={"first_name": "Анна", "last_name": "Лактионова", "responsible": owner},
                                  communications=[], by=owner)
    with pytest.raises(PermissionDenied):
        clients.contact_link_company(mine, company, by=owner)
    assert list(mine.companies.all()) == []


def test_the_dialog_does_not_name_a_strangers_company_or_contact(client, owner, decided, sidorovs):
    client.force_login(owner)
    page = html(client.post(reverse("leads:convert", args=[decided.pk]), HTTP_HX_REQUEST="true"))
    assert "Сидоровская" not in page and "Тайный" not in page
    assert "Такой клиент уже есть в CRM у Сидоров Алексей, Группа продаж 2" in page
    assert "Будет создана новая компания" in page and "Будет создан новый контакт" in page
    assert "будет использован" not in page


def test_the_dialog_and_the_service_agree_on_what_is_reused(client, owner, decided):
    mine = clients.company_create(data={"name": "Моя компания", "inn": INN, "responsible": owner}, by=owner)
    client.force_login(owner)
    page = html(client.post(reverse("leads:convert", args=[decided.pk]), HTTP_HX_REQUEST="true"))
    assert "Уже есть в CRM — будет использована" in page and mine.get_absolute_url() in page
    client.post(reverse("leads:convert", args=[decided.pk]), {"dialog": "1", "company": "on"})
    decided.refresh_from_db()
    assert decided.status == Status.CONVERTED and decided.company == mine


class TestLinkedRecords:
    """The lead card and the deal card name a linked record only to those who may see it."""

    def test_the_lead_card_does_not_name_a_company_handed_to_another_team(self, client, owner, outsider, crm_admin,
                                                                        decided):
        result = services.lead_convert(decided, contact=True, company=True, deal=True, by=owner)
        clients.company_update(result.company, data={"name": "Передана Сидорову", "responsible": outsider},
                               by=crm_admin, version=result.company.version)
        client.force_login(owner)
        page = html(client.get(reverse("leads:detail", args=[decided.pk])))
        assert "Передана Сидорову" not in page and result.company.get_absolute_url() not in page
        assert "Связанная компания есть (нет доступа)" in page
        assert f"Контакт: {result.contact}" in page and result.deal.get_absolute_url() in page

    def test_the_lead_card_does_not_name_a_deal_the_user_may_not_see(self, client, owner, outsider, crm_admin, decided):
        from deals import services as deals

        result = services.lead_convert(decided, contact=False, company=False, deal=True, by=owner)
        deals.deal_update(result.deal, data={"responsible": outsider}, by=crm_admin, version=result.deal.version)
        client.force_login(owner)
        page = html(client.get(reverse("leads:detail", args=[decided.pk])))
        assert result.deal.get_absolute_url() not in page and "Связанная сделка есть (нет доступа)" in page

    def test_a_user_with_rights_in_one_pipeline_sees_no_client_names_on_the_deal(self, client, owner, decided, org):
        from accounts.models import Action, Entity, Level, Permission, Role
        from tests.factories import UserFactory

        result = services.lead_convert(decided, contact=True, company=True, deal=True, by=owner)
        role = Role.objects.create(name="Только одна воронка")
        Permission.objects.create(role=role, entity=Entity.DEAL, action=Action.VIEW, level=Level.ALL,
                                  scope=f"pipeline:{result.deal.pipeline_id}")
        narrow = UserFactory(department=org["group1"])
        narrow.roles.add(role)
        client.force_login(narrow)
        page = html(client.get(result.deal.get_absolute_url()))
        assert result.deal.title in page  # he does see the deal
        assert "Тест &quot;Решение&quot;" not in page and "Лактионова" not in page
        assert "Связанная компания есть (нет доступа)" in page and "Связанный контакт есть (нет доступа)" in page
        client.force_login(owner)
        page = html(client.get(result.deal.get_absolute_url()))
        assert result.company.get_absolute_url() in page and result.contact.get_absolute_url() in page

    def test_the_deal_form_keeps_but_does_not_name_clients_the_editor_may_not_see(self, client, owner, decided, org):
        from accounts.models import Action, Entity, Level, Permission, Role
        from tests.factories import UserFactory

        result = services.lead_convert(decided, contact=True, company=True, deal=True, by=owner)
        role = Role.objects.create(name="Только одна воронка")
        for action in (Action.VIEW, Action.CHANGE):
            Permission.objects.create(role=role, entity=Entity.DEAL, action=action, level=Level.ALL,
                                      scope=f"pipeline:{result.deal.pipeline_id}")
        narrow = UserFactory(department=org["group1"])
        narrow.roles.add(role)
        client.force_login(narrow)
        page = html(client.get(reverse("deals:edit", args=[result.deal.pk])))
        assert "Тест &quot;Решение&quot;" not in page and "Лактионова" not in page
        assert f'value="{result.company.pk}" selected' in page  # kept: saving does not drop it
        assert "Связанная компания есть (нет доступа)" in page and "Связанный контакт есть (нет доступа)" in page


def test_the_deal_list_does_not_name_a_company_the_user_may_not_see(client, owner, decided, org):
    from accounts.models import Action, Entity, Level, Permission, Role
    from tests.factories import UserFactory

    result = services.lead_convert(decided, contact=False, company=True, deal=True, by=owner)
    role = Role.objects.create(name="Только одна воронка")
    Permission.objects.create(role=role, entity=Entity.DEAL, action=Action.VIEW, level=Level.ALL,
                              scope=f"pipeline:{result.deal.pipeline_id}")
    narrow = UserFactory(department=org["group1"])
    narrow.roles.add(role)
    client.force_login(narrow)
    page = html(client.get(reverse("deals:list")))
    assert result.deal.get_absolute_url() in page and "Тест &quot;Решение&quot;" not in page
    client.force_login(owner)
    assert "Тест &quot;Решение&quot;" in html(client.get(reverse("deals:list")))


def test_searching_deals_by_a_hidden_companys_inn_finds_nothing(client, owner, decided, org):
    """Which deals a company's name, ИНН or phone finds would tell who the hidden client is: the list, the
    board and the admin search companies the user may see only."""
    from accounts.models import Action, Entity, Level, Permission, Role
    from deals.filters import search_condition
    from deals.models import Deal
    from tests.factories import UserFactory

    result = services.lead_convert(decided, contact=False, company=True, deal=True, by=owner)
    role = Role.objects.create(name="Только одна воронка")
    Permission.objects.create(role=role, entity=Entity.DEAL, action=Action.VIEW, level=Level.ALL,
                              scope=f"pipeline:{result.deal.pipeline_id}")
    narrow = UserFactory(department=org["group1"])
    narrow.roles.add(role)
    client.force_login(narrow)
    page = html(client.get(reverse("deals:list"), {"q": INN, "filter": "1"}))
    assert result.deal.get_absolute_url() not in page
    page = html(client.get(reverse("deals:board"), {"pipeline": result.deal.pipeline_id, "q": INN}))
    assert result.deal.get_absolute_url() not in page
    # The owner, who sees his company, finds the deal by it.
    assert Deal.objects.filter(search_condition(INN, owner), pk=result.deal.pk).exists()
    client.force_login(owner)
    assert result.deal.get_absolute_url() in html(client.get(reverse("deals:list"), {"q": INN, "filter": "1"}))
