"""The disk's data.

A `Storage` is a root: «Мой диск» of a user, the company's «Общий диск», a department's disk, or
the CRM's files (one folder per record). Every storage has one root `Folder`; folders nest to any
depth and carry a materialised `path` of their ids ("/1/5/9/"), so a subtree is one prefix query
and an item's ancestors (whose shares it inherits) are read from the path without a recursive
query. A `File` has versions (`FileVersion`, each a blob in the `disk` store under a random key:
the user's name never reaches the store); its size and sha256 are the current version's.

The trash is a `deleted_at` on the item itself. Deleting a folder marks its whole subtree with the
same moment and `deleted_with` = that folder, so «Корзина» lists only what the user deleted and
restoring the folder brings back exactly what went with it.

Names are unique in a folder among live items, ignoring case (as Windows and Bitrix24 do): a
partial unique index on (folder, key), `key` being the name case-folded in Python (SQLite's
lower() and LIKE fold only ASCII, «Договор» and «договор» would differ there).

The name order is natural, as Bitrix24's and every file manager's: «Файл 2» before «Файл 10». It
walks `sort_key`, the name case-folded with every run of digits zero-padded to SORT_DIGITS (a
number is then compared by its value, in any database and collation), through a (folder,
sort_key, id) index that serves a folder's first page by name.

Counters kept by the services (disk/services.py, the only writers, with F() in the change's own
transaction): a folder's `folder_count` and `file_count` are its children that are live or went
to the trash with a folder above (a deleted folder's subtree stays counted inside it, so restoring
it restores its counts), which for a live folder is exactly what its page lists; a user's `Usage`
is the bytes of every version he uploaded until it is purged (the quota). The folder page reads
them instead of a COUNT and a SUM over 10 000 rows (BENCHMARKS.md, «Диск»); `services.recount()`
(`manage.py disk_recount`) computes them afresh.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Entity

LIVE = Q(deleted_at__isnull=True)
# What a folder's counters count among its children (see the docstring).
COUNTED = Q(deleted_at__isnull=True) | Q(deleted_with__isnull=False)


def name_key(name: str) -> str:
    return name.casefold()[:255]


DIGITS = re.compile(r"[0-9]+")
# Wide enough for a date, an INN or a phone number written without separators; a longer number
# (more than 20 digits) sorts among the others by its first digits.
SORT_DIGITS = 20
SORT_KEY_LENGTH = 1000


def sort_key(name: str) -> str:
    """The name's place in the natural order: «Файл 10» → «файл 000…010» (see the docstring)."""
    return DIGITS.sub(lambda digits: digits.group().zfill(SORT_DIGITS), name.casefold())[:SORT_KEY_LENGTH]


class Named(models.Model):
    """Keeps `key` and `sort_key` in step with `name` on every save."""

    # Filled by save() (a bulk_create must set it: see scripts/bench_disk.py).
    sort_key = models.CharField(max_length=SORT_KEY_LENGTH, editable=False, default="")

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        self.key = name_key(self.name)
        self.sort_key = sort_key(self.name)
        fields = kwargs.get("update_fields")
        if fields is not None and "name" in fields:
            kwargs["update_fields"] = [*fields, *(f for f in ("key", "sort_key") if f not in fields)]
        super().save(*args, **kwargs)


class Storage(models.Model):
    class Kind(models.TextChoices):
        PERSONAL = "personal", _("Мой диск")
        COMMON = "common", _("Общий диск")
        DEPARTMENT = "department", _("Диск отдела")
        CRM = "crm", _("Файлы CRM")

    kind = models.CharField(_("Вид"), max_length=20, choices=Kind.choices)
    # PROTECT: deleting a user or a department must not drop its files' rows and orphan their
    # bytes in the store (users are deactivated, not deleted; a disk is emptied through the trash).
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("Владелец"), null=True, blank=True,
                              on_delete=models.PROTECT, related_name="disk_storages")
    department = models.ForeignKey("accounts.Department", verbose_name=_("Отдел"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="disk_storages")
    root = models.OneToOneField("Folder", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("Создан"), default=timezone.now)

    class Meta:
        verbose_name = _("Хранилище")
        verbose_name_plural = _("Хранилища")
        constraints = [
            models.UniqueConstraint(fields=["owner"], condition=Q(kind="personal"), name="disk_storage_one_personal"),
            models.UniqueConstraint(fields=["department"], condition=Q(kind="department"),
                                    name="disk_storage_one_department"),
            models.UniqueConstraint(fields=["kind"], condition=Q(kind__in=["common", "crm"]),
                                    name="disk_storage_one_common_crm"),
            models.CheckConstraint(
                condition=(Q(kind="personal", owner__isnull=False, department__isnull=True)
                           | Q(kind="department", owner__isnull=True, department__isnull=False)
                           | Q(kind__in=["common", "crm"], owner__isnull=True, department__isnull=True)),
                name="disk_storage_kind_owner"),
        ]

    def __str__(self) -> str:
        if self.kind == self.Kind.DEPARTMENT and self.department_id:
            return f"{self.get_kind_display()}: {self.department}"
        return str(self.get_kind_display())


class Folder(Named):
    access_entity = Entity.FILE
    access_owner_field = "author"

    storage = models.ForeignKey(Storage, on_delete=models.CASCADE, related_name="folders")
    parent = models.ForeignKey("self", verbose_name=_("Папка"), null=True, blank=True, on_delete=models.CASCADE,
                               related_name="children")
    name = models.CharField(_("Название"), max_length=255)
    key = models.CharField(max_length=255, editable=False)  # the name case-folded (see the docstring)
    # "/<root id>/…/<own id>/": ancestors and subtree without recursion (see the module's docstring).
    path = models.CharField(max_length=1000, blank=True, db_index=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("Автор"), null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("Создана"), default=timezone.now)
    updated_at = models.DateTimeField(_("Изменена"), default=timezone.now)
    # A record's CRM folder (lead, deal, contact, company, task, event): whoever may see the record
    # reads it.
    content_type = models.ForeignKey(ContentType, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    object_id = models.PositiveBigIntegerField(null=True, blank=True)
    record = GenericForeignKey("content_type", "object_id")
    deleted_at = models.DateTimeField(_("Удалена"), null=True, blank=True)
    deleted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    deleted_with = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # Kept by the services (see the docstring; COUNTED says which children count).
    folder_count = models.IntegerField(default=0, editable=False)
    file_count = models.IntegerField(default=0, editable=False)

    class Meta:
        verbose_name = _("Папка")
        verbose_name_plural = _("Папки")
        constraints = [
            models.UniqueConstraint(fields=["parent", "key"], condition=LIVE, name="disk_folder_name_once"),
            models.UniqueConstraint(fields=["content_type", "object_id"], name="disk_folder_one_per_record"),
        ]
        indexes = [
            models.Index(fields=["deleted_at"], condition=Q(deleted_at__isnull=False), name="disk_folder_trash_idx"),
            models.Index(fields=["parent", "sort_key", "id"], condition=LIVE, name="disk_folder_parent_sort_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def ancestor_ids(self) -> list[int]:
        """Own id last."""
        return [int(part) for part in self.path.strip("/").split("/") if part]

    @property
    def is_root(self) -> bool:
        return self.parent_id is None


class File(Named):
    access_entity = Entity.FILE
    access_owner_field = "author"

    folder = models.ForeignKey(Folder, verbose_name=_("Папка"), on_delete=models.CASCADE, related_name="files")
    name = models.CharField(_("Название"), max_length=255)
    key = models.CharField(max_length=255, editable=False)  # the name case-folded (see the docstring)
    current = models.ForeignKey("FileVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    size = models.PositiveBigIntegerField(_("Размер"), default=0)
    content_type = models.CharField(_("Тип"), max_length=255, default="application/octet-stream")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("Автор"), null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="disk_files")
    created_at = models.DateTimeField(_("Создан"), default=timezone.now)
    updated_at = models.DateTimeField(_("Изменён"), default=timezone.now)
    deleted_at = models.DateTimeField(_("Удалён"), null=True, blank=True)
    deleted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    deleted_with = models.ForeignKey(Folder, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("Файл")
        verbose_name_plural = _("Файлы")
        constraints = [
            models.UniqueConstraint(fields=["folder", "key"], condition=LIVE, name="disk_file_name_once"),
        ]
        indexes = [
            # A folder's page by name, date and size: a folder of 10,000 files sorted by size took
            # 3.2× the minimal view without its index (BENCHMARKS.md).
            models.Index(fields=["folder", "sort_key", "id"], condition=LIVE, name="disk_file_folder_sort_idx"),
            models.Index(F("folder"), F("updated_at").desc(), condition=LIVE, name="disk_file_folder_date_idx"),
            models.Index(F("folder"), F("size"), F("id"), condition=LIVE, name="disk_file_folder_size_idx"),
            models.Index(fields=["deleted_at"], condition=Q(deleted_at__isnull=False), name="disk_file_trash_idx"),
        ]

    def __str__(self) -> str:
        return self.name


class FileVersion(models.Model):
    file = models.ForeignKey(File, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("Версия"))
    blob = models.CharField(max_length=200, unique=True)  # the key in the `disk` store
    size = models.PositiveBigIntegerField(_("Размер"))
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("Загрузил"), null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField(_("Загружена"), default=timezone.now)

    class Meta:
        verbose_name = _("Версия файла")
        verbose_name_plural = _("Версии файлов")
        ordering = ["-number"]
        constraints = [models.UniqueConstraint(fields=["file", "number"], name="disk_version_number_once")]
        # A user's quota is the sum of what he uploaded.
        indexes = [models.Index(fields=["uploaded_by"], name="disk_version_uploader_idx")]

    def __str__(self) -> str:
        return f"{self.file} v{self.number}"


class Usage(models.Model):
    """The bytes a user's uploads take (the quota's measure), kept by the services."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, primary_key=True, on_delete=models.CASCADE,
                                related_name="disk_usage")
    used = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("Занятое место")
        verbose_name_plural = _("Занятое место")

    def __str__(self) -> str:
        return f"{self.user}: {self.used}"


class Share(models.Model):
    """A file or a folder (with everything inside) shared with a user or a department (with its
    sub-departments)."""

    class Access(models.TextChoices):
        READ = "read", _("Чтение")
        EDIT = "edit", _("Изменение")

    file = models.ForeignKey(File, null=True, blank=True, on_delete=models.CASCADE, related_name="shares")
    folder = models.ForeignKey(Folder, null=True, blank=True, on_delete=models.CASCADE, related_name="shares")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("Сотрудник"), null=True, blank=True,
                             on_delete=models.CASCADE, related_name="disk_shares")
    department = models.ForeignKey("accounts.Department", verbose_name=_("Отдел"), null=True, blank=True,
                                   on_delete=models.CASCADE, related_name="disk_shares")
    access = models.CharField(_("Права"), max_length=10, choices=Access.choices, default=Access.READ)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("Общий доступ")
        verbose_name_plural = _("Общий доступ")
        constraints = [
            models.CheckConstraint(condition=Q(file__isnull=True) ^ Q(folder__isnull=True), name="disk_share_one_item"),
            models.CheckConstraint(condition=Q(user__isnull=True) ^ Q(department__isnull=True),
                                   name="disk_share_one_target"),
            # One share per item and person (or department): sharing again changes its rights.
            *[models.UniqueConstraint(fields=[item, target], name=f"disk_share_{item}_{target}_once",
                                      condition=Q(**{f"{item}__isnull": False, f"{target}__isnull": False}))
              for item in ("file", "folder") for target in ("user", "department")],
        ]

    def __str__(self) -> str:
        return f"{self.file or self.folder} → {self.user or self.department}"


class PublicLink(models.Model):
    """A link to a file for someone without a login (a client): the token is the secret."""

    file = models.ForeignKey(File, on_delete=models.CASCADE, related_name="public_links")
    token = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField(_("Действует до"), null=True, blank=True)
    password = models.CharField(max_length=128, blank=True)  # a Django password hash; empty: none
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)
    download_count = models.PositiveIntegerField(_("Скачиваний"), default=0)

    class Meta:
        verbose_name = _("Публичная ссылка")
        verbose_name_plural = _("Публичные ссылки")

    def __str__(self) -> str:
        return f"{self.file}: {self.token[:6]}…"

    def is_live(self, now=None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class Attachment(models.Model):
    """A file attached to a CRM record (lead, deal, contact, company, task, event) or to a comment
    (a crm TimelineEntry): one generic link, like tasks_app's Binding. The file itself lives in the
    record's CRM folder; a comment's file is attached to its record as well."""

    file = models.ForeignKey(File, on_delete=models.CASCADE, related_name="attachments")
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    object_id = models.PositiveBigIntegerField()
    record = GenericForeignKey("content_type", "object_id")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("Вложение")
        verbose_name_plural = _("Вложения")
        constraints = [models.UniqueConstraint(fields=["file", "content_type", "object_id"], name="disk_attachment_once")]
        indexes = [models.Index(fields=["content_type", "object_id"], name="disk_attachment_record_idx")]

    def __str__(self) -> str:
        return f"{self.file} → {self.content_type.model} {self.object_id}"
