"""Tasks in the admin: scoped as in the CRM, read-only, «Завершить» and deletion through the services."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from tasks_app.models import Status, Task
from tests.factories import DepartmentFactory, LeadFactory, UserFactory
from tests.tasks.test_task_pages import make_task

pytestmark = pytest.mark.django_db


@pytest.fixture
def supervisor(head):
    group = Group.objects.create(name="Руководители")
    group.permissions.set(Permission.objects.filter(content_type__app_label="tasks_app"))
    head.groups.add(group)
    return head


@pytest.fixture
def stranger(org):
    marketing = DepartmentFactory(name="Отдел маркетинга", parent=org["root"])
    return UserFactory(username="stranger", last_name="Чужаков", department=marketing, role="Менеджер")


def test_the_list_shows_only_tasks_in_the_heads_reach_and_searches(client, supervisor, owner, stranger):
    make_task(owner, owner, "Задача отдела")
    make_task(stranger, stranger, "Задача маркетинга")
    client.force_login(supervisor)
    page = client.get(reverse("admin:tasks_app_task_changelist")).content.decode()
    assert "Задача отдела" in page and "Задача маркетинга" not in page
    page = client.get(reverse("admin:tasks_app_task_changelist"), {"q": "отдела"}).content.decode()
    assert "Задача отдела" in page


def test_a_task_out_of_reach_is_not_found(client, supervisor, stranger):
    task = make_task(stranger, stranger, "Задача маркетинга")
    client.force_login(supervisor)
    for name in ("admin:tasks_app_task_change", "admin:tasks_app_task_delete"):
        assert client.get(reverse(name, args=[task.pk])).status_code == 404


def test_the_change_page_is_read_only_and_names_only_visible_bindings(client, supervisor, owner, stranger):
    visible = LeadFactory(title="Лид отдела", responsible=owner)
    hidden = LeadFactory(title="Лид маркетинга", responsible=stranger)
    # Made by the system for the owner (an automation rule may bind what the owner may not see).
    task = make_task(None, owner, "Привязанная", checklist=["Пункт раз"], records=[visible, hidden])
    client.force_login(supervisor)
    page = client.get(reverse("admin:tasks_app_task_change", args=[task.pk])).content.decode()
    assert "Лид отдела" in page and "Лид маркетинга" not in page and "Пункт раз" in page
    assert 'name="title"' not in page and 'name="status"' not in page
    client.post(reverse("admin:tasks_app_task_change", args=[task.pk]), {"title": "ВЗЛОМ", "status": "completed"})
    task.refresh_from_db()
    assert task.title == "Привязанная" and task.status == Status.PENDING


def test_the_complete_action_goes_through_the_service_and_reports_refusals(client, supervisor, owner):
    open_task = make_task(owner, owner, "Открытая")
    done = make_task(owner, owner, "Уже завершена")
    Task.objects.filter(pk=done.pk).update(status=Status.COMPLETED)
    client.force_login(supervisor)
    response = client.post(reverse("admin:tasks_app_task_changelist"),
                           {"action": "complete", "_selected_action": [open_task.pk, done.pk]}, follow=True)
    page = response.content.decode()
    assert "Завершено задач: 1" in page and "«Уже завершена»: Нельзя «Завершить»" in page
    assert Task.objects.get(pk=open_task.pk).status == Status.COMPLETED


def test_deleting_goes_through_the_service(client, supervisor, owner):
    from crm.models import DeletionRecord

    task = make_task(owner, owner, "Удаляемая")
    client.force_login(supervisor)
    response = client.post(reverse("admin:tasks_app_task_delete", args=[task.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not Task.objects.filter(pk=task.pk).exists()
    assert DeletionRecord.objects.filter(title="Удаляемая", deleted_by=supervisor).exists()
