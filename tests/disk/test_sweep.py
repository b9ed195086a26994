"""The orphan sweep (`manage.py disk_sweep_orphans`): blobs no FileVersion names — left by an outer
transaction that rolled back after a service wrote its bytes — go once older than the grace
period; referenced and fresh ones stay; --dry-run only tells. On both stores."""

from __future__ import annotations

import io
import os
import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from disk import services
from disk.models import FileVersion

from .conftest import blob_keys, content

pytestmark = pytest.mark.django_db


def orphan(folder, owner, name: str) -> str:
    """An upload inside someone else's transaction that then rolled back: the row is gone, the
    blob stays."""
    before = blob_keys()
    with pytest.raises(RuntimeError), transaction.atomic():
        services.upload(folder, content(name), name, owner)
        raise RuntimeError("the caller failed after the upload")
    [key] = blob_keys() - before
    assert not FileVersion.objects.filter(blob=key).exists()
    return key


def test_it_removes_an_old_orphan_and_keeps_a_referenced_and_a_fresh_blob(store, owner, my_disk):
    kept = services.upload(my_disk.root, content("КП"), "КП.pdf", owner).current.blob
    old = orphan(my_disk.root, owner, "Откат.pdf")
    # S3 keeps a blob's time to the second: a second each side of the moment the grace ends.
    time.sleep(1.0)
    moment = timezone.now()
    time.sleep(1.1)
    fresh = orphan(my_disk.root, owner, "В пути.pdf")
    later = moment + timedelta(hours=24)  # `old` is past the grace then, `fresh` is not
    size = len("Откат.pdf".encode())
    assert services.sweep_orphans(dry_run=True, now=later) == [(old, size)]
    assert blob_keys() == {kept, old, fresh}  # a dry run removes nothing
    assert services.sweep_orphans(now=later) == [(old, size)]
    assert blob_keys() == {kept, fresh}
    assert services.sweep_orphans(now=later) == []  # nothing left to do


def test_the_command_prints_what_it_removed_and_a_summary(owner, my_disk, disk_store):
    kept = services.upload(my_disk.root, content("КП"), "КП.pdf", owner).current.blob
    old = orphan(my_disk.root, owner, "Откат.pdf")
    day_ago = time.time() - 25 * 3600
    os.utime(disk_store / old, (day_ago, day_ago))
    fresh = orphan(my_disk.root, owner, "В пути.pdf")
    out = io.StringIO()
    call_command("disk_sweep_orphans", "--dry-run", stdout=out)
    assert out.getvalue().splitlines() == [f"найден: {old} (14\xa0байт)",
                                           "Найдено сирот: 1, 14\xa0байт; ничего не удалено (--dry-run)."]
    assert blob_keys() == {kept, old, fresh}
    out = io.StringIO()
    call_command("disk_sweep_orphans", stdout=out)  # the default 24 hours spare the fresh one
    assert out.getvalue().splitlines() == [f"удалён: {old} (14\xa0байт)", "Удалено сирот: 1, 14\xa0байт."]
    assert blob_keys() == {kept, fresh}
    out = io.StringIO()
    call_command("disk_sweep_orphans", "--older-than", "0", stdout=out)
    assert out.getvalue().splitlines()[-1] == "Удалено сирот: 1, 15\xa0байт." and blob_keys() == {kept}


def test_it_leaves_alone_what_is_not_a_disk_blob(owner, my_disk, disk_store):
    disk_store.mkdir(parents=True, exist_ok=True)
    (disk_store / "README.txt").write_text("чужой файл")
    assert services.sweep_orphans(now=timezone.now() + timedelta(days=2)) == []
    assert (disk_store / "README.txt").exists()
