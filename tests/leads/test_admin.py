"""The admin for supervisors: rules and reference lists are editable; lead statuses change only
through the same service as the card."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from leads import services
from leads.models import Lead, Requirement, Status
from tests.factories import LeadFactory, ref

from .conftest import qualification_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def supervisor(head):
    group = Group.objects.create(name="Руководители")
    group.permissions.set(Permission.objects.filter(content_type__app_label__in=["leads", "crm"]))
    head.groups.add(group)
    return head


def test_a_rule_added_in_the_admin_blocks_the_next_move(client, supervisor, owner):
    client.force_login(supervisor)
    response = client.post(reverse("admin:leads_requirement_add"), {"status": "qualification", "key": "company_website"})
    assert response.status_code == 302
    lead = LeadFactory(responsible=owner, **qualification_data())
    with pytest.raises(services.MissingFields) as exc:
        services.lead_move(lead, to=Status.QUALIFICATION, by=owner)
    assert [r.label for r in exc.value.requirements] == ["Сайт"]


def test_the_rule_form_offers_only_known_requirements(client, supervisor):
    client.force_login(supervisor)
    response = client.post(reverse("admin:leads_requirement_add"), {"status": "qualification", "key": "drop table"})
    assert response.status_code == 200
    assert not Requirement.objects.filter(key="drop table").exists()


def test_admin_action_moves_through_the_service_and_reports_refusals(client, supervisor, owner):
    ready = LeadFactory(responsible=owner, title="Готов", **qualification_data())
    bare = LeadFactory(responsible=owner, title="Пустой")
    client.force_login(supervisor)
    response = client.post(reverse("admin:leads_lead_changelist"),
                           {"action": "move_to_qualification", "_selected_action": [ready.pk, bare.pk]}, follow=True)
    page = response.content.decode()
    assert "Переведено лидов: 1" in page and "«Пустой»" in page and "Ниша компании" in page
    assert Lead.objects.get(pk=ready.pk).status == Status.QUALIFICATION
    assert Lead.objects.get(pk=bare.pk).status == Status.NEW


def test_the_lead_admin_is_read_only_with_search_and_history(client, supervisor, owner):
    lead = LeadFactory(responsible=owner, company_name="ООО «Ромашка»")
    services.lead_move(lead, to=Status.FIRST_CALL, by=owner)
    client.force_login(supervisor)
    other = LeadFactory(responsible=owner, company_name="ООО «Лютик»", company_phone="+79123199744")
    page = client.get(reverse("admin:leads_lead_changelist"), {"q": "Ромашка"}).content.decode()
    assert lead.title in page and other.title not in page
    # The CRM's search: a phone as people type it, which Django's LIKE on the stored number missed.
    page = client.get(reverse("admin:leads_lead_changelist"), {"q": "8 (912) 319-97-44"}).content.decode()
    assert other.title in page and lead.title not in page
    page = client.get(reverse("admin:leads_lead_change", args=[lead.pk])).content.decode()
    assert "Первый звонок" in page and 'name="title"' not in page
    assert client.get(reverse("admin:leads_lead_add")).status_code == 403


def test_a_reference_value_in_use_cannot_be_deleted(client, supervisor, owner):
    niche = ref("Niche")
    LeadFactory(responsible=owner, niche=niche)
    client.force_login(supervisor)
    page = client.post(reverse("admin:crm_niche_delete", args=[niche.pk]), {"post": "yes"}).content.decode()
    assert niche.__class__.objects.filter(pk=niche.pk).exists()
    assert "Лид" in page
