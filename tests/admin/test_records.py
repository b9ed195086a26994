"""Leads, deals, companies and contacts in the admin obey the CRM's access rules: the head of sales
lists, opens, reads the history of and deletes only his department tree's records; a deletion
goes through the app's service and leaves a DeletionRecord."""

import pytest
from django.urls import reverse

from crm.models import DeletionRecord
from tests.clients.conftest import make_company
from tests.factories import DealFactory, LeadFactory

from .conftest import KINDS

pytestmark = pytest.mark.django_db


def _model(kind):
    from django.apps import apps

    return apps.get_model({"lead": "leads", "deal": "deals", "company": "clients", "contact": "clients"}[kind], kind)


@pytest.mark.parametrize("kind", KINDS)
def test_it_hides_records_outside_the_heads_tree_on_every_admin_page(client, supervisor, stranger, outsider, kind):
    prefix, make = KINDS[kind]
    foreign = make(stranger, "СЕКРЕТ-чужой")
    mine = make(outsider, "Запись-группы-2")  # «Группа продаж 2» is in the head's tree
    client.force_login(supervisor)

    page = client.get(reverse(f"admin:{prefix}_changelist")).content.decode()
    assert "Запись-группы-2" in page and "СЕКРЕТ-чужой" not in page
    page = client.get(reverse(f"admin:{prefix}_changelist"), {"q": "СЕКРЕТ"}).content.decode()
    assert "СЕКРЕТ-чужой" not in page
    for view in ("change", "history", "delete"):
        response = client.get(reverse(f"admin:{prefix}_{view}", args=[foreign.pk]))
        assert response.status_code == 404, view
        assert "СЕКРЕТ-чужой" not in response.content.decode()
    response = client.post(reverse(f"admin:{prefix}_delete", args=[foreign.pk]), {"post": "yes"})
    assert response.status_code == 404
    assert _model(kind).objects.filter(pk=foreign.pk).exists()
    assert client.get(reverse(f"admin:{prefix}_history", args=[mine.pk])).status_code == 200


@pytest.mark.parametrize("kind", KINDS)
def test_it_lets_the_head_delete_a_record_of_his_tree_and_records_the_deletion(client, supervisor, owner, kind):
    prefix, make = KINDS[kind]
    record = make(owner, "Удаляемая-запись")
    client.force_login(supervisor)

    page = client.get(reverse(f"admin:{prefix}_delete", args=[record.pk])).content.decode()
    assert "Удаляемая-запись" in page and 'name="post"' in page
    response = client.post(reverse(f"admin:{prefix}_delete", args=[record.pk]), {"post": "yes"}, follow=True)
    assert response.status_code == 200
    assert not _model(kind).objects.filter(pk=record.pk).exists()
    entry = DeletionRecord.objects.get()
    assert (entry.entity, entry.object_id, entry.deleted_by, entry.responsible) == (kind, record.pk, supervisor, owner)
    assert "Удаляемая-запись" in entry.title
    from django.contrib.admin.models import DELETION, LogEntry

    assert LogEntry.objects.filter(action_flag=DELETION, object_id=str(record.pk), user=supervisor).count() == 1

    page = client.get(reverse("admin:crm_deletionrecord_changelist")).content.decode()
    assert "Удаляемая-запись" in page
    page = client.get(reverse("admin:crm_deletionrecord_change", args=[entry.pk])).content.decode()
    assert "Удаляемая-запись" in page and "responsible" in page  # the snapshot of the fields


def test_it_refuses_to_delete_without_the_crm_delete_right(client, supervisor, owner):
    """A head whose role may view but not delete leads: the admin offers no deletion either."""
    from accounts.models import Permission

    Permission.objects.filter(role__name="Руководитель отдела продаж", entity="lead", action="delete").update(level=0)
    lead = LeadFactory(responsible=owner, title="Нельзя-удалить")
    client.force_login(supervisor)
    assert client.get(reverse("admin:leads_lead_change", args=[lead.pk])).status_code == 200
    assert client.post(reverse("admin:leads_lead_delete", args=[lead.pk]), {"post": "yes"}).status_code == 403
    assert lead.__class__.objects.filter(pk=lead.pk).exists() and not DeletionRecord.objects.exists()


def test_the_bulk_delete_goes_through_the_service_and_reports_each_refusal(client, supervisor, owner, stranger):
    doomed = LeadFactory(responsible=owner, title="Лид-в-корзину")
    foreign = LeadFactory(responsible=stranger, title="СЕКРЕТ-лид")
    client.force_login(supervisor)
    url = reverse("admin:leads_lead_changelist")
    selected = {"action": "delete_selected", "_selected_action": [doomed.pk, foreign.pk]}

    page = client.post(url, selected).content.decode()  # the confirmation page
    assert "Лид-в-корзину" in page and "СЕКРЕТ-лид" not in page
    page = client.post(url, {**selected, "post": "yes"}, follow=True).content.decode()
    assert "Удалено записей: 1" in page
    assert not doomed.__class__.objects.filter(pk=doomed.pk).exists()
    assert foreign.__class__.objects.filter(pk=foreign.pk).exists()
    assert list(DeletionRecord.objects.values_list("title", flat=True)) == ["Лид-в-корзину"]


def test_a_company_with_deals_is_not_deleted_and_hidden_deals_are_only_counted(client, supervisor, owner, stranger):
    company = make_company(owner, name="ООО «Занятая»")
    DealFactory(responsible=owner, company=company, title="Видимая-сделка")
    DealFactory(responsible=stranger, company=company, title="СЕКРЕТ-сделка")
    free = make_company(owner, name="ООО «Свободная»")
    client.force_login(supervisor)

    page = client.get(reverse("admin:clients_company_delete", args=[company.pk])).content.decode()
    assert "Видимая-сделка" in page and "СЕКРЕТ-сделка" not in page and "записи, которых вам не видно: 1" in page
    client.post(reverse("admin:clients_company_delete", args=[company.pk]), {"post": "yes"})
    assert company.__class__.objects.filter(pk=company.pk).exists()

    url = reverse("admin:clients_company_changelist")
    page = client.post(url, {"action": "delete_selected", "_selected_action": [company.pk, free.pk], "post": "yes"},
                       follow=True).content.decode()
    assert "ООО «Занятая»" in page and "нельзя удалить" in page and "Удалено записей: 1" in page
    assert company.__class__.objects.filter(pk=company.pk).exists()
    assert not company.__class__.objects.filter(pk=free.pk).exists()


def test_the_head_sees_only_deletions_of_his_trees_records(client, supervisor, owner, stranger, superuser):
    from leads.services import lead_delete

    lead_delete(LeadFactory(responsible=owner, title="Удалён-в-отделе"), by=owner)
    lead_delete(LeadFactory(responsible=stranger, title="СЕКРЕТ-удалён"), by=stranger)
    client.force_login(supervisor)
    page = client.get(reverse("admin:crm_deletionrecord_changelist")).content.decode()
    assert "Удалён-в-отделе" in page and "СЕКРЕТ-удалён" not in page
    hidden = DeletionRecord.objects.get(title="СЕКРЕТ-удалён")
    assert client.get(reverse("admin:crm_deletionrecord_change", args=[hidden.pk])).status_code in (302, 404)

    client.force_login(superuser)
    page = client.get(reverse("admin:crm_deletionrecord_changelist")).content.decode()
    assert "Удалён-в-отделе" in page and "СЕКРЕТ-удалён" in page
    seen = DeletionRecord.objects.get(title="Удалён-в-отделе")
    assert client.post(reverse("admin:crm_deletionrecord_delete", args=[seen.pk]), {"post": "yes"}).status_code == 403
    assert DeletionRecord.objects.count() == 2


def test_a_manager_without_staff_status_gets_nothing_from_the_admin(client, owner):
    lead = LeadFactory(responsible=owner, title="Свой-лид")
    client.force_login(owner)
    for url in (reverse("admin:leads_lead_changelist"), reverse("admin:leads_lead_change", args=[lead.pk]),
                reverse("admin:accounts_user_changelist")):
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"], url
    client.post(reverse("admin:leads_lead_delete", args=[lead.pk]), {"post": "yes"})
    assert lead.__class__.objects.filter(pk=lead.pk).exists()


def test_linked_records_out_of_reach_are_not_named(client, supervisor, owner, stranger):
    from tests.clients.conftest import make_contact

    hidden = make_company(stranger, name="СЕКРЕТ-компания")
    shown = make_company(owner, name="Видимая-компания")
    contact = make_contact(owner, first_name="Контакт-отдела", last_name="", companies=[hidden, shown])
    deal = DealFactory(responsible=owner, company=hidden, title="Сделка-отдела")
    deal.contacts.add(make_contact(stranger, first_name="СЕКРЕТ-контакт", last_name=""))
    lead = LeadFactory(responsible=owner, title="Лид-отдела", company=hidden)
    client.force_login(supervisor)

    for url in (reverse("admin:deals_deal_changelist"), reverse("admin:clients_contact_changelist")):
        assert "СЕКРЕТ" not in client.get(url).content.decode(), url
    for url in (reverse("admin:deals_deal_change", args=[deal.pk]), reverse("admin:leads_lead_change", args=[lead.pk]),
                reverse("admin:clients_contact_change", args=[contact.pk])):
        page = client.get(url).content.decode()
        assert "СЕКРЕТ" not in page and "доступа" in page, url
    page = client.get(reverse("admin:clients_contact_change", args=[contact.pk])).content.decode()
    assert "Видимая-компания" in page
    page = client.get(reverse("admin:clients_contact_changelist"), {"company": hidden.pk}).content.decode()
    assert "Контакт-отдела" not in page


def test_a_staff_user_without_admin_permissions_sees_no_records(client, owner):
    owner.is_staff = True
    owner.save()
    lead = LeadFactory(responsible=owner, title="Свой-лид")
    client.force_login(owner)
    assert client.get(reverse("admin:leads_lead_changelist")).status_code == 403
    assert client.get(reverse("admin:leads_lead_change", args=[lead.pk])).status_code == 403
    assert client.post(reverse("admin:leads_lead_delete", args=[lead.pk]), {"post": "yes"}).status_code == 403
    assert "Свой-лид" not in client.get(reverse("admin:index")).content.decode()


@pytest.mark.parametrize("kind", KINDS)
def test_the_responsible_filter_offers_only_owners_of_visible_records(client, supervisor, owner, outsider, stranger,
                                                                      kind):
    prefix, make = KINDS[kind]
    make(owner, "Своя-запись")
    make(outsider, "Запись-группы-2")
    make(stranger, "СЕКРЕТ-запись")
    client.force_login(supervisor)
    page = client.get(reverse(f"admin:{prefix}_changelist")).content.decode()
    assert f"responsible__id__exact={owner.pk}" in page and f"responsible__id__exact={outsider.pk}" in page
    assert f"responsible__id__exact={stranger.pk}" not in page and "Чужой" not in page


def test_deals_are_found_by_the_names_of_visible_companies_only(client, supervisor, owner, stranger):
    DealFactory(responsible=owner, title="Сделка-1", company=make_company(owner, name="ООО «Видимая»"))
    DealFactory(responsible=owner, title="Сделка-2", company=make_company(stranger, name="ООО «Тайная»"))
    client.force_login(supervisor)
    url = reverse("admin:deals_deal_changelist")
    assert "Сделка-1" in client.get(url, {"q": "Видимая"}).content.decode()
    assert "Сделка-2" not in client.get(url, {"q": "Тайная"}).content.decode()


def test_a_refusal_at_the_last_moment_is_reported_not_logged_as_a_deletion(client, supervisor, owner, monkeypatch):
    """Something linked to the company between the confirmation page and the click: the service
    refuses, the admin says so, and its log does not claim a deletion."""
    from django.contrib.admin.models import DELETION, LogEntry

    from clients.admin import CompanyAdmin
    from crm.deletion import DeletionRefused

    def refuse(obj, *, by):
        raise DeletionRefused("Запись нельзя удалить: от неё зависят: Сделка «Только что»")

    monkeypatch.setattr(CompanyAdmin, "delete_service", staticmethod(refuse))
    company = make_company(owner, name="ООО «Гонка»")
    client.force_login(supervisor)
    response = client.post(reverse("admin:clients_company_delete", args=[company.pk]), {"post": "yes"}, follow=True)
    assert "Только что" in response.content.decode()
    assert company.__class__.objects.filter(pk=company.pk).exists()
    assert not LogEntry.objects.filter(action_flag=DELETION).exists()
