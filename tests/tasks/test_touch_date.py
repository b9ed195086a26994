"""«Дата следующего касания» and the planned touch are one thing, end to end on the lead card:
the create form, the card's in-place group edit, the move dialog that requires the date, the
«Дела» panel — and a touch planned by htmx never makes the card's open form stale or wrong."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.models import TimelineEntry
from leads import services as leads
from leads.forms import LeadForm, group_by_slug
from leads.models import Lead, Requirement, Status
from tasks_app.models import ACTIVE, Kind, Task
from tests.factories import LeadFactory, ref
from tests.leads.conftest import decision_maker_data, decision_maker_m2m, qualification_data

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
GROUP = "decision-maker"


def html(response):
    return response.content.decode()


@pytest.fixture
def lead(owner):
    return LeadFactory(title="Лид Ромашка", responsible=owner)


def active_touches(lead):
    return Task.objects.filter(bindings__object_id=lead.pk, status__in=ACTIVE).order_by("deadline")


def group_data(lead, **changes):
    """What the card's in-place form of the «Выход на ЛПР» group posts, as it was rendered for
    `lead` (the hidden initial of the date included), with `changes` typed in."""
    form = LeadForm(instance=lead, group=group_by_slug(GROUP))
    data = {}
    for name, field in form.fields.items():
        value = form[name].value()
        if isinstance(value, list | tuple):
            data[name] = [str(v) for v in value]
        elif isinstance(value, date):
            data[name] = value.isoformat()
        elif isinstance(value, bool):
            if value:
                data[name] = "on"
        elif value is not None:
            data[name] = str(value)
        if field.show_hidden_initial:
            data[f"initial-{name}"] = data.get(name, "")
    data.pop("save_anyway", None)
    data.update(changes)
    return data


def plan_on_card(client, lead, day: date):
    return client.post(reverse("tasks:touch_plan", args=["leads.lead", lead.pk]),
                       {"kind": "call", "title": "Звонок", "day": day.isoformat(), "at": "11:00",
                        "responsible": lead.responsible_id, "card": f"leads.lead:{lead.pk}"}, **HTMX)


def test_the_field_says_it_is_the_next_planned_touch(client, owner, lead):
    client.force_login(owner)
    for url in (reverse("leads:create"), reverse("leads:edit", args=[lead.pk])):
        assert "Дата ближайшего запланированного дела" in html(client.get(url)), url
    page = html(client.get(reverse("leads:group_edit", args=[lead.pk, GROUP]), **HTMX))
    assert "Дата ближайшего запланированного дела" in page and 'name="initial-next_touch_date"' in page


def test_the_create_form_with_a_date_plans_a_call_then(client, owner):
    client.force_login(owner)
    day = timezone.localdate() + timedelta(days=3)
    response = client.post(reverse("leads:create"), {
        "title": "Новый", "source": ref("Source", "Контур.Компас").pk, "amount": "0", "currency": "RUB",
        "company_name": "ООО «Новый»", "company_phone": "8 (880) 000-00-07", "contact_phone_type": "work",
        "responsible": owner.pk, "next_touch": "Позвонить директору\nи обсудить демо", "next_touch_date": day.isoformat()})
    assert response.status_code == 302
    lead = Lead.objects.get(title="Новый")
    touch = active_touches(lead).get()
    assert (touch.kind, touch.title, timezone.localtime(touch.deadline).date()) == (Kind.CALL, "Позвонить директору", day)


def test_editing_the_date_on_the_card_moves_the_touch(client, owner, lead):
    client.force_login(owner)
    first = timezone.localdate() + timedelta(days=1)
    plan_on_card(client, lead, first)
    later = first + timedelta(days=5)
    lead.refresh_from_db()
    response = client.post(reverse("leads:group_edit", args=[lead.pk, GROUP]),
                           group_data(lead, next_touch_date=later.isoformat()), **HTMX)
    assert response.status_code == 200 and 'data-testid="group-form"' not in html(response)
    touch = active_touches(lead).get()
    assert timezone.localtime(touch.deadline).date() == later
    assert timezone.localtime(touch.deadline).hour == 11  # the time planned stays
    lead.refresh_from_db()
    assert lead.next_touch_date == later


def test_clearing_the_date_while_a_touch_is_planned_keeps_it_and_says_why(client, owner, lead):
    client.force_login(owner)
    day = timezone.localdate() + timedelta(days=2)
    plan_on_card(client, lead, day)
    lead.refresh_from_db()
    response = client.post(reverse("leads:group_edit", args=[lead.pk, GROUP]),
                           group_data(lead, next_touch_date=""), **HTMX)
    assert 'data-testid="touch-date-kept"' in html(response)
    assert "Завершите или перенесите его" in html(response)
    lead.refresh_from_db()
    assert lead.next_touch_date == day and active_touches(lead).count() == 1
    # The edit page says it too.
    lead.refresh_from_db()
    data = {**group_data(lead, next_touch_date=""), "title": lead.title, "source": lead.source_id, "amount": "0",
            "currency": "RUB", "company_name": lead.company_name, "company_phone": lead.company_phone,
            "responsible": owner.pk, "contact_phone_type": "work", "version": lead.version}
    response = client.post(reverse("leads:edit", args=[lead.pk]), data, follow=True)
    assert "Завершите или перенесите его" in html(response)
    lead.refresh_from_db()
    assert lead.next_touch_date == day


def test_a_touch_planned_meanwhile_neither_stales_nor_is_overwritten_by_the_open_form(client, owner, lead):
    """The card's group form was opened showing the date of a call in a week; a call tomorrow is
    then planned from the «Дела» panel; saving the form (another field edited) is not refused
    as stale and does not move tomorrow's call to the date the form showed."""
    client.force_login(owner)
    week = timezone.localdate() + timedelta(days=7)
    plan_on_card(client, lead, week)
    lead.refresh_from_db()
    opened = group_data(lead, training_info="Тренинг в пятницу")  # the form as opened now
    tomorrow = timezone.localdate() + timedelta(days=1)
    plan_on_card(client, lead, tomorrow)
    response = client.post(reverse("leads:group_edit", args=[lead.pk, GROUP]), opened, **HTMX)
    assert response.status_code == 200 and "уже изменил" not in html(response)
    assert 'data-testid="group-form"' not in html(response)
    lead.refresh_from_db()
    assert lead.training_info == "Тренинг в пятницу"
    assert lead.next_touch_date == tomorrow
    assert [timezone.localtime(t.deadline).date() for t in active_touches(lead)] == [tomorrow, week]
    changed = [c["name"] for e in TimelineEntry.objects.filter(kind="change", object_id=lead.pk)
               for c in e.data.get("changes", [])]
    assert "next_touch_date" not in changed


def test_the_move_dialog_requiring_the_date_plans_the_touch(client, owner, lead):
    Requirement.objects.get_or_create(status=Status.DECISION_MAKER, key="next_touch_date")
    leads.lead_update(lead, data={**qualification_data(), **decision_maker_data()}, m2m=decision_maker_m2m(),
                      by=owner, version=lead.version)
    client.force_login(owner)
    assert not active_touches(lead).exists()
    page = html(client.post(reverse("leads:move", args=[lead.pk]), {"to": Status.DECISION_MAKER}, **HTMX))
    assert 'name="next_touch_date"' in page
    day = timezone.localdate() + timedelta(days=4)
    response = client.post(reverse("leads:move", args=[lead.pk]),
                           {"to": Status.DECISION_MAKER, "dialog": "1", "next_touch_date": day.isoformat(),
                            "pinned_comment": "Разведка: 5 магазинов"}, **HTMX)
    assert response.status_code == 200
    lead.refresh_from_db()
    assert lead.status == Status.DECISION_MAKER and lead.next_touch_date == day
    touch = active_touches(lead).get()
    assert timezone.localtime(touch.deadline).date() == day


def test_completing_the_touch_on_the_card_advances_the_date_or_clears_it(client, owner, lead):
    client.force_login(owner)
    first, second = (timezone.localdate() + timedelta(days=d) for d in (1, 6))
    plan_on_card(client, lead, first)
    plan_on_card(client, lead, second)
    touch = active_touches(lead).first()
    client.post(reverse("tasks:touch_complete", args=[touch.pk]), {"skip_next": "on"}, **HTMX)
    lead.refresh_from_db()
    assert lead.next_touch_date == second
    client.post(reverse("tasks:touch_complete", args=[active_touches(lead).get().pk]), {"skip_next": "on"}, **HTMX)
    lead.refresh_from_db()
    assert lead.next_touch_date is None


def test_the_card_group_showing_the_date_reloads_on_touches_changed(client, owner, lead):
    client.force_login(owner)
    page = html(client.get(reverse("leads:detail", args=[lead.pk])))
    section = page[page.index(f'id="group-{GROUP}"'):]
    section = section[:section.index(">")]
    assert 'hx-trigger="touchesChanged from:body"' in section
    assert reverse("leads:group", args=[lead.pk, GROUP]) in section
