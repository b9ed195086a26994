"""What leads and deals share: reference lists and the timeline."""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import Entity


class ReferenceItem(models.Model):
    """A value of a reference list that supervisors edit in the admin. Retired values are
    deactivated, not deleted, so old records keep their meaning."""

    name = models.CharField(_("Название"), max_length=200, unique=True)
    sort = models.PositiveIntegerField(_("Порядок"), default=100)
    is_active = models.BooleanField(_("Активно"), default=True)

    class Meta:
        abstract = True
        ordering = ["sort", "name"]

    def __str__(self) -> str:
        return self.name


class Source(ReferenceItem):
    class Kind(models.TextChoices):
        COLD = "cold", _("Холодный")
        INBOUND = "inbound", _("Входящий")

    # Chooses the default deal pipeline at conversion (PROCESS.md §1.5).
    kind = models.CharField(_("Тип источника"), max_length=10, choices=Kind.choices, default=Kind.INBOUND)

    name_forms = (_("источник"), _("источник"), _("источника"), _("источников"))  # crm.admin_names

    class Meta(ReferenceItem.Meta):
        verbose_name = _("Источник")
        verbose_name_plural = _("Источники")


class Niche(ReferenceItem):
    name_forms = (_("нишу компании"), _("ниша компании"), _("ниши компаний"), _("ниш компаний"))  # crm.admin_names

    class Meta(ReferenceItem.Meta):
        verbose_name = _("Ниша компании")
        verbose_name_plural = _("Ниши компаний")


class ClientType(ReferenceItem):
    name_forms = (_("тип клиента"), _("тип клиента"), _("типа клиента"), _("типов клиента"))  # crm.admin_names

    class Meta(ReferenceItem.Meta):
        verbose_name = _("Тип клиента")
        verbose_name_plural = _("Типы клиентов")


class CrmSystem(ReferenceItem):
    name_forms = (_("корпоративный портал"), _("корпоративный портал"), _("корпоративных портала"), _("корпоративных порталов"))  # crm.admin_names

    class Meta(ReferenceItem.Meta):
        verbose_name = _("Корпоративный портал (CRM система)")
        verbose_name_plural = _("Корпоративные порталы (CRM системы)")


class SalesChannel(ReferenceItem):
    name_forms = (_("канал сбыта"), _("канал сбыта"), _("канала сбыта"), _("каналов сбыта"))  # crm.admin_names

    class Meta(ReferenceItem.Meta):
        verbose_name = _("Канал сбыта")
        verbose_name_plural = _("Каналы сбыта")


class Product(ReferenceItem):
    """What «Решение» sells («Продукты для продажи»)."""

    name_forms = (_("продукт для продажи"), _("продукт для продажи"), _("продукта для продажи"), _("продуктов для продажи"))  # crm.admin_names

    class Meta(ReferenceItem.Meta):
        verbose_name = _("Продукт для продажи")
        verbose_name_plural = _("Продукты для продажи")


class UsedProduct(ReferenceItem):
    """«Какими продуктами уже пользовалась компания». The flag marks the answer «Ничем не
    пользовалась», which cannot be combined with the others."""

    means_none = models.BooleanField(_("Означает «ничем не пользовалась»"), default=False)

    name_forms = (_("продукт, которым пользовалась компания"), _("продукт, которым пользовалась компания"), _("продукта, которыми пользовалась компания"), _("продуктов, которыми пользовалась компания"))  # crm.admin_names

    class Meta(ReferenceItem.Meta):
        verbose_name = _("Продукт, которым пользовалась компания")
        verbose_name_plural = _("Продукты, которыми пользовалась компания")


class JunkReason(ReferenceItem):
    name_forms = (_("причину закрытия лида"), _("причина закрытия лида"), _("причины закрытия лида"), _("причин закрытия лида"))  # crm.admin_names

    class Meta(ReferenceItem.Meta):
        verbose_name = _("Причина закрытия лида")
        verbose_name_plural = _("Причины закрытия лидов")


class CommunicationType(models.TextChoices):
    WORK = "work", _("Рабочий")
    MOBILE = "mobile", _("Мобильный")
    HOME = "home", _("Домашний")
    OTHER = "other", _("Другой")


class Communication(models.Model):
    """A phone or an e-mail of a company or a contact (Bitrix24's multifields): any number of
    them, each with its type. Phones are stored in E.164 and e-mails lower-cased, so matching
    a lead's phone «8 (880) 000-00-00» to a company is an exact, indexed lookup."""

    class Kind(models.TextChoices):
        PHONE = "phone", _("Телефон")
        EMAIL = "email", _("E-mail")

    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
    object_id = models.PositiveBigIntegerField()
    record = GenericForeignKey("content_type", "object_id")
    kind = models.CharField(_("Вид"), max_length=10, choices=Kind.choices)
    type = models.CharField(_("Тип"), max_length=10, choices=CommunicationType.choices, default=CommunicationType.WORK)
    value = models.CharField(_("Значение"), max_length=254)
    ext = models.CharField(_("Доб."), max_length=10, blank=True)

    class Meta:
        verbose_name = _("Телефон или e-mail")
        verbose_name_plural = _("Телефоны и e-mail")
        ordering = ["kind", "pk"]
        indexes = [models.Index(fields=["kind", "value"]), models.Index(fields=["content_type", "object_id"])]

    def __str__(self) -> str:
        return self.value


class TimelineEntry(models.Model):
    """One line of a record's timeline: a comment, a status move, a field change, a note from the
    system. Bound to any CRM record through one generic binding."""

    class Kind(models.TextChoices):
        COMMENT = "comment", _("Комментарий")
        STATUS = "status", _("Смена статуса")
        CHANGE = "change", _("Изменение полей")
        CREATED = "created", _("Создание")
        DUPLICATE = "duplicate", _("Сохранено при возможных дубликатах")
        SYSTEM = "system", _("Событие")

    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
    object_id = models.PositiveBigIntegerField()
    record = GenericForeignKey("content_type", "object_id")
    kind = models.CharField(_("Тип"), max_length=20, choices=Kind.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("Автор"), null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(_("Когда"), auto_now_add=True, db_index=True)
    text = models.TextField(_("Текст"), blank=True)
    data = models.JSONField(_("Данные"), default=dict, blank=True)
    is_pinned = models.BooleanField(_("Закреплён"), default=False)

    class Meta:
        verbose_name = _("Запись истории")
        verbose_name_plural = _("История")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["content_type", "object_id", "-created_at"])]
        constraints = [
            # A record has at most one pinned comment (the «Разведка» summary).
            models.UniqueConstraint(
                fields=["content_type", "object_id"], condition=Q(is_pinned=True), name="one_pinned_entry"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.text[:60]}"


class DeletionRecord(models.Model):
    """What was deleted, by whom and when: a lead, deal, company or contact removed through its
    delete service leaves one of these (the record itself, its timeline and phones are gone).
    Supervisors read them in the admin, scoped as the deleted record would have been: by its
    entity, its owner and (for deals) its pipeline. Nobody edits or deletes them."""

    entity = models.CharField(_("Сущность"), max_length=20, choices=Entity.choices)
    object_id = models.PositiveBigIntegerField(_("Номер записи"))
    title = models.CharField(_("Запись"), max_length=500)
    # Copied from the deleted record for access: whose it was and, for deals, which pipeline.
    responsible = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("Ответственный"), null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    scope = models.CharField(_("Область"), max_length=50, blank=True, default="")
    deleted_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("Кто удалил"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    deleted_at = models.DateTimeField(_("Когда удалено"), auto_now_add=True, db_index=True)
    snapshot = models.JSONField(_("Содержимое"), default=dict, blank=True, encoder=DjangoJSONEncoder)

    class Meta:
        verbose_name = _("Удалённая запись")
        verbose_name_plural = _("Удалённые записи")
        ordering = ["-deleted_at", "-pk"]
        indexes = [models.Index(fields=["entity", "object_id"])]

    def __str__(self) -> str:
        return f"{self.get_entity_display()}: {self.title}"


class Tally(models.Model):
    """How many records of a kind (`model`: "leads.lead", "deals.deal") one owner has in one
    board column (a lead status, a deal stage id) and scope (the deal's pipeline; 0 for leads),
    per currency, and their amounts' sum. Kept by crm.tallies in every writer's transaction;
    read by the boards' column totals and the lists' counts instead of aggregating the table.
    `manage.py recount_tallies` compares them with the records and rebuilds them."""

    model = models.CharField(max_length=100)
    owner = models.BigIntegerField()
    scope = models.BigIntegerField(default=0)
    board_column = models.CharField(max_length=64)
    currency = models.CharField(max_length=3)
    # The records that keep the date of their next touch (`touch_date_field`: the lead) are counted
    # apart with and without one: «без запланированных дел» per owner (the managers' report) is
    # then a few counters instead of a count of ~100 000 planned leads' index entries at a million
    # leads. False for the records that keep no such date (deals).
    planned = models.BooleanField(default=False, db_default=False)
    count = models.BigIntegerField(default=0)
    amount = models.DecimalField(max_digits=24, decimal_places=2, default=0)

    class Meta:
        verbose_name = _("Счётчик записей")
        verbose_name_plural = _("Счётчики записей")
        constraints = [models.UniqueConstraint(fields=["model", "owner", "scope", "board_column", "currency", "planned"],
                                               name="crm_tally_key")]

    def __str__(self) -> str:
        return (f"{self.model} {self.owner}/{self.scope}/{self.board_column}/{self.currency}"
                f"{'/planned' if self.planned else ''}: {self.count}")
