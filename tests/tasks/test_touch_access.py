"""Who may plan touches on which records, and whose touches a card shows."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from clients import services as clients
from tasks_app import services
from tasks_app.models import Binding, Kind, Task
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def call(responsible, records, *, by, title="Звонок"):
    return services.task_create(data={"kind": Kind.CALL, "title": title, "responsible": responsible,
                                      "deadline": timezone.now() + timedelta(days=1)}, by=by, records=records)


def test_a_manager_cannot_bind_a_touch_to_a_record_he_cannot_see(owner, outsider):
    lead = LeadFactory(responsible=owner)
    with pytest.raises(PermissionDenied):
        call(outsider, [lead], by=outsider)
    assert not Task.objects.exists() and not Binding.objects.exists()
    lead.refresh_from_db()
    assert lead.next_touch_date is None


def test_a_head_plans_on_his_managers_lead_for_the_manager(client, head, owner):
    lead = LeadFactory(responsible=owner)
    client.force_login(head)
    page = client.get(reverse("tasks:touch_plan", args=["leads.lead", lead.pk]), **HTMX).content.decode()
    assert f'<option value="{owner.pk}" selected>' in page
    response = client.post(reverse("tasks:touch_plan", args=["leads.lead", lead.pk]),
                           {"kind": "call", "day": "2030-03-01", "at": "09:30", "responsible": owner.pk}, **HTMX)
    assert response.status_code == 200
    task = Task.objects.get()
    assert (task.creator, task.responsible) == (head, owner)


def test_the_card_shows_only_the_touches_the_reader_may_see(client, owner, outsider):
    """A task of another department's manager bound to my lead (by the system, say) is not
    in my panel: the panel reads through the access gate (the lead's history, which is the
    lead's, still says it was planned)."""
    lead = LeadFactory(responsible=owner)
    call(owner, [lead], by=owner, title="Мой звонок")
    call(outsider, [lead], by=None, title="Чужая задача")
    client.force_login(owner)
    page = client.get(reverse("leads:detail", args=[lead.pk])).content.decode()
    panel = page[page.index('data-testid="touches-panel"'):page.index("</section>", page.index('data-testid="touches-panel"'))]
    assert "Мой звонок" in panel and "Чужая задача" not in panel


def test_company_cards_have_the_panel_too(client, owner):
    company = clients.company_create(data={"name": "ООО «Ромашка»", "responsible": owner}, by=owner)
    call(owner, [company], by=owner, title="Встреча с бухгалтером")
    client.force_login(owner)
    page = client.get(company.get_absolute_url()).content.decode()
    assert 'data-testid="touches-panel"' in page and "Встреча с бухгалтером" in page
    assert reverse("tasks:touch_plan", args=["clients.company", company.pk]) in page


@pytest.mark.parametrize("persona", ["owner", "teammate", "outsider", "head", "crm_admin"])
def test_the_touches_of_some_responsibles_are_the_gated_touches_of_theirs_for_every_persona(personas, persona):
    """tasks_app.selectors.touches_of drops the gate where the reader's level opens all of theirs:
    the same touches as the gated ones, whoever asks about whom — a task the reader only observes
    included, where his level does not reach its responsible."""
    from accounts.models import User
    from tasks_app import selectors

    owner, teammate, outsider, head = (personas[p] for p in ("owner", "teammate", "outsider", "head"))
    for who in (owner, teammate, outsider):
        call(who, [LeadFactory(responsible=who)], by=who, title=f"Звонок {who.username}")
    watched = call(outsider, [LeadFactory(responsible=outsider)], by=outsider, title="Наблюдаю")
    watched.observers.add(owner)
    call(owner, [], by=owner, title="Без записи")  # no record: not a touch
    reader = User.objects.get(pk=personas[persona].pk)
    for responsibles in ({reader.pk}, {owner.pk}, {owner.pk, teammate.pk}, {outsider.pk}, {owner.pk, outsider.pk},
                         {head.pk}, None):
        gated = selectors.touches(reader)
        if responsibles is not None:
            gated = gated.filter(responsible_id__in=responsibles)
        assert set(selectors.touches_of(reader, responsibles)) == set(gated), responsibles
    # The observer's own way in, where his level does not reach the responsible.
    assert list(selectors.touches_of(User.objects.get(pk=owner.pk), {outsider.pk})) == [watched]
