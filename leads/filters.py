"""The leads list: filters, the one search box and the sortable columns.

The filter set only narrows a queryset it is given; the list view hands it the access-gated
one (leads.selectors.visible_leads), so a filter can never widen what a user sees."""

from __future__ import annotations

from functools import reduce
from operator import and_

import django_filters
from django import forms
from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from crm import phones
from crm.duplicates import search_normalize
from crm.models import ClientType, CrmSystem, Niche, Source

from .models import ORDER, Lead, Status

SEARCH_MAX_LENGTH = 100
SEARCH_MAX_WORDS = 5
NOT_SET = _("не выбрано")


def active_users() -> QuerySet[User]:
    return User.objects.filter(is_active=True).order_by("last_name", "first_name", "username")


class DateInput(forms.DateInput):
    """A browser date picker. Its value is always ISO (YYYY-MM-DD) whatever the locale, and
    Django's date fields accept ISO input in every locale; «01.02.2026» typed by hand works too."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class DateRangeWidget(django_filters.widgets.DateRangeWidget):
    """«с … по …» as two date pickers in one input group."""

    template_name = "leads/_list_daterange.html"

    def __init__(self, attrs=None):
        super().__init__(attrs)
        self.widgets = [DateInput(attrs=dict(w.attrs)) for w in self.widgets]


def search_condition(query: str) -> Q | None:
    """Leads whose title, company, contact person, e-mail or ИНН contain every word of `query`
    (any case, ё = е), or whose phones contain it typed in any format. Words may match different
    fields («Иванов Пётр», «Ромашка Иванов»). None for an empty query. Matches Lead.search_text,
    which the model keeps up to date on save."""
    query = search_normalize(query)[:SEARCH_MAX_LENGTH]
    if not query:
        return None
    digits = phones.search_digits(query)
    if digits:
        # A phone's groups («8 (912) 000-00-01») are not words to look for one by one.
        return Q(search_text__contains=query) | Q(search_text__contains=digits)
    words = query.split(" ")[:SEARCH_MAX_WORDS]
    return reduce(and_, (Q(search_text__contains=w) for w in words))


class LeadFilter(django_filters.FilterSet):
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

    class Meta:
        model = Lead
        fields: list[str] = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.form.fields.items():
            widget = field.widget
            if isinstance(widget, forms.CheckboxSelectMultiple):
                widget.attrs["class"] = "btn-check"
            elif isinstance(widget, forms.Select):
                widget.attrs["class"] = "form-select form-select-sm"
            elif isinstance(widget, forms.MultiWidget):
                for sub, part in zip(widget.widgets, (_("с"), _("по")), strict=True):
                    sub.attrs["class"] = "form-control form-control-sm"
                    sub.attrs["aria-label"] = f"{field.label}: {part}"
            else:
                widget.attrs["class"] = "form-control"
            if self.is_bound and name in self.form.errors:
                for part in getattr(widget, "widgets", None) or [widget]:
                    part.attrs["class"] = part.attrs.get("class", "") + " is-invalid"

    def filter_search(self, queryset: QuerySet[Lead], name: str, value: str) -> QuerySet[Lead]:
        condition = search_condition(value)
        return queryset if condition is None else queryset.filter(condition)

    @property
    def active_count(self) -> int:
        """How many filters (the search box aside) narrow the list now: shown on the phone's
        «Фильтры» button, whose panel is folded."""
        if not self.is_bound or not hasattr(self.form, "cleaned_data"):
            return 0
        count = 0
        for name, value in self.form.cleaned_data.items():
            if name == "q":
                continue
            if isinstance(value, slice):
                count += value.start is not None or value.stop is not None
            elif value not in (None, "", [], ()):
                count += 1
        return count


# Sorting: the key in the URL → the columns to order by. Unknown keys fall back to the default.
SORTS: dict[str, tuple[str, ...]] = {
    "title": ("title",),
    "company": ("company_name",),
    "status": ("status_order",),
    "amount": ("amount",),
    "responsible": ("responsible__last_name", "responsible__first_name"),
    "created_at": ("created_at",),
    "updated_at": ("updated_at",),
}
DEFAULT_SORT = "-created_at"
# Columns whose first click sorts the biggest/newest first.
DESC_FIRST = {"amount", "created_at", "updated_at"}


def parse_sort(raw: str | None) -> str:
    raw = (raw or "").strip()
    return raw if raw.lstrip("-") in SORTS and raw.count("-") <= 1 else DEFAULT_SORT


def apply_sort(queryset: QuerySet[Lead], sort: str) -> QuerySet[Lead]:
    """Order by a validated key (see parse_sort); the primary key breaks ties so that a page
    never repeats or skips a row."""
    descending = sort.startswith("-")
    key = sort.lstrip("-")
    if key == "status":
        # By the workflow's order, not alphabetically.
        queryset = queryset.annotate(status_order=Case(
            *(When(status=s, then=Value(i)) for i, s in enumerate(ORDER)), default=Value(len(ORDER)),
            output_field=IntegerField(),
        ))
    prefix = "-" if descending else ""
    return queryset.order_by(*(prefix + f for f in SORTS[key]), prefix + "pk")


def next_sort(current: str, key: str) -> str:
    """What clicking the header of `key` sorts by: the other direction if it is sorted by it now."""
    if current == key:
        return "-" + key
    if current == "-" + key:
        return key
    return "-" + key if key in DESC_FIRST else key
