"""A handler of outgoing events and the log of what was sent to it."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

# Bitrix24's event codes, per kind of record (the model's label) and action: ONCRMLEADADD…
# ONTASKDELETE. Every one of these records is deleted through crm.deletion, so each has its DELETE.
ENTITIES = {
    "leads.lead": ("ONCRMLEAD", _("Лиды")),
    "deals.deal": ("ONCRMDEAL", _("Сделки")),
    "clients.contact": ("ONCRMCONTACT", _("Контакты")),
    "clients.company": ("ONCRMCOMPANY", _("Компании")),
    "tasks_app.task": ("ONTASK", _("Задачи")),
}
ACTIONS = {"add": ("ADD", _("создание")), "update": ("UPDATE", _("изменение")), "delete": ("DELETE", _("удаление"))}
EVENTS = [(prefix + suffix, format_lazy("{} — {}: {}", prefix + suffix, group, action))
          for prefix, group in ENTITIES.values() for suffix, action in ACTIONS.values()]
EVENT_CODES = frozenset(code for code, _label in EVENTS)


class Handler(models.Model):
    """Bitrix24's «Исходящий вебхук»: one URL, the events it receives, one application token sent
    with each event (auth[application_token]) so the receiver knows the post is ours. The token
    is kept as it is — it must be sent — and shown once, when it is made."""

    name = models.CharField(_("Название"), max_length=200)
    url = models.URLField(_("Адрес обработчика"), max_length=1000)
    events = models.JSONField(_("События"), default=list)  # event codes (EVENT_CODES)
    active = models.BooleanField(_("Активен"), default=True)
    application_token = models.CharField(_("Токен приложения"), max_length=64)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("Кем создан"), null=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("Создан"), auto_now_add=True)

    class Meta:
        verbose_name = _("Обработчик исходящих событий")
        verbose_name_plural = _("Обработчики исходящих событий")
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name


class Delivery(models.Model):
    """One event for one handler: what was (or is to be) posted and how it went."""

    class State(models.TextChoices):
        PENDING = "pending", _("Ожидает отправки")
        DELIVERED = "delivered", _("Доставлено")
        FAILED = "failed", _("Не доставлено")
        CANCELLED = "cancelled", _("Отменено")

    handler = models.ForeignKey(Handler, verbose_name=_("Обработчик"), on_delete=models.CASCADE,
                                related_name="deliveries")
    event = models.CharField(_("Событие"), max_length=40)
    object_id = models.PositiveBigIntegerField(_("ID записи"))
    created_at = models.DateTimeField(_("Событие произошло"), default=timezone.now)
    state = models.CharField(_("Состояние"), max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(_("Попыток"), default=0)
    last_attempt_at = models.DateTimeField(_("Последняя попытка"), null=True, blank=True)
    next_attempt_at = models.DateTimeField(_("Следующая попытка"), null=True, blank=True)
    last_status = models.PositiveSmallIntegerField(_("Ответ (HTTP)"), null=True, blank=True)
    last_error = models.CharField(_("Ошибка"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("Отправка события")
        verbose_name_plural = _("Отправки событий")
        ordering = ["-pk"]
        indexes = [models.Index(fields=["handler", "-id"], name="rest_events_delivery_log")]

    def __str__(self) -> str:
        return f"{self.event} {self.object_id} → {self.handler}"
