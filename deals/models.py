from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_fsm import RETURN_VALUE, FSMKeyField, FSMModelMixin, transition

from accounts.models import Entity
from crm import textindex
from crm.duplicates import search_normalize
from crm.money import Currency
from crm.tallies import Tallied, TalliedQuerySet


class Pipeline(models.Model):
    """A воронка: an ordered list of stages ending in one success and one failure stage."""

    class DefaultFor(models.TextChoices):
        NONE = "", _("—")
        COLD = "cold", _("Холодные источники")
        INBOUND = "inbound", _("Входящие источники")
        OTHER = "other", _("Остальные")

    name = models.CharField(_("Название"), max_length=200, unique=True)
    sort = models.PositiveIntegerField(_("Порядок"), default=100)
    # Which sources' leads convert into this pipeline by default (PROCESS.md §1.5).
    default_for = models.CharField(_("Воронка по умолчанию для"), max_length=10, choices=DefaultFor.choices,
                                   blank=True, default="")

    name_forms = (_("воронку"), _("воронка"), _("воронки"), _("воронок"))  # crm.admin_names

    class Meta:
        verbose_name = _("Воронка")
        verbose_name_plural = _("Воронки")
        ordering = ["sort", "pk"]

    def __str__(self) -> str:
        return self.name

    @property
    def access_scope(self) -> str:
        return f"pipeline:{self.pk}"

    def first_stage(self) -> "Stage":
        return self.stages.filter(semantics=Stage.Semantics.IN_PROCESS).order_by("sort", "pk").first()


class Stage(models.Model):
    class Semantics(models.TextChoices):
        IN_PROCESS = "process", _("В работе")
        SUCCESS = "success", _("Успех")
        FAILURE = "failure", _("Провал")

    pipeline = models.ForeignKey(Pipeline, verbose_name=_("Воронка"), on_delete=models.CASCADE, related_name="stages")
    name = models.CharField(_("Название"), max_length=200)
    sort = models.PositiveIntegerField(_("Порядок"), default=100)
    color = models.CharField(_("Цвет"), max_length=7, default="#2fc6f6", help_text=_("#RRGGBB"))
    semantics = models.CharField(_("Смысл"), max_length=10, choices=Semantics.choices, default=Semantics.IN_PROCESS)
    # Bitrix24's STAGE_ID without the pipeline's «C<id>:» prefix (the REST API, rest.methods.crm_deals):
    # kept when the stage is renamed, so integrations that name a stage by code keep working. The
    # defaults have Bitrix24's codes (NEW, WON, LOSE…); a stage added later gets «UC_» and six
    # letters or digits, as Bitrix24 names the stages a portal adds.
    code = models.CharField(_("Код"), max_length=50, editable=False)

    name_forms = (_("стадию"), _("стадия"), _("стадии"), _("стадий"))  # crm.admin_names

    class Meta:
        verbose_name = _("Стадия")
        verbose_name_plural = _("Стадии")
        ordering = ["pipeline", "sort", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["pipeline", "name"], name="unique_stage_name"),
            models.UniqueConstraint(fields=["pipeline", "code"], name="unique_stage_code"),
            # Exactly one success stage per pipeline (at most one here; the admin form asks for one).
            models.UniqueConstraint(fields=["pipeline"], condition=models.Q(semantics="success"),
                                    name="one_success_stage"),
        ]

    def __str__(self) -> str:
        return f"{self.pipeline}: {self.name}"

    def save(self, *args, **kwargs):
        if not self.code:
            from .defaults import new_stage_code

            self.code = new_stage_code(Stage.objects.filter(pipeline_id=self.pipeline_id))
        super().save(*args, **kwargs)

    @property
    def is_closed(self) -> bool:
        return self.semantics != self.Semantics.IN_PROCESS


class StageRequirement(models.Model):
    """«Обязательное на стадии», per pipeline stage. Cumulative along the in-process stages."""

    stage = models.ForeignKey(Stage, verbose_name=_("Стадия"), on_delete=models.CASCADE, related_name="requirements")
    key = models.CharField(_("Обязательное поле"), max_length=50)

    name_forms = (_("обязательное поле стадии"), _("обязательное поле"), _("обязательных поля"), _("обязательных полей"))  # crm.admin_names

    class Meta:
        verbose_name = _("Обязательное поле стадии")
        verbose_name_plural = _("Обязательные поля по стадиям")
        constraints = [models.UniqueConstraint(fields=["stage", "key"], name="unique_stage_requirement")]

    def __str__(self) -> str:
        return f"{self.stage}: {self.key}"


class LossReason(models.Model):
    name = models.CharField(_("Название"), max_length=200, unique=True)
    sort = models.PositiveIntegerField(_("Порядок"), default=100)
    is_active = models.BooleanField(_("Активно"), default=True)

    name_forms = (_("причину провала"), _("причина провала"), _("причины провала"), _("причин провала"))  # crm.admin_names

    class Meta:
        verbose_name = _("Причина провала сделки")
        verbose_name_plural = _("Причины провала сделок")
        ordering = ["sort", "name"]

    def __str__(self) -> str:
        return self.name


def _requirements_met(deal) -> bool:
    """FSM condition of a stage move: the target (set by deals.services.deal_move) and every
    in-process stage before it have their rules met."""
    from .requirements import missing_for

    return not missing_for(deal, deal._target_stage)


class DealQuerySet(TalliedQuerySet, models.QuerySet):
    pass


class Deal(Tallied, FSMModelMixin, models.Model):
    access_entity = Entity.DEAL
    access_owner_field = "responsible"
    access_scope_field = "pipeline"  # rights may differ per pipeline
    tally_column = "stage_id"  # crm.tallies: counted per owner, pipeline, stage and currency
    # Kept by tasks_app as the date of the deal's earliest planned touch, as the lead's is: crm.tallies
    # then counts the deals with and without one, and «без запланированных дел» reads the deal's row.
    touch_date_field = "next_touch_date"
    money_fields = ("amount",)  # crm.display: shown in the deal's currency (the history too)

    title = models.CharField(_("Название"), max_length=255)
    pipeline = models.ForeignKey(Pipeline, verbose_name=_("Воронка"), on_delete=models.PROTECT, related_name="deals")
    stage = FSMKeyField(Stage, verbose_name=_("Стадия"), on_delete=models.PROTECT, related_name="deals", protected=True)
    amount = models.DecimalField(
        _("Сумма"), max_digits=14, decimal_places=2, default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"), message=_("Сумма не может быть отрицательной."))],
    )
    currency = models.CharField(_("Валюта"), max_length=3, choices=Currency.choices, default=Currency.RUB)
    company = models.ForeignKey("clients.Company", verbose_name=_("Компания"), null=True, blank=True,
                                on_delete=models.PROTECT, related_name="deals")
    contacts = models.ManyToManyField("clients.Contact", verbose_name=_("Контакты"), blank=True, related_name="deals")
    source = models.ForeignKey("crm.Source", verbose_name=_("Источник"), null=True, blank=True,
                               on_delete=models.PROTECT, related_name="+")
    start_date = models.DateField(_("Дата начала"), null=True, blank=True)
    close_date = models.DateField(_("Предполагаемая дата закрытия"), null=True, blank=True)
    responsible = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("Ответственный"),
                                    on_delete=models.PROTECT, related_name="deals")
    lead = models.ForeignKey("leads.Lead", verbose_name=_("Лид"), null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="deals")
    comment = models.TextField(_("Комментарий"), blank=True)
    loss_reason = models.ForeignKey(LossReason, verbose_name=_("Причина провала"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    # Bookkeeping, not the deal's data (hence not editable): unlike the lead's «Дата следующего
    # касания», no form, import or rule reads it, so planning a touch on a deal does not need the
    # right to change the deal (tasks_app.services._bind).
    next_touch_date = models.DateField(_("Дата следующего касания"), null=True, blank=True, editable=False)
    version = models.PositiveIntegerField(default=1, editable=False)
    # The record's number in the system it was imported from (Bitrix24's «ID»): a re-import finds it.
    external_id = models.CharField(_("Внешний ID"), max_length=64, blank=True, db_index=True)
    search_text = models.TextField(editable=False, default="")
    stage_changed_at = models.DateTimeField(_("Стадия изменена"), auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("Кем создана"), null=True,
                                   on_delete=models.SET_NULL, related_name="+", editable=False)
    created_at = models.DateTimeField(_("Дата создания"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("Дата изменения"), auto_now=True, db_index=True)

    objects = DealQuerySet.as_manager()

    name_forms = (_("сделку"), _("сделка"), _("сделки"), _("сделок"))  # crm.admin_names

    class Meta:
        verbose_name = _("Сделка")
        verbose_name_plural = _("Сделки")
        ordering = ["-created_at", "-pk"]
        indexes = [
            # A board column: one stage's newest deals (the stage implies the pipeline).
            models.Index(fields=["stage", "-created_at"], name="deal_stage_created_idx"),
            models.Index(fields=["stage", "currency", "amount", "responsible"], name="deal_totals_idx"),
            models.Index(fields=["-amount", "-id"], name="deal_amount_idx"),
            # A deep page of the list, read from the index alone: the ids in the list's order with the
            # columns the access gate filters on (a level per pipeline, then the owner).
            models.Index(fields=["-created_at", "-id", "pipeline", "responsible"], name="deal_page_idx"),
            # The deals report's forecast: the open deals expected to close in a month, summed per
            # stage from the index alone (analytics; PostgreSQL — SQLite ignores `include`).
            models.Index(fields=["close_date"], include=["stage", "pipeline", "responsible", "source", "currency", "amount"],
                         name="deal_close_date_idx"),
            # «Без запланированных дел» of a responsible's stages, as the leads' lead_touch_idx.
            models.Index(fields=["responsible", "stage", "next_touch_date"], name="deal_touch_idx"),
        ]
        constraints = [models.CheckConstraint(condition=models.Q(amount__gte=0), name="deal_amount_not_negative")]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs):
        # django-fsm protects `stage` only against `deal.stage = …`; `stage_id` would slip
        # through. A stage changed without a transition is refused here.
        loaded = getattr(self, "_loaded_stage_id", None)
        if loaded is not None and loaded != self.stage_id and not getattr(self, "_stage_moved", False):
            raise ValueError("Стадию сделки меняют только deals.services (deal_move, deal_change_pipeline).")
        self.search_text = search_normalize(" ".join(p for p in (self.title, self.comment[:200]) if p))
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "search_text"}
        super().save(*args, **kwargs)
        self._loaded_stage_id, self._stage_moved = self.stage_id, False

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("deals:detail", args=[self.pk])

    @property
    def current_stage(self) -> Stage:
        """The Stage object. `deal.stage` itself is the state machine's value (the stage id):
        django-fsm's key field returns the key, not the related object. (Never select_related
        "stage": a cached Stage makes Django's save() trip over that integer.)"""
        cached = getattr(self, "_current_stage", None)
        if cached is None or cached.pk != self.stage_id:
            cached = self._current_stage = Stage.objects.get(pk=self.stage_id)
        return cached

    @classmethod
    def from_db(cls, db, field_names, values):
        deal = super().from_db(db, field_names, values)
        deal._loaded_stage_id = deal.__dict__.get("stage_id")
        return deal

    # --- Transitions: only deals.services calls them (the stage is protected). ---

    @transition(field=stage, source="*", target=RETURN_VALUE(), conditions=[_requirements_met])
    def move_to(self, stage: Stage) -> int:
        """Forward, back, to success or failure within the pipeline."""
        self._stage_moved = True
        return stage.pk

    @transition(field=stage, source="*", target=RETURN_VALUE())
    def change_pipeline(self, pipeline: Pipeline) -> int:
        """To another pipeline, landing on its first stage."""
        self.pipeline = pipeline
        self._stage_moved = True
        return pipeline.first_stage().pk


class DealProduct(models.Model):
    """A product row: product, quantity, price. When a deal has rows whose total is above zero,
    its amount is their total."""

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="products")
    product = models.ForeignKey("crm.Product", verbose_name=_("Товар/услуга"), on_delete=models.PROTECT,
                                related_name="+")
    quantity = models.DecimalField(_("Количество"), max_digits=10, decimal_places=2, default=Decimal("1"),
                                   validators=[MinValueValidator(Decimal("0.01"), message=_("Количество должно быть больше нуля."))])
    price = models.DecimalField(_("Цена"), max_digits=14, decimal_places=2, default=Decimal("0"),
                                validators=[MinValueValidator(Decimal("0"), message=_("Цена не может быть отрицательной."))])

    class Meta:
        verbose_name = _("Товар сделки")
        verbose_name_plural = _("Товары сделки")
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.product} × {self.quantity}"

    @property
    def total(self) -> Decimal:
        return (self.quantity or 0) * (self.price or 0)


# The search box's index on SQLite (crm.textindex; made by this app's migration).
textindex.register(Deal._meta.db_table)
