"""Who sees a task (issue 9 §Tasks, access): its participants whatever their level, and those
whose level covers the responsible's department — the same gate as leads (accounts.access)."""

import pytest

from accounts import access
from accounts.models import Action
from tasks_app import selectors, services

pytestmark = pytest.mark.django_db


@pytest.fixture
def task(owner, teammate, head):
    """The head gives the owner a task; the teammate observes it."""
    return services.task_create(data={"title": "Подготовить КП для «Ромашки»", "responsible": owner}, by=head,
                                observers=[teammate])


def test_it_shows_a_task_to_its_participants_and_the_responsibles_supervisors(task, personas):
    seen = {name for name, user in personas.items() if task in selectors.visible(user)}
    assert seen == {"owner", "teammate", "head", "crm_admin"}


def test_it_agrees_with_scope_for_every_persona(task, personas):
    for user in personas.values():
        assert access.can(user, Action.VIEW, task) == selectors.visible(user).filter(pk=task.pk).exists()


def test_an_observer_reads_but_may_not_change(task, teammate):
    assert access.can(teammate, Action.VIEW, task)
    assert not access.can(teammate, Action.CHANGE, task)
    assert services.available_transitions(task, teammate) == []


def test_a_coexecutor_from_another_department_sees_the_task_once(owner, outsider, head):
    task = services.task_create(data={"title": "Совместный звонок", "responsible": owner}, by=head,
                                coexecutors=[outsider], observers=[outsider])
    assert list(selectors.visible(outsider)) == [task]
    assert list(selectors.by_role(outsider, selectors.ROLE_HELPING)) == [task]


def test_a_stranger_finds_nothing(task, outsider):
    assert not selectors.visible(outsider).exists()
    assert not access.can(outsider, Action.VIEW, task)
