"""Notifications about tasks and touches: «поставил(а) вам задачу», completed, accepted, returned,
the deadline reminders, comments on a task (its responsible, creator and co-executors; mentions as
for any record); each kind can be chosen by e-mail, sent by the background task, and opens the task
from the bell's list."""

import datetime as dt

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from crm import timeline
from notifications import selectors, services
from notifications.models import OFFERED, Kind, Notification
from tasks_app import reminders
from tasks_app import services as tasks
from tasks_app.models import Kind as TaskKind
from tasks_app.models import Task
from tasks_app.tasks import deadline_near, deadline_passed

pytestmark = pytest.mark.django_db


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """Run the after-commit work (notifications, e-mails through the immediate task backend)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def make(by, responsible, creator=None, **data):
    return tasks.task_create(data={"title": "Подготовить КП для «Альфы»", "responsible": responsible,
                                   **({"creator": creator} if creator else {}), **data}, by=by)


def told(user) -> list[tuple[str, str]]:
    return [(n.kind, str(n)) for n in selectors.own(user).order_by("pk")]


# --- «Поставлена задача» ---

def test_a_task_set_for_someone_tells_him_and_reads_as_a_task(commit, owner, head):
    with commit():
        task = make(head, owner)
    assert told(owner) == [(Kind.ASSIGNED, "Смирнова Ольга поставил(а) вам задачу: Подготовить КП для «Альфы»")]
    made = selectors.own(owner).get()
    assert made.record == task and made.url == task.get_absolute_url() and made.actor == head
    assert len(mail.outbox) == 1 and "поставил(а) вам задачу" in mail.outbox[0].subject
    assert task.get_absolute_url() in mail.outbox[0].body
    assert told(head) == []


@pytest.mark.parametrize("kind, text", [
    (TaskKind.CALL, "Смирнова Ольга запланировал(а) вам звонок: Подготовить КП для «Альфы»"),
    (TaskKind.MEETING, "Смирнова Ольга запланировал(а) вам встречу: Подготовить КП для «Альфы»"),
])
def test_a_touch_reads_as_a_call_or_a_meeting(commit, owner, head, kind, text):
    with commit():
        make(head, owner, kind=kind)
    assert told(owner) == [(Kind.ASSIGNED, text)]


def test_ones_own_task_tells_nobody(commit, owner):
    with commit():
        make(owner, owner)
    assert not Notification.objects.exists()


def test_the_system_acting_for_a_creator_names_him(commit, owner, head):
    """A touch planned by the system for someone (a lead's «Дата следующего касания» edited by the head)."""
    with commit():
        make(None, owner, creator=head)
    assert told(owner) == [(Kind.ASSIGNED, "Смирнова Ольга поставил(а) вам задачу: Подготовить КП для «Альфы»")]


def test_an_automation_rules_task_is_the_responsibles_own_plan_and_tells_nobody(commit, owner):
    from leads import services as leads
    from leads.models import Status
    from tasks_app.models import AutomationRule
    from tests.factories import LeadFactory

    AutomationRule.objects.create(name="Звонок", entity="leads.lead", state=Status.FIRST_CALL, title="Позвонить")
    lead = LeadFactory(responsible=owner)
    with commit():
        leads.lead_move(lead, to=Status.FIRST_CALL, by=owner)
    assert Task.objects.filter(title="Позвонить").exists()
    assert not Notification.objects.exists()


def test_handing_a_task_to_another_tells_the_new_responsible(commit, owner, teammate, head):
    task = make(head, owner)
    Notification.objects.all().delete()
    with commit():
        tasks.task_update(task, data={"responsible": teammate}, by=head)
    assert [k for k, _text in told(teammate)] == [Kind.ASSIGNED] and told(owner) == []


# --- completed, accepted, returned ---

def test_a_completed_task_tells_its_creator_in_the_bell_and_by_email(commit, owner, head):
    task = make(head, owner)
    mail.outbox.clear()
    with commit():
        tasks.task_transition(task, "complete", by=owner)
    assert told(head) == [(Kind.TASK_COMPLETED, "Иванов Пётр завершил(а) задачу: Подготовить КП для «Альфы»")]
    assert selectors.own(head).get().url == task.get_absolute_url()
    assert [m.to for m in mail.outbox] == [[head.email]] and "завершил(а) задачу" in mail.outbox[0].subject


def test_accepting_and_returning_the_work_tell_the_responsible(commit, owner, head):
    task = make(head, owner, needs_acceptance=True)
    tasks.task_transition(task, "complete", by=owner)
    Notification.objects.all().delete()
    mail.outbox.clear()
    services.set_email_kinds(owner, [k for k in OFFERED if k != Kind.TASK_RETURNED])
    with commit():
        tasks.task_transition(task, "send_back", by=head)
    assert told(owner) == [(Kind.TASK_RETURNED, "Смирнова Ольга вернул(а) задачу на доработку: Подготовить КП для «Альфы»")]
    assert mail.outbox == []  # muted by e-mail, still under the bell
    tasks.task_transition(task, "complete", by=owner)
    with commit():
        tasks.task_transition(task, "accept", by=head)
    assert told(owner)[-1] == (Kind.TASK_COMPLETED, "Смирнова Ольга принял(а) работу по задаче: Подготовить КП для «Альфы»")
    assert [m.to for m in mail.outbox] == [[owner.email]] and "принял(а) работу" in mail.outbox[0].subject


# --- the deadline, by e-mail through the background task ---

def test_the_deadline_notices_are_emailed_unless_muted(commit, owner, head):
    deadline = timezone.now() - dt.timedelta(minutes=1)
    task = make(head, owner, deadline=deadline)
    mail.outbox.clear()
    services.set_email_kinds(head, [k for k in OFFERED if k != Kind.DEADLINE_PASSED])
    with commit():
        assert deadline_passed.call(task.pk, reminders.stamp(deadline)) is True
    assert [m.to for m in mail.outbox] == [[owner.email]]  # the creator muted this kind
    assert "Крайний срок прошёл: Подготовить КП для «Альфы»" in mail.outbox[0].subject
    assert told(head) == [(Kind.DEADLINE_PASSED, "Крайний срок прошёл: Подготовить КП для «Альфы»")]  # still in the bell


def test_the_deadline_near_reminder_is_emailed(commit, owner, head):
    deadline = timezone.now() + dt.timedelta(minutes=50)
    task = make(head, owner, deadline=deadline)
    mail.outbox.clear()
    with commit():
        deadline_near.call(task.pk, reminders.stamp(deadline))
    assert [m.to for m in mail.outbox] == [[owner.email]]
    assert "Скоро крайний срок" in mail.outbox[0].subject


# --- comments on a task ---

@pytest.fixture
def team_task(owner, teammate, outsider, head):
    """The head's task for the owner, the teammate helping, the outsider watching."""
    return tasks.task_create(data={"title": "Подготовить КП для «Альфы»", "responsible": owner}, by=head,
                             coexecutors=[teammate], observers=[outsider])


def test_a_comment_on_a_task_tells_its_responsible_creator_and_coexecutors_but_not_the_author(
        commit, team_task, owner, teammate, outsider, head):
    Notification.objects.all().delete()
    mail.outbox.clear()
    with commit():
        timeline.add_comment(team_task, owner, "КП готово, проверьте")
    text = "Иванов Пётр прокомментировал(а) задачу: Подготовить КП для «Альфы»"
    assert told(head) == [(Kind.COMMENT, text)] and told(teammate) == [(Kind.COMMENT, text)]
    assert told(owner) == [] and told(outsider) == []  # the author; an observer reads when he looks
    assert selectors.own(head).get().url == team_task.get_absolute_url()
    assert sorted(m.to[0] for m in mail.outbox) == sorted([head.email, teammate.email])


def test_a_mention_on_a_task_is_a_mention_not_also_a_comment(commit, team_task, owner, teammate, outsider, head):
    Notification.objects.all().delete()
    with commit():
        timeline.add_comment(team_task, teammate, "@Смирнова и @Сидоров, посмотрите")
    assert told(head) == [(Kind.MENTION, "Петрова Мария упомянул(а) вас: Подготовить КП для «Альфы»")]
    assert told(outsider) == [(Kind.MENTION, "Петрова Мария упомянул(а) вас: Подготовить КП для «Альфы»")]
    assert [k for k, _text in told(owner)] == [Kind.COMMENT] and told(teammate) == []


def test_a_mention_of_someone_who_cannot_see_the_task_tells_him_nothing(commit, owner, outsider):
    task = make(owner, owner)
    with commit():
        timeline.add_comment(task, owner, "@Сидоров, это не вам")
    assert told(outsider) == []


def test_a_comment_on_a_lead_still_tells_its_responsible_as_before(commit, owner, teammate):
    from tests.factories import LeadFactory

    lead = LeadFactory(responsible=owner, title="Лид «Бета»")
    with commit():
        timeline.add_comment(lead, teammate, "Перезвонил")
    assert told(owner) == [(Kind.COMMENT, "Петрова Мария прокомментировал(а) вашу запись: Лид «Бета»")]


# --- the choice of e-mails and the bell ---

def test_the_profile_offers_the_task_kinds_by_email(client, owner):
    client.force_login(owner)
    page = client.get(reverse("profile")).content.decode()
    for kind, label in [("task_completed", "Задача завершена"), ("task_returned", "Задача возвращена"),
                        ("deadline_near", "Скоро крайний срок"), ("deadline_passed", "Крайний срок прошёл")]:
        assert f'value="{kind}" id="email-{kind}" checked' in page and label in page
    client.post(reverse("notifications:email_kinds"), {"kinds": ["assigned", "deadline_near"]})
    assert services.wants_email(owner, Kind.DEADLINE_NEAR) and not services.wants_email(owner, Kind.DEADLINE_PASSED)
    assert not services.wants_email(owner, Kind.TASK_COMPLETED) and services.wants_email(owner, Kind.ASSIGNED)


def test_the_bell_list_shows_a_task_notification_that_opens_the_task(client, commit, owner, head,
                                                                       django_assert_max_num_queries):
    with commit():
        task = make(head, owner)
    made = selectors.own(owner).get()
    client.force_login(owner)
    with django_assert_max_num_queries(8):
        response = client.get(reverse("notifications:list"))
    assert response.status_code == 200
    page = response.content.decode().replace("&laquo;", "«").replace("&raquo;", "»")
    assert "Смирнова Ольга поставил(а) вам задачу: Подготовить КП для «Альфы»" in page and "Назначено мне" in page
    response = client.post(reverse("notifications:open", args=[made.pk]))
    assert response.status_code == 302 and response["Location"] == task.get_absolute_url()
    made.refresh_from_db()
    assert made.read_at is not None
