"""An import job of the «Импорт» page: the uploaded file, the choices made on the page (options and
the columns' mapping), and what the worker reports while it runs it — the state, the rows done, the
counts, the report file, the error.

The file and the report live under settings.IMPORT_ROOT (a private folder with no URL, never under
MEDIA_ROOT); the job keeps their paths relative to it, so the folder can move. Only
`exchange.services` writes a job; the worker writes through it too.

The states, in the order a job goes through them:
  загружен → (Проверить) проверка → проверен → (Импортировать) в очереди → идёт → готово;
  «ошибка» from any running state (the message is kept), and «Изменить сопоставление» takes a
  checked (or failed) job back to «загружен».
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ImportEntity(models.TextChoices):
    """What the page imports (exchange.columns.ENTITIES), in the order a whole CRM is brought in."""

    COMPANY = "company", _("Компании")
    CONTACT = "contact", _("Контакты")
    LEAD = "lead", _("Лиды")
    DEAL = "deal", _("Сделки")


class ImportJob(models.Model):
    class State(models.TextChoices):
        UPLOADED = "uploaded", _("Загружен")
        CHECKING = "checking", _("Проверка")
        CHECKED = "checked", _("Проверен")
        QUEUED = "queued", _("В очереди")
        RUNNING = "running", _("Идёт")
        DONE = "done", _("Готово")
        FAILED = "failed", _("Ошибка")

    # States in which the worker has the job (the page polls); a job in them cannot be edited.
    ACTIVE = (State.CHECKING, State.QUEUED, State.RUNNING)

    entity = models.CharField(_("Что импортируется"), max_length=16, choices=ImportEntity.choices)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("Кто"), on_delete=models.CASCADE,
                                   related_name="import_jobs")
    created_at = models.DateTimeField(_("Загружен"), default=timezone.now)
    original_name = models.CharField(_("Файл"), max_length=255)
    size = models.PositiveBigIntegerField(_("Размер"), default=0)
    path = models.CharField(max_length=500, blank=True)  # relative to IMPORT_ROOT; "" once removed
    format = models.CharField(_("Формат"), max_length=8, blank=True)
    encoding = models.CharField(_("Кодировка"), max_length=32, blank=True)
    delimiter = models.CharField(_("Разделитель"), max_length=4, blank=True)
    headers = models.JSONField(_("Колонки"), default=list)
    sample = models.JSONField(_("Первые строки"), default=list)  # the first rows, shown beside the mapping
    options = models.JSONField(_("Параметры"), default=dict)  # on_duplicate, strict, create_missing, default_responsible
    mapping = models.JSONField(_("Сопоставление колонок"), default=dict)  # header → field ("" = ignored)

    state = models.CharField(_("Состояние"), max_length=16, choices=State.choices, default=State.UPLOADED)
    dry_run = models.BooleanField(_("Проверка"), default=False)  # the last run was the check, not the import
    rows_total = models.PositiveIntegerField(_("Строк (оценка)"), null=True, blank=True)
    rows_done = models.PositiveIntegerField(_("Строк обработано"), default=0)
    created = models.PositiveIntegerField(_("Создано"), default=0)
    updated = models.PositiveIntegerField(_("Обновлено"), default=0)
    skipped = models.PositiveIntegerField(_("Пропущено"), default=0)
    rejected = models.PositiveIntegerField(_("Отклонено"), default=0)
    report_path = models.CharField(max_length=500, blank=True)  # relative to IMPORT_ROOT
    report_lines = models.JSONField(_("Начало отчёта"), default=list)  # the first lines, for the page
    error = models.TextField(_("Ошибка"), blank=True)
    started_at = models.DateTimeField(_("Начат"), null=True, blank=True)
    progress_at = models.DateTimeField(null=True, blank=True)  # the worker's last word: rows/s, a stuck worker
    finished_at = models.DateTimeField(_("Закончен"), null=True, blank=True)

    name_forms = (_("импорт"), _("импорт"), _("импорта"), _("импортов"))  # crm.admin_names

    class Meta:
        verbose_name = _("Импорт")
        verbose_name_plural = _("Импорты")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["created_by", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.get_entity_display()}: {self.original_name}"

    def get_absolute_url(self) -> str:
        return reverse("exchange:import_job", args=[self.pk])

    @property
    def is_active(self) -> bool:
        return self.state in self.ACTIVE

    @property
    def file_path(self) -> Path | None:
        return Path(settings.IMPORT_ROOT) / self.path if self.path else None

    @property
    def report_file(self) -> Path | None:
        return Path(settings.IMPORT_ROOT) / self.report_path if self.report_path else None
