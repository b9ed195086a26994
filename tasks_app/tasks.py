"""Background tasks of tasks_app (Django's tasks API; the worker is `manage.py db_worker`)."""

from __future__ import annotations

from django.utils.translation import gettext_noop
from django_tasks import task

from crm import timeline
from notifications import services as notifications
from notifications.models import Kind as N

from .models import Task


def _current(task_id: int, stamp: str) -> Task | None:
    """The task if the reminder still applies: active, and its deadline the one it was made for."""
    found = Task.objects.select_related("responsible", "creator").filter(pk=task_id).first()
    if found is None or not found.is_active or found.deadline is None or found.deadline.isoformat() != stamp:
        return None
    return found


@task()
def deadline_near(task_id: int, stamp: str) -> bool:
    found = _current(task_id, stamp)
    if found is None:
        return False
    notifications.notify(found.responsible, N.DEADLINE_NEAR,
                         timeline.message(gettext_noop("Скоро крайний срок: %(record)s"), record=found.title),
                         record=found, key=f"deadline_near:{task_id}:{stamp}")
    return True


@task()
def deadline_passed(task_id: int, stamp: str) -> bool:
    """The responsible and (if another person) the creator learn that the deadline passed."""
    found = _current(task_id, stamp)
    if found is None:
        return False
    message = timeline.message(gettext_noop("Крайний срок прошёл: %(record)s"), record=found.title)
    for user in {found.responsible, found.creator} - {None}:
        notifications.notify(user, N.DEADLINE_PASSED, message, record=found, key=f"deadline_passed:{task_id}:{stamp}")
    return True
