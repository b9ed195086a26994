"""The companies and contacts lists: filters, the one search box and the sortable columns (on
crm.lists). The views hand a filter set the access-gated records (clients.selectors)."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from crm.lists import SEARCH_MAX_LENGTH, DateRangeWidget, ListFilterSet, Sorting, active_users
from crm.models import ClientType, Niche

from .models import Company, Contact

NOT_SET = _("не выбрано")


class ClientFilter(ListFilterSet):
    """What the two lists share: the search box, the responsible, the creation date."""

    q = django_filters.CharFilter(label=_("Поиск"), method="filter_search", max_length=SEARCH_MAX_LENGTH)
    responsible = django_filters.ModelChoiceFilter(label=_("Ответственный"), queryset=active_users(),
                                                   empty_label=_("любой"))
    created = django_filters.DateFromToRangeFilter(label=_("Дата создания"), field_name="created_at",
                                                   widget=DateRangeWidget)

    search_placeholder = ""

    def prepare_form(self, fields) -> None:
        search = fields["q"].widget
        search.input_type = "search"
        search.attrs["placeholder"] = self.search_placeholder


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

    # Chosen by a link (?company=<id>), not from a drop-down of every visible company, which cost
    # 12–17× the page at 5,000 companies (BENCHMARKS.md). One company: one row per contact.
    company = django_filters.ModelChoiceFilter(label=_("Компания"), field_name="companies",
                                               queryset=Company.objects.none(), distinct=False,
                                               widget=forms.HiddenInput)

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
DESC_FIRST = frozenset({"created_at", "updated_at"})
COMPANY_SORTING = Sorting(COMPANY_SORTS, DEFAULT_SORT, DESC_FIRST)
CONTACT_SORTING = Sorting(CONTACT_SORTS, DEFAULT_SORT, DESC_FIRST)
