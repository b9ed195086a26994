"""Background work of the disk (Django's tasks API; the worker is `manage.py db_worker`)."""

from __future__ import annotations

from django_tasks import task

from . import services


@task()
def purge_expired_trash() -> int:
    """Empties what stayed in «Корзина» longer than DISK_TRASH_DAYS; idempotent (run it daily,
    e.g. from cron: `manage.py disk_purge_trash`, or enqueue it)."""
    return services.purge_expired()
