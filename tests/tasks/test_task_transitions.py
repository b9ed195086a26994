"""Every transition and every role through the card's buttons (tasks:transition): who sees which
button, who may press it, and the Russian message of a refusal (issue 9 §Standards)."""

from __future__ import annotations

import threading

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.urls import reverse

from tasks_app import services
from tasks_app.models import Status, Task
from tests.factories import UserFactory
from tests.tasks.test_task_pages import make_task

pytestmark = pytest.mark.django_db

# status the task is put in before the transition → the transition → the status after it
STEPS = {
    "start": (Status.PENDING, Status.IN_PROGRESS),
    "pause": (Status.IN_PROGRESS, Status.PENDING),
    "complete": (Status.IN_PROGRESS, Status.COMPLETED),
    "defer": (Status.PENDING, Status.DEFERRED),
    "accept": (Status.AWAITING_CONTROL, Status.COMPLETED),
    "send_back": (Status.AWAITING_CONTROL, Status.PENDING),
    "renew": (Status.COMPLETED, Status.PENDING),
}
ROLE_MAY = {
    "responsible": {"start", "pause", "complete", "defer", "renew"},
    "creator": {"complete", "defer", "accept", "send_back", "renew"},
    "coexecutor": set(),
    "observer": set(),
    "supervisor": set(services.ALLOWED),
}


@pytest.fixture
def cast(org, owner, teammate, head):
    """A task created by a colleague for `owner`, with a co-executor and an observer; the head of
    sales supervises them all."""
    creator = UserFactory(username="creator", last_name="Постановщиков", department=org["group1"], role="Менеджер")
    coexecutor = teammate
    observer = UserFactory(username="observer", last_name="Наблюдаев", department=org["group2"], role="Менеджер")
    return {"responsible": owner, "creator": creator, "coexecutor": coexecutor, "observer": observer,
            "supervisor": head}


def task_in(cast, status: Status, needs_acceptance: bool = False) -> Task:
    task = make_task(cast["creator"], cast["responsible"], coexecutors=[cast["coexecutor"]],
                     observers=[cast["observer"]], needs_acceptance=needs_acceptance)
    Task.objects.filter(pk=task.pk).update(status=status)  # the set-up, not the thing tested
    task.refresh_from_db()
    return task


def press(client, task, name, **data):
    return client.post(reverse("tasks:transition", args=[task.pk]), {"name": name, **data})


def said(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.mark.parametrize("role", list(ROLE_MAY))
@pytest.mark.parametrize("name", list(STEPS))
def test_it_lets_each_role_do_exactly_its_transitions(client, cast, role, name):
    source, target = STEPS[name]
    task = task_in(cast, source)
    client.force_login(cast[role])
    card = client.get(reverse("tasks:detail", args=[task.pk])).content.decode()
    response = press(client, task, name)
    task.refresh_from_db()
    assert response.status_code == 302
    label = services.TRANSITION_LABELS[name]
    if name in ROLE_MAY[role]:
        assert f'data-testid="task-do-{name}"' in card
        assert task.status == target
        assert any("Готово" in m for m in said(response))
    else:
        assert f'data-testid="task-do-{name}"' not in card
        assert task.status == source
        assert said(response) == [f"«{label}» в этой задаче вам недоступно."]


@pytest.mark.parametrize("name", list(STEPS))
def test_an_outsider_gets_not_found_and_changes_nothing(client, cast, outsider, name):
    source, _target = STEPS[name]
    task = task_in(cast, source)
    client.force_login(outsider)
    assert client.get(reverse("tasks:detail", args=[task.pk])).status_code == 404
    assert press(client, task, name).status_code == 404
    task.refresh_from_db()
    assert task.status == source


@pytest.mark.parametrize(("name", "status"), [
    ("start", Status.COMPLETED), ("complete", Status.COMPLETED), ("accept", Status.PENDING),
    ("send_back", Status.IN_PROGRESS), ("renew", Status.IN_PROGRESS), ("pause", Status.PENDING),
])
def test_a_transition_the_status_does_not_allow_is_refused_in_russian(client, cast, name, status):
    task = task_in(cast, status)
    client.force_login(cast["supervisor"])
    response = press(client, task, name)
    label = services.TRANSITION_LABELS[name]
    assert said(response) == [f"Нельзя «{label}»: задача в статусе «{status.label}»."]
    task.refresh_from_db()
    assert task.status == status


@pytest.mark.parametrize("name", ["", "delete", "__init__", "x" * 300])
def test_an_unknown_action_is_a_message_not_a_500(client, cast, name):
    task = task_in(cast, Status.PENDING)
    client.force_login(cast["responsible"])
    response = press(client, task, name)
    assert response.status_code == 302 and said(response) == ["Неизвестное действие с задачей."]


def test_completing_with_acceptance_waits_for_the_creator_who_accepts_or_returns(client, cast):
    task = task_in(cast, Status.IN_PROGRESS, needs_acceptance=True)
    client.force_login(cast["responsible"])
    press(client, task, "complete", result="КП отправлено")
    task.refresh_from_db()
    assert task.status == Status.AWAITING_CONTROL and task.result == "КП отправлено"
    page = client.get(reverse("tasks:detail", args=[task.pk])).content.decode()
    assert "КП отправлено" in page and 'data-testid="task-do-accept"' not in page
    client.force_login(cast["creator"])
    press(client, task, "send_back")
    task.refresh_from_db()
    assert task.status == Status.PENDING
    client.force_login(cast["responsible"])
    press(client, task, "complete")
    client.force_login(cast["creator"])
    press(client, task, "accept")
    task.refresh_from_db()
    assert task.status == Status.COMPLETED


def test_a_result_longer_than_allowed_is_refused(client, cast):
    task = task_in(cast, Status.IN_PROGRESS)
    client.force_login(cast["responsible"])
    response = press(client, task, "complete", result="x" * 5001)
    assert any("5000" in m for m in said(response))
    task.refresh_from_db()
    assert task.status == Status.IN_PROGRESS


@pytest.mark.django_db(transaction=True)
def test_two_completes_at_once_one_wins_and_the_other_is_told(seeded_defaults, org):
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL; SQLite serialises writers anyway")
    boss = UserFactory(username="boss", department=org["sales"], role="Руководитель отдела продаж")
    worker = UserFactory(username="worker", department=org["group1"], role="Менеджер")
    task = make_task(boss, worker)
    barrier, outcomes = threading.Barrier(2), []

    def complete(user, result):
        from django.db import connections

        try:
            barrier.wait()
            services.task_transition(Task.objects.get(pk=task.pk), "complete", by=user, result=result)
            outcomes.append("done")
        except services.TaskError as exc:
            outcomes.append(str(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=complete, args=(worker, "Сделал я")),
               threading.Thread(target=complete, args=(boss, "Сделала я"))]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert sorted(outcomes) == ["done", "Нельзя «Завершить»: задача в статусе «Завершена»."]
    task.refresh_from_db()
    assert task.status == Status.COMPLETED and task.result in ("Сделал я", "Сделала я")
