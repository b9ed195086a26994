"""The calendar pages' parameters, validated: a bad `date` or `view` is a Russian message on the
page (today's week is shown instead), never a 500."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User

VIEWS = (("day", _("День")), ("week", _("Неделя")), ("month", _("Месяц")))


class CalendarNav(forms.Form):
    view = forms.ChoiceField(choices=VIEWS, required=False,
                             error_messages={"invalid_choice": _("Неизвестный вид календаря: «%(value)s».")})
    date = forms.DateField(required=False, input_formats=["%Y-%m-%d"],
                           error_messages={"invalid": _("Дата должна быть в виде ГГГГ-ММ-ДД.")})

    user = forms.ModelChoiceField(queryset=User.objects.filter(is_active=True), required=False,
                                  error_messages={"invalid_choice": _("Такого сотрудника нет.")})

    def clean_date(self):
        day = self.cleaned_data.get("date")
        if day is not None and not (1900 <= day.year <= 2999):
            raise forms.ValidationError(_("Дата должна быть между 1900 и 2999 годом."))
        return day

    def choices(self, me: User) -> tuple[str, object, User]:
        """(view, day, whose calendar) from the valid parameters; today's week of one's own calendar
        for what is missing or invalid. Whose calendar only narrows: the events shown are still the
        ones the access gate lets `me` read."""
        self.is_valid()
        data = {k: v for k, v in self.cleaned_data.items() if k not in self.errors}
        return data.get("view") or "week", data.get("date") or timezone.localdate(), data.get("user") or me
