"""The calendar («Календарь»): events with participants, repetition, reminders and links to CRM
records, and the secret tokens of the iCalendar feeds.

An event is either timed (`start`/`end`: aware datetimes, UTC in the database) or all-day
(`start_date`/`end_date`, both inclusive: a date is the same day in every zone, an all-day event
stored as midnight-to-midnight UTC would slide to the day before in New York). A repeating event is
one row with its rule as data (`freq`, `interval`, `weekdays`, `until`/`count`); the occurrences
are computed for the range asked (`calendar_app.recurrence`), never stored. `tz` is the zone the
rule is expanded in, so a weekly 10:00 meeting stays at 10:00 across a DST change. One occurrence
changed or cancelled is an `EventException` keyed by its original start.

Changes go only through `calendar_app.services`; reads through `calendar_app.selectors`.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Entity


class Availability(models.TextChoices):
    BUSY = "busy", _("Занят")
    FREE = "free", _("Свободен")


class Importance(models.TextChoices):
    LOW = "low", _("Низкая")
    NORMAL = "normal", _("Обычная")
    HIGH = "high", _("Высокая")


class Freq(models.TextChoices):
    NONE = "", _("Не повторяется")
    DAILY = "daily", _("Ежедневно")
    WEEKLY = "weekly", _("Еженедельно")
    MONTHLY = "monthly", _("Ежемесячно")
    YEARLY = "yearly", _("Ежегодно")


class Answer(models.TextChoices):
    INVITED = "invited", _("Приглашён")
    ACCEPTED = "accepted", _("Примет участие")
    DECLINED = "declined", _("Отказался")


class Event(models.Model):
    access_entity = Entity.EVENT
    access_owner_field = "organizer"

    title = models.CharField(_("Название"), max_length=255)
    description = models.TextField(_("Описание"), blank=True)
    location = models.CharField(_("Место"), max_length=255, blank=True)
    organizer = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("Организатор"), on_delete=models.PROTECT,
                                  related_name="organized_events")
    all_day = models.BooleanField(_("Весь день"), default=False)
    start = models.DateTimeField(_("Начало"), null=True, blank=True)
    end = models.DateTimeField(_("Окончание"), null=True, blank=True)
    start_date = models.DateField(_("Дата начала"), null=True, blank=True)
    end_date = models.DateField(_("Дата окончания"), null=True, blank=True)
    tz = models.CharField(_("Часовой пояс"), max_length=64, default="Europe/Moscow")
    availability = models.CharField(_("Занятость"), max_length=10, choices=Availability.choices,
                                    default=Availability.BUSY)
    importance = models.CharField(_("Важность"), max_length=10, choices=Importance.choices, default=Importance.NORMAL)
    is_private = models.BooleanField(_("Частное событие"), default=False)
    is_cancelled = models.BooleanField(_("Отменено"), default=False)

    freq = models.CharField(_("Повторять"), max_length=10, choices=Freq.choices, default=Freq.NONE, blank=True)
    interval = models.PositiveSmallIntegerField(_("Интервал"), default=1)
    # Weekdays of a weekly rule, 0 = Monday … 6 = Sunday (empty: the start's weekday).
    weekdays = models.JSONField(_("Дни недели"), default=list, blank=True)
    until = models.DateField(_("Повторять до"), null=True, blank=True)
    count = models.PositiveSmallIntegerField(_("Количество повторений"), null=True, blank=True)
    # A meeting bound to CRM records is their planned touch: this task (kind «Встреча») follows the
    # event's next start (calendar_app.touches), so the lead's «Дата следующего касания», the
    # boards' badges, «Дела» and «Мой день» see the meeting without knowing the calendar.
    touch = models.OneToOneField("tasks_app.Task", verbose_name=_("Дело"), null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="calendar_event", editable=False)

    created_at = models.DateTimeField(_("Создано"), default=timezone.now)
    updated_at = models.DateTimeField(_("Изменено"), auto_now=True)
    # Incremented on every change through the services: stale edits and old reminders see it.
    version = models.PositiveIntegerField(default=1, editable=False)

    name_forms = (_("событие"), _("событие"), _("события"), _("событий"))  # crm.admin_names

    class Meta:
        verbose_name = _("Событие")
        verbose_name_plural = _("События")
        ordering = ["start", "start_date", "pk"]
        indexes = [models.Index(fields=["organizer", "start"], name="event_organizer_idx")]
        constraints = [
            models.CheckConstraint(
                condition=(Q(all_day=False, start__isnull=False, end__isnull=False)
                           | Q(all_day=True, start_date__isnull=False, end_date__isnull=False)),
                name="event_has_its_dates"),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        """The event's card: a notification («Вас пригласили…») opens it with the answer buttons."""
        from django.urls import reverse

        return reverse("calendar:event", args=[self.pk])

    def day_url(self) -> str:
        """The calendar at the event's day (where a saved event is shown among the others)."""
        from django.urls import reverse

        day = self.start_date if self.all_day else timezone.localtime(self.start).date()
        return f"{reverse('calendar:index')}?date={day.isoformat()}"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)

    @property
    def is_recurring(self) -> bool:
        return bool(self.freq)

    @property
    def duration(self) -> dt.timedelta:
        if self.all_day:
            return self.end_date - self.start_date
        return self.end - self.start

    # --- access: participants read the event whatever their level (accounts.access) ---

    @staticmethod
    def access_participants(user) -> Q:
        if not getattr(user, "pk", None):
            return Q(pk__in=[])
        return Q(organizer_id=user.pk) | Q(Exists(Participant.objects.filter(event_id=OuterRef("pk"), user_id=user.pk)))

    def is_participant(self, user) -> bool:
        if not getattr(user, "pk", None):
            return False
        return user.pk == self.organizer_id or self.participants.filter(user_id=user.pk).exists()


class EventException(models.Model):
    """One occurrence of a repeating event cancelled, or moved/renamed. `original_start` is the start
    the rule gives it (for an all-day event: that date at 00:00 UTC)."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="exceptions")
    original_start = models.DateTimeField(_("Исходное начало"))
    is_cancelled = models.BooleanField(_("Отменено"), default=False)
    new_start = models.DateTimeField(_("Новое начало"), null=True, blank=True)
    new_end = models.DateTimeField(_("Новое окончание"), null=True, blank=True)
    title = models.CharField(_("Название"), max_length=255, blank=True)
    location = models.CharField(_("Место"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("Исключение из повторения")
        verbose_name_plural = _("Исключения из повторения")
        constraints = [models.UniqueConstraint(fields=["event", "original_start"], name="event_exception_once")]

    def __str__(self) -> str:
        return f"{self.event} @ {self.original_start:%Y-%m-%d %H:%M}"


class Participant(models.Model):
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="participants")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="event_participations")
    answer = models.CharField(_("Ответ"), max_length=10, choices=Answer.choices, default=Answer.INVITED)

    class Meta:
        verbose_name = _("Участник")
        verbose_name_plural = _("Участники")
        constraints = [models.UniqueConstraint(fields=["event", "user"], name="event_participant_once")]
        indexes = [models.Index(fields=["user", "event"], name="event_participant_user_idx")]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_answer_display()}"


class EventReminder(models.Model):
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="reminders")
    minutes = models.PositiveIntegerField(_("За сколько минут"))

    class Meta:
        verbose_name = _("Напоминание")
        verbose_name_plural = _("Напоминания")
        constraints = [models.UniqueConstraint(fields=["event", "minutes"], name="event_reminder_once")]

    def __str__(self) -> str:
        return f"{self.event}: {self.minutes}"


class EventBinding(models.Model):
    """An event linked to a CRM record (lead, deal, contact, company): the same generic link as
    tasks_app.Binding, its own table so that each app deletes and indexes its links alone."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="bindings")
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
    object_id = models.PositiveBigIntegerField()
    record = GenericForeignKey("content_type", "object_id")

    class Meta:
        verbose_name = _("Привязка к записи CRM")
        verbose_name_plural = _("Привязки к записям CRM")
        constraints = [models.UniqueConstraint(fields=["event", "content_type", "object_id"],
                                               name="event_binding_once")]
        indexes = [models.Index(fields=["content_type", "object_id"], name="event_binding_record_idx")]

    def __str__(self) -> str:
        return f"{self.event} → {self.content_type.model} {self.object_id}"


class CalendarToken(models.Model):
    """The secret in a user's iCalendar feed address: whoever has the address reads the feed, so it
    can be revoked (and a new one made) at any time."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_tokens")
    token = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(_("Создан"), default=timezone.now)
    revoked_at = models.DateTimeField(_("Отозван"), null=True, blank=True)

    class Meta:
        verbose_name = _("Ссылка на календарь")
        verbose_name_plural = _("Ссылки на календарь")

    def __str__(self) -> str:
        return f"{self.user} ({self.created_at:%Y-%m-%d})"
