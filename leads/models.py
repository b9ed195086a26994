from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_fsm import RETURN_VALUE, FSMField, FSMModelMixin, transition

from accounts.models import Entity
from crm import textindex
from crm.duplicates import company_key, search_normalize
from crm.inn import validate_inn
from crm.models import CommunicationType as PhoneType
from crm.money import Currency
from crm.tallies import Tallied, TalliedQuerySet


class Status(models.TextChoices):
    NEW = "new", _("Не обработан")
    FIRST_CALL = "first_call", _("Первый звонок")
    QUALIFICATION = "qualification", _("Квалификация")
    RECONNAISSANCE = "reconnaissance", _("Разведка")
    DECISION_MAKER = "decision_maker", _("Выход на ЛПР")
    CONVERTED = "converted", _("Успешный")
    JUNK = "junk", _("Не успешный")


# Order matters: requirements are cumulative along it (PROCESS.md §1.1, §1.3).
IN_PROCESS = [Status.NEW, Status.FIRST_CALL, Status.QUALIFICATION, Status.RECONNAISSANCE, Status.DECISION_MAKER]
CLOSED = [Status.CONVERTED, Status.JUNK]
ORDER = [*IN_PROCESS, *CLOSED]


def _requirements_met(target):
    """FSM condition: the lead meets the rules of `target` and of every status before it."""

    def condition(lead) -> bool:
        from .requirements import missing_for

        return not missing_for(lead, target)

    condition.__name__ = f"requirements_met_{target}"
    return condition


def _has_junk_reason(lead) -> bool:
    return lead.junk_reason_id is not None


class LeadQuerySet(TalliedQuerySet, models.QuerySet):
    def bulk_create(self, objs, *args, **kwargs):
        # bulk_create skips save(): derive the search columns here too (imports use it).
        objs = list(objs)
        for lead in objs:
            lead.derive_search_fields()
        return super().bulk_create(objs, *args, **kwargs)


class Lead(Tallied, FSMModelMixin, models.Model):
    access_entity = Entity.LEAD
    access_owner_field = "responsible"
    tally_column = "status"  # crm.tallies: counted per owner, status and currency
    # How cards show these (crm.display): tel: links in the Russian format, money in the lead's currency.
    phone_fields = ("company_phone", "contact_phone")
    money_fields = ("amount",)
    website_fields = ("company_website",)
    # Kept by tasks_app as the date of the lead's earliest planned touch (one thing, not two).
    touch_date_field = "next_touch_date"

    # «О лиде»
    title = models.CharField(_("Название лида"), max_length=255)
    source = models.ForeignKey("crm.Source", verbose_name=_("Источник"), on_delete=models.PROTECT, related_name="+")
    amount = models.DecimalField(
        _("Сумма"), max_digits=14, decimal_places=2, default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"), message=_("Сумма не может быть отрицательной."))],
    )
    currency = models.CharField(_("Валюта"), max_length=3, choices=Currency.choices, default=Currency.RUB)
    responsible = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("Ответственный"), on_delete=models.PROTECT, related_name="leads"
    )
    comment = models.TextField(_("Комментарий"), blank=True)

    # Company
    # Required at creation by the default rules of «Не обработан» (data a supervisor can change),
    # not by the schema.
    company_name = models.CharField(_("Название компании"), max_length=255, blank=True)
    company_phone = models.CharField(_("Телефон"), max_length=20, blank=True,
                                     help_text=_("Общий телефон компании для квалификации"))
    company_email = models.EmailField(_("E-mail"), blank=True)
    company_address = models.CharField(_("Адрес"), max_length=500, blank=True)
    company_website = models.CharField(_("Сайт"), max_length=255, blank=True)
    inn = models.CharField(_("ИНН"), max_length=12, blank=True, validators=[validate_inn], db_index=True)
    kpp = models.CharField(_("КПП"), max_length=9, blank=True)
    ogrn = models.CharField(_("ОГРН"), max_length=15, blank=True)
    legal_name = models.CharField(_("Полное наименование"), max_length=500, blank=True)
    legal_address = models.CharField(_("Юридический адрес"), max_length=500, blank=True)

    # Contact person (ЛПР/ЛВР)
    contact_last_name = models.CharField(_("Фамилия"), max_length=100, blank=True)
    contact_first_name = models.CharField(_("Имя"), max_length=100, blank=True)
    contact_middle_name = models.CharField(_("Отчество"), max_length=100, blank=True)
    contact_birth_date = models.DateField(_("Дата рождения"), null=True, blank=True)
    contact_position = models.CharField(_("Должность"), max_length=200, blank=True)
    contact_phone = models.CharField(_("Телефон контакта"), max_length=20, blank=True)
    contact_phone_type = models.CharField(_("Тип телефона"), max_length=10, choices=PhoneType.choices, default=PhoneType.WORK)
    contact_phone_ext = models.CharField(_("Доб."), max_length=10, blank=True)
    contact_email = models.EmailField(_("E-mail контакта"), blank=True)

    # «Квалификация»
    crm_system = models.ForeignKey(
        "crm.CrmSystem", verbose_name=_("Корпоративный портал (CRM система)"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
    )
    niche = models.ForeignKey("crm.Niche", verbose_name=_("Ниша компании"), null=True, blank=True,
                              on_delete=models.PROTECT, related_name="+")
    client_type = models.ForeignKey("crm.ClientType", verbose_name=_("Тип клиента"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")

    # «Выход на ЛПР»
    sales_channel = models.ForeignKey("crm.SalesChannel", verbose_name=_("Канал сбыта"), null=True, blank=True,
                                      on_delete=models.PROTECT, related_name="+")
    employees_count = models.PositiveIntegerField(_("Количество сотрудников"), null=True, blank=True)
    talked_to_decision_maker = models.BooleanField(_("Разговор с ЛПР/ЛВР состоялся"), default=False)
    products_to_sell = models.ManyToManyField("crm.Product", verbose_name=_("Продукты для продажи"), blank=True,
                                              related_name="+")
    usp_acknowledged = models.BooleanField(_("ЛПР/ЛВР ознакомлен с УТП компании «Решение»"), default=False)
    used_products = models.ManyToManyField("crm.UsedProduct", verbose_name=_("Какими продуктами уже пользовалась компания"),
                                           blank=True, related_name="+")
    next_touch = models.TextField(_("Договорённость о следующем касании или о бесплатном продукте"), blank=True)
    next_touch_date = models.DateField(_("Дата следующего касания"), null=True, blank=True)
    training_info = models.TextField(_("Какое обучение проводят для сотрудников"), blank=True)

    # State
    status = FSMField(_("Статус"), max_length=20, choices=Status.choices, default=Status.NEW, protected=True, db_index=True)
    status_changed_at = models.DateTimeField(_("Статус изменён"), auto_now_add=True)
    junk_reason = models.ForeignKey("crm.JunkReason", verbose_name=_("Причина закрытия"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    # What conversion («Успешный») created or found; the deal points back with Deal.lead.
    company = models.ForeignKey("clients.Company", verbose_name=_("Компания"), null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="leads", editable=False)
    contact = models.ForeignKey("clients.Contact", verbose_name=_("Контакт"), null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="leads", editable=False)
    # Incremented on every save through the services: an edit made on a stale form is refused.
    version = models.PositiveIntegerField(default=1, editable=False)

    # Search helpers, kept by save(): the company name without legal form and punctuation, and
    # one lower-case line of everything the search box looks in (see build_search_text).
    company_key = models.CharField(max_length=255, editable=False, db_index=True, default="")
    search_text = models.TextField(editable=False, default="")

    # The record's number in the system it was imported from (Bitrix24's «ID»): a re-import finds it.
    external_id = models.CharField(_("Внешний ID"), max_length=64, blank=True, db_index=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("Кем создан"), null=True,
                                   on_delete=models.SET_NULL, related_name="+", editable=False)
    created_at = models.DateTimeField(_("Дата создания"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("Дата изменения"), auto_now=True, db_index=True)

    objects = LeadQuerySet.as_manager()

    name_forms = (_("лид"), _("лид"), _("лида"), _("лидов"))  # crm.admin_names

    class Meta:
        verbose_name = _("Лид")
        verbose_name_plural = _("Лиды")
        ordering = ["-created_at", "-pk"]
        permissions = [("reopen_lead", _("Может возвращать закрытые лиды в работу"))]
        indexes = [
            models.Index(fields=["status", "-created_at"]),
            models.Index(fields=["responsible", "status"]),
            # The list sorted by amount, and the board's per-status totals read from the index
            # alone (status, currency, amount and the owner column the access gate filters on).
            models.Index(fields=["-amount", "-id"], name="lead_amount_idx"),
            # A deep page of the list (crm.lists: ?page=1000 skips 50 000 ids): the ids in the list's
            # order with the owner the access gate filters on, read from the index alone.
            models.Index(fields=["-created_at", "-id", "responsible"], name="lead_page_idx"),
            models.Index(fields=["status", "currency", "amount", "responsible"], name="lead_totals_idx"),
            # «Без запланированных дел» (tasks_app.selectors.planned_condition): a manager's leads in
            # work without a next touch, read from the index alone.
            models.Index(fields=["responsible", "status", "next_touch_date"], name="lead_touch_idx"),
            # An import's duplicate search (exchange.importers.LeadImporter.find) looks each batch's
            # phones and e-mails up here: without these every batch scans the table.
            models.Index(fields=["company_phone"], name="lead_company_phone_idx"),
            models.Index(fields=["contact_phone"], name="lead_contact_phone_idx"),
            models.Index(fields=["company_email"], name="lead_company_email_idx"),
            models.Index(fields=["contact_email"], name="lead_contact_email_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="lead_amount_not_negative"),
        ]

    def __str__(self) -> str:
        return self.title

    # Kept lower-case (derive_search_fields) and indexed: the search boxes look a whole address up there.
    EMAIL_FIELDS = ("company_email", "contact_email")
    SEARCHED_FIELDS = ("title", "company_name", "contact_last_name", "contact_first_name", "contact_middle_name",
                       "company_email", "contact_email", "inn", "company_phone", "contact_phone")

    def save(self, *args, **kwargs):
        self.derive_search_fields()
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "company_key", "search_text"}
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("leads:detail", args=[self.pk])

    def derive_search_fields(self) -> None:
        # E-mails are stored lower-case, as a company's and a contact's (crm.Communication): an
        # import's duplicate search (User@X.ru = user@x.ru) is then an exact lookup on their indexes.
        self.company_email = (self.company_email or "").lower()
        self.contact_email = (self.contact_email or "").lower()
        self.company_key = company_key(self.company_name)
        self.search_text = self.build_search_text()

    def build_search_text(self) -> str:
        """Title, company, person, e-mails, ИНН and the phones' digits, lower-cased with ё as е:
        one column the search box matches (a trigram index serves it on PostgreSQL, an FTS5
        trigram table on SQLite: crm.textindex; and case folding works for Cyrillic, which
        SQLite's LIKE does not do)."""
        parts = [str(getattr(self, name) or "") for name in self.SEARCHED_FIELDS]
        # Russian numbers also as dialled with the trunk 8, so «8 (880) 000…» finds «+7 880 000…».
        parts += ["8" + p[2:] for p in (self.company_phone, self.contact_phone) if p.startswith("+7")]
        return search_normalize(" ".join(p.lstrip("+") for p in parts if p))

    @property
    def is_closed(self) -> bool:
        return self.status in CLOSED

    @property
    def contact_full_name(self) -> str:
        return " ".join(p for p in (self.contact_last_name, self.contact_first_name, self.contact_middle_name) if p)

    # --- Transitions. Only leads.services.lead_move calls these (the field is protected). ---

    @transition(field=status, source=[s for s in IN_PROCESS if s != Status.NEW], target=Status.NEW,
                conditions=[_requirements_met(Status.NEW)])
    def to_new(self):
        pass

    @transition(field=status, source=[s for s in IN_PROCESS if s != Status.FIRST_CALL], target=Status.FIRST_CALL,
                conditions=[_requirements_met(Status.FIRST_CALL)])
    def to_first_call(self):
        pass

    @transition(field=status, source=[s for s in IN_PROCESS if s != Status.QUALIFICATION],
                target=Status.QUALIFICATION, conditions=[_requirements_met(Status.QUALIFICATION)])
    def to_qualification(self):
        pass

    @transition(field=status, source=[s for s in IN_PROCESS if s != Status.RECONNAISSANCE],
                target=Status.RECONNAISSANCE, conditions=[_requirements_met(Status.RECONNAISSANCE)])
    def to_reconnaissance(self):
        pass

    @transition(field=status, source=[s for s in IN_PROCESS if s != Status.DECISION_MAKER],
                target=Status.DECISION_MAKER, conditions=[_requirements_met(Status.DECISION_MAKER)])
    def to_decision_maker(self):
        pass

    @transition(field=status, source=Status.DECISION_MAKER, target=Status.CONVERTED,
                conditions=[_requirements_met(Status.CONVERTED)])
    def to_converted(self):
        """Only through conversion (deals issue): the status changes with the created records."""

    @transition(field=status, source=IN_PROCESS, target=Status.JUNK, conditions=[_has_junk_reason])
    def to_junk(self):
        """«Забраковать»."""

    @transition(field=status, source=CLOSED, target=RETURN_VALUE(*IN_PROCESS))
    def reopen(self, to: str) -> str:
        """Back to work; who may do it is decided by leads.services (supervisors only)."""
        self.junk_reason = None
        return to


class Requirement(models.Model):
    """«Обязательное на стадии»: a field (or check) a lead must have to enter a status.
    Cumulative: entering a status needs the rules of every in-process status before it too."""

    status = models.CharField(_("Статус"), max_length=20, choices=Status.choices)
    key = models.CharField(_("Обязательное поле"), max_length=50)

    name_forms = (_("обязательное поле статуса"), _("обязательное поле"), _("обязательных поля"), _("обязательных полей"))  # crm.admin_names

    class Meta:
        verbose_name = _("Обязательное поле статуса")
        verbose_name_plural = _("Обязательные поля по статусам")
        constraints = [models.UniqueConstraint(fields=["status", "key"], name="unique_lead_requirement")]
        ordering = ["status", "key"]

    def __str__(self) -> str:
        from .requirements import CATALOGUE

        label = CATALOGUE[self.key].label if self.key in CATALOGUE else self.key
        return f"{self.get_status_display()}: {label}"


# The search box's index on SQLite (crm.textindex; made by this app's migration).
textindex.register(Lead._meta.db_table)
