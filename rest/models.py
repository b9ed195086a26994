"""Incoming webhooks («Входящий вебхук» of Bitrix24): a secret code in an address that acts as its
user, limited to the scopes it was given. The code itself is never stored — only its SHA-256 (the
code is 32 random characters, so a plain hash cannot be guessed back; a slow password hash would
cost every API call) — and it is shown once, when the webhook is made."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Scope(models.TextChoices):
    """What a webhook may be used for, as Bitrix24 names its scopes."""

    CRM = "crm", _("CRM")
    TASK = "task", _("Задачи")
    CALENDAR = "calendar", _("Календарь")
    DISK = "disk", _("Диск")
    USER = "user", _("Пользователи")


class Webhook(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="webhooks",
                             verbose_name=_("Пользователь"))
    name = models.CharField(_("Название"), max_length=100, blank=True)
    code_hash = models.CharField(max_length=64, unique=True, editable=False)
    # Comma-separated Scope values («crm,task»): read in every call, written once.
    scopes = models.CharField(_("Права"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("Создан"), default=timezone.now)
    revoked_at = models.DateTimeField(_("Отозван"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("Последнее использование"), null=True, blank=True)
    last_used_ip = models.GenericIPAddressField(_("С адреса"), null=True, blank=True)
    # The leaky bucket (rest.views): how full it was at `bucket_at` (seconds since the epoch).
    bucket = models.FloatField(default=0, editable=False)
    bucket_at = models.FloatField(default=0, editable=False)

    name_forms = (_("вебхук"), _("вебхук"), _("вебхука"), _("вебхуков"))  # crm.admin_names

    class Meta:
        verbose_name = _("Вебхук")
        verbose_name_plural = _("Вебхуки")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.name or gettext_fallback(self.pk)

    @property
    def scope_list(self) -> list[str]:
        return [s for s in self.scopes.split(",") if s]

    @property
    def scope_labels(self) -> str:
        return ", ".join(str(Scope(s).label) for s in self.scope_list if s in Scope.values)

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


def gettext_fallback(pk) -> str:
    from django.utils.translation import gettext

    return gettext("Вебхук №%(id)s") % {"id": pk}
