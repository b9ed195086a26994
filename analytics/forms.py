"""The reports' parameters from GET (`ReportForm`): the period (a preset or «произвольный»), the
comparison with the previous period, and the filters — responsible, department, source, niche,
pipeline — offered only among what the user may see.

Every parameter is checked; a bad one is dropped with a Russian message and the report is shown
without it (a bad period: the default one, this month), never a 500. The page's links keep the
valid parameters (`query`), so a URL copied from the address bar opens the same report."""

from __future__ import annotations

import datetime as dt
import functools

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts import access
from accounts.models import Action, Entity, Level
from crm import references
from crm.forms import QuickSelect
from crm.lists import Owners
from crm.models import Niche, Source
from deals.selectors import pipelines_for

from .params import Period, ReportParams

TODAY, WEEK, MONTH, QUARTER, YEAR, CUSTOM = "today", "week", "month", "quarter", "year", "custom"
PRESETS = [
    (TODAY, _("Сегодня")), (WEEK, _("Неделя")), (MONTH, _("Месяц")), (QUARTER, _("Квартал")), (YEAR, _("Год")),
    (CUSTOM, _("Произвольный")),
]
DEFAULT_PRESET = MONTH
# How far back (or ahead) a preset may be shifted by «‹» / «›», and how long a custom period may be:
# beyond that a report is a mistake in the URL, not a question.
MAX_SHIFT = 120
MAX_DAYS = 366 * 5
FORMATS = [("csv", "CSV"), ("xlsx", "Excel (XLSX)")]
# The parameters kept in the page's links (the tabs, «‹ ›», export), in this order.
KEPT = ("period", "shift", "start", "end", "compare", "responsible", "department", "source", "niche", "pipeline")


def today() -> dt.date:
    return timezone.localdate(timezone=timezone.get_default_timezone())


def preset_period(preset: str, shift: int = 0, day: dt.date | None = None) -> Period:
    """The calendar day / week (Monday first) / month / quarter / year containing `day` (today),
    moved `shift` such units back (negative) or ahead."""
    day = day or today()
    if preset == TODAY:
        day += dt.timedelta(days=shift)
        return Period(day, day)
    if preset == WEEK:
        start = day - dt.timedelta(days=day.weekday()) + dt.timedelta(weeks=shift)
        return Period(start, start + dt.timedelta(days=6))
    months = {MONTH: 1, QUARTER: 3, YEAR: 12}[preset]
    first = (day.year * 12 + day.month - 1) // months * months + shift * months
    start = dt.date(first // 12, first % 12 + 1, 1)
    after = first + months
    return Period(start, dt.date(after // 12, after % 12 + 1, 1) - dt.timedelta(days=1))


def report_level(user) -> Level:
    """The widest level the user has on leads or deals (any pipeline): what the owner filters offer."""
    levels = [access.level(user, Entity.LEAD, Action.VIEW), access.level(user, Entity.DEAL, Action.VIEW),
              *access.scoped_levels(user, Entity.DEAL, Action.VIEW).values()]
    return max(levels)


class ReportForm(forms.Form):
    period = forms.ChoiceField(label=_("Период"), choices=PRESETS, required=False, initial=DEFAULT_PRESET,
                               widget=QuickSelect)
    shift = forms.IntegerField(label=_("Сдвиг периода"), required=False, min_value=-MAX_SHIFT, max_value=MAX_SHIFT)
    start = forms.DateField(label=_("С"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    end = forms.DateField(label=_("По"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    compare = forms.BooleanField(label=_("Сравнить с прошлым периодом"), required=False)
    responsible = forms.TypedChoiceField(label=_("Ответственный"), required=False, coerce=int, empty_value=None, widget=QuickSelect)
    department = forms.TypedChoiceField(label=_("Отдел"), required=False, coerce=int, empty_value=None, widget=QuickSelect)
    source = forms.TypedChoiceField(label=_("Источник"), required=False, coerce=int, empty_value=None, widget=QuickSelect)
    niche = forms.TypedChoiceField(label=_("Ниша компании"), required=False, coerce=int, empty_value=None, widget=QuickSelect)
    pipeline = forms.TypedChoiceField(label=_("Воронка"), required=False, coerce=int, empty_value=None, widget=QuickSelect)
    format = forms.ChoiceField(label=_("Формат"), required=False, choices=FORMATS, error_messages={
        "invalid_choice": _("Неизвестный формат «%(value)s»: выберите CSV или Excel.")})

    def __init__(self, data, *, user, **kwargs):
        super().__init__(data, **kwargs)
        self.user = user
        owners = Owners(user, report_level(user))
        any_ = [("", _("любой"))]
        self.fields["responsible"].choices = any_ + owners.user_labels()
        self.fields["department"].choices = any_ + owners.department_choices()
        sources, niches = references.choices(Source, Niche)
        self.fields["source"].choices = any_ + sources
        self.fields["niche"].choices = [("", _("любая"))] + niches
        # Read when a report shows the pipeline filter (deals, time in status) or a URL names a
        # pipeline to check, once: the other reports pay no query for it.
        self.fields["pipeline"].choices = functools.cache(lambda: [("", _("все"))] + [(p.pk, p.name) for p in
                                                                                     pipelines_for(user)])
        for name, field in self.fields.items():
            css = "form-select form-select-sm" if isinstance(field.widget, forms.Select) else "form-control form-control-sm"
            if isinstance(field.widget, forms.CheckboxInput):
                css = "form-check-input"
            field.widget.attrs.setdefault("class", css)
            if self.is_bound and name in self.errors:
                field.widget.attrs["class"] += " is-invalid"

    def clean(self):
        data = super().clean()
        if data.get("period") == CUSTOM and "start" not in self.errors and "end" not in self.errors:
            start, end = data.get("start"), data.get("end")
            if not start or not end:
                self.add_error("start", _("Для произвольного периода укажите обе даты, «с» и «по»."))
            elif start > end:
                self.add_error("end", _("Дата «по» раньше даты «с»."))
            elif (end - start).days >= MAX_DAYS:
                self.add_error("end", _("Период длиннее пяти лет: выберите период короче."))
        return data

    # What the report is built from: the valid values, the defaults for the refused ones.

    def value(self, name: str):
        if not self.is_bound or name in self.errors:
            return self.fields[name].empty_value if hasattr(self.fields[name], "empty_value") else None
        return self.cleaned_data.get(name)

    @property
    def preset(self) -> str:
        period_fields = ("period", "shift", "start", "end")
        if any(self.is_bound and name in self.errors for name in period_fields):
            return DEFAULT_PRESET
        return self.value("period") or DEFAULT_PRESET

    def chosen_period(self) -> Period:
        preset = self.preset
        if preset == CUSTOM:
            return Period(self.cleaned_data["start"], self.cleaned_data["end"])
        shift = self.value("shift") if preset == self.value("period") else 0
        return preset_period(preset, shift or 0)

    def params(self) -> ReportParams:
        return ReportParams(period=self.chosen_period(), responsible=self.value("responsible"),
                            department=self.value("department"), source=self.value("source"),
                            niche=self.value("niche"), pipeline=self.value("pipeline"))

    @property
    def comparing(self) -> bool:
        return bool(self.value("compare"))

    @property
    def export_format(self) -> str:
        return self.value("format") or ""

    def messages(self) -> list[str]:
        """One «label: message» per refused parameter."""
        if not self.is_bound:
            return []
        return [f"{self.fields[name].label}: {error}" if name in self.fields else str(error)
                for name, errors in self.errors.items() for error in errors]

    def kept(self, **changes) -> dict[str, str]:
        """The valid parameters as they came, with `changes` (None removes one): the query of a link
        that shows the same report."""
        query: dict[str, str] = {}
        if self.is_bound:
            for name in KEPT:
                raw = self.data.get(name)
                if raw not in (None, "") and name not in self.errors:
                    query[name] = raw
        if query.get("period") not in (CUSTOM, None) or self.preset != CUSTOM:
            query.pop("start", None)
            query.pop("end", None)
        for name, value in changes.items():
            if value is None:
                query.pop(name, None)
            else:
                query[name] = str(value)
        return query
