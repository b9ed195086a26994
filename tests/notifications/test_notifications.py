"""Notifications: the service (no self-notify, idempotent keys, e-mail by preference), the first
producers (assignment, comments and mentions) and the bell and list per persona."""

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from crm import timeline
from leads import services as leads
from notifications import selectors, services
from notifications.models import Kind, Notification
from notifications.tasks import send_email
from tests.factories import LeadFactory, UserFactory

pytestmark = pytest.mark.django_db


def note(text="Проверка"):
    return timeline.message("Вы назначены ответственным: %(record)s", record=text)


def test_it_notifies_the_recipient_but_never_the_actor_himself(owner, teammate):
    assert services.notify(owner, Kind.ASSIGNED, note(), actor=owner) is None
    made = services.notify(owner, Kind.ASSIGNED, note(), actor=teammate)
    assert list(selectors.own(owner)) == [made] and made.actor == teammate
    assert selectors.unread_count(teammate) == 0


def test_it_makes_one_notification_per_key(owner, teammate):
    first = services.notify(owner, Kind.DEADLINE_NEAR, note(), actor=teammate, key="task-1-near")
    again = services.notify(owner, Kind.DEADLINE_NEAR, note("другое"), actor=teammate, key="task-1-near")
    assert again.pk == first.pk and Notification.objects.count() == 1
    services.notify(owner, Kind.DEADLINE_NEAR, note(), actor=teammate, key="task-2-near")
    assert Notification.objects.count() == 2


def test_it_keeps_the_message_and_shows_it_in_the_readers_language(owner, teammate):
    made = services.notify(owner, Kind.ASSIGNED, timeline.message("Лид создан"), actor=teammate)
    assert made.message == {"msgid": "Лид создан", "params": {}}
    from django.utils import translation
    with translation.override("en"):
        assert str(made) == "Lead created"
    assert str(made) == "Лид создан"


def test_it_sends_an_email_after_the_commit_when_the_user_wants_that_kind(owner, teammate,
                                                                            django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        made = services.notify(owner, Kind.ASSIGNED, note("ООО «Ромашка»"), actor=teammate)
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [owner.email]
    assert "ООО «Ромашка»" in mail.outbox[0].subject
    made.refresh_from_db()
    assert made.emailed_at is not None
    # The task is idempotent: run again, it sends nothing more.
    assert send_email.call(made.pk) is False
    assert len(mail.outbox) == 1


def test_it_sends_no_email_for_a_muted_kind_or_without_an_address(owner, teammate, django_capture_on_commit_callbacks):
    services.set_email_kinds(owner, [Kind.MENTION])
    teammate.email = ""
    teammate.save()
    with django_capture_on_commit_callbacks(execute=True):
        services.notify(owner, Kind.ASSIGNED, note(), actor=teammate)
        services.notify(teammate, Kind.ASSIGNED, note(), actor=owner)
        services.notify(owner, Kind.MENTION, note(), actor=teammate)
    assert [m.to for m in mail.outbox] == [[owner.email]]
    assert Notification.objects.count() == 3


def test_the_profile_saves_the_email_kinds(client, owner):
    client.force_login(owner)
    page = client.get(reverse("profile")).content.decode()
    assert 'value="assigned" id="email-assigned" checked' in page
    response = client.post(reverse("notifications:email_kinds"), {"kinds": ["mention"]})
    assert response.status_code == 302
    assert not services.wants_email(owner, Kind.ASSIGNED) and services.wants_email(owner, Kind.MENTION)
    response = client.post(reverse("notifications:email_kinds"), {"kinds": ["nonsense"]}, follow=True)
    assert "Настройки писем не сохранены" in response.content.decode()
    assert services.wants_email(owner, Kind.MENTION)


# --- Producers ---

def test_it_tells_the_new_responsible_of_a_bulk_assignment_and_nobody_else(client, owner, teammate, head,
                                                                             django_capture_on_commit_callbacks):
    lead = LeadFactory(title="Лид «Альфа»", responsible=owner)
    client.force_login(head)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("leads:bulk"), {"action": "assign", "responsible": teammate.pk,
                                                      "ids": [lead.pk]})
    assert response.status_code == 302
    [made] = selectors.own(teammate)
    assert made.kind == Kind.ASSIGNED and made.record == lead and made.url == lead.get_absolute_url()
    assert str(made) == "Смирнова Ольга назначил(а) вас ответственным: Лид «Альфа»"
    assert not selectors.own(owner).exists() and not selectors.own(head).exists()


def test_a_bulk_assignment_of_many_leads_is_one_notification_that_opens_his_list(
        client, owner, teammate, head, django_capture_on_commit_callbacks):
    leads_ = [LeadFactory(title=f"Лид {n}", responsible=owner) for n in range(5)]
    client.force_login(head)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("leads:bulk"), {"action": "assign", "responsible": teammate.pk,
                                            "ids": [lead.pk for lead in leads_]})
    [made] = selectors.own(teammate)
    assert str(made) == "Смирнова Ольга назначил(а) вас ответственным — записей: 5"
    assert made.url == f"{reverse('leads:list')}?responsible={teammate.pk}"


def test_it_tells_the_responsible_of_a_created_lead_and_of_an_edit(owner, teammate, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        lead = leads.lead_create(data=dict(title="Мой лид", source=LeadFactory.build().source, company_name="Тест",
                                           company_phone="+78800000001", responsible=owner), by=owner)
    assert not Notification.objects.exists()  # his own lead: nobody to tell
    with django_capture_on_commit_callbacks(execute=True):
        leads.lead_update(lead, data={"responsible": teammate}, by=owner, version=lead.version)
    assert [n.kind for n in selectors.own(teammate)] == [Kind.ASSIGNED]


def test_a_refused_assignment_tells_no_one(owner, teammate, outsider, django_capture_on_commit_callbacks):
    lead = LeadFactory(responsible=owner)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(PermissionDenied):
        leads.lead_assign(lead, responsible=teammate, by=outsider)  # another group: no rights
    assert not Notification.objects.exists()


def test_a_deal_assignment_tells_the_new_responsible(owner, teammate, head, django_capture_on_commit_callbacks):
    from deals import services as deals
    from tests.factories import DealFactory

    deal = DealFactory(responsible=owner)
    with django_capture_on_commit_callbacks(execute=True):
        deals.deal_update(deal, data={"responsible": teammate}, by=head, version=deal.version)
    [made] = selectors.own(teammate)
    assert made.kind == Kind.ASSIGNED and made.record == deal


def test_a_mention_tells_those_who_may_see_the_record(owner, teammate, outsider, head, django_capture_on_commit_callbacks):
    lead = LeadFactory(responsible=owner)
    with django_capture_on_commit_callbacks(execute=True):
        timeline.add_comment(lead, owner, "@Смирнова посмотрите, и @сидоров тоже; @Петрова")
    # The head sees the lead; the outsider (another group) and the teammate (own records only) do not.
    assert [n.kind for n in selectors.own(head)] == [Kind.MENTION]
    assert str(selectors.own(head).get()).startswith("Иванов Пётр упомянул(а) вас")
    assert not selectors.own(outsider).exists() and not selectors.own(teammate).exists()
    assert not selectors.own(owner).exists()  # his own comment on his own lead


def test_a_comment_tells_the_records_responsible(owner, head, django_capture_on_commit_callbacks):
    lead = LeadFactory(responsible=owner)
    with django_capture_on_commit_callbacks(execute=True):
        timeline.add_comment(lead, head, "Позвоните клиенту")
    assert [n.kind for n in selectors.own(owner)] == [Kind.COMMENT]


# --- The bell and the list ---

def test_the_bell_counts_only_the_users_unread_notifications(client, personas):
    owner, teammate = personas["owner"], personas["teammate"]
    for _ in range(3):
        services.notify(owner, Kind.ASSIGNED, note(), actor=teammate)
    services.mark_read(owner, [selectors.own(owner).first().pk])
    for name, user in personas.items():
        client.force_login(user)
        response = client.get(reverse("notifications:bell"))
        assert response.status_code == 200
        count = response.content.decode()
        if name == "owner":
            assert 'data-testid="bell-count">2<' in count
        else:
            assert "bell-count" not in count


def test_the_list_shows_only_the_users_own(client, personas):
    owner = personas["owner"]
    services.notify(owner, Kind.ASSIGNED, note("Секретный лид"), actor=personas["head"])
    for name, user in personas.items():
        client.force_login(user)
        page = client.get(reverse("notifications:list")).content.decode()
        assert ("Секретный лид" in page) == (name == "owner")


def test_another_users_notification_is_a_404(client, personas):
    made = services.notify(personas["owner"], Kind.ASSIGNED, note(), actor=personas["head"])
    for name, user in personas.items():
        if name == "owner":
            continue
        client.force_login(user)
        assert client.post(reverse("notifications:open", args=[made.pk])).status_code == 404
        assert client.post(reverse("notifications:read", args=[made.pk])).status_code == 404
    made.refresh_from_db()
    assert made.read_at is None


def test_opening_an_item_marks_it_read_and_lands_on_the_record(client, owner, head, django_capture_on_commit_callbacks):
    lead = LeadFactory(responsible=head)
    with django_capture_on_commit_callbacks(execute=True):
        leads.lead_assign(lead, responsible=owner, by=head)
    made = selectors.own(owner).get()
    client.force_login(owner)
    response = client.post(reverse("notifications:open", args=[made.pk]))
    assert response.status_code == 302 and response.url == lead.get_absolute_url()
    assert selectors.unread_count(owner) == 0


def test_read_and_read_all(client, owner, teammate):
    made = [services.notify(owner, Kind.ASSIGNED, note(), actor=teammate) for _ in range(3)]
    other = services.notify(teammate, Kind.ASSIGNED, note(), actor=owner)
    client.force_login(owner)
    assert client.post(reverse("notifications:read", args=[made[0].pk])).status_code == 302
    assert selectors.unread_count(owner) == 2
    assert client.get(reverse("notifications:read_all")).status_code == 405  # a change is a POST
    response = client.post(reverse("notifications:read_all"), follow=True)
    assert "Все уведомления прочитаны" in response.content.decode()
    assert selectors.unread_count(owner) == 0
    assert selectors.unread_count(teammate) == 1 and not Notification.objects.get(pk=other.pk).read_at


def test_the_list_is_paginated_and_its_queries_do_not_grow(client, owner, teammate, django_assert_max_num_queries):
    client.force_login(owner)
    services.notify(owner, Kind.ASSIGNED, note(), actor=teammate)
    with django_assert_max_num_queries(12) as few:
        assert client.get(reverse("notifications:list")).status_code == 200
    Notification.objects.bulk_create([Notification(recipient=owner, kind=Kind.MENTION, message=note(f"Лид {i}"))
                                      for i in range(45)])
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(reverse("notifications:list"))
        assert response.status_code == 200
    page = response.content.decode()
    assert page.count('data-testid="notification"') == 20 and 'data-testid="notification-pages"' in page
    response = client.get(reverse("notifications:list"), {"page": "9999"})
    assert response.status_code == 200 and response.content.decode().count('data-testid="notification"') == 6
    assert client.get(reverse("notifications:list"), {"page": "abc"}).status_code == 200


def test_the_bell_is_in_the_top_bar(client, owner):
    client.force_login(owner)
    page = client.get(reverse("profile")).content.decode()
    assert 'data-testid="bell"' in page and reverse("notifications:bell") in page


def test_an_inactive_user_is_not_notified(owner, teammate):
    teammate.is_active = False
    teammate.save()
    assert services.notify(teammate, Kind.ASSIGNED, note(), actor=owner) is None


def test_a_user_without_email_gets_the_notification_but_no_letter(owner, django_capture_on_commit_callbacks):
    nobody = UserFactory(email="")
    with django_capture_on_commit_callbacks(execute=True):
        assert services.notify(nobody, Kind.ASSIGNED, note(), actor=owner) is not None
    assert mail.outbox == []


def test_a_move_that_hands_the_lead_over_tells_the_new_responsible(owner, teammate, head,
                                                                   django_capture_on_commit_callbacks):
    from leads.models import Status

    lead = LeadFactory(responsible=owner)
    with django_capture_on_commit_callbacks(execute=True):
        leads.lead_move(lead, to=Status.FIRST_CALL, by=head, data={"responsible": teammate})
    [made] = selectors.own(teammate)
    assert made.kind == Kind.ASSIGNED and made.record == lead
    assert not selectors.own(owner)


def test_a_move_that_hands_the_deal_over_tells_the_new_responsible(owner, teammate, head,
                                                                   django_capture_on_commit_callbacks):
    from deals import services as deals
    from deals.models import Stage
    from tests.factories import DealFactory

    deal = DealFactory(responsible=owner)
    target = Stage.objects.filter(pipeline=deal.pipeline, semantics=Stage.Semantics.IN_PROCESS).exclude(
        pk=deal.stage_id).order_by("sort").first()
    with django_capture_on_commit_callbacks(execute=True):
        deals.deal_move(deal, to=target, by=head, data={"responsible": teammate})
    [made] = selectors.own(teammate)
    assert made.kind == Kind.ASSIGNED and made.record == deal
