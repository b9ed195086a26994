"""The disk's writers: the only code that changes folders, files, versions, shares, links and
attachments.

Refusals: ValidationError with a Russian message (a dict keyed by field where a form shows it),
PermissionDenied/Http404 for what the user may not do or see (through `selectors.rights`). Every
service runs in a transaction; bytes are written to the store BEFORE it (a long upload holds no
lock) and removed again if the transaction fails, and a final deletion removes them only after its
commit — so a failure leaves neither a row without bytes nor bytes without a row.
"""

from __future__ import annotations

import collections
import mimetypes
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import CharField, Count, F, Max, Model, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce, Concat, Length, Substr
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import default_task_backend

from accounts import access
from accounts.models import Action, Department, User
from crm import timeline
from crm.models import TimelineEntry

from . import blobs, names
from .models import COUNTED, LIVE, Attachment, File, FileVersion, Folder, PublicLink, Share, Storage, Usage, name_key
from .selectors import EDIT, RANK, READ, STORAGES_VERSION, rights, usage

# Records whose files live in a CRM folder of their own (a comment's files: in its record's).
ATTACHABLE = ("leads.lead", "deals.deal", "clients.contact", "clients.company", "tasks_app.task", "calendar_app.event")
# Folder.path holds every ancestor's id: room for a hundred levels and more.
MAX_PATH = Folder._meta.get_field("path").max_length - 40
STORAGE_NAMES = {
    Storage.Kind.PERSONAL: "Мой диск",
    Storage.Kind.COMMON: "Общий диск",
    Storage.Kind.CRM: "Файлы CRM",
}


def _need(user: User | None, item: Folder | File, need: str = EDIT) -> None:
    """`None` is the system (the retention task, data migrations)."""
    if user is not None and RANK[rights(user, item)] < RANK[need]:
        raise PermissionDenied(_("Нет прав на изменение «%(name)s».") % {"name": item.name} if need == EDIT
                               else _("Нет доступа к «%(name)s».") % {"name": item.name})


def _live(item: Folder | File) -> None:
    if item.deleted_at is not None:
        raise ValidationError(_("«%(name)s» в корзине: сначала восстановите.") % {"name": item.name})


def _fixed(item: Folder | File) -> None:
    """A disk's root and a record's folder are where the system looks for them: they stay."""
    if isinstance(item, Folder) and item.is_root:
        raise ValidationError(_("Корневую папку диска нельзя переименовать, переместить или удалить."))
    if isinstance(item, Folder) and item.content_type_id:
        raise ValidationError(_("Папку записи CRM нельзя переименовать, переместить или удалить: "
                                "меняйте её файлы."))


def _lock(folder: Folder) -> Folder:
    """Name decisions in a folder are made one at a time (two uploads of «КП.pdf» at once must
    give a version and a file, not two files)."""
    # of=self: the storage's row stays unlocked, so other folders of the disk are not held up.
    return Folder.objects.select_for_update(of=("self",)).select_related("storage").get(pk=folder.pk)


def _lock_all(*folder_ids: int | None) -> None:
    """Several folders locked in one order (by id): two services that change the same two
    folders' counters wait for each other instead of deadlocking."""
    ids = sorted({pk for pk in folder_ids if pk})
    if ids:
        list(Folder.objects.select_for_update(of=("self",)).filter(pk__in=ids).order_by("pk").values_list("pk"))


# --- Counters (models' docstring): changed with the change, in its transaction, by F() ---

def _count(folder_id: int | None, *, files: int = 0, folders: int = 0) -> None:
    changes = {}
    if files:
        changes["file_count"] = F("file_count") + files
    if folders:
        changes["folder_count"] = F("folder_count") + folders
    if changes and folder_id:
        Folder.objects.filter(pk=folder_id).update(**changes)


def _counted(item: Folder | File) -> bool:
    """Whether the item's folder counts it (COUNTED, for an item as loaded)."""
    return item.deleted_at is None or item.deleted_with_id is not None


def _count_item(item: Folder | File, parent_id: int | None, delta: int) -> None:
    if isinstance(item, File):
        _count(parent_id, files=delta)
    else:
        _count(parent_id, folders=delta)


def _use(user_id: int | None, size: int) -> None:
    """A user's usage grows (or shrinks) by `size` bytes; his row is made on his first upload."""
    if not user_id or not size:
        return
    if Usage.objects.filter(user_id=user_id).update(used=F("used") + size):
        return
    try:
        with transaction.atomic():
            Usage.objects.create(user_id=user_id, used=size)
    except IntegrityError:  # a concurrent first upload made it meanwhile
        Usage.objects.filter(user_id=user_id).update(used=F("used") + size)


def recount(apps=None) -> dict[str, int]:
    """Every folder's counters and every user's usage computed afresh from the rows (the
    migration that added them, `manage.py disk_recount`, the benchmark's bulk-made rows).
    `apps`: a migration's registry. Returns how many folders and users were corrected."""
    if apps is None:
        from django.apps import apps
    folder_model = apps.get_model("disk", "Folder")
    file_model = apps.get_model("disk", "File")
    version_model = apps.get_model("disk", "FileVersion")
    usage_model = apps.get_model("disk", "Usage")

    def counted(model, link: str):
        rows = model.objects.filter(COUNTED, **{link: OuterRef("pk")}).order_by().values(link)
        return Coalesce(Subquery(rows.annotate(n=Count("pk")).values("n")), 0)

    with transaction.atomic():
        folders_now, files_now = counted(folder_model, "parent"), counted(file_model, "folder")
        fixed_folders = (folder_model.objects.annotate(folders_now=folders_now, files_now=files_now)
                         .exclude(folder_count=F("folders_now"), file_count=F("files_now"))
                         .values_list("pk", "folders_now", "files_now"))
        wrong = list(fixed_folders)
        for pk, n_folders, n_files in wrong:
            folder_model.objects.filter(pk=pk).update(folder_count=n_folders, file_count=n_files)
        sums = dict(version_model.objects.filter(uploaded_by__isnull=False).order_by().values("uploaded_by")
                    .annotate(total=Sum("size")).values_list("uploaded_by", "total"))
        kept = dict(usage_model.objects.values_list("user_id", "used"))
        fixed_users = 0
        for user_id in set(sums) | set(kept):
            total = sums.get(user_id, 0)
            if kept.get(user_id) != total:
                usage_model.objects.update_or_create(user_id=user_id, defaults={"used": total})
                fixed_users += 1
    return {"folders": len(wrong), "users": fixed_users}


def _taken(folder: Folder, stem: str, exclude: Folder | File | None = None) -> list[str]:
    """Live names in `folder` that could clash with a name starting with `stem`."""
    files = File.objects.filter(LIVE, folder=folder, key__startswith=name_key(stem))
    folders = Folder.objects.filter(LIVE, parent=folder, key__startswith=name_key(stem))
    if isinstance(exclude, File):
        files = files.exclude(pk=exclude.pk)
    elif isinstance(exclude, Folder):
        folders = folders.exclude(pk=exclude.pk)
    return [*files.values_list("name", flat=True), *folders.values_list("name", flat=True)]


def _free_name(folder: Folder, name: str, exclude=None) -> str:
    return names.free(name, _taken(folder, names.copy_pattern(name), exclude))


def _clean(name: str, field: str = "name") -> str:
    try:
        return names.clean(name)
    except ValidationError as exc:
        raise ValidationError({field: exc.messages}) from exc


# --- Storages ---

def _create_storage(kind: str, owner: User | None = None, department: Department | None = None) -> Storage:
    with transaction.atomic():
        storage = Storage.objects.create(kind=kind, owner=owner, department=department)
        name = department.name if department else STORAGE_NAMES[kind]
        root = Folder.objects.create(storage=storage, name=name, author=owner)
        root.path = f"/{root.pk}/"
        root.save(update_fields=["path"])
        storage.root = root
        storage.save(update_fields=["root"])
        # Now and after the commit: a page read in between must not keep the old list a minute.
        _storages_changed()
        transaction.on_commit(_storages_changed)
    return storage


def _storages_changed() -> None:
    """The pages' cached storages switches (views_pages._storages) are read afresh."""
    try:
        cache.incr(STORAGES_VERSION)
    except ValueError:  # not there yet (or evicted)
        cache.set(STORAGES_VERSION, 1, None)


def _storage(kind: str, **lookup) -> Storage:
    found = Storage.objects.select_related("root").filter(kind=kind, **lookup).first()
    if found:
        return found
    try:
        return _create_storage(kind, **lookup)
    except IntegrityError:  # made by a concurrent request in the meantime
        return Storage.objects.select_related("root").get(kind=kind, **lookup)


def personal_storage(user: User) -> Storage:
    return _storage(Storage.Kind.PERSONAL, owner=user)


def common_storage() -> Storage:
    return _storage(Storage.Kind.COMMON)


def department_storage(department: Department) -> Storage:
    return _storage(Storage.Kind.DEPARTMENT, department=department)


def crm_storage() -> Storage:
    return _storage(Storage.Kind.CRM)


# --- Folders ---

def folder_create(parent: Folder, name: str, by: User | None) -> Folder:
    """A new folder; a name already taken gets a number, as Bitrix24's «Новая папка (1)»."""
    name = _clean(name)
    _need(by, parent)
    with transaction.atomic():
        parent = _lock(parent)
        if parent.deleted_at:
            raise ValidationError(_("Папка «%(name)s» в корзине.") % {"name": parent.name})
        if len(parent.path) > MAX_PATH:
            raise ValidationError(_("Слишком глубокая вложенность папок."))
        folder = Folder.objects.create(storage=parent.storage, parent=parent, name=_free_name(parent, name), author=by)
        folder.path = f"{parent.path}{folder.pk}/"
        folder.save(update_fields=["path"])
        _count(parent.pk, folders=1)
    return folder


# --- Uploads and versions ---

def _no_room(left: int, quota: int) -> str:
    return _("Не хватает места на диске: свободно %(left)s из %(quota)s.") % {
        "left": filesizeformat(max(left, 0)), "quota": filesizeformat(quota)}


def _limits(by: User | None, known_size: int | None) -> tuple[int | None, str]:
    """The most bytes this upload may have, and what to say when it has more."""
    max_size = settings.DISK_MAX_FILE_SIZE or None
    quota = settings.DISK_USER_QUOTA or None
    limit = max_size
    message = _("Файл больше %(size)s: такой загрузить нельзя.") % {"size": filesizeformat(max_size or 0)}
    if quota and by is not None:
        left = max(quota - usage(by), 0)
        if limit is None or left < limit:
            limit, message = left, _no_room(left, quota)
    if known_size is not None and limit is not None and known_size > limit:
        raise ValidationError({"file": message})
    return limit, message


def _check_quota(by: User | None, extra: int, lock: bool = True) -> None:
    """Inside the transaction, with the user's row locked: concurrent uploads by one user are
    counted one after another."""
    quota = settings.DISK_USER_QUOTA
    if not quota or by is None:
        return
    if lock:
        User.objects.select_for_update().filter(pk=by.pk).first()
    used = usage(by)
    if used + extra > quota:
        raise ValidationError({"file": _no_room(quota - used, quota)})


def _stream(source, by: User | None) -> blobs.Stored:
    limit, message = _limits(by, getattr(source, "size", None))
    try:
        return blobs.put(source, limit, message)
    except blobs.TooLarge as exc:
        raise ValidationError({"file": exc.messages}) from exc


def _add_version(file: File, stored: blobs.Stored, by: User | None) -> FileVersion:
    number = (file.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    version = FileVersion.objects.create(file=file, number=number, blob=stored.key, size=stored.size,
                                         sha256=stored.sha256, uploaded_by=by)
    file.current, file.size, file.updated_at = version, stored.size, timezone.now()
    file.save(update_fields=["current", "size", "updated_at"])
    _use(by.pk if by else None, stored.size)
    return version


def _guess_type(name: str) -> str:
    return mimetypes.guess_type(name, strict=False)[0] or "application/octet-stream"


def upload(folder: Folder, source, name: str, by: User | None, *, new_version: bool = True) -> File:
    """A file into `folder`, streamed from `source` (an UploadedFile or anything with read()).
    A live file of the same name gets a new version (Bitrix24 does so); with
    `new_version=False` the upload is kept beside it as «Договор (1).docx»."""
    name = _clean(name, "file")
    _need(by, folder)
    stored = _stream(source, by)
    try:
        with transaction.atomic():
            folder = _lock(folder)
            if folder.deleted_at:
                raise ValidationError(_("Папка «%(name)s» в корзине.") % {"name": folder.name})
            _check_quota(by, stored.size)
            same = File.objects.filter(LIVE, folder=folder, key=name_key(name)).first()
            if same is not None and new_version:
                _add_version(same, stored, by)
                return same
            found = File.objects.create(folder=folder, name=_free_name(folder, name), author=by,
                                        content_type=_guess_type(name))
            _count(folder.pk, files=1)
            _add_version(found, stored, by)
            return found
    except BaseException:
        blobs.discard([stored.key])
        raise


def upload_version(file: File, source, by: User | None) -> FileVersion:
    """«Загрузить новую версию»: the history keeps the previous ones."""
    _need(by, file)
    stored = _stream(source, by)
    try:
        with transaction.atomic():
            _lock(file.folder)
            file = File.objects.select_for_update().get(pk=file.pk)
            if file.deleted_at:
                raise ValidationError(_("Файл «%(name)s» в корзине.") % {"name": file.name})
            _check_quota(by, stored.size)
            return _add_version(file, stored, by)
    except BaseException:
        blobs.discard([stored.key])
        raise


def version_make_current(version: FileVersion, by: User | None) -> File:
    """An earlier version becomes the one downloaded (the later ones stay in the history)."""
    file = version.file
    _need(by, file)
    with transaction.atomic():
        file = File.objects.select_for_update().get(pk=file.pk)
        if version.file_id != file.pk:
            raise ValidationError(_("Это версия другого файла."))
        file.current, file.size, file.updated_at = version, version.size, timezone.now()
        file.save(update_fields=["current", "size", "updated_at"])
    return file


# --- Rename, move, copy ---

def rename(item: Folder | File, name: str, by: User | None) -> Folder | File:
    """A name chosen by hand is not numbered: a clash is refused with the reason."""
    name = _clean(name)
    _need(by, item)
    _live(item)
    _fixed(item)
    with transaction.atomic():
        parent = _lock(item.parent if isinstance(item, Folder) else item.folder)
        taken = _taken(parent, name, exclude=item)
        if name.casefold() in {t.casefold() for t in taken}:
            raise ValidationError({"name": _("В этой папке уже есть «%(name)s».") % {"name": name}})
        item.name, item.updated_at = name, timezone.now()
        fields = ["name", "updated_at"]
        if isinstance(item, File):
            # The type follows the name («КП.txt» → «КП.html» is served as HTML would be: attached).
            item.content_type = _guess_type(name)
            fields.append("content_type")
        item.save(update_fields=fields)
    return item


def move(item: Folder | File, to: Folder, by: User | None) -> Folder | File:
    """Into another folder (another storage too); a clash gets a number."""
    _need(by, item)
    _need(by, to)
    _live(item)
    _fixed(item)
    if isinstance(item, Folder):
        if to.path.startswith(item.path):
            raise ValidationError(_("Папку нельзя переместить в неё саму или во вложенную в неё папку."))
        deepest = Folder.objects.filter(path__startswith=item.path).aggregate(n=Max(Length("path")))["n"]
        if len(to.path) + deepest - len(item.path) + len(f"{item.pk}/") > MAX_PATH:
            raise ValidationError(_("Слишком глубокая вложенность папок."))
    with transaction.atomic():
        source = item.folder_id if isinstance(item, File) else item.parent_id
        _lock_all(source, to.pk)
        to = _lock(to)
        if to.deleted_at:
            raise ValidationError(_("Папка «%(name)s» в корзине.") % {"name": to.name})
        item.name = _free_name(to, item.name, exclude=item)
        item.updated_at = timezone.now()
        _count_item(item, source, -1)
        _count_item(item, to.pk, 1)
        if isinstance(item, File):
            item.folder = to
            item.save(update_fields=["folder", "name", "updated_at"])
            return item
        old = item.path
        new = f"{to.path}{item.pk}/"
        item.parent = to
        item.save(update_fields=["parent", "name", "updated_at"])
        # The subtree's paths and storage follow in one statement.
        Folder.objects.filter(path__startswith=old).update(
            path=Concat(Value(new), Substr("path", len(old) + 1), output_field=CharField()), storage=to.storage)
        item.refresh_from_db()
    return item


def copy(item: Folder | File, to: Folder, by: User | None) -> Folder | File:
    """A copy of the current version (a folder: of everything live in it) into `to`; the copy is
    the copier's upload (his quota, his authorship). Bytes are copied, not shared, so purging
    one never touches the other."""
    _need(by, item, READ)
    _need(by, to)
    _live(item)
    if isinstance(item, Folder) and to.path.startswith(item.path):
        raise ValidationError(_("Папку нельзя скопировать в неё саму или во вложенную в неё папку."))
    plan = _copy_plan(item)
    total = sum(f.current.size for f in plan["files"] if f.current)
    _check_quota(by, total, lock=False)  # early, before copying bytes; again under the lock below
    stored: dict[int, blobs.Stored] = {}
    try:
        for f in plan["files"]:
            if f.current:
                stored[f.pk] = blobs.copy(f.current.blob)
        with transaction.atomic():
            to = _lock(to)
            _check_quota(by, total)
            return _copy_rows(item, to, plan, stored, by)
    except BaseException:
        blobs.discard(s.key for s in stored.values())
        raise


def _copy_plan(item: Folder | File) -> dict:
    if isinstance(item, File):
        return {"folders": [], "files": [File.objects.select_related("current").get(pk=item.pk)]}
    folders = list(Folder.objects.filter(LIVE, path__startswith=item.path).order_by("path"))
    files = list(File.objects.filter(LIVE, folder__in=folders).select_related("current"))
    return {"folders": folders, "files": files}


def _copy_rows(item, to: Folder, plan: dict, stored: dict, by) -> Folder | File:
    def copy_file(f: File, folder: Folder, name: str) -> File:
        new = File.objects.create(folder=folder, name=name, author=by, content_type=f.content_type)
        if f.pk in stored:
            _add_version(new, stored[f.pk], by)
        return new

    if isinstance(item, File):
        _count(to.pk, files=1)
        return copy_file(plan["files"][0], to, _free_name(to, item.name))
    mapping: dict[int, Folder] = {}
    # The new folders are nobody else's yet: their counters are set as they are made.
    folders_inside = collections.Counter(f.parent_id for f in plan["folders"])
    files_inside = collections.Counter(f.folder_id for f in plan["files"])
    for folder in plan["folders"]:
        parent = to if folder.pk == item.pk else mapping[folder.parent_id]
        name = _free_name(to, folder.name) if folder.pk == item.pk else folder.name
        new = Folder.objects.create(storage=to.storage, parent=parent, name=name, author=by,
                                    folder_count=folders_inside[folder.pk], file_count=files_inside[folder.pk])
        new.path = f"{parent.path}{new.pk}/"
        new.save(update_fields=["path"])
        mapping[folder.pk] = new
    _count(to.pk, folders=1)
    for f in plan["files"]:
        copy_file(f, mapping[f.folder_id], f.name)
    return mapping[item.pk]


# --- Trash ---

def delete(item: Folder | File, by: User | None) -> None:
    """To «Корзина»; a folder takes its live contents with it."""
    _need(by, item)
    _fixed(item)
    now = timezone.now()
    model = type(item)
    parent_id = model.objects.values_list("folder_id" if isinstance(item, File) else "parent_id", flat=True).get(pk=item.pk)
    with transaction.atomic():
        _lock_all(parent_id)
        # Only a live item goes (its folder loses it); its subtree stays counted inside it.
        if not model.objects.filter(LIVE, pk=item.pk, **{_parent_field(item): parent_id}).update(
                deleted_at=now, deleted_by=by):
            return
        _count_item(item, parent_id, -1)
        item.deleted_at, item.deleted_by = now, by
        if isinstance(item, Folder):
            # The folder itself is marked already: its own files are in the subtree too.
            subtree = Folder.objects.filter(LIVE | Q(pk=item.pk), path__startswith=item.path)
            File.objects.filter(LIVE, folder__in=subtree).update(deleted_at=now, deleted_by=by, deleted_with=item)
            subtree.exclude(pk=item.pk).update(deleted_at=now, deleted_by=by, deleted_with=item)
    _schedule_purge(now)


def _parent_field(item: Folder | File) -> str:
    return "folder_id" if isinstance(item, File) else "parent_id"


def _schedule_purge(deleted_at: datetime) -> None:
    """The retention task runs when this item's time in the trash is up (it purges whatever is due
    then, so a restored item or a second run finds nothing to do). A backend that cannot defer
    (the immediate one of the tests) gets none: `manage.py disk_purge_trash` from cron does it."""
    if not default_task_backend.supports_defer:
        return
    from .tasks import purge_expired_trash

    when = deleted_at + timedelta(days=settings.DISK_TRASH_DAYS, minutes=1)
    transaction.on_commit(lambda: purge_expired_trash.using(run_after=when).enqueue(), robust=True)


def restore(item: Folder | File, by: User | None) -> Folder | File:
    """Back from the trash where it was; if that folder is gone too (or deleted), to the storage's
    root. A name taken meanwhile gets a number."""
    _need(by, item)
    if item.deleted_at is None:
        return item
    with transaction.atomic():
        old = getattr(item, _parent_field(item))
        parent = Folder.objects.select_related("storage__root").get(pk=old)
        if parent.deleted_at is not None:
            parent = parent.storage.root
        _lock_all(old, parent.pk)
        parent = _lock(parent)
        item.refresh_from_db()  # as it is now, under the locks
        if item.deleted_at is None:
            return item
        was_counted, along = _counted(item), item.deleted_with_id
        if isinstance(item, File):
            item.name = _free_name(parent, item.name)
            item.folder, item.deleted_at, item.deleted_by, item.deleted_with = parent, None, None, None
            item.save(update_fields=["name", "folder", "deleted_at", "deleted_by", "deleted_with"])
            if was_counted:
                _count(old, files=-1)
            _count(parent.pk, files=1)
            return item
        if parent.pk != item.parent_id:
            return _restore_moved(item, parent, was_counted)
        item.name = _free_name(parent, item.name)
        item.deleted_at = item.deleted_by = item.deleted_with = None
        item.save(update_fields=["name", "deleted_at", "deleted_by", "deleted_with"])
        if not was_counted:
            _count(parent.pk, folders=1)
        _undelete_with(item, along)
    return item


def _undelete_with(folder: Folder, along: int | None = None) -> None:
    """What went to the trash with `folder` comes back; a folder that went with one above it
    (`along`) brings back what went there below it too — its page lists what its counters count."""
    files = Q(deleted_with=folder)
    folders = Q(deleted_with=folder)
    if along:
        files |= Q(deleted_with_id=along, folder__path__startswith=folder.path)
        folders |= Q(deleted_with_id=along, path__startswith=folder.path)
    File.objects.filter(files).update(deleted_at=None, deleted_by=None, deleted_with=None)
    Folder.objects.filter(folders).exclude(pk=folder.pk).update(deleted_at=None, deleted_by=None, deleted_with=None)


def _restore_moved(item: Folder, parent: Folder, was_counted: bool) -> Folder:
    """Its folder is gone: back to life where it was (inside a deleted folder, so no name clash),
    then moved to the root, which numbers a taken name."""
    _undelete_with(item, item.deleted_with_id)
    Folder.objects.filter(pk=item.pk).update(deleted_at=None, deleted_by=None, deleted_with=None)
    if not was_counted:  # alive in its old folder for a moment: counted there, then moved
        _count(item.parent_id, folders=1)
    item.refresh_from_db()
    return move(item, parent, None)


def purge(item: Folder | File, by: User | None) -> None:
    """Final deletion of an item in the trash: the rows now, the bytes after the commit."""
    _need(by, item)
    if item.deleted_at is None:
        raise ValidationError(_("Удалить навсегда можно только то, что уже в корзине."))
    with transaction.atomic():
        parent_id = getattr(item, _parent_field(item))
        _lock_all(parent_id)
        item = type(item).objects.filter(pk=item.pk).first()  # as it is now, under the lock
        if item is None:  # purged meanwhile
            return
        if isinstance(item, File):
            files = File.objects.filter(pk=item.pk)
            folders = Folder.objects.none()
        else:
            folders = Folder.objects.filter(path__startswith=item.path)
            files = File.objects.filter(folder__in=folders)
        if _counted(item):  # went with a folder above: that folder counted it
            _count_item(item, getattr(item, _parent_field(item)), -1)
        for user_id, total in (FileVersion.objects.filter(file__in=files, uploaded_by__isnull=False).order_by()
                               .values("uploaded_by").annotate(total=Sum("size")).values_list("uploaded_by", "total")):
            _use(user_id, -total)
        keys = list(FileVersion.objects.filter(file__in=files).values_list("blob", flat=True))
        # The current version points back at its file: unhook it first, then the cascade is plain.
        files.update(current=None)
        files.delete()
        if isinstance(item, Folder):
            Folder.objects.filter(pk=item.pk).delete()
        blobs.discard_after_commit(keys)


def purge_expired(now: datetime | None = None) -> int:
    """The trash's retention: items deleted more than DISK_TRASH_DAYS ago go for good. Returns how
    many top-level items were purged."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.DISK_TRASH_DAYS)
    count = 0
    for folder in Folder.objects.filter(deleted_at__lt=cutoff, deleted_with__isnull=True):
        purge(folder, None)
        count += 1
    for file in File.objects.filter(deleted_at__lt=cutoff, deleted_with__isnull=True):
        purge(file, None)
        count += 1
    return count


def sweep_orphans(older_than: timedelta = timedelta(hours=24), *, dry_run: bool = False,
                  now: datetime | None = None) -> list[tuple[str, int]]:
    """Blobs in the store that no FileVersion names, older than `older_than`, removed (with
    `dry_run`, only found). Returns (key, size) of each. Such blobs are left by a service called
    inside someone else's transaction that later rolled back (the bytes are written before the rows,
    see the module's docstring) or by a process killed between the two. The grace period spares an
    upload in flight, whose blob is written before its row commits."""
    cutoff = (now or timezone.now()) - older_than
    found: list[tuple[str, int]] = []
    batch: dict[str, int] = {}

    def check() -> None:
        known = set(FileVersion.objects.filter(blob__in=list(batch)).values_list("blob", flat=True))
        found.extend((key, size) for key, size in batch.items() if key not in known)
        batch.clear()

    for key, modified, size in blobs.listing():
        if modified < cutoff:
            batch[key] = size
        if len(batch) >= 1000:
            check()
    if batch:
        check()
    if not dry_run:
        blobs.discard(key for key, _size in found)
    return found


# --- Sharing and public links ---

def share(item: Folder | File, by: User | None, *, user: User | None = None, department: Department | None = None,
          access_level: str = Share.Access.READ) -> Share:
    """Share with a user or a department; sharing again changes the rights."""
    _need(by, item)
    _live(item)
    if (user is None) == (department is None):
        raise ValidationError(_("Выберите сотрудника или отдел."))
    if access_level not in Share.Access.values:
        raise ValidationError({"access": _("Неизвестные права доступа.")})
    if user is not None and not user.is_active:
        raise ValidationError({"user": _("Сотрудник уволен.")})
    kind = "file" if isinstance(item, File) else "folder"
    with transaction.atomic():
        found, _created = Share.objects.update_or_create(
            **{kind: item, "user": user, "department": department},
            defaults={"access": access_level}, create_defaults={"access": access_level, "created_by": by})
    return found


def unshare(found: Share, by: User | None) -> None:
    _need(by, found.file or found.folder)
    found.delete()


def public_link_create(file: File, by: User | None, *, expires_at: datetime | None = None, password: str = "") -> PublicLink:
    _need(by, file)
    _live(file)
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": _("Срок действия ссылки должен быть в будущем.")})
    return PublicLink.objects.create(file=file, token=secrets.token_urlsafe(24), expires_at=expires_at,
                                     password=make_password(password) if password else "", created_by=by)


def public_link_revoke(link: PublicLink, by: User | None) -> PublicLink:
    _need(by, link.file)
    if link.revoked_at is None:
        link.revoked_at = timezone.now()
        link.save(update_fields=["revoked_at"])
    return link


def public_link_downloaded(link: PublicLink) -> None:
    PublicLink.objects.filter(pk=link.pk).update(download_count=F("download_count") + 1)


# --- CRM attachments ---

def _check_record(record: Model, by: User | None) -> None:
    if record._meta.label_lower not in ATTACHABLE:
        raise ValidationError(_("Файлы можно прикрепить к лиду, сделке, контакту, компании, задаче или событию."))
    if by is not None and not access.can(by, Action.CHANGE, record):
        raise PermissionDenied(_("Прикреплять файлы может тот, кто вправе изменять запись."))


def record_folder(record: Model) -> Folder:
    """The record's folder in «Файлы CRM»: «Сделки» / «<сделка> #12». Made on first use."""
    content_type = ContentType.objects.get_for_model(record)
    found = Folder.objects.filter(content_type=content_type, object_id=record.pk).select_related("storage").first()
    if found:
        return found
    root = crm_storage().root
    with transaction.atomic():
        root = _lock(root)
        found = Folder.objects.filter(content_type=content_type, object_id=record.pk).first()
        if found:
            return found
        kind_name = str(record._meta.verbose_name_plural)
        kind = Folder.objects.filter(LIVE, parent=root, key=name_key(kind_name)).first() or folder_create(root, kind_name, None)
        folder = folder_create(kind, _record_label(record), None)
        folder.content_type, folder.object_id = content_type, record.pk
        folder.save(update_fields=["content_type", "object_id"])
    return folder


def _record_label(record: Model) -> str:
    """«ООО Ромашка #12»: a record's name may hold anything a file name may not."""
    label = f"{str(record)[:200]} #{record.pk}"
    label = "".join("-" if ch in names.FORBIDDEN else ch for ch in label)
    try:
        return names.clean(label)
    except ValidationError:
        return f"#{record.pk}"


def attach_upload(record: Model, source, name: str, by: User | None) -> Attachment:
    """Upload straight to a record (the card's panel): into its CRM folder, then attached."""
    _check_record(record, by)
    folder = record_folder(record)
    file = upload(folder, source, name, by)
    found, _created = Attachment.objects.get_or_create(
        file=file, content_type=ContentType.objects.get_for_model(record), object_id=record.pk,
        defaults={"created_by": by})
    return found


def attach(record: Model, file: File, by: User | None) -> Attachment:
    """A file from the disk attached to a record: a copy goes into the record's folder, so the
    record keeps its document whatever happens to the original on someone's disk."""
    _check_record(record, by)
    _need(by, file, READ)
    folder = record_folder(record)
    if file.folder_id != folder.pk:
        file = copy(file, folder, by)
    found, _created = Attachment.objects.get_or_create(
        file=file, content_type=ContentType.objects.get_for_model(record), object_id=record.pk,
        defaults={"created_by": by})
    return found



def detach(found: Attachment, by: User | None) -> None:
    """«Открепить» on a record's card (the right to change the record): the link goes, and the
    file too — to the trash — when it lives in that record's folder and nothing else holds it
    (such a file is reached only through the record: left there it would be an orphan nobody
    sees). A file attached elsewhere, or kept in someone's disk, stays where it is."""
    record = found.record
    if record is not None:
        _check_record(record, by)
    with transaction.atomic():
        file = File.objects.select_related("folder").get(pk=found.file_id)
        _lock_all(file.folder_id)
        found.delete()
        bound = (file.folder.content_type_id == found.content_type_id and file.folder.object_id == found.object_id)
        if bound and file.deleted_at is None and not file.attachments.exists():
            # The record's right decided above; the folder's own rule (`delete`'s) would ask again.
            now = timezone.now()
            if File.objects.filter(LIVE, pk=file.pk, folder_id=file.folder_id).update(deleted_at=now, deleted_by=by):
                _count(file.folder_id, files=-1)
            _schedule_purge(now)


def comment_add(record: Model, text: str, sources: list, by: User | None, *, pin_it: bool = False) -> TimelineEntry:
    """A comment with files (the card's comment form): each file goes into the record's CRM folder,
    attached to the comment and to the record (its card's panel lists it too). Whoever may comment
    — see the record, as the timeline asks — may add files to his comment: they are part of what
    he says, like its text (a task's observer's screenshot). A file of a taken name is kept
    beside it numbered, never as a new version: the comment keeps exactly what was sent.

    All or nothing: the bytes are written first (no lock held while they stream), then the comment
    and the rows in one transaction; a refusal (size, quota, name) saves nothing and removes
    what was written."""
    _check_record(record, None)
    if by is not None and not access.can(by, Action.VIEW, record):
        raise PermissionDenied(_("Нет доступа к записи."))
    file_names = [_clean(getattr(source, "name", "") or "", "file") for source in sources]
    folder = record_folder(record)
    stored: list[blobs.Stored] = []
    try:
        for name, source in zip(file_names, sources, strict=True):
            try:
                stored.append(_stream(source, by))
            except ValidationError as exc:
                raise ValidationError({"file": _("«%(name)s»: %(problem)s") % {
                    "name": name, "problem": " ".join(exc.messages)}}) from exc
        with transaction.atomic():
            folder = _lock(folder)
            if folder.deleted_at:
                raise ValidationError(_("Папка «%(name)s» в корзине.") % {"name": folder.name})
            _check_quota(by, sum(s.size for s in stored))
            entry = timeline.add_comment(record, by, text, pin_it=pin_it)
            on_entry = ContentType.objects.get_for_model(entry)
            on_record = ContentType.objects.get_for_model(record)
            links = []
            for name, piece in zip(file_names, stored, strict=True):
                file = File.objects.create(folder=folder, name=_free_name(folder, name), author=by,
                                           content_type=_guess_type(name))
                _count(folder.pk, files=1)
                _add_version(file, piece, by)
                links += [Attachment(file=file, content_type=on_entry, object_id=entry.pk, created_by=by),
                          Attachment(file=file, content_type=on_record, object_id=record.pk, created_by=by)]
            Attachment.objects.bulk_create(links)
        return entry
    except BaseException:
        blobs.discard([piece.key for piece in stored])
        raise


def record_deleted(content_type: ContentType, object_id: int) -> None:
    """A CRM record was deleted (crm.deletion.on_deleted): its attachments go, and its folder goes
    to the trash with everything in it — the retention empties it like any other; until then the
    CRM administrator («Диск»: «Все») can restore or fetch a file from it."""
    Attachment.objects.filter(content_type=content_type, object_id=object_id).delete()
    folder = Folder.objects.filter(LIVE, content_type=content_type, object_id=object_id).first()
    if folder is None:
        return
    # Its comments went with it (crm.deletion): their files' links to them too (the files are in
    # this folder, bound by a generic link the database does not cascade).
    Attachment.objects.filter(content_type=ContentType.objects.get_for_model(TimelineEntry),
                              file__folder__path__startswith=folder.path).delete()
    now = timezone.now()
    subtree = Folder.objects.filter(LIVE, path__startswith=folder.path)
    File.objects.filter(LIVE, folder__in=subtree).update(deleted_at=now, deleted_with=folder)
    subtree.exclude(pk=folder.pk).update(deleted_at=now, deleted_with=folder)
    if Folder.objects.filter(LIVE, pk=folder.pk).update(deleted_at=now):
        _count(folder.parent_id, folders=-1)
    _schedule_purge(now)
