"""The companies and contacts lists: filters, the one search box and the sortable columns.

A filter set only narrows the queryset it is given; the views hand it the access-gated one
(clients.selectors), so a filter can never widen what a user sees."""

from __future__ import annotations

from functools import reduce
from operator import and_

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from crm import phones
from crm.duplicates import search_normalize
from crm.models import ClientType, Niche

from .models import Company, Contact

SEARCH_MAX_LENGTH = 100
SEARCH_MAX_WORDS = 5
NOT_SET = _("не выбрано")


def active_users() -> QuerySet[User]:
    return User.objects.filter(is_active=True).order_by("last_name", "first_name", "username")


def search_condition(query: str) -> Q | None:
    """Records whose search column (names, requisites, phones also as dialled with 8, e-mails)
    contains every word of `query` (any case, ё = е), or a phone typed in any format. None for an
    empty query."""
    query = search_normalize(query)[:SEARCH_MAX_LENGTH]
    if not query:
        return None
    digits = phones.search_digits(query)
    if digits:
        # «8 (912) 000-00-01»: its groups are not words to look for one by one.
        return Q(search_text__contains=query) | Q(search_text__contains=digits)
    words = query.split(" ")[:SEARCH_MAX_WORDS]
    return reduce(and_, (Q(search_text__contains=w) for w in words))


class DateInput(forms.DateInput):
    """A browser date picker (ISO value whatever the locale; «01.02.2026» typed by hand works too)."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class DateRangeWidget(django_filters.widgets.DateRangeWidget):
    """«с … по …» as two date pickers in one input group."""

    template_name = "clients/_list_daterange.html"

    def __init__(self, attrs=None):
        super().__init__(attrs)
        self.widgets = [DateInput(attrs=dict(w.attrs)) for w in self.widgets]


class ClientFilter(django_filters.FilterSet):
    """What the two lists share: the search box, the responsible, the creation date."""

    q = django_filters.CharFilter(label=_("Поиск"), method="filter_search", max_length=SEARCH_MAX_LENGTH)
    responsible = django_filters.ModelChoiceFilter(label=_("Ответственный"), queryset=active_users(),
                                                   empty_label=_("любой"))
    created = django_filters.DateFromToRangeFilter(label=_("Дата создания"), field_name="created_at",
                                                   widget=DateRangeWidget)

    search_placeholder = ""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.prepare_filters()
        # The form is built (and, bound, validated) from here on.
        search = self.form.fields["q"].widget
        search.input_type = "search"
        search.attrs["placeholder"] = self.search_placeholder
        for name, field in self.form.fields.items():
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
                for part in getattr(widget, "widgets", None) or [widget]:
                    part.attrs["class"] = part.attrs.get("class", "") + " is-invalid"

    def prepare_filters(self) -> None:
        """Adjust the filters before their form exists."""

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        condition = search_condition(value)
        return queryset if condition is None else queryset.filter(condition)

    @property
    def active_count(self) -> int:
        """How many filters (the search box aside) narrow the list: shown on the phone's «Фильтры» button."""
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


class CompanyFilter(ClientFilter):
    search_placeholder = _("Название, ИНН, телефон или e-mail")

    niche = django_filters.ModelChoiceFilter(label=_("Ниша компании"), queryset=Niche.objects.filter(is_active=True),
                                             empty_label=_("любая"), null_label=NOT_SET)
    client_type = django_filters.ModelChoiceFilter(label=_("Тип клиента"),
                                                   queryset=ClientType.objects.filter(is_active=True),
                                                   empty_label=_("любой"), null_label=NOT_SET)

    class Meta:
        model = Company
        fields: list[str] = []


class ContactFilter(ClientFilter):
    search_placeholder = _("ФИО, должность, телефон или e-mail")

    company = django_filters.ModelChoiceFilter(label=_("Компания"), field_name="companies",
                                               queryset=Company.objects.none(), empty_label=_("любая"),
                                               distinct=False)  # one company: one row per contact

    class Meta:
        model = Contact
        fields: list[str] = []

    def __init__(self, *args, companies: QuerySet[Company] | None = None, **kwargs):
        self.companies = companies
        super().__init__(*args, **kwargs)

    def prepare_filters(self) -> None:
        # Only the companies the user may see are offered (and accepted).
        if self.companies is not None:
            self.filters["company"].queryset = self.companies


# Sorting: the key in the URL → the columns to order by. Unknown keys fall back to the default.
COMPANY_SORTS: dict[str, tuple[str, ...]] = {
    "name": ("name",),
    "inn": ("inn",),
    "responsible": ("responsible__last_name", "responsible__first_name"),
    "created_at": ("created_at",),
    "updated_at": ("updated_at",),
}
CONTACT_SORTS: dict[str, tuple[str, ...]] = {
    "name": ("last_name", "first_name", "middle_name"),
    "position": ("position",),
    "responsible": ("responsible__last_name", "responsible__first_name"),
    "created_at": ("created_at",),
    "updated_at": ("updated_at",),
}
DEFAULT_SORT = "name"
# Columns whose first click sorts the newest first.
DESC_FIRST = {"created_at", "updated_at"}


def parse_sort(raw: str | None, sorts: dict[str, tuple[str, ...]]) -> str:
    raw = (raw or "").strip()
    return raw if raw.lstrip("-") in sorts and raw.count("-") <= 1 else DEFAULT_SORT


def apply_sort(queryset: QuerySet, sort: str, sorts: dict[str, tuple[str, ...]]) -> QuerySet:
    """Order by a validated key; the primary key breaks ties so that a page never repeats or skips a row."""
    prefix = "-" if sort.startswith("-") else ""
    return queryset.order_by(*(prefix + f for f in sorts[sort.lstrip("-")]), prefix + "pk")


def next_sort(current: str, key: str) -> str:
    """What clicking the header of `key` sorts by: the other direction if it is sorted by it now."""
    if current == key:
        return "-" + key
    if current == "-" + key:
        return key
    return "-" + key if key in DESC_FIRST else key
