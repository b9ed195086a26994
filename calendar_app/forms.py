"""The calendar pages' parameters, validated: a bad `date` or `view` is a Russian message on the
page (today's week is shown instead), never a 500."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from crm.lists import DateInput, active_users
from tasks_app.forms import binding_value, chosen_records

from .models import Availability, Event, Freq

VIEWS = (("day", _("День")), ("week", _("Неделя")), ("month", _("Месяц")))


class CalendarNav(forms.Form):
    view = forms.ChoiceField(choices=VIEWS, required=False,
                             error_messages={"invalid_choice": _("Неизвестный вид календаря: «%(value)s».")})
    date = forms.DateField(required=False, input_formats=["%Y-%m-%d"],
                           error_messages={"invalid": _("Дата должна быть в виде ГГГГ-ММ-ДД.")})

    user = forms.ModelChoiceField(queryset=active_users(), required=False,
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


WEEKDAYS = ((0, _("Пн")), (1, _("Вт")), (2, _("Ср")), (3, _("Чт")), (4, _("Пт")), (5, _("Сб")), (6, _("Вс")))
REMINDERS = ((0, _("В момент начала")), (15, _("За 15 минут")), (60, _("За час")), (1440, _("За день")))
USER_ERRORS = {
    "invalid_choice": _("Такого сотрудника нет среди активных: выберите из списка."),
    "invalid_pk_value": _("Такого сотрудника нет среди активных: выберите из списка."),
}
# The service's field names → the dialog's, so its Russian refusals land beside the right input.
SERVICE_FIELDS = {"title": "title", "start": "start_time", "end": "end_time", "start_date": "date",
                  "end_date": "end_date", "until": "until", "freq": "freq", "interval": "interval",
                  "weekdays": "weekdays", "count": "count"}


class EventForm(forms.Form):
    """The event dialog. Dates and times are in the user's zone; the services check the rest (end
    before start, a repetition ending before the event) and their messages are shown here."""

    title = forms.CharField(label=_("Название"), max_length=255,
                            error_messages={"required": _("Укажите название события.")})
    all_day = forms.BooleanField(label=_("Весь день"), required=False)
    date = forms.DateField(label=_("Начало"), widget=DateInput,
                           error_messages={"required": _("Укажите дату начала."),
                                           "invalid": _("Дата должна быть в виде ГГГГ-ММ-ДД.")})
    start_time = forms.TimeField(label=_("Время начала"), required=False, widget=forms.TimeInput(
        attrs={"type": "time"}, format="%H:%M"), error_messages={"invalid": _("Время должно быть в виде ЧЧ:ММ.")})
    end_date = forms.DateField(label=_("Окончание"), required=False, widget=DateInput,
                               error_messages={"invalid": _("Дата должна быть в виде ГГГГ-ММ-ДД.")})
    end_time = forms.TimeField(label=_("Время окончания"), required=False, widget=forms.TimeInput(
        attrs={"type": "time"}, format="%H:%M"), error_messages={"invalid": _("Время должно быть в виде ЧЧ:ММ.")})
    location = forms.CharField(label=_("Место"), max_length=255, required=False)
    description = forms.CharField(label=_("Описание"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    participants = forms.ModelMultipleChoiceField(label=_("Участники"), queryset=active_users(), required=False,
                                                  error_messages=USER_ERRORS,
                                                  widget=forms.SelectMultiple(attrs={"size": 4}))
    reminders = forms.TypedMultipleChoiceField(label=_("Напоминания"), choices=REMINDERS, coerce=int, required=False,
                                               widget=forms.CheckboxSelectMultiple,
                                               error_messages={"invalid_choice": _("Такого напоминания нет.")})
    freq = forms.ChoiceField(label=_("Повторять"), choices=Freq.choices, required=False,
                             error_messages={"invalid_choice": _("Неизвестный вид повторения.")})
    interval = forms.IntegerField(label=_("Каждые"), min_value=1, max_value=999, initial=1, required=False,
                                  error_messages={"min_value": _("Интервал повторения — от 1 до 999."),
                                                  "max_value": _("Интервал повторения — от 1 до 999."),
                                                  "invalid": _("Интервал повторения — целое число.")})
    weekdays = forms.TypedMultipleChoiceField(label=_("По дням недели"), choices=WEEKDAYS, coerce=int, required=False,
                                              widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
                                              error_messages={"invalid_choice": _("Дни недели указаны неверно.")})
    count = forms.IntegerField(label=_("Число повторений"), min_value=1, required=False,
                               error_messages={"min_value": _("Количество повторений — не меньше одного."),
                                               "invalid": _("Количество повторений — целое число.")})
    until = forms.DateField(label=_("Повторять до"), required=False, widget=DateInput,
                            error_messages={"invalid": _("Дата должна быть в виде ГГГГ-ММ-ДД.")})
    availability = forms.ChoiceField(label=_("Занятость"), choices=Availability.choices, initial=Availability.BUSY,
                                     error_messages={"invalid_choice": _("Неизвестная занятость.")})
    is_private = forms.BooleanField(label=_("Частное событие"), required=False)
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)
    # The CRM records a new event is bound to («leads.lead:5»: a card's «Запланировать встречу»).
    bind = forms.CharField(required=False, widget=forms.MultipleHiddenInput)

    def __init__(self, *args, user: User | None = None, **kwargs):
        """`user` creates the event and binds it to the records he may see; without one (an edit)
        the bindings stay as they are."""
        super().__init__(*args, **kwargs)
        self.user, self.records = user, []
        if user is None:
            del self.fields["bind"]

    def clean_bind(self):
        values = self.data.getlist(self.add_prefix("bind")) if hasattr(self.data, "getlist") else []
        self.records, errors = chosen_records(self.user, values)
        # Hidden inputs show no errors of their own: the refusal goes on top of the dialog.
        for error in errors:
            self.add_error(None, error)
        return [binding_value(r) for r in self.records]

    def clean(self):
        data = super().clean()
        if not data.get("all_day") and "date" in data and "start_time" in data and data.get("start_time") is None:
            self.add_error("start_time", _("Укажите время начала или отметьте «Весь день»."))
        return data

    def event_data(self) -> dict:
        """The fields for calendar_app.services, in the user's zone."""
        d = self.cleaned_data
        zone = timezone.get_current_timezone()
        data = {name: d[name] for name in ("title", "all_day", "location", "description", "availability",
                                           "is_private", "until", "count", "weekdays")}
        data["freq"] = d["freq"] or ""
        data["interval"] = d["interval"] or 1
        data["tz"] = str(zone)
        end_date = d["end_date"] or d["date"]
        if d["all_day"]:
            data.update(start_date=d["date"], end_date=end_date, start=None, end=None)
        else:
            start = dt.datetime.combine(d["date"], d["start_time"], tzinfo=zone)
            end = (dt.datetime.combine(end_date, d["end_time"], tzinfo=zone) if d["end_time"]
                   else start + dt.timedelta(hours=1))
            data.update(start=start, end=end, start_date=None, end_date=None)
        return data

    def add_refusal(self, exc: ValidationError) -> None:
        if hasattr(exc, "error_dict"):
            for name, errors in exc.message_dict.items():
                self.add_error(SERVICE_FIELDS.get(name), errors)
        else:
            self.add_error(None, exc.messages)

    @classmethod
    def initial_for(cls, event: Event) -> dict:
        zone = timezone.get_current_timezone()
        initial = {name: getattr(event, name) for name in ("title", "all_day", "location", "description",
                                                           "availability", "is_private", "freq", "until", "version",
                                                           "interval", "weekdays", "count")}
        if event.all_day:
            initial.update(date=event.start_date, end_date=event.end_date)
        else:
            start, end = event.start.astimezone(zone), event.end.astimezone(zone)
            initial.update(date=start.date(), start_time=start.time(), end_date=end.date(), end_time=end.time())
        initial["participants"] = [p.user_id for p in event.participants.all() if p.user_id != event.organizer_id]
        initial["reminders"] = [r.minutes for r in event.reminders.all()]
        return initial
