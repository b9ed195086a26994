"""Background work of the analytics (Django's tasks API; the worker is `manage.py db_worker`)."""

from __future__ import annotations

from django_tasks import task

from . import history


@task()
def recount_stage(state: str) -> int:
    """A deal stage's meaning was edited or the stage deleted: its deals' closed marks recounted
    (analytics.history.recount_stage); returns how many deals."""
    return history.recount_stage(state)
