"""Background tasks of tasks_app (Django's tasks API; the worker is `manage.py db_worker`)."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext_noop
from django_tasks import task

from crm import timeline
from notifications import services as notifications
from notifications.models import Kind as N

from .models import Task
from .reminders import stamp


def _current(task_id: int, made_for: str) -> Task | None:
    """The task if the reminder still applies: active, and its deadline the one it was made for."""
    found = Task.objects.select_related("responsible", "creator").filter(pk=task_id).first()
    if found is None or not found.is_active or found.deadline is None or stamp(found.deadline) != made_for:
        return None
    return found


@task()
def deadline_near(task_id: int, made_for: str) -> bool:
    found = _current(task_id, made_for)
    if found is None or found.deadline <= timezone.now():
        # A worker that was down wakes up after the deadline: «скоро» would be wrong, and the
        # overdue notice is queued for that moment anyway.
        return False
    notifications.notify(found.responsible, N.DEADLINE_NEAR,
                         timeline.message(gettext_noop("Скоро крайний срок: %(record)s"), record=found.title),
                         record=found, key=f"deadline_near:{task_id}:{made_for}")
    return True


@task()
def deadline_passed(task_id: int, made_for: str) -> bool:
    """The responsible and (if another person) the creator learn that the deadline passed."""
    found = _current(task_id, made_for)
    if found is None:
        return False
    message = timeline.message(gettext_noop("Крайний срок прошёл: %(record)s"), record=found.title)
    for user in {found.responsible, found.creator} - {None}:
        notifications.notify(user, N.DEADLINE_PASSED, message, record=found, key=f"deadline_passed:{task_id}:{made_for}")
    return True
