"""The leads list: filters, the one search box and the sortable columns (on crm.lists). The
list view hands the filter set the access-gated leads (leads.selectors.visible_leads)."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.utils.translation import gettext_lazy as _

from accounts import access
from accounts.models import Action
from crm.lists import SEARCH_MAX_LENGTH, DateRangeWidget, OwnedListFilterSet, Sorting, active_users
from crm.models import ClientType, CrmSystem, Niche, Source

from .models import ORDER, Lead, Status

NOT_SET = _("не выбрано")


class LeadFilter(OwnedListFilterSet):
    q = django_filters.CharFilter(
        label=_("Поиск"), method="filter_search", max_length=SEARCH_MAX_LENGTH,
        widget=forms.TextInput(attrs={
            "type": "search",
            "placeholder": _("Название, компания, контакт, телефон, e-mail или ИНН"),
        }),
    )
    status = django_filters.MultipleChoiceFilter(
        label=_("Статус"), choices=Status.choices, widget=forms.CheckboxSelectMultiple,
        distinct=False,  # one row per lead already: no need for a costly DISTINCT
    )
    source = django_filters.ModelChoiceFilter(
        label=_("Источник"), queryset=Source.objects.filter(is_active=True), empty_label=_("любой"),
    )
    responsible = django_filters.ModelChoiceFilter(
        label=_("Ответственный"), queryset=active_users(), empty_label=_("любой"),
    )
    niche = django_filters.ModelChoiceFilter(
        label=_("Ниша компании"), queryset=Niche.objects.filter(is_active=True), empty_label=_("любая"),
        null_label=NOT_SET,
    )
    client_type = django_filters.ModelChoiceFilter(
        label=_("Тип клиента"), queryset=ClientType.objects.filter(is_active=True), empty_label=_("любой"),
        null_label=NOT_SET,
    )
    crm_system = django_filters.ModelChoiceFilter(
        label=_("Корпоративный портал (CRM система)"), queryset=CrmSystem.objects.filter(is_active=True),
        empty_label=_("любой"), null_label=NOT_SET,
    )
    created = django_filters.DateFromToRangeFilter(
        label=_("Дата создания"), field_name="created_at", widget=DateRangeWidget,
    )
    updated = django_filters.DateFromToRangeFilter(
        label=_("Дата изменения"), field_name="updated_at", widget=DateRangeWidget,
    )

    email_fields = Lead.EMAIL_FIELDS

    class Meta:
        model = Lead
        fields: list[str] = []

    def owner_levels(self, user):
        return [access.level(user, Lead.access_entity, Action.VIEW)]

    def tally_args(self, data: dict) -> dict:
        # The tallies count per status: a status filter is their columns.
        return {"fields": ("status",), "columns": list(data["status"]) if data.get("status") else None}


SORTS: dict[str, tuple[str, ...]] = {
    "title": ("title",),
    "company": ("company_name",),
    "status": ("status_order",),
    "amount": ("amount",),
    "responsible": ("responsible__last_name", "responsible__first_name"),
    "created_at": ("created_at",),
    "updated_at": ("updated_at",),
}
SORTING = Sorting(SORTS, default="-created_at", desc_first=frozenset({"amount", "created_at", "updated_at"}))


def apply_sort(queryset: QuerySet[Lead], sort: str) -> QuerySet[Lead]:
    """SORTING.apply, with the statuses in the workflow's order, not alphabetically."""
    if sort.lstrip("-") == "status":
        queryset = queryset.annotate(status_order=Case(
            *(When(status=s, then=Value(i)) for i, s in enumerate(ORDER)), default=Value(len(ORDER)),
            output_field=IntegerField(),
        ))
    return SORTING.apply(queryset, sort)
