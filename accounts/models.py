from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class Department(models.Model):
    """A node of the company's structure. Access levels «свои + отдела (+ подотделов)» follow
    this tree, as in Bitrix24."""

    name = models.CharField(_("Название"), max_length=200)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("Вышестоящий отдел"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    head = models.ForeignKey(
        "accounts.User",
        verbose_name=_("Руководитель"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="headed_departments",
    )

    name_forms = (_("отдел"), _("отдел"), _("отдела"), _("отделов"))  # crm.admin_names

    class Meta:
        verbose_name = _("Отдел")
        verbose_name_plural = _("Отделы")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        node = self.parent
        while node is not None:
            if node.pk == self.pk:
                raise ValidationError({"parent": _("Отдел не может быть вложен сам в себя.")})
            node = node.parent


class Level(models.IntegerChoices):
    """Ordered: a higher value sees everything a lower one sees."""

    NONE = 0, _("Нет доступа")
    OWN = 10, _("Свои")
    DEPARTMENT = 20, _("Свои + своего отдела")
    SUBDEPARTMENTS = 30, _("Свои + своего отдела + подотделов")
    ALL = 40, _("Все")


class Action(models.TextChoices):
    VIEW = "view", _("Чтение")
    ADD = "add", _("Добавление")
    CHANGE = "change", _("Изменение")
    DELETE = "delete", _("Удаление")
    EXPORT = "export", _("Экспорт")
    IMPORT = "import", _("Импорт")


class Entity(models.TextChoices):
    """CRM record kinds that access rules are set for. Only names live here: `accounts` knows
    nothing of the apps that define these models."""

    LEAD = "lead", _("Лиды")
    DEAL = "deal", _("Сделки")
    CONTACT = "contact", _("Контакты")
    COMPANY = "company", _("Компании")
    TASK = "task", _("Задачи и дела")
    EVENT = "event", _("Календарь")
    # Files of others a role reaches without a share (by their author): the admin's scope.
    FILE = "file", _("Диск")


class Role(models.Model):
    name = models.CharField(_("Название"), max_length=100, unique=True)
    description = models.TextField(_("Описание"), blank=True)

    name_forms = (_("роль"), _("роль"), _("роли"), _("ролей"))  # crm.admin_names

    class Meta:
        verbose_name = _("Роль")
        verbose_name_plural = _("Роли")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Permission(models.Model):
    """One cell of Bitrix24's access matrix: role × entity × action → level."""

    role = models.ForeignKey(Role, on_delete=models.CASCADE, related_name="permissions", verbose_name=_("Роль"))
    entity = models.CharField(_("Сущность"), max_length=20, choices=Entity.choices)
    action = models.CharField(_("Действие"), max_length=20, choices=Action.choices)
    level = models.PositiveSmallIntegerField(_("Уровень доступа"), choices=Level.choices, default=Level.NONE)
    # Empty: the whole entity. «pipeline:<id>»: one deal pipeline only (overrides the row without
    # a scope for that pipeline), as Bitrix24 sets deal rights per pipeline.
    scope = models.CharField(_("Область"), max_length=50, blank=True, default="",
                             help_text=_("Пусто — вся сущность; «pipeline:3» — только воронка с номером 3."))

    class Meta:
        verbose_name = _("Право доступа")
        verbose_name_plural = _("Права доступа")
        constraints = [
            models.UniqueConstraint(fields=["role", "entity", "action", "scope"], name="unique_role_entity_action_scope")
        ]
        ordering = ["role", "entity", "action"]

    def __str__(self) -> str:
        return f"{self.role}: {self.get_entity_display()} / {self.get_action_display()} — {self.get_level_display()}"


def full_name(last_name: str, first_name: str) -> str:
    """«Фамилия Имя», as a user is named everywhere (User.get_full_name; accounts.access.people)."""
    return " ".join(part for part in (last_name, first_name) if part).strip()


class User(AbstractUser):
    middle_name = models.CharField(_("Отчество"), max_length=150, blank=True)
    position = models.CharField(_("Должность"), max_length=200, blank=True)
    phone = models.CharField(_("Телефон"), max_length=32, blank=True)
    department = models.ForeignKey(
        Department,
        verbose_name=_("Отдел"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="members",
    )
    roles = models.ManyToManyField(Role, verbose_name=_("Роли"), blank=True, related_name="users")
    # An IANA name («Asia/Yekaterinburg»); blank: the project's TIME_ZONE. No choices here: the list
    # is the machine's tzdata, which would make a migration of every tzdata update (accounts.forms).
    time_zone = models.CharField(_("Часовой пояс"), max_length=64, blank=True, default="",
                                 help_text=_("Пусто — часовой пояс компании."))

    name_forms = (_("пользователя"), _("пользователь"), _("пользователя"), _("пользователей"))  # crm.admin_names

    class Meta:
        verbose_name = _("Пользователь")
        verbose_name_plural = _("Пользователи")
        ordering = ["last_name", "first_name"]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    def get_full_name(self) -> str:
        return full_name(self.last_name, self.first_name)

    @property
    def short_name(self) -> str:
        """«Лактионова А.» — how Bitrix24 shows a responsible person in lists."""
        if self.last_name and self.first_name:
            return f"{self.last_name} {self.first_name[0]}."
        return self.get_full_name() or self.username
