"""Tasks («Задачи») and planned touches («дела»: a call, a meeting, a task bound to a lead or deal).

A touch is a task with a kind and a binding, not a second model: «Мой день», the deadline board,
reminders, access and the timeline treat both alike, as Bitrix24's activities and tasks meet in
one «Мои дела». A record's «next touch» is its earliest active task.

The status changes only through `tasks_app.services.task_transition` (django-fsm transitions with
`protected=True`); who may do which transition is decided there (`roles`), as in Bitrix24.
"""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop
from django_fsm import RETURN_VALUE, FSMField, FSMModelMixin, transition

from accounts.models import Entity


class Status(models.TextChoices):
    PENDING = "pending", _("Ждёт выполнения")
    IN_PROGRESS = "in_progress", _("Выполняется")
    AWAITING_CONTROL = "awaiting_control", _("Ждёт контроля")
    COMPLETED = "completed", _("Завершена")
    DEFERRED = "deferred", _("Отложена")


# The responsible still has work to do: these count as planned, overdue and «на сегодня».
ACTIVE = (Status.PENDING, Status.IN_PROGRESS, Status.DEFERRED)


class Kind(models.TextChoices):
    TASK = "task", _("Задача")
    CALL = "call", _("Звонок")
    MEETING = "meeting", _("Встреча")


class Task(FSMModelMixin, models.Model):
    access_entity = Entity.TASK
    access_owner_field = "responsible"

    kind = models.CharField(_("Тип"), max_length=10, choices=Kind.choices, default=Kind.TASK)
    title = models.CharField(_("Название"), max_length=255)
    description = models.TextField(_("Описание"), blank=True)
    creator = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("Постановщик"), null=True,
                                on_delete=models.SET_NULL, related_name="created_tasks")
    responsible = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("Ответственный"),
                                    on_delete=models.PROTECT, related_name="tasks")
    coexecutors = models.ManyToManyField(settings.AUTH_USER_MODEL, verbose_name=_("Соисполнители"), blank=True,
                                         related_name="coexecuted_tasks")
    observers = models.ManyToManyField(settings.AUTH_USER_MODEL, verbose_name=_("Наблюдатели"), blank=True,
                                       related_name="observed_tasks")
    deadline = models.DateTimeField(_("Крайний срок"), null=True, blank=True)
    is_important = models.BooleanField(_("Важная задача"), default=False)
    needs_acceptance = models.BooleanField(_("Принять работу после завершения"), default=False)
    status = FSMField(_("Статус"), max_length=20, choices=Status.choices, default=Status.PENDING, protected=True)
    result = models.TextField(_("Результат"), blank=True)

    created_at = models.DateTimeField(_("Создана"), default=timezone.now)
    updated_at = models.DateTimeField(_("Изменена"), auto_now=True)
    started_at = models.DateTimeField(_("Начата"), null=True, blank=True)
    completed_at = models.DateTimeField(_("Завершена"), null=True, blank=True)
    # Incremented on every save through the services: an edit made on a stale form is refused.
    version = models.PositiveIntegerField(default=1, editable=False)

    name_forms = (_("задачу"), _("задача"), _("задачи"), _("задач"))  # crm.admin_names

    class Meta:
        verbose_name = _("Задача")
        verbose_name_plural = _("Задачи")
        ordering = ["deadline", "-pk"]
        indexes = [
            # «Мой день», the deadline board and the menu counters: a user's active tasks by deadline.
            models.Index(fields=["responsible", "status", "deadline"], name="task_mine_idx"),
            models.Index(fields=["creator", "status"], name="task_creator_idx"),
            models.Index(fields=["status", "deadline"], name="task_deadline_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("tasks:detail", args=[self.pk])

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE

    @property
    def is_overdue(self) -> bool:
        return self.is_active and self.deadline is not None and self.deadline < timezone.now()

    # --- access: participants read the task whatever their level (accounts.access) ---

    @staticmethod
    def access_participants(user) -> Q:
        if not getattr(user, "pk", None):
            return Q(pk__in=[])
        through_co = Task.coexecutors.through.objects.filter(task_id=OuterRef("pk"), user_id=user.pk)
        through_obs = Task.observers.through.objects.filter(task_id=OuterRef("pk"), user_id=user.pk)
        return Q(creator_id=user.pk) | Q(responsible_id=user.pk) | Q(Exists(through_co)) | Q(Exists(through_obs))

    def is_participant(self, user) -> bool:
        if not getattr(user, "pk", None):
            return False
        if user.pk in (self.creator_id, self.responsible_id):
            return True
        return (Task.coexecutors.through.objects.filter(task_id=self.pk, user_id=user.pk).exists()
                or Task.observers.through.objects.filter(task_id=self.pk, user_id=user.pk).exists())

    # --- how notifications speak of a task (notifications reads these and never imports this app) ---

    def notification_phrases(self) -> dict[str, tuple[str, str]]:
        """event → (sentence with the actor, sentence without one), msgids for crm.timeline.message."""
        assigned = {
            Kind.CALL: (gettext_noop("%(actor)s запланировал(а) вам звонок: %(record)s"),
                        gettext_noop("Вам запланирован звонок: %(record)s")),
            Kind.MEETING: (gettext_noop("%(actor)s запланировал(а) вам встречу: %(record)s"),
                           gettext_noop("Вам запланирована встреча: %(record)s")),
        }.get(self.kind, (gettext_noop("%(actor)s поставил(а) вам задачу: %(record)s"),
                          gettext_noop("Вам поставлена задача: %(record)s")))
        return {"assigned": assigned,
                "comment": (gettext_noop("%(actor)s прокомментировал(а) задачу: %(record)s"),
                            gettext_noop("Новый комментарий к задаче: %(record)s"))}

    def notify_on_comment(self) -> set[int]:
        """Who hears of a comment: those who do the work or set it (observers read when they look)."""
        return ({self.responsible_id, self.creator_id}
                | set(Task.coexecutors.through.objects.filter(task_id=self.pk).values_list("user_id", flat=True))) - {None}

    # --- transitions (called only by tasks_app.services.task_transition) ---

    @transition(field=status, source=[Status.PENDING, Status.DEFERRED], target=Status.IN_PROGRESS)
    def start(self):
        self.started_at = timezone.now()

    @transition(field=status, source=Status.IN_PROGRESS, target=Status.PENDING)
    def pause(self):
        pass

    @transition(field=status, source=[Status.PENDING, Status.IN_PROGRESS, Status.DEFERRED],
                target=RETURN_VALUE(Status.COMPLETED, Status.AWAITING_CONTROL))
    def complete(self):
        self.completed_at = timezone.now()
        return Status.AWAITING_CONTROL if self.needs_acceptance else Status.COMPLETED

    @transition(field=status, source=Status.AWAITING_CONTROL, target=Status.COMPLETED)
    def accept(self):
        pass

    @transition(field=status, source=Status.AWAITING_CONTROL, target=Status.PENDING)
    def send_back(self):
        self.completed_at = None

    @transition(field=status, source=[Status.PENDING, Status.IN_PROGRESS], target=Status.DEFERRED)
    def defer(self):
        pass

    @transition(field=status, source=[Status.COMPLETED, Status.DEFERRED], target=Status.PENDING)
    def renew(self):
        self.completed_at = None


class ChecklistItem(models.Model):
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="checklist")
    text = models.CharField(_("Пункт"), max_length=500)
    is_done = models.BooleanField(_("Выполнен"), default=False)
    sort = models.PositiveIntegerField(default=0)
    done_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+")
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("Пункт чек-листа")
        verbose_name_plural = _("Чек-лист")
        ordering = ["sort", "pk"]

    def __str__(self) -> str:
        return self.text


class Binding(models.Model):
    """A task bound to a CRM record (lead, deal, contact, company): one generic link, so a new
    kind of record needs no new column."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="bindings")
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
    object_id = models.PositiveBigIntegerField()
    record = GenericForeignKey("content_type", "object_id")

    class Meta:
        verbose_name = _("Привязка к записи CRM")
        verbose_name_plural = _("Привязки к записям CRM")
        constraints = [models.UniqueConstraint(fields=["task", "content_type", "object_id"], name="binding_once")]
        # A record's touches (cards, board badges, «без запланированных дел»).
        indexes = [models.Index(fields=["content_type", "object_id"], name="binding_record_idx")]

    def __str__(self) -> str:
        return f"{self.task} → {self.content_type.model} {self.object_id}"


class AutomationRule(models.Model):
    """«When a lead enters status X / a deal enters stage Y, plan a task or a touch»: data a
    supervisor edits in the admin, run by the move services through crm.hooks."""

    name = models.CharField(_("Название правила"), max_length=200)
    is_active = models.BooleanField(_("Активно"), default=True)
    entity = models.CharField(_("Запись"), max_length=40)  # a model label: «leads.lead», «deals.deal»
    state = models.CharField(_("Статус или стадия"), max_length=40)  # a lead status code or a stage id
    kind = models.CharField(_("Что создать"), max_length=10, choices=Kind.choices, default=Kind.CALL)
    title = models.CharField(_("Название задачи или дела"), max_length=255)
    description = models.TextField(_("Описание"), blank=True)
    deadline_days = models.PositiveSmallIntegerField(_("Крайний срок, рабочих дней"), default=1)
    is_important = models.BooleanField(_("Важная задача"), default=False)

    name_forms = (_("правило автоматизации"), _("правило автоматизации"), _("правила автоматизации"),
                  _("правил автоматизации"))  # crm.admin_names

    class Meta:
        verbose_name = _("Правило автоматизации")
        verbose_name_plural = _("Правила автоматизации")
        ordering = ["entity", "state", "name"]
        indexes = [models.Index(fields=["entity", "state", "is_active"], name="automation_trigger_idx")]

    def __str__(self) -> str:
        return self.name


class TouchDay(models.Model):
    """The touches (tasks bound to a record) of a responsible per day in the site's time zone:
    due that day, of them still active, and completed that day — what the managers' report
    sums for a period instead of reading the touches (tasks_app.touch_counts keeps them)."""

    responsible = models.BigIntegerField()
    day = models.DateField()
    planned = models.IntegerField(default=0)
    open = models.IntegerField(default=0)
    done = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["responsible", "day"], name="touchday_once")]
        indexes = [models.Index(fields=["day"], name="touchday_day_idx")]

    def __str__(self) -> str:
        return f"{self.responsible} {self.day}: {self.planned}/{self.open}/{self.done}"


class TouchMark(models.Model):
    """What one touch adds to TouchDay (its responsible, due day, completion day, whether it is
    active), kept so that its next change takes exactly that back. The task's id without a
    foreign key: a deleted task's mark outlives it until its counts are taken back."""

    task_id = models.BigIntegerField(primary_key=True)
    responsible = models.BigIntegerField()
    due_day = models.DateField(null=True)
    done_day = models.DateField(null=True)
    active = models.BooleanField()

    def __str__(self) -> str:
        return f"{self.task_id}: {self.responsible} {self.due_day} {self.done_day}"
