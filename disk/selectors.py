"""The disk's readers, and the rule of who may read or change an item.

Who reaches an item (a folder or a file), the best of:
- the storage: «Мой диск» — its owner; «Общий диск» — every employee; a department's disk — the
  members of the department and of its sub-departments (each of these may also add and change
  there, like a shared network drive);
- a share on the item or on any folder above it, with the user or with his department or a
  department above his (a share to a department reaches its sub-departments);
- a CRM record's folder (and everything in it): whoever may see the record reads, whoever may
  change it changes (accounts.access.can, so a task's participants too);
- the role's level for «Диск» above «Свои» (accounts.access on the item's author), as for the
  CRM's records: the head of sales reaches his people's files, the CRM administrator's «Все» every
  file (a supervisor who wants personal disks private sets the head's «Диск» to «Свои»).
Rights never shrink going down the tree, so whoever may read a folder reads everything in it:
a listing checks the folder once and then reads its rows without a per-row condition.
"""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db.models import Exists, Model, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from accounts import access
from accounts.models import Action, Level
from crm.models import TimelineEntry

from .models import LIVE, Attachment, File, FileVersion, Folder, PublicLink, Share, Storage, Usage

READ, EDIT = "read", "edit"
RANK = {None: 0, READ: 1, EDIT: 2}


def best(*rights: str | None) -> str | None:
    return max(rights, key=RANK.__getitem__)


def department_chain(user) -> set[int]:
    """The user's department and every department above it: a share to any of them reaches him."""
    if not user.department_id:
        return set()
    cache = getattr(user, "_disk_departments", None)
    if cache is None:
        parents = {pk: parent for pk, parent, _name in access.departments(user)}  # read with his levels
        cache, node = set(), user.department_id
        while node is not None and node not in cache:
            cache.add(node)
            node = parents.get(node)
        user._disk_departments = cache
    return cache


def _storage_rights(user, storage: Storage) -> str | None:
    if storage.kind == Storage.Kind.PERSONAL:
        return EDIT if storage.owner_id == user.pk else None
    if storage.kind == Storage.Kind.COMMON:
        return EDIT
    if storage.kind == Storage.Kind.DEPARTMENT:
        return EDIT if storage.department_id in department_chain(user) else None
    return None  # the CRM's storage: per record folder


def _level_rights(user, item: Model) -> str | None:
    # «Свои» opens nothing here: one's own files are reached through the storage and the shares
    # (an upload into a colleague's shared folder is not the uploader's to keep once unshared).
    if access.level(user, item.access_entity, Action.VIEW) <= Level.OWN:
        return None
    if access.can(user, Action.CHANGE, item):
        return EDIT
    return READ if access.can(user, Action.VIEW, item) else None


def _record_rights(user, folders: list[Folder]) -> str | None:
    bound = [f for f in folders if f.content_type_id]
    if not bound:
        return None
    record = bound[-1].record
    if record is None:
        return None
    if access.can(user, Action.CHANGE, record):
        return EDIT
    return READ if access.can(user, Action.VIEW, record) else None


def rights(user, item: Folder | File) -> str | None:
    """READ, EDIT or None for an item (deleted or not: the trash asks too)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    folder = item if isinstance(item, Folder) else item.folder
    result = _storage_rights(user, folder.storage)
    if result == EDIT:  # one's own disk, the common one: nothing else can give more
        return result
    result = best(result, _level_rights(user, item))
    if result == EDIT:
        return result
    ancestors = folder.ancestor_ids
    targets = Q(user=user)
    if department_chain(user):
        targets |= Q(department_id__in=department_chain(user))
    items = Q(folder_id__in=ancestors)
    if isinstance(item, File):
        items |= Q(file=item)
    for granted in Share.objects.filter(items, targets).values_list("access", flat=True):
        result = best(result, granted)
    if result == EDIT or folder.storage.kind != Storage.Kind.CRM:
        return result
    folders = list(Folder.objects.filter(pk__in=ancestors).only("pk", "content_type", "object_id").order_by("path"))
    return best(result, _record_rights(user, folders))


def _check(user, item, need: str):
    found = rights(user, item)
    if RANK[found] < RANK[need]:
        raise Http404
    item.user_rights = found  # what the user may do with it, for the page that asked (no second check)
    return item


def folder_for(user, pk, need: str = READ, deleted: bool = False) -> Folder:
    """A folder the user may reach (404 otherwise, as the access gate does: ids cannot be probed)."""
    try:
        # With its parent: the breadcrumbs of a folder in a disk's root need no query of their own.
        folder = Folder.objects.select_related("storage", "parent").get(pk=pk, deleted_at__isnull=not deleted)
    except (Folder.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc
    return _check(user, folder, need)


def file_for(user, pk, need: str = READ, deleted: bool = False) -> File:
    try:
        found = File.objects.select_related("folder__storage", "current").get(pk=pk, deleted_at__isnull=not deleted)
    except (File.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc
    return _check(user, found, need)


def version_for(user, file_pk, number) -> FileVersion:
    found = file_for(user, file_pk)
    try:
        return found.versions.get(number=number)
    except (FileVersion.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


ORDERS = {  # by name: the natural order (models.sort_key)
    "name": ("sort_key", "pk"),
    "-name": ("-sort_key", "-pk"),
    "date": ("updated_at", "pk"),
    "-date": ("-updated_at", "-pk"),
    "size": ("size", "pk"),
    "-size": ("-size", "-pk"),
    "author": ("author__last_name", "author__first_name", "sort_key", "pk"),
    "-author": ("-author__last_name", "-author__first_name", "-sort_key", "-pk"),
}


def folder_children(folder: Folder) -> QuerySet[Folder]:
    """The live sub-folders (call after folder_for: rights are inherited, see the docstring)."""
    return folder.children.filter(LIVE).select_related("author").order_by("sort_key", "pk")


def folder_files(folder: Folder, order: str = "name", *, versions: bool = True) -> QuerySet[File]:
    """The live files, one page at a time by slicing; the (folder, sort_key), (folder,
    updated_at) and (folder, size) indexes serve the first page whatever the folder's size.
    `versions=False`: without the current version and its uploader (the folder page shows
    neither: half the rows' objects to build)."""
    related = ("author", "current__uploaded_by") if versions else ("author",)
    return folder.files.filter(LIVE).select_related(*related).order_by(*ORDERS.get(order, ORDERS["name"]))


def breadcrumbs(folder: Folder) -> list[Folder]:
    """The folders from the storage's root down to `folder` (one query; none for a root or a
    folder in the root when folder_for loaded its parent)."""
    ancestors = folder.ancestor_ids
    if len(ancestors) == 1:
        return [folder]
    if len(ancestors) == 2 and Folder.parent.is_cached(folder) and folder.parent is not None:
        return [folder.parent, folder]
    found = {f.pk: f for f in Folder.objects.filter(pk__in=folder.ancestor_ids)}
    return [found[pk] for pk in folder.ancestor_ids if pk in found]


# Bumped whenever a storage is made (services): the pages' cached switches are read afresh.
STORAGES_VERSION = "disk:storages:version"


def storages_for(user) -> QuerySet[Storage]:
    """The storages a user opens from the menu: his own, the common one, his departments'."""
    return (Storage.objects.filter(Q(kind=Storage.Kind.PERSONAL, owner=user) | Q(kind=Storage.Kind.COMMON)
                                   | Q(kind=Storage.Kind.DEPARTMENT, department_id__in=department_chain(user)))
            .select_related("root", "department"))


def shared_with_me(user) -> QuerySet[Share]:
    """«Доступные мне»: what others shared with the user or his departments, each item once — an
    item shared with him and with his department (or with two of his departments) is listed by its
    strongest share (edit over read; the oldest of equals), in one query."""
    targets = Q(user=user)
    if department_chain(user):
        targets |= Q(department_id__in=department_chain(user))
    mine = Share.objects.filter(targets).exclude(created_by=user)
    # Exactly one of file/folder is set: NULL = NULL is not true, so this matches the same item only.
    same_item = Q(file=OuterRef("file")) | Q(folder=OuterRef("folder"))
    stronger = mine.filter(same_item).filter((Q(access=EDIT) & ~Q(access=OuterRef("access")))
                                             | Q(access=OuterRef("access"), pk__lt=OuterRef("pk")))
    return (mine.filter(Q(file__isnull=False, file__deleted_at__isnull=True)
                        | Q(folder__isnull=False, folder__deleted_at__isnull=True))
            .exclude(Exists(stronger))
            .select_related("file__author", "folder__author", "created_by").order_by("-created_at", "-pk"))


def trash(user, storage: Storage) -> tuple[QuerySet[Folder], QuerySet[File]]:
    """What was deleted in a storage the user may change (or every storage, for the role whose
    «Диск» level is «Все»), top-level items only: a deleted folder stands for everything deleted
    with it."""
    if _storage_rights(user, storage) != EDIT and access.level(user, File.access_entity, Action.DELETE) < Level.ALL:
        raise Http404
    folders = Folder.objects.filter(storage=storage, deleted_at__isnull=False, deleted_with__isnull=True)
    files = File.objects.filter(folder__storage=storage, deleted_at__isnull=False, deleted_with__isnull=True)
    return folders.order_by("-deleted_at"), files.select_related("deleted_by").order_by("-deleted_at")


def usage(user) -> int:
    """Bytes a user's uploads take (every version until it is purged): the counter the services
    keep (models' docstring), not a SUM over all his versions."""
    return Usage.objects.filter(user_id=user.pk).values_list("used", flat=True).first() or 0


def attachments(user, record: Model) -> QuerySet[Attachment]:
    """The files attached to a record the user may see (else none)."""
    if not access.can(user, Action.VIEW, record):
        return Attachment.objects.none()
    return (Attachment.objects.filter(content_type=ContentType.objects.get_for_model(record), object_id=record.pk,
                                      file__deleted_at__isnull=True)
            .select_related("file__author", "file__current").order_by("-file__updated_at", "-pk"))


def comment_files(user, record: Model, entries: list) -> dict[int, list[Attachment]]:
    """The live files of a timeline page's comments by entry id, for a reader of the record —
    one query whatever the number of comments and files (none without comments)."""
    ids = [entry.pk for entry in entries if entry.kind == TimelineEntry.Kind.COMMENT]
    if not ids or not access.can(user, Action.VIEW, record):
        return {}
    found: dict[int, list[Attachment]] = {}
    for attachment in (Attachment.objects.filter(content_type=ContentType.objects.get_for_model(TimelineEntry),
                                                 object_id__in=ids, file__deleted_at__isnull=True)
                       .select_related("file").order_by("pk")):
        found.setdefault(attachment.object_id, []).append(attachment)
    return found


def public_link(token: str) -> PublicLink:
    """The live public link of a live file; anything else is a 404 (revoked, expired or never)."""
    try:
        link = PublicLink.objects.select_related("file__current").get(token=str(token)[:64])
    except PublicLink.DoesNotExist as exc:
        raise Http404 from exc
    if not link.is_live(timezone.now()) or link.file.deleted_at is not None or link.file.current is None:
        raise Http404
    return link


def public_links(user, file: File) -> QuerySet[PublicLink]:
    _check(user, file, EDIT)
    return file.public_links.order_by("-created_at")


def attachments_of(user, records: list[Model]) -> QuerySet[Attachment]:
    """The files attached to any of `records` (one query whatever their number), only of those
    the user may see — the deal card's «Документы» lists its company's and contacts' files too."""
    condition = Q(pk__in=[])
    for record in records:
        if record is not None and access.can(user, Action.VIEW, record):
            condition |= Q(content_type=ContentType.objects.get_for_model(record), object_id=record.pk)
    return (Attachment.objects.filter(condition, file__deleted_at__isnull=True)
            .select_related("file__author", "file__current").order_by("-file__updated_at", "-pk"))


def live_links(files: list[File]) -> dict[int, PublicLink]:
    """The newest live public link of each file (one query): what a card's panel offers to copy."""
    found: dict[int, PublicLink] = {}
    if not files:
        return found
    now = timezone.now()
    links = (PublicLink.objects.filter(file__in=files, revoked_at__isnull=True)
             .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now)).order_by("file_id", "-created_at"))
    for link in links:
        found.setdefault(link.file_id, link)
    return found


def admin_files(user) -> QuerySet[File]:
    """The admin's files: what the user's role reaches on their authors (the «Диск» level), as
    for the CRM's records — a supervisor reviews his people's files, the CRM administrator all."""
    return access.scope(user, File.objects.all(), Action.VIEW)


def admin_folders(user) -> QuerySet[Folder]:
    return access.scope(user, Folder.objects.all(), Action.VIEW)


def admin_links(user) -> QuerySet[PublicLink]:
    """Public links of the files the admin shows (see admin_files)."""
    return PublicLink.objects.filter(file__in=admin_files(user).values("pk"))


def record_attachment(record: Model, pk) -> Attachment:
    """One of `record`'s attachments (after the record came through the gate): another record's is
    a 404."""
    try:
        return (Attachment.objects.select_related("file")
                .get(pk=pk, content_type=ContentType.objects.get_for_model(record), object_id=record.pk))
    except (Attachment.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def file_link(file: File, pk) -> PublicLink:
    """One of `file`'s public links (after the file was reached)."""
    try:
        return file.public_links.select_related("file").get(pk=pk)
    except (PublicLink.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


# --- For the disk's pages ---

FOLDER_ORDERS = {
    "date": ("updated_at", "pk"),
    "-date": ("-updated_at", "-pk"),
    "author": ("author__last_name", "author__first_name", "sort_key", "pk"),
    "-author": ("-author__last_name", "-author__first_name", "-sort_key", "-pk"),
    "-name": ("-sort_key", "-pk"),
    "-size": ("-sort_key", "-pk"),
}


def folder_children_ordered(folder: Folder, order: str = "name") -> QuerySet[Folder]:
    """folder_children in a page's order (folders have no size: by name then)."""
    return folder_children(folder).order_by(*FOLDER_ORDERS.get(order, ("sort_key", "pk")))


def search(folder: Folder, text: str, order: str = "name") -> tuple[QuerySet[Folder], QuerySet[File]]:
    """Live folders and files whose name holds `text`, anywhere below `folder` (call after
    folder_for: whoever reads a folder reads its subtree). `key` is case-folded in Python, so the
    match ignores the case of Cyrillic names too."""
    needle = text.casefold()
    folders = (Folder.objects.filter(LIVE, path__startswith=folder.path, key__contains=needle)
               .exclude(pk=folder.pk).select_related("author", "parent")
               .order_by(*FOLDER_ORDERS.get(order, ("sort_key", "pk"))))
    files = (File.objects.filter(LIVE, folder__path__startswith=folder.path, key__contains=needle)
             .select_related("author", "current__uploaded_by", "folder")
             .order_by(*ORDERS.get(order, ORDERS["name"])))
    return folders, files


def trash_all(user, storage: Storage) -> tuple[QuerySet[Folder], QuerySet[File]]:
    """trash() with what a page shows of each row (who deleted it, the author)."""
    folders, files = trash(user, storage)
    return folders.select_related("deleted_by", "author"), files.select_related("author")


def versions(file: File) -> QuerySet[FileVersion]:
    """A file's history, newest first (call after file_for)."""
    return file.versions.select_related("uploaded_by").order_by("-number")


def shares_of(item: Folder | File) -> QuerySet[Share]:
    """Who an item is shared with (call after a check of edit rights)."""
    return item.shares.select_related("user", "department").order_by("-created_at", "-pk")


def writable_shared_folders(user) -> QuerySet[Folder]:
    """Folders others shared with the user to change: where a move or a copy may also go."""
    return Folder.objects.filter(LIVE, pk__in=shared_with_me(user).filter(folder__isnull=False, access=EDIT)
                                 .values("folder_id")).order_by("sort_key", "pk")


def storage_rights(user, storage: Storage) -> str | None:
    """What the storage itself gives the user (no shares, no role): the pages' breadcrumbs start
    at its root when it gives something."""
    return _storage_rights(user, storage)


def share_for(user, pk) -> Share:
    """A share whose item the user may change (who may remove it); 404 otherwise."""
    try:
        found = Share.objects.select_related("file__folder", "folder").get(pk=pk)
    except (Share.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc
    if found.file_id:
        file_for(user, found.file_id, EDIT)
    else:
        folder_for(user, found.folder_id, EDIT)
    return found


def link_for(user, pk) -> PublicLink:
    """A public link of a file the user may change (who may revoke it); 404 otherwise."""
    try:
        link = PublicLink.objects.select_related("file").get(pk=pk)
    except (PublicLink.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc
    file_for(user, link.file_id, EDIT)
    return link


def trash_storage(pk) -> Storage:
    """A disk whose trash is asked for by id («Файлы CRM» has none of its own); `trash()` decides
    whether the user may open it."""
    storage = Storage.objects.select_related("department").filter(pk=pk).exclude(kind=Storage.Kind.CRM).first()
    if storage is None:
        raise Http404
    return storage
