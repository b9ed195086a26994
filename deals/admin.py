"""The admin for supervisors: pipelines and their stages (add, rename, reorder, colour), the
rules per stage, loss reasons. Deals are read-only here: they change on the card and the board,
through deals.services, and are deleted through deals.services.deal_delete."""

from django import forms
from django.contrib import admin
from django.db.models import F
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from crm import lists
from crm.admin import ScopedAdmin, linked_field

from . import services
from .filters import search_condition
from .models import Deal, DealProduct, LossReason, Pipeline, Stage, StageRequirement
from .requirements import CATALOGUE


class ColorInput(forms.TextInput):
    input_type = "color"


class StageForm(forms.ModelForm):
    class Meta:
        model = Stage
        fields = ["name", "sort", "color", "semantics"]
        widgets = {"color": ColorInput}


class StageFormSet(forms.BaseInlineFormSet):
    """A pipeline is stages in process ending in exactly one success and one failure stage; a
    deal starts on the first stage in process. Checked over the whole formset, before saving."""

    def clean(self):
        super().clean()
        kept = [f.cleaned_data for f in self.forms
                if getattr(f, "cleaned_data", None) and not f.cleaned_data.get("DELETE")]
        if not kept or any("semantics" not in data for data in kept):
            return  # a pipeline created without stages yet, or a row with its own error to fix first
        semantics = [data["semantics"] for data in kept]
        if semantics.count(Stage.Semantics.SUCCESS) != 1 or semantics.count(Stage.Semantics.FAILURE) != 1:
            raise forms.ValidationError(_("В воронке должна быть ровно одна стадия «Успех» и ровно одна «Провал»."))
        if Stage.Semantics.IN_PROCESS not in semantics:
            raise forms.ValidationError(_("В воронке должна быть хотя бы одна стадия «В работе»: с неё начинаются сделки."))


class StageInline(admin.TabularInline):
    """Stages of a pipeline. Deleting a stage that holds deals is refused with Django's
    protected-objects message (Deal.stage is PROTECT): move the deals first."""

    model = Stage
    form = StageForm
    formset = StageFormSet
    extra = 0
    ordering = ("sort", "pk")
    show_change_link = True
    # Shown for integrators (the REST API's STAGE_ID), never edited: integrations depend on it.
    readonly_fields = ("code",)


class StageFilter(admin.SimpleListFilter):
    """Stages named with their pipeline, read in one query (the default filter would read each
    stage's pipeline one by one)."""

    title = _("Стадия")
    parameter_name = "stage"

    def lookups(self, request, model_admin):
        return [(s.pk, f"{s.pipeline.name}: {s.name}")
                for s in Stage.objects.select_related("pipeline").order_by("pipeline__sort", "pipeline", "sort", "pk")]

    def queryset(self, request, queryset):
        value = self.value()
        if value and value.isascii() and value.isdigit() and len(value) < 19:
            return queryset.filter(stage=int(value))
        return queryset


@admin.register(Pipeline)
class PipelineAdmin(admin.ModelAdmin):
    list_display = ("name", "sort", "default_for", "stage_list")
    list_editable = ("sort",)
    inlines = [StageInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("stages")

    @admin.display(description=_("Стадии"))
    def stage_list(self, obj):
        return " → ".join(s.name for s in sorted(obj.stages.all(), key=lambda s: (s.sort, s.pk)))


class RequirementForm(forms.ModelForm):
    key = forms.ChoiceField(label=_("Обязательное поле"), choices=[(k, r.label) for k, r in CATALOGUE.items()])

    class Meta:
        model = StageRequirement
        fields = ["stage", "key"]


class RequirementInline(admin.TabularInline):
    model = StageRequirement
    form = RequirementForm
    fields = ["key"]
    extra = 0


@admin.register(Stage)
class StageAdmin(admin.ModelAdmin):
    """A stage with its rules («Обязательное на стадии»): the next move obeys a row added here."""

    form = StageForm
    list_display = ("name", "pipeline", "sort", "semantics", "color_swatch")
    list_filter = ("pipeline", "semantics")
    list_select_related = ("pipeline",)
    ordering = ("pipeline__sort", "pipeline", "sort", "pk")
    inlines = [RequirementInline]

    fields = ["pipeline", "name", "sort", "color", "semantics"]

    @admin.display(description=_("Цвет"), ordering="color")
    def color_swatch(self, obj):
        return format_html('<span class="crm-color-swatch" style="background:{}"></span>{}', obj.color, obj.color)


@admin.register(StageRequirement)
class StageRequirementAdmin(admin.ModelAdmin):
    form = RequirementForm
    list_display = ("stage", "label")
    list_filter = ("stage__pipeline", StageFilter)
    list_select_related = ("stage", "stage__pipeline")

    @admin.display(description=_("Обязательное поле"))
    def label(self, obj):
        return CATALOGUE[obj.key].label if obj.key in CATALOGUE else obj.key


@admin.register(LossReason)
class LossReasonAdmin(admin.ModelAdmin):
    """Values in use cannot be deleted (PROTECT): deactivate them instead."""

    list_display = ("name", "sort", "is_active")
    list_editable = ("sort", "is_active")
    list_filter = ("is_active",)
    search_fields = ("name",)


class DealProductInline(admin.TabularInline):
    model = DealProduct
    fields = ("product", "quantity", "price")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Deal)
class DealAdmin(ScopedAdmin):
    """Supervisors' view of deals, scoped as in the CRM (per pipeline too): read-only. Stages,
    fields and product rows change on the deal card and the board (the rules, history and
    optimistic locking live there); deletion goes through `deal_delete`."""

    delete_service = staticmethod(services.deal_delete)
    linked_fields = ("company", "contacts", "lead")
    linked_company = linked_field("company", _("Компания"))
    linked_contacts = linked_field("contacts", _("Контакты"))
    linked_lead = linked_field("lead", _("Лид"))

    list_display = ("title", "pipeline", "stage_name", "linked_company", "amount", "currency", "responsible",
                    "created_at")
    list_filter = ("pipeline", StageFilter, ("responsible", admin.RelatedOnlyFieldListFilter), "source",
                   "created_at")
    search_fields = ("search_text",)  # the search box is the CRM's: get_search_results
    list_select_related = ("pipeline", "company", "responsible")
    date_hierarchy = "created_at"
    inlines = [DealProductInline]

    def get_queryset(self, request):
        # The stage's name as a column of the row: never select_related the FSM key field.
        return super().get_queryset(request).annotate(stage_label=F("stage__name"))

    def get_search_results(self, request, queryset, search_term):
        """The CRM's deal search (title, comment, the company's name, ИНН, phones — a company the
        user may see only)."""
        condition = lists.search(queryset, search_condition(search_term, request.user))
        return (queryset if condition is None else queryset.filter(condition)), False

    @admin.display(description=_("Стадия"), ordering="stage__sort")
    def stage_name(self, obj):
        return getattr(obj, "stage_label", None) or obj.current_stage.name

    @admin.display(description=_("Карточка в CRM"))
    def card_link(self, obj):
        return format_html('<a href="{}">{}</a>', reverse("deals:detail", args=[obj.pk]), _("Открыть карточку сделки"))

    def get_readonly_fields(self, request, obj=None):
        return self.shown([f.name for f in Deal._meta.fields if f.name not in ("id", "stage")] + ["contacts"]) + [
            "stage_name", "history", "card_link"]

    def get_fields(self, request, obj=None):
        return [f for f in self.get_readonly_fields(request, obj) if f not in ("search_text",)]

    def has_add_permission(self, request):
        return False
