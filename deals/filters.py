"""The deals list: filters, the search box and the sortable columns.

The filter set only narrows the queryset it is given; the list view hands it the access-gated
one (deals.selectors.visible_deals), and its pipeline, stage and company choices are limited to
what the user may see, so a filter can never widen what a user sees."""

from __future__ import annotations

from functools import reduce
from operator import and_

import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts import access
from accounts.models import Action
from clients.models import Company
from clients.selectors import visible_companies
from crm import lists
from crm.duplicates import company_key
from crm.lists import SEARCH_MAX_LENGTH, DateRangeWidget, OwnedListFilterSet, Sorting, active_users, search_terms
from crm.models import Source

from .models import Deal, Pipeline, Stage


def search_condition(query: str, user) -> Q | None:
    """Deals whose title (or comment) or company contains every word of `query` (any case,
    ё = е); words may match different fields («Ромашка внедрение»); a phone in any format finds
    the deals of the company with that phone. None for an empty query. Matches the search
    columns the models keep up to date (Deal.search_text; the company's search_text — name,
    legal name, ИНН, phones, e-mails — and company_key).

    A company is searched only if `user` may see it: which deals a hidden
    company's name or phone finds would tell who the client is (deal rights are per pipeline,
    client rights are not)."""
    terms = search_terms(query)
    if not terms:
        return None
    companies = visible_companies(user)
    return reduce(and_, (_term(term, companies) for term in terms))


def _term(term: str, companies) -> Q:
    """One term: in the deal's own column, or its company's. The companies are found first (one
    query on their own index) and the deals by their indexed company column: an OR across the
    join would read every deal."""
    matching = Q(search_text__indexed_contains=term)
    # Company.company_key (the name without its legal form, kept by Company.save) matches a
    # company whose search column has not been filled by clients.services — by its name: a
    # phone's digits are no name.
    key = "" if term.isdigit() else company_key(term)
    if key:
        matching |= Q(company_key__indexed_contains=key)
    ids = lists.few_ids(companies, matching)
    company = Q(company_id__ids=ids) if ids is not None else Q(company__in=companies.filter(matching).values("pk"))
    # The company's deals first: a probe stops within them, before reading the deals' own index,
    # when a company's name fills its LIMIT (crm.lists.Alternatives; at 300 000 deals on
    # PostgreSQL 6 → 3 ms, at 100 000 on SQLite 3.0 → 1.7 ms).
    return lists.alternatives(company, Q(search_text__indexed_contains=term))


class StageChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Stage) -> str:
        return obj.name


class StageFilter(django_filters.ModelChoiceFilter):
    field_class = StageChoiceField


class DealFilter(OwnedListFilterSet):

    q = django_filters.CharFilter(
        label=_("Поиск"), method="filter_search", max_length=SEARCH_MAX_LENGTH,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Название сделки или компании")}),
    )
    pipeline = django_filters.ModelChoiceFilter(label=_("Воронка"), queryset=Pipeline.objects.none(),
                                                empty_label=_("любая"))
    stage = StageFilter(label=_("Стадия"), queryset=Stage.objects.none(), empty_label=_("любая"))
    # Across pipelines: «В работе» is every pipeline's working stages (what «Мой день» counts).
    semantics = django_filters.ChoiceFilter(label=_("Итог"), field_name="stage__semantics",
                                            choices=Stage.Semantics.choices, empty_label=_("любой"))
    responsible = django_filters.ModelChoiceFilter(label=_("Ответственный"), queryset=active_users(),
                                                   empty_label=_("любой"))
    # Chosen by a link (?company=<id>, e.g. from a company card), not from a drop-down: a list of
    # every visible company cost 30× the page at 5,000 companies (BENCHMARKS.md). The search box
    # finds deals by company name.
    company = django_filters.ModelChoiceFilter(label=_("Компания"), queryset=Company.objects.none(),
                                               null_label=_("не указана"), widget=forms.HiddenInput)
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
        self.pipelines, self.user = pipelines, user
        super().__init__(*args, **kwargs)

    def filter_search(self, queryset, name: str, value: str):
        return self.searched(queryset, *lists.search_matches(queryset, search_condition(value, self.user)))

    def owner_levels(self, user):
        # Rights are per pipeline: the list spans the user's pipelines, so the widest level counts.
        return [access.level(user, Deal.access_entity, Action.VIEW, p.access_scope) for p in self.pipelines]

    def tally_args(self, data: dict) -> dict | None:
        # The tallies count per pipeline (their scope) and stage (their columns).
        pipeline, stage = data.get("pipeline"), data.get("stage")
        if pipeline and stage and stage.pipeline_id != pipeline.pk:
            return None  # nothing matches: the list's own count says so
        scope = stage.pipeline_id if stage else pipeline.pk if pipeline else None
        return {"fields": ("pipeline", "stage"), "scope": scope, "columns": [stage.pk] if stage else None}

    def prepare_form(self, fields) -> None:
        super().prepare_form(fields)
        pipelines = self.pipelines
        fields["pipeline"].queryset = Pipeline.objects.filter(pk__in=[p.pk for p in pipelines]).order_by("sort", "pk")
        # The stage list follows the chosen pipeline (all visible pipelines' stages otherwise).
        chosen = self.data.get("pipeline") if self.is_bound else None
        stage_pipelines = [p.pk for p in pipelines if str(p.pk) == chosen] or [p.pk for p in pipelines]
        fields["stage"].queryset = Stage.objects.filter(pipeline_id__in=stage_pipelines).order_by(
            "pipeline__sort", "pipeline_id", "sort", "pk")
        if len(stage_pipelines) > 1:
            fields["stage"].label_from_instance = lambda s, names={p.pk: p.name for p in pipelines}: (
                f"{names.get(s.pipeline_id, '')}: {s.name}")
        fields["company"].queryset = visible_companies(self.user).order_by("name", "pk")


SORTS: dict[str, tuple[str, ...]] = {
    "title": ("title",),
    "company": ("company__name",),
    "stage": ("pipeline__sort", "pipeline_id", "stage__sort", "stage_id"),
    "amount": ("amount",),
    "responsible": ("responsible__last_name", "responsible__first_name"),
    "close_date": ("close_date",),
    "created_at": ("created_at",),
}
SORTING = Sorting(SORTS, default="-created_at", desc_first=frozenset({"amount", "created_at"}))
