"""«Мои задачи»: the role tabs, the filters and the search by title (on crm.lists). The tab
picks the access-gated tasks (selectors.by_role / selectors.visible); the filters only narrow them."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts import access
from accounts.models import Action, Level
from crm.lists import SEARCH_MAX_LENGTH, DateRangeWidget, ListFilterSet, Owners, Sorting

from . import selectors
from .models import ACTIVE, Status, Task

ROLE_ALL = "all"  # «Все задачи отдела»: what the head's level covers
ROLE_TABS = [
    (selectors.ROLE_DOING, _("Делаю")),
    (selectors.ROLE_HELPING, _("Помогаю")),
    (selectors.ROLE_WATCHING, _("Наблюдаю")),
    (selectors.ROLE_ASSIGNED, _("Поручил")),
]
ALL_TAB = (ROLE_ALL, _("Все задачи отдела"))

OVERDUE, ALL = "overdue", "all"


def sees_department(user) -> bool:
    """A head (a level above «Свои») gets the «Все задачи отдела» tab and the responsible filter."""
    return access.level(user, Task.access_entity, Action.VIEW) > Level.OWN


class TaskFilter(ListFilterSet):
    role = django_filters.ChoiceFilter(label=_("Вкладка"), choices=[*ROLE_TABS, ALL_TAB], method="filter_nothing",
                                       empty_label=None)
    q = django_filters.CharFilter(
        label=_("Поиск"), method="filter_search", max_length=SEARCH_MAX_LENGTH,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Название задачи")}),
    )
    # Empty is «Активные»: the list opens on the work still to do.
    status = django_filters.ChoiceFilter(
        label=_("Статус"), method="filter_status", empty_label=_("Активные"),
        choices=[(OVERDUE, _("Просрочены")), *Status.choices, (ALL, _("Все"))],
    )
    responsible = django_filters.ModelChoiceFilter(label=_("Ответственный"), queryset=None, empty_label=_("любой"))
    important = django_filters.ChoiceFilter(label=_("Важность"), choices=[("1", _("Только важные"))],
                                            method="filter_important", empty_label=_("любые"))
    deadline = django_filters.DateFromToRangeFilter(label=_("Крайний срок"), field_name="deadline",
                                                    widget=DateRangeWidget)

    class Meta:
        model = Task
        fields: list[str] = []

    def __init__(self, data=None, *args, request, **kwargs):
        self.request = request
        super().__init__(data, *args, queryset=Task.objects.none(), request=request, **kwargs)
        user = request.user
        role = self.form.cleaned_data.get("role") if self.is_bound else None
        if role not in self.tab_values:
            role = selectors.ROLE_DOING
        self.role = role
        self.queryset = selectors.visible(user) if role == ROLE_ALL else selectors.by_role(user, role)
        if not self.is_bound:  # an unbound filter set filters nothing: the default «Активные» here
            self.queryset = self.queryset.filter(status__in=ACTIVE)

    def prepare_form(self, fields) -> None:
        user = self.request.user
        self.department = sees_department(user)
        tabs = [*ROLE_TABS, ALL_TAB] if self.department else ROLE_TABS
        fields["role"].choices = tabs
        self.tab_values = {value for value, _label in tabs}
        owners = Owners(user, access.level(user, Task.access_entity, Action.VIEW))
        fields["responsible"].queryset = owners.user_choices()

    def tabs(self) -> list[tuple[str, str]]:
        return self.form.fields["role"].choices

    def filter_nothing(self, queryset: QuerySet, name: str, value) -> QuerySet:
        return queryset  # the tab chose the queryset itself (see __init__)

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        words = value.split()[:5]
        for word in words:
            queryset = queryset.filter(title__icontains=word)
        return queryset

    def filter_status(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if value == ALL:
            return queryset
        if value == OVERDUE:
            return queryset.filter(status__in=ACTIVE, deadline__lt=timezone.now())
        return queryset.filter(status=value)

    def filter_important(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(is_important=True)

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        queryset = super().filter_queryset(queryset)
        status = self.form.cleaned_data.get("status") if hasattr(self.form, "cleaned_data") else None
        if not status:
            queryset = queryset.filter(status__in=ACTIVE)
        return queryset

    @property
    def active_count(self) -> int:
        cleaned = getattr(self.form, "cleaned_data", {})
        return super().active_count - (1 if cleaned.get("role") else 0)


SORTING = Sorting({
    "title": ("title",),
    "deadline": ("deadline",),
    "status": ("status",),
    "responsible": ("responsible__last_name", "responsible__first_name"),
    "created_at": ("created_at",),
}, default="deadline", desc_first=frozenset({"created_at"}))
