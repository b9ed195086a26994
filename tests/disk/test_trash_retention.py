"""The trash empties itself: an item deleted more than DISK_TRASH_DAYS ago is purged (rows and
bytes) by the background task, which each deletion schedules for its own time (or cron runs
`manage.py disk_purge_trash`)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone
from django_tasks import default_task_backend

from disk import services
from disk.models import File, Folder
from disk.tasks import purge_expired_trash

from .conftest import blob_keys, content

pytestmark = pytest.mark.django_db


def age(item, days: int) -> None:
    """Deleted `days` ago (and what went with it)."""
    when = timezone.now() - timedelta(days=days)
    type(item).objects.filter(pk=item.pk).update(deleted_at=when)
    File.objects.filter(deleted_with=item.pk if isinstance(item, Folder) else -1).update(deleted_at=when)


def test_it_purges_only_what_stayed_longer_than_the_retention(store, settings, owner, my_disk,
                                                            django_capture_on_commit_callbacks):
    settings.DISK_TRASH_DAYS = 30
    old_folder = services.folder_create(my_disk.root, "Старое", owner)
    old_inside = services.upload(old_folder, content("a"), "a.txt", owner)
    old_file = services.upload(my_disk.root, content("b"), "b.txt", owner)
    recent = services.upload(my_disk.root, content("c"), "c.txt", owner)
    alive = services.upload(my_disk.root, content("d"), "d.txt", owner)
    for item in (old_folder, old_file, recent):
        services.delete(item, owner)
    age(old_folder, 31)
    age(old_file, 31)
    age(recent, 29)
    with django_capture_on_commit_callbacks(execute=True):
        result = purge_expired_trash.enqueue()
    assert result.return_value == 2
    assert set(File.objects.values_list("pk", flat=True)) == {recent.pk, alive.pk}
    assert not Folder.objects.filter(pk=old_folder.pk).exists()
    assert blob_keys() == {recent.current.blob, alive.current.blob}
    assert old_inside.pk not in set(File.objects.values_list("pk", flat=True))
    # A second run finds nothing to do.
    assert purge_expired_trash.enqueue().return_value == 0


def test_it_schedules_the_purge_when_the_item_s_time_is_up(settings, owner, my_disk, django_capture_on_commit_callbacks):
    settings.DISK_TRASH_DAYS = 30
    found = services.upload(my_disk.root, content("a"), "a.txt", owner)
    with override_settings(TASKS={"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}):
        default_task_backend.clear()
        with django_capture_on_commit_callbacks(execute=True):
            services.delete(found, owner)
        [queued] = [r for r in default_task_backend.results if r.task.name == "purge_expired_trash"]
        found.refresh_from_db()
        assert queued.task.run_after - found.deleted_at == timedelta(days=30, minutes=1)


def test_it_purges_from_the_command_line_too(owner, my_disk, capsys):
    found = services.upload(my_disk.root, content("a"), "a.txt", owner)
    services.delete(found, owner)
    age(found, 400)
    call_command("disk_purge_trash")
    assert capsys.readouterr().out.strip() == "1"
    assert not File.objects.exists()
