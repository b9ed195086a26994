"""The forms of the touches planned and completed from a record's card: «Запланировать» and
«Дело выполнено» (with the next touch, as Bitrix24 asks for it). They validate every value the
dialogs post; the views hand the cleaned values to tasks_app.services."""

from __future__ import annotations

from datetime import date, time, timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.lists import DateInput, active_users

from . import services
from .models import Kind

DEFAULT_AT = time(10, 0)
NEXT_AFTER_WORKING_DAYS = 2  # the next touch, as Bitrix24 proposes it


# As a manager plans them: a call first (Bitrix24's «Звонок / Встреча / Задача»).
KINDS = [(k, Kind(k).label) for k in (Kind.CALL, Kind.MEETING, Kind.TASK)]


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%H:%M")


def add_working_days(day: date, n: int) -> date:
    """`n` working days (Monday to Friday) after `day`: a touch planned on Friday for «+2»
    falls on Tuesday, not on Sunday."""
    while n > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            n -= 1
    return day


def default_title(kind: str) -> str:
    return str(Kind(kind).label) if kind in Kind.values else str(Kind.CALL.label)


class _DeadlineMixin:
    """A date and a time, which together make the deadline in the user's time zone."""

    def deadline(self, prefix: str = ""):
        data = self.cleaned_data
        return services.deadline_at(data[f"{prefix}day"], data.get(f"{prefix}at") or DEFAULT_AT)


class TouchPlanForm(_DeadlineMixin, forms.Form):
    kind = forms.ChoiceField(label=_("Тип"), choices=KINDS, initial=Kind.CALL, widget=forms.RadioSelect)
    title = forms.CharField(label=_("Название"), max_length=255, required=False,
                            help_text=_("Если не заполнить — «Звонок», «Встреча» или «Задача»."))
    day = forms.DateField(label=_("Дата"), widget=DateInput())
    at = forms.TimeField(label=_("Время"), initial=DEFAULT_AT, widget=TimeInput(), required=False)
    responsible = forms.ModelChoiceField(label=_("Ответственный"), queryset=active_users(), empty_label=None)
    description = forms.CharField(label=_("Описание"), required=False, max_length=10000,
                                  widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, record=None, **kwargs):
        super().__init__(*args, **kwargs)
        tomorrow = timezone.localdate() + timedelta(days=1)
        self.fields["day"].initial = tomorrow
        responsible = getattr(record, "responsible", None)
        if responsible is not None and responsible.is_active:
            self.fields["responsible"].initial = responsible.pk

    def task_data(self) -> dict:
        data = self.cleaned_data
        return {"kind": data["kind"], "title": data["title"].strip() or default_title(data["kind"]),
                "description": data["description"], "responsible": data["responsible"],
                "deadline": self.deadline()}


class TouchCompleteForm(_DeadlineMixin, forms.Form):
    result = forms.CharField(label=_("Результат"), required=False, max_length=10000,
                             widget=forms.Textarea(attrs={"rows": 3}))
    skip_next = forms.BooleanField(label=_("Не планировать"), required=False,
                                   widget=forms.CheckboxInput({"class": "form-check-input"}))
    next_kind = forms.ChoiceField(label=_("Тип"), choices=KINDS, initial=Kind.CALL, widget=forms.RadioSelect,
                                  required=False)
    next_title = forms.CharField(label=_("Название"), max_length=255, required=False)
    next_day = forms.DateField(label=_("Дата"), widget=DateInput(), required=False)
    next_at = forms.TimeField(label=_("Время"), initial=DEFAULT_AT, widget=TimeInput(), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["next_day"].initial = add_working_days(timezone.localdate(), NEXT_AFTER_WORKING_DAYS)

    def clean(self):
        data = super().clean()
        if not data.get("skip_next"):
            if not data.get("next_day") and "next_day" not in self.errors:
                self.add_error("next_day", _("Укажите дату следующего дела или отметьте «Не планировать»."))
            if not data.get("next_kind"):
                data["next_kind"] = Kind.CALL
        return data

    def next_data(self) -> dict | None:
        """The next touch's fields (its responsible and records are the completed one's), or None."""
        data = self.cleaned_data
        if data["skip_next"]:
            return None
        kind = data["next_kind"]
        return {"kind": kind, "title": data["next_title"].strip() or default_title(kind),
                "deadline": self.deadline("next_")}
