"""The counters the services keep (disk/models.py's docstring): a folder's children and a user's
used bytes never drift from what the rows say, whatever sequence of operations ran, and two
uploads at once both count."""

from __future__ import annotations

import datetime as dt
import importlib
import io
import random
import threading

import pytest
from django.apps import apps as django_apps
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.db import connection, connections
from django.db.models import Count, Sum
from django.utils import timezone

from deals import services as deal_services
from disk import selectors, services
from disk.models import COUNTED, LIVE, Attachment, File, FileVersion, Folder, Usage
from tests.factories import DealFactory

from .conftest import content

pytestmark = pytest.mark.django_db


def counted(model, link: str, condition) -> dict[int, int]:
    rows = model.objects.filter(condition, **{f"{link}__isnull": False}).values(link).annotate(n=Count("pk"))
    return {row[link]: row["n"] for row in rows}


def drift() -> list[str]:
    """Every folder's and user's counter against a fresh COUNT/SUM; empty when none drifted."""
    problems = []
    folders, files = counted(Folder, "parent", COUNTED), counted(File, "folder", COUNTED)
    live_folders, live_files = counted(Folder, "parent", LIVE), counted(File, "folder", LIVE)
    for folder in Folder.objects.all():
        wanted = (folders.get(folder.pk, 0), files.get(folder.pk, 0))
        if (folder.folder_count, folder.file_count) != wanted:
            problems.append(f"{folder.name} #{folder.pk}: {folder.folder_count}, {folder.file_count} ≠ {wanted}")
        # A live folder's counters are what its page lists.
        if folder.deleted_at is None and wanted != (live_folders.get(folder.pk, 0), live_files.get(folder.pk, 0)):
            problems.append(f"{folder.name} #{folder.pk} lists other than it counts")
    sums = dict(FileVersion.objects.filter(uploaded_by__isnull=False).values("uploaded_by")
                .annotate(total=Sum("size")).values_list("uploaded_by", "total"))
    for usage in Usage.objects.all():
        if usage.used != sums.pop(usage.user_id, 0):
            problems.append(f"usage of {usage.user_id}: {usage.used}")
    problems += [f"usage of {user_id} not kept" for user_id, total in sums.items() if total]
    return problems


def test_it_keeps_every_counter_through_a_random_sequence_of_every_operation(owner, teammate, crm_admin, settings):
    rng = random.Random(11)
    common = services.common_storage().root
    deals = [DealFactory(responsible=owner) for _ in range(2)]
    people = [owner, teammate]
    names = ["КП.pdf", "Договор.docx", "Счёт 2.pdf", "Счёт 10.pdf", "Акт.pdf"]
    done: dict[str, int] = {}

    class Nothing(Exception):
        """Nothing to pick for this operation yet."""

    def live(model, **more):
        return list(model.objects.filter(LIVE, **more).order_by("pk"))

    def pick(items):
        items = list(items)
        if not items:
            raise Nothing
        return rng.choice(items)

    def data():
        return content(rng.randbytes(rng.randint(1, 50)))

    def targets():
        return live(Folder, storage=common.storage)

    def movable():
        return [f for f in targets() if not f.is_root] + live(File)

    def trashed():
        return [*Folder.objects.filter(deleted_at__isnull=False), *File.objects.filter(deleted_at__isnull=False)]

    operations = {
        "folder_create": lambda: services.folder_create(pick(targets()), rng.choice(["Папка", "Архив"]), pick(people)),
        "upload": lambda: services.upload(pick(targets()), data(), rng.choice(names), pick(people),
                                          new_version=rng.random() < 0.5),
        "upload_version": lambda: services.upload_version(pick(live(File)), data(), pick(people)),
        "version_make_current": lambda: services.version_make_current(pick(FileVersion.objects.all()), owner),
        "rename": lambda: services.rename(pick(movable()), rng.choice(names), owner),
        "move": lambda: services.move(pick(movable()), pick(targets()), owner),
        "copy": lambda: services.copy(pick(movable()), pick(targets()), pick(people)),
        "delete": lambda: services.delete(pick(movable()), owner),
        # Any item of the trash, also one that went there with its folder (reached by its URL).
        "restore": lambda: services.restore(pick(trashed()), owner),
        "purge": lambda: services.purge(pick(trashed()), owner),
        "purge_expired": lambda: services.purge_expired(
            timezone.now() + dt.timedelta(days=settings.DISK_TRASH_DAYS, seconds=rng.choice([-5, 5]))),
        "attach_upload": lambda: services.attach_upload(pick(deals), data(), rng.choice(names), owner),
        "attach": lambda: services.attach(pick(deals), pick(live(File, folder__storage=common.storage)), owner),
        "detach": lambda: services.detach(pick(Attachment.objects.all()), owner),
        "comment_add": lambda: services.comment_add(pick(deals), "Смотрите", [data(), data()], owner),
        "record_deleted": lambda: deal_services.deal_delete(deals.pop(0) if len(deals) > 1 else pick([]), by=crm_admin),
    }
    weights = {"purge_expired": 1, "record_deleted": 2}
    for step in range(160):
        name = rng.choices(list(operations), [weights.get(op, 5) for op in operations])[0]
        try:
            operations[name]()
        except (ValidationError, PermissionDenied, Nothing):
            continue  # a refusal (a clash, a folder into itself) or nothing to pick: nothing changed
        done[name] = done.get(name, 0) + 1
        assert drift() == [], (step, name)
    assert set(done) == set(operations), done  # every operation ran at least once
    assert services.recount() == {"folders": 0, "users": 0}


def test_it_recounts_what_drifted_and_the_command_repairs_it(owner, my_disk):
    folder = services.folder_create(my_disk.root, "Договоры", owner)
    services.upload(folder, content("12345"), "КП.pdf", owner)
    Folder.objects.filter(pk=folder.pk).update(file_count=7)
    Usage.objects.filter(user=owner).update(used=0)
    call_command("disk_recount", stdout=io.StringIO())
    folder.refresh_from_db()
    assert folder.file_count == 1 and selectors.usage(owner) == 5
    assert drift() == []


def test_the_migration_counts_the_rows_there_were_before_it(owner, my_disk):
    folder = services.folder_create(my_disk.root, "Договоры", owner)
    services.upload(folder, content("123"), "КП.pdf", owner)
    services.folder_create(folder, "Архив", owner)
    Folder.objects.update(file_count=0, folder_count=0)
    Usage.objects.all().delete()
    importlib.import_module("disk.migrations.0004_counters").fill(django_apps, None)
    folder.refresh_from_db()
    assert (folder.folder_count, folder.file_count) == (1, 1)
    assert selectors.usage(owner) == 3


def test_the_folder_page_shows_its_counted_files_without_counting_them(client, owner, my_disk):
    folder = services.folder_create(my_disk.root, "Договоры", owner)
    for i in range(3):
        services.upload(folder, content("x"), f"Счёт {i}.pdf", owner)
    Folder.objects.filter(pk=folder.pk).update(file_count=60)  # drifted on purpose: the page trusts it
    client.force_login(owner)
    response = client.get(f"/disk/folders/{folder.pk}/")
    assert response.status_code == 200
    assert response.context["page"].paginator.num_pages == 2


@pytest.mark.django_db(transaction=True)
def test_uploads_at_once_into_one_folder_all_count(seeded_defaults, org, settings):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL; SQLite serialises them anyway")
    from tests.factories import UserFactory

    settings.DISK_USER_QUOTA = 0  # no lock on the user: his first usage row is raced for too
    user = UserFactory(username="uploader", department=org["group1"], role="Менеджер")
    root = services.personal_storage(user).root
    folders = [services.folder_create(root, name, user) for name in ("Договоры", "Счета")]
    barrier, errors = threading.Barrier(4), []

    def put(folder, name):
        try:
            source = content(b"x" * 100, name)
            barrier.wait()
            services.upload(folder, source, name, user)
        except Exception as exc:  # reported by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=put, args=(folder, name)) for folder in folders for name in ("1.pdf", "2.pdf")]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert errors == []
    assert [Folder.objects.get(pk=f.pk).file_count for f in folders] == [2, 2]
    assert selectors.usage(user) == 400
    assert drift() == []


def test_a_folder_restored_from_inside_a_deleted_one_comes_back_with_its_files(owner, my_disk):
    outer = services.folder_create(my_disk.root, "Проекты", owner)
    inner = services.folder_create(outer, "Ромашка", owner)
    services.upload(inner, content("x"), "КП.pdf", owner)
    services.delete(outer, owner)
    services.restore(Folder.objects.get(pk=inner.pk), owner)  # reached by its URL, not the trash's list
    inner.refresh_from_db()
    assert inner.parent_id == my_disk.root_id and inner.deleted_at is None
    assert [f.name for f in selectors.folder_files(inner)] == ["КП.pdf"]
    assert (inner.folder_count, inner.file_count) == (0, 1)
    assert drift() == []
