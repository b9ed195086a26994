"""The deals list: filters, the search box and the sortable columns.

The filter set only narrows the queryset it is given; the list view hands it the access-gated
one (deals.selectors.visible_deals), and its pipeline, stage and company choices are limited to
what the user may see, so a filter can never widen what a user sees."""

from __future__ import annotations

from functools import reduce
from operator import and_

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from accounts import access
from accounts.models import User
from clients.models import Company
from crm.duplicates import company_key, search_normalize
from crm.models import Source

from .models import Deal, Pipeline, Stage

SEARCH_MAX_LENGTH = 100
SEARCH_MAX_WORDS = 5


def active_users() -> QuerySet[User]:
    return User.objects.filter(is_active=True).order_by("last_name", "first_name", "username")


def search_condition(query: str) -> Q | None:
    """Deals whose title (or comment) or company name contains every word of `query` (any case,
    ё = е); words may match different fields («Ромашка внедрение»). None for an empty query.
    Matches the search columns the models keep up to date (Deal.search_text; the company's
    search_text — name, legal name, ИНН, phones — and company_key)."""
    query = search_normalize(query)[:SEARCH_MAX_LENGTH]
    if not query:
        return None
    words = query.split(" ")[:SEARCH_MAX_WORDS]
    return reduce(and_, (_word(w) for w in words))


def _word(word: str) -> Q:
    condition = Q(search_text__contains=word) | Q(company__search_text__contains=word)
    # Company.company_key (the name without its legal form, kept by Company.save) matches a
    # company whose search column has not been filled by clients.services.
    key = company_key(word)
    return condition | Q(company__company_key__contains=key) if key else condition


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class DateRangeWidget(django_filters.widgets.DateRangeWidget):
    """«с … по …» as two date pickers in one input group (the leads list's widget template)."""

    template_name = "deals/_list_daterange.html"

    def __init__(self, attrs=None):
        super().__init__(attrs)
        self.widgets = [DateInput(attrs=dict(w.attrs)) for w in self.widgets]


class StageChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Stage) -> str:
        return obj.name


class StageFilter(django_filters.ModelChoiceFilter):
    field_class = StageChoiceField


class DealFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label=_("Поиск"), method="filter_search", max_length=SEARCH_MAX_LENGTH,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Название сделки или компании")}),
    )
    pipeline = django_filters.ModelChoiceFilter(label=_("Воронка"), queryset=Pipeline.objects.none(),
                                                empty_label=_("любая"))
    stage = StageFilter(label=_("Стадия"), queryset=Stage.objects.none(), empty_label=_("любая"))
    responsible = django_filters.ModelChoiceFilter(label=_("Ответственный"), queryset=active_users(),
                                                   empty_label=_("любой"))
    company = django_filters.ModelChoiceFilter(label=_("Компания"), queryset=Company.objects.none(),
                                               empty_label=_("любая"), null_label=_("не указана"))
    source = django_filters.ModelChoiceFilter(label=_("Источник"), queryset=Source.objects.all(),
                                              empty_label=_("любой"), null_label=_("не указан"))
    created = django_filters.DateFromToRangeFilter(label=_("Дата создания"), field_name="created_at",
                                                   widget=DateRangeWidget)
    close = django_filters.DateFromToRangeFilter(label=_("Предполагаемая дата закрытия"), field_name="close_date",
                                                 widget=DateRangeWidget)

    class Meta:
        model = Deal
        fields: list[str] = []

    def __init__(self, *args, pipelines=(), stages=None, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        fields = self.form.fields
        fields["pipeline"].queryset = Pipeline.objects.filter(pk__in=[p.pk for p in pipelines]).order_by("sort", "pk")
        # The stage list follows the chosen pipeline (all visible pipelines' stages otherwise).
        chosen = self.data.get("pipeline") if self.is_bound else None
        stage_pipelines = [p.pk for p in pipelines if str(p.pk) == chosen] or [p.pk for p in pipelines]
        fields["stage"].queryset = Stage.objects.filter(pipeline_id__in=stage_pipelines).order_by(
            "pipeline__sort", "pipeline_id", "sort", "pk")
        if len(stage_pipelines) > 1:
            fields["stage"].label_from_instance = lambda s, names={p.pk: p.name for p in pipelines}: (
                f"{names.get(s.pipeline_id, '')}: {s.name}")
        fields["company"].queryset = access.scope(user, Company.objects.all()).order_by("name", "pk")
        for name, field in fields.items():
            widget = field.widget
            if isinstance(widget, forms.Select):
                widget.attrs["class"] = "form-select form-select-sm"
            elif isinstance(widget, forms.MultiWidget):
                for sub, part in zip(widget.widgets, (_("с"), _("по")), strict=True):
                    sub.attrs["class"] = "form-control form-control-sm"
                    sub.attrs["aria-label"] = f"{field.label}: {part}"
            else:
                widget.attrs["class"] = "form-control"
            if self.is_bound and name in self.form.errors:
                for sub in getattr(widget, "widgets", None) or [widget]:
                    sub.attrs["class"] = sub.attrs.get("class", "") + " is-invalid"

    def filter_search(self, queryset: QuerySet[Deal], name: str, value: str) -> QuerySet[Deal]:
        condition = search_condition(value)
        return queryset if condition is None else queryset.filter(condition)

    @property
    def active_count(self) -> int:
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
    "company": ("company__name",),
    "stage": ("pipeline__sort", "pipeline_id", "stage__sort", "stage_id"),
    "amount": ("amount",),
    "responsible": ("responsible__last_name", "responsible__first_name"),
    "close_date": ("close_date",),
    "created_at": ("created_at",),
}
DEFAULT_SORT = "-created_at"
DESC_FIRST = {"amount", "created_at"}


def parse_sort(raw: str | None) -> str:
    raw = (raw or "").strip()
    return raw if raw.lstrip("-") in SORTS and raw.count("-") <= 1 else DEFAULT_SORT


def apply_sort(queryset: QuerySet[Deal], sort: str) -> QuerySet[Deal]:
    """Order by a validated key (see parse_sort); the primary key breaks ties so that a page
    never repeats or skips a row."""
    descending = sort.startswith("-")
    prefix = "-" if descending else ""
    return queryset.order_by(*(prefix + f for f in SORTS[sort.lstrip("-")]), prefix + "pk")


def next_sort(current: str, key: str) -> str:
    if current == key:
        return "-" + key
    if current == "-" + key:
        return key
    return "-" + key if key in DESC_FIRST else key
