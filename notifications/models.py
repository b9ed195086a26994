"""A notification: something a user should know about, shown under the bell and, if he wants that
kind, sent by e-mail.

The sentence is kept as a `crm.timeline.message` (msgid + params) and rendered in the reader's
language when shown, like the history. `key` makes a producer idempotent: one notification per
recipient and key (a reminder enqueued twice, a retried request)."""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    ASSIGNED = "assigned", _("Назначено мне")
    COMMENT = "comment", _("Комментарий к моей записи")
    MENTION = "mention", _("Упоминание")
    TASK_COMPLETED = "task_completed", _("Задача завершена")
    TASK_RETURNED = "task_returned", _("Задача возвращена")
    DEADLINE_NEAR = "deadline_near", _("Скоро крайний срок")
    DEADLINE_PASSED = "deadline_passed", _("Крайний срок прошёл")
    EVENT_INVITED = "event_invited", _("Приглашение на событие")
    EVENT_CHANGED = "event_changed", _("Событие перенесено или изменено")
    EVENT_CANCELLED = "event_cancelled", _("Событие отменено")
    EVENT_REMINDER = "event_reminder", _("Напоминание о событии")
    IMPORT_DONE = "import_done", _("Импорт завершён")


# The kinds something sends, which the profile offers to receive by e-mail.
OFFERED = (Kind.ASSIGNED, Kind.COMMENT, Kind.MENTION, Kind.TASK_COMPLETED, Kind.TASK_RETURNED, Kind.DEADLINE_NEAR,
           Kind.DEADLINE_PASSED, Kind.EVENT_INVITED, Kind.EVENT_CHANGED, Kind.EVENT_CANCELLED, Kind.EVENT_REMINDER,
           Kind.IMPORT_DONE)


class Notification(models.Model):
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("Получатель"), on_delete=models.CASCADE,
                                  related_name="notifications")
    kind = models.CharField(_("Вид"), max_length=32, choices=Kind.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("Кто"), null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    message = models.JSONField(_("Сообщение"), default=dict)  # crm.timeline.message: msgid + params
    content_type = models.ForeignKey(ContentType, null=True, blank=True, on_delete=models.CASCADE)
    object_id = models.PositiveBigIntegerField(null=True, blank=True)
    record = GenericForeignKey("content_type", "object_id")
    url = models.CharField(_("Ссылка"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("Создано"), default=timezone.now)
    read_at = models.DateTimeField(_("Прочитано"), null=True, blank=True)
    emailed_at = models.DateTimeField(_("Отправлено по e-mail"), null=True, blank=True)
    key = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = _("Уведомление")
        verbose_name_plural = _("Уведомления")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["recipient", "read_at"]), models.Index(fields=["recipient", "-created_at"])]
        constraints = [models.UniqueConstraint(fields=["recipient", "key"], condition=~Q(key=""),
                                               name="notification_once_per_key")]

    def __str__(self) -> str:
        from crm.timeline import say

        return say(self.message) if self.message else self.get_kind_display()


class MutedEmail(models.Model):
    """A kind the user does not want by e-mail. Every kind is sent by default (no row)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="muted_emails")
    kind = models.CharField(max_length=32, choices=Kind.choices)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="muted_email_once")]

    def __str__(self) -> str:
        return f"{self.user}: {self.get_kind_display()}"
