"""The disk's services on both stores (a private folder and a real S3-compatible server): folders,
uploads and versions, rename, move, copy, the trash and final deletion, and what a refused or
broken upload leaves behind (nothing)."""

from __future__ import annotations

import hashlib
import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from disk import services
from disk.models import File, FileVersion, Folder

from .conftest import blob_bytes, blob_keys, content

pytestmark = pytest.mark.django_db


def test_it_gives_each_user_one_personal_disk_with_a_root(owner, teammate):
    mine = services.personal_storage(owner)
    assert services.personal_storage(owner) == mine
    assert mine.root.name == "Мой диск" and mine.root.path == f"/{mine.root.pk}/"
    assert services.personal_storage(teammate) != mine
    assert services.common_storage() == services.common_storage()


def test_it_uploads_a_file_into_the_store(store, owner, my_disk):
    found = services.upload(my_disk.root, content("Коммерческое предложение"), "КП.pdf", owner)
    version = found.current
    assert (found.name, found.size, found.content_type, found.author) == ("КП.pdf", 47, "application/pdf", owner)
    assert (version.number, version.uploaded_by) == (1, owner)
    assert version.sha256 == hashlib.sha256("Коммерческое предложение".encode()).hexdigest()
    assert blob_keys() == {version.blob}
    assert blob_bytes(version.blob) == "Коммерческое предложение".encode()
    assert "КП" not in version.blob  # the store never sees a user's name


def test_it_keeps_a_same_named_upload_as_a_new_version(store, owner, my_disk):
    first = services.upload(my_disk.root, content("v1"), "Договор.docx", owner)
    again = services.upload(my_disk.root, content("version 2"), "договор.DOCX", owner)
    assert again.pk == first.pk
    assert [v.number for v in again.versions.all()] == [2, 1]
    again.refresh_from_db()
    assert again.current.number == 2 and again.size == 9
    assert len(blob_keys()) == 2


def test_it_numbers_a_same_named_upload_kept_beside(owner, my_disk):
    services.upload(my_disk.root, content("a"), "Договор.docx", owner)
    second = services.upload(my_disk.root, content("b"), "Договор.docx", owner, new_version=False)
    third = services.upload(my_disk.root, content("c"), "Договор.docx", owner, new_version=False)
    assert (second.name, third.name) == ("Договор (1).docx", "Договор (2).docx")


def test_it_uploads_a_new_version_and_makes_an_old_one_current(store, owner, my_disk):
    found = services.upload(my_disk.root, content("first"), "КП.pdf", owner)
    services.upload_version(found, content("second!"), owner)
    found.refresh_from_db()
    assert found.current.number == 2 and found.size == 7
    services.version_make_current(found.versions.get(number=1), owner)
    found.refresh_from_db()
    assert found.current.number == 1 and found.size == 5
    assert blob_bytes(found.current.blob) == b"first"
    # The next upload is a new number, not a second «2».
    assert services.upload_version(found, content("third"), owner).number == 3


def test_it_refuses_a_colleague_who_may_not_change_the_file(owner, teammate, my_disk):
    found = services.upload(my_disk.root, content("x"), "КП.pdf", owner)
    with pytest.raises(PermissionDenied):
        services.upload_version(found, content("hack"), teammate)
    with pytest.raises(PermissionDenied):
        services.upload(my_disk.root, content("hack"), "Вирус.exe", teammate)
    assert FileVersion.objects.count() == 1


def test_it_creates_nested_folders_with_their_paths(owner, my_disk):
    docs = services.folder_create(my_disk.root, "Документы", owner)
    contracts = services.folder_create(docs, "Договоры", owner)
    assert contracts.path == f"/{my_disk.root.pk}/{docs.pk}/{contracts.pk}/"
    assert services.folder_create(my_disk.root, "документы", owner).name == "документы (1)"


def test_it_renames_and_refuses_a_taken_name(owner, my_disk):
    found = services.upload(my_disk.root, content("x"), "КП.pdf", owner)
    services.upload(my_disk.root, content("y"), "Счёт.pdf", owner)
    services.rename(found, "КП для Ромашки.pdf", owner)
    assert File.objects.get(pk=found.pk).name == "КП для Ромашки.pdf"
    with pytest.raises(ValidationError) as refused:
        services.rename(found, "СЧЁТ.pdf", owner)
    assert "уже есть «СЧЁТ.pdf»" in " ".join(refused.value.messages)
    with pytest.raises(ValidationError):
        services.rename(found, "../../etc/passwd", owner)
    assert File.objects.get(pk=found.pk).name == "КП для Ромашки.pdf"


def test_it_moves_a_folder_with_its_subtree(owner, my_disk):
    a = services.folder_create(my_disk.root, "А", owner)
    b = services.folder_create(a, "Б", owner)
    c = services.folder_create(b, "В", owner)
    target = services.folder_create(my_disk.root, "Архив", owner)
    services.move(b, target, owner)
    b.refresh_from_db()
    c.refresh_from_db()
    assert b.parent == target
    assert b.path == f"{target.path}{b.pk}/" and c.path == f"{target.path}{b.pk}/{c.pk}/"


def test_it_moves_a_folder_to_another_storage(owner, my_disk):
    b = services.folder_create(my_disk.root, "Б", owner)
    c = services.folder_create(b, "В", owner)
    common = services.common_storage()
    services.move(b, common.root, owner)
    assert set(Folder.objects.filter(pk__in=[b.pk, c.pk]).values_list("storage", flat=True)) == {common.pk}


def test_it_refuses_to_move_a_folder_into_itself(owner, my_disk):
    a = services.folder_create(my_disk.root, "А", owner)
    b = services.folder_create(a, "Б", owner)
    with pytest.raises(ValidationError):
        services.move(a, b, owner)
    with pytest.raises(ValidationError):
        services.move(a, a, owner)
    a.refresh_from_db()
    assert a.parent_id == my_disk.root.pk


def test_it_numbers_a_moved_file_whose_name_is_taken(owner, my_disk):
    folder = services.folder_create(my_disk.root, "Папка", owner)
    services.upload(folder, content("a"), "КП.pdf", owner)
    other = services.upload(my_disk.root, content("b"), "КП.pdf", owner)
    services.move(other, folder, owner)
    assert File.objects.get(pk=other.pk).name == "КП (1).pdf"


def test_it_copies_a_folder_with_its_own_bytes(store, owner, my_disk):
    folder = services.folder_create(my_disk.root, "Шаблоны", owner)
    inner = services.folder_create(folder, "КП", owner)
    original = services.upload(inner, content("шаблон"), "КП.docx", owner)
    copied = services.copy(folder, my_disk.root, owner)
    assert copied.name == "Шаблоны (1)"
    copy_file = File.objects.get(folder__parent=copied, name="КП.docx")
    assert copy_file.current.blob != original.current.blob
    assert blob_bytes(copy_file.current.blob) == "шаблон".encode()
    assert len(blob_keys()) == 2


def test_it_deletes_a_folder_to_the_trash_and_restores_what_went_with_it(owner, my_disk):
    folder = services.folder_create(my_disk.root, "Проект", owner)
    inner = services.folder_create(folder, "Сметы", owner)
    earlier = services.upload(folder, content("old"), "Старое.txt", owner)
    services.delete(earlier, owner)  # deleted on its own, before the folder
    kept = services.upload(inner, content("x"), "Смета.xlsx", owner)
    services.delete(folder, owner)
    assert File.objects.get(pk=kept.pk).deleted_with_id == folder.pk
    assert not Folder.objects.filter(pk=inner.pk, deleted_at__isnull=True).exists()
    services.restore(Folder.objects.get(pk=folder.pk), owner)
    assert File.objects.get(pk=kept.pk).deleted_at is None
    assert Folder.objects.get(pk=inner.pk).deleted_at is None
    # What was deleted on its own stays in the trash.
    assert File.objects.get(pk=earlier.pk).deleted_at is not None


def test_it_restores_into_the_root_when_the_folder_is_gone_and_numbers_a_taken_name(owner, my_disk):
    folder = services.folder_create(my_disk.root, "Проект", owner)
    found = services.upload(folder, content("x"), "КП.pdf", owner)
    services.delete(found, owner)
    services.delete(folder, owner)
    services.upload(my_disk.root, content("y"), "КП.pdf", owner)
    restored = services.restore(File.objects.get(pk=found.pk), owner)
    assert (restored.folder_id, restored.name) == (my_disk.root.pk, "КП (1).pdf")


def test_it_purges_from_the_trash_and_removes_the_bytes_after_the_commit(store, owner, my_disk,
                                                                          django_capture_on_commit_callbacks):
    folder = services.folder_create(my_disk.root, "Проект", owner)
    found = services.upload(folder, content("x"), "КП.pdf", owner)
    services.upload_version(found, content("xy"), owner)
    services.delete(folder, owner)
    with pytest.raises(ValidationError):
        services.purge(File.objects.get(pk=services.upload(my_disk.root, content("z"), "Живой.txt", owner).pk), owner)
    assert len(blob_keys()) == 3
    with django_capture_on_commit_callbacks(execute=True):
        services.purge(Folder.objects.get(pk=folder.pk), owner)
        assert len(blob_keys()) == 3  # not before the commit
    assert not File.objects.filter(pk=found.pk).exists() and not Folder.objects.filter(pk=folder.pk).exists()
    assert len(blob_keys()) == 1


def test_it_keeps_the_bytes_when_a_purge_is_rolled_back(owner, my_disk):
    found = services.upload(my_disk.root, content("x"), "КП.pdf", owner)
    services.delete(found, owner)
    with pytest.raises(RuntimeError), transaction.atomic():
        services.purge(File.objects.get(pk=found.pk), owner)
        raise RuntimeError("a later step failed")
    assert File.objects.filter(pk=found.pk).exists()
    assert blob_keys() == {found.current.blob}


def test_it_refuses_a_file_over_the_limit_while_streaming_and_keeps_nothing(store, settings, owner, my_disk):
    settings.DISK_MAX_FILE_SIZE = 100 * 1024
    with pytest.raises(ValidationError) as refused:
        # No size known up front (a stream): the limit is found while the bytes flow.
        services.upload(my_disk.root, _Unsized(b"x" * (300 * 1024)), "Большой.zip", owner)
    assert "Файл больше 100,0\xa0КБ" in " ".join(refused.value.messages)
    assert not File.objects.exists() and not FileVersion.objects.exists()
    assert blob_keys() == set()


def test_it_refuses_a_file_of_a_known_size_before_reading_it(settings, owner, my_disk):
    settings.DISK_MAX_FILE_SIZE = 10
    source = content(b"x" * 11)
    source.size = 11
    with pytest.raises(ValidationError):
        services.upload(my_disk.root, source, "a.bin", owner)
    assert source.tell() == 0 and blob_keys() == set()


def test_it_refuses_an_upload_over_the_quota_with_the_room_left(settings, owner, my_disk):
    settings.DISK_USER_QUOTA = 1000
    services.upload(my_disk.root, content(b"x" * 600), "a.bin", owner)
    with pytest.raises(ValidationError) as refused:
        services.upload(my_disk.root, _Unsized(b"x" * 500), "b.bin", owner)
    assert "Не хватает места на диске: свободно 400\xa0байт из 1000\xa0байт" in " ".join(refused.value.messages)
    assert File.objects.count() == 1 and len(blob_keys()) == 1


def test_it_leaves_nothing_of_an_interrupted_upload(store, owner, my_disk):
    with pytest.raises(OSError):
        services.upload(my_disk.root, _Broken(b"y" * (200 * 1024), after=128 * 1024), "Обрыв.mp4", owner)
    assert not File.objects.exists()
    assert blob_keys() == set()


def test_it_removes_the_bytes_when_the_rows_cannot_be_saved(owner, my_disk, monkeypatch):
    def fail(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(services, "_add_version", fail)
    with pytest.raises(RuntimeError):
        services.upload(my_disk.root, content("x"), "КП.pdf", owner)
    assert not File.objects.exists() and blob_keys() == set()


def test_it_refuses_uploads_into_a_folder_in_the_trash(owner, my_disk):
    folder = services.folder_create(my_disk.root, "Проект", owner)
    services.delete(folder, owner)
    with pytest.raises(ValidationError):
        services.upload(Folder.objects.get(pk=folder.pk), content("x"), "КП.pdf", owner)
    assert blob_keys() == set()


def test_it_refuses_to_delete_the_root(owner, my_disk):
    with pytest.raises(ValidationError):
        services.delete(my_disk.root, owner)


class _Unsized:
    """A stream whose size nobody knows before reading it (a request body, a pipe)."""

    def __init__(self, data: bytes):
        self._data = io.BytesIO(data)

    def read(self, size: int = -1) -> bytes:
        return self._data.read(size)


class _Broken(_Unsized):
    """A client that goes away in the middle of the upload."""

    def __init__(self, data: bytes, after: int):
        super().__init__(data)
        self.after = after

    def read(self, size: int = -1) -> bytes:
        if self._data.tell() >= self.after:
            raise OSError("connection reset by peer")
        return super().read(size)


def test_it_copies_within_the_quota_only(settings, owner, my_disk):
    settings.DISK_USER_QUOTA = 1000
    folder = services.folder_create(my_disk.root, "Папка", owner)
    services.upload(folder, content(b"x" * 400), "a.bin", owner)
    services.upload(folder, content(b"x" * 300), "b.bin", owner)
    with pytest.raises(ValidationError) as refused:
        services.copy(folder, my_disk.root, owner)
    assert "Не хватает места на диске" in " ".join(refused.value.messages)
    assert Folder.objects.filter(name__startswith="Папка").count() == 1 and len(blob_keys()) == 2


def test_it_refuses_folders_nested_deeper_than_their_path_holds(owner, my_disk):
    folder = my_disk.root
    with pytest.raises(ValidationError) as refused:
        for depth in range(300):
            folder = services.folder_create(folder, f"Уровень {depth}", owner)
    assert refused.value.messages == ["Слишком глубокая вложенность папок."]
    top = Folder.objects.get(parent=my_disk.root)
    other = my_disk.root
    for depth in range(5):
        other = services.folder_create(other, f"Другая {depth}", owner)
    with pytest.raises(ValidationError) as refused:
        services.move(top, other, owner)  # its deepest folder would go five levels deeper
    assert refused.value.messages == ["Слишком глубокая вложенность папок."]
    assert Folder.objects.get(pk=top.pk).parent_id == my_disk.root.pk


def test_it_keeps_a_disk_s_root_and_a_record_s_folder_where_they_are(owner, my_disk):
    from tests.factories import DealFactory

    deal = DealFactory(responsible=owner)
    record_folder = services.attach_upload(deal, content("x"), "КП.pdf", owner).file.folder
    for item in (my_disk.root, record_folder):
        with pytest.raises(ValidationError):
            services.rename(item, "Другое", owner)
        with pytest.raises(ValidationError):
            services.move(item, services.common_storage().root, owner)
        with pytest.raises(ValidationError):
            services.delete(item, owner)
    assert services.record_folder(deal) == record_folder and record_folder.deleted_at is None


def test_it_follows_the_name_with_the_type(owner, my_disk):
    found = services.upload(my_disk.root, content("<b>x</b>"), "Заметка.txt", owner)
    assert found.content_type == "text/plain"
    assert services.rename(found, "Заметка.html", owner).content_type == "text/html"
