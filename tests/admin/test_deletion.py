"""The delete services: the one path by which a lead, deal, company or contact disappears."""

from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied

from clients import services as clients
from clients.models import Company, Contact
from crm import timeline
from crm.deletion import DeletionRefused
from crm.models import Communication, DeletionRecord, TimelineEntry
from crm.selectors import deletion_records
from deals import services as deals
from deals.models import Deal, DealProduct
from leads import services as leads
from leads.models import Lead
from tests.clients.conftest import make_company, make_contact
from tests.factories import DealFactory, LeadFactory, ref

pytestmark = pytest.mark.django_db


def test_it_refuses_a_user_who_may_not_delete_and_deletes_nothing(owner, teammate, outsider):
    lead = LeadFactory(responsible=owner)
    deal = DealFactory(responsible=owner)
    company = make_company(owner, name="ООО «Чужая»")
    contact = make_contact(owner)
    for delete, record in ((leads.lead_delete, lead), (deals.deal_delete, deal), (clients.company_delete, company),
                           (clients.contact_delete, contact)):
        for user in (teammate, outsider):  # «Менеджер»: his own records only
            with pytest.raises(PermissionDenied):
                delete(record, by=user)
        assert type(record).objects.filter(pk=record.pk).exists()
    assert not DeletionRecord.objects.exists()


def test_a_deleted_lead_leaves_a_snapshot_and_no_orphans(owner):
    company = make_company(owner, name="ООО «Остаётся»")
    lead = LeadFactory(responsible=owner, title="Лид на удаление", niche=ref("Niche"), company=company)
    timeline.add_comment(lead, owner, "Звонил, просили перезвонить", pin_it=True)
    deal = DealFactory(responsible=owner, lead=lead)

    record = leads.lead_delete(lead, by=owner)
    assert not Lead.objects.filter(pk=lead.pk).exists()
    assert Deal.objects.get(pk=deal.pk).lead_id is None  # the deal stays, unlinked
    lead_type = ContentType.objects.get_for_model(Lead)
    assert not TimelineEntry.objects.filter(content_type=lead_type, object_id=lead.pk).exists()
    fields = record.snapshot["fields"]
    assert fields["title"] == "Лид на удаление" and fields["niche"]["name"] == ref("Niche").name
    assert fields["responsible"] == {"id": owner.pk, "name": str(owner)}
    assert [e["text"] for e in record.snapshot["timeline"] if e["kind"] == "comment"] == ["Звонил, просили перезвонить"]
    note = timeline.entries(company).first()
    assert "Лид на удаление" in note.text and note.author == owner  # the company's timeline shows it


def test_a_deleted_deal_takes_its_product_rows_and_leaves_its_contacts(owner):
    contact = make_contact(owner)
    deal = DealFactory(responsible=owner, title="Сделка на удаление")
    deal.contacts.add(contact)
    deals.deal_set_products(deal, rows=[(ref("Product"), Decimal("2"), Decimal("1000"))], by=owner)

    record = deals.deal_delete(deal, by=owner)
    assert not DealProduct.objects.filter(deal_id=deal.pk).exists()
    assert Contact.objects.filter(pk=contact.pk).exists()
    assert record.snapshot["fields"]["contacts"] == [{"id": contact.pk, "name": contact.full_name}]
    assert record.scope == f"pipeline:{deal.pipeline_id}"


def test_a_company_with_deals_is_refused_and_one_without_goes_with_its_phones(owner):
    busy = make_company(owner, name="ООО «С делами»")
    DealFactory(responsible=owner, company=busy, title="Текущая сделка")
    with pytest.raises(DeletionRefused, match="Текущая сделка"):
        clients.company_delete(busy, by=owner)
    assert Company.objects.filter(pk=busy.pk).exists() and not DeletionRecord.objects.exists()

    free = make_company(owner, name="ООО «Без дел»", phones=["+79121112233"])
    lead = LeadFactory(responsible=owner, company=free)
    contact = make_contact(owner, companies=[free])
    record = clients.company_delete(free, by=owner)
    assert record.snapshot["communications"][0]["value"] == "+79121112233"
    assert not Communication.objects.filter(value="+79121112233").exists()
    assert Lead.objects.get(pk=lead.pk).company_id is None  # the lead keeps its own copy of the requisites
    assert not Contact.objects.get(pk=contact.pk).companies.exists()


def test_a_deleted_contact_leaves_its_deals(owner):
    contact = make_contact(owner, first_name="Уходящий")
    deal = DealFactory(responsible=owner)
    deal.contacts.add(contact)
    clients.contact_delete(contact, by=owner)
    assert not deal.contacts.exists() and Deal.objects.filter(pk=deal.pk).exists()


def test_deletion_records_are_read_at_the_deleted_records_level(owner, teammate, outsider, head, crm_admin):
    leads.lead_delete(LeadFactory(responsible=owner, title="Свой"), by=owner)
    leads.lead_delete(LeadFactory(responsible=outsider, title="Из группы 2"), by=outsider)
    titles = lambda user: set(deletion_records(user).values_list("title", flat=True))  # noqa: E731
    assert titles(owner) == {"Свой"}
    assert titles(teammate) == set()
    assert titles(head) == titles(crm_admin) == {"Свой", "Из группы 2"}


def test_deletion_records_follow_the_per_pipeline_levels(owner, org):
    from accounts.models import Permission, Role
    from tests.factories import COLD, GENERAL, UserFactory, pipeline

    role = Role.objects.create(name="Только холодные")
    Permission.objects.create(role=role, entity="deal", action="view", scope=f"pipeline:{pipeline(COLD).pk}", level=40)
    cold_only = UserFactory(department=org["group2"])
    cold_only.roles.add(role)
    deals.deal_delete(DealFactory(responsible=owner, title="Холодная", pipeline=pipeline(COLD)), by=owner)
    deals.deal_delete(DealFactory(responsible=owner, title="Общая", pipeline=pipeline(GENERAL)), by=owner)
    assert set(deletion_records(cold_only).values_list("title", flat=True)) == {"Холодная"}
