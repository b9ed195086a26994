"""The calendar pages' parameters, validated: a bad `date` or `view` is a Russian message on the
page (today's week is shown instead), never a 500."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts import access
from accounts.models import Action, Entity, Level, User
from crm.lists import DateInput, active_users
from tasks_app.forms import binding_value, chosen_records

from . import services
from .models import Answer, Availability, Event, Freq, Importance
from .recurrence import Occurrence

VIEWS = (("day", _("День")), ("week", _("Неделя")), ("month", _("Месяц")))


MAX_CALENDARS = 8  # side by side: one colour each (calendar.css has eight)


class CalendarNav(forms.Form):
    view = forms.ChoiceField(choices=VIEWS, required=False,
                             error_messages={"invalid_choice": _("Неизвестный вид календаря: «%(value)s».")})
    date = forms.DateField(required=False, input_formats=["%Y-%m-%d"],
                           error_messages={"invalid": _("Дата должна быть в виде ГГГГ-ММ-ДД.")})

    user = forms.ModelChoiceField(queryset=active_users(), required=False,
                                  error_messages={"invalid_choice": _("Такого сотрудника нет.")})
    # Colleagues' calendars beside the main one: only those whose calendars the reader's level covers.
    users = forms.ModelMultipleChoiceField(queryset=active_users(), required=False, error_messages={
        "invalid_choice": _("Календаря этого сотрудника вам не видно: выберите из списка."),
        "invalid_pk_value": _("Календаря этого сотрудника вам не видно: выберите из списка.")})

    def __init__(self, *args, reader: User | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if reader is not None:
            self.fields["users"].queryset = colleagues(reader)

    def clean_date(self):
        day = self.cleaned_data.get("date")
        if day is not None and not (1900 <= day.year <= 2999):
            raise forms.ValidationError(_("Дата должна быть между 1900 и 2999 годом."))
        return day

    def clean_users(self):
        users = self.cleaned_data.get("users")
        if users is not None and len(users) > MAX_CALENDARS:
            raise forms.ValidationError(_("Рядом можно показать не больше %(n)s календарей.") % {"n": MAX_CALENDARS})
        return users

    def choices(self, me: User) -> tuple[str, object, User]:
        """(view, day, whose calendar) from the valid parameters; today's week of one's own calendar
        for what is missing or invalid. Whose calendar only narrows: the events shown are still the
        ones the access gate lets `me` read."""
        self.is_valid()
        data = {k: v for k, v in self.cleaned_data.items() if k not in self.errors}
        return data.get("view") or "week", data.get("date") or timezone.localdate(), data.get("user") or me

    def people(self, me: User) -> list[User]:
        """Whose calendars, side by side: the main one (`user`, else mine) first, then the chosen colleagues."""
        main = self.choices(me)[2]
        chosen = [] if "users" in self.errors else list(self.cleaned_data.get("users") or [])
        return [main] + [u for u in chosen if u.pk != main.pk]


def colleagues(reader: User):
    """The active users whose calendars the reader's level covers (himself excluded)."""
    lvl = access.level(reader, Entity.EVENT, Action.VIEW)
    users = active_users().exclude(pk=reader.pk)
    if lvl == Level.ALL:
        return users
    if lvl <= Level.OWN:
        return users.none()
    return users.filter(pk__in=access.owner_ids(reader, lvl))


class MoveForm(forms.Form):
    """A drop on the grid: `start` in the reader's zone (`YYYY-MM-DDTHH:MM`) or a date for an all-day
    event; `occurrence` (the occurrence's original start, ISO with its offset) for a repeating one."""

    start = forms.CharField(max_length=20, error_messages={"required": _("Укажите, куда перенести событие.")})
    occurrence = forms.CharField(max_length=40, required=False)
    version = forms.IntegerField(required=False, min_value=0)

    def clean_start(self):
        value = self.cleaned_data["start"]
        try:
            if "T" in value:
                start = dt.datetime.strptime(value, "%Y-%m-%dT%H:%M").replace(tzinfo=timezone.get_current_timezone())
            else:
                start = dt.datetime.strptime(value, "%Y-%m-%d").date()
        except ValueError:
            raise forms.ValidationError(_("Время переноса должно быть в виде ГГГГ-ММ-ДДTЧЧ:ММ или ГГГГ-ММ-ДД.")) from None
        if not (1900 <= start.year <= 2999):
            raise forms.ValidationError(_("Дата должна быть между 1900 и 2999 годом."))
        return start

    def clean_occurrence(self):
        value = self.cleaned_data["occurrence"]
        if not value:
            return None
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            moment = None
        if moment is None or timezone.is_naive(moment):
            raise forms.ValidationError(_("Повторение события указано неверно."))
        return moment


WEEKDAYS = ((0, _("Пн")), (1, _("Вт")), (2, _("Ср")), (3, _("Чт")), (4, _("Пт")), (5, _("Сб")), (6, _("Вс")))
REMINDERS = ((0, _("В момент начала")), (15, _("За 15 минут")), (60, _("За час")), (1440, _("За день")))
USER_ERRORS = {
    "invalid_choice": _("Такого сотрудника нет среди активных: выберите из списка."),
    "invalid_pk_value": _("Такого сотрудника нет среди активных: выберите из списка."),
}
SCOPES = ((services.THIS, _("только это")), (services.FOLLOWING, _("это и следующие")), (services.ALL, _("все")))
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
    importance = forms.ChoiceField(label=_("Важность"), choices=Importance.choices, initial=Importance.NORMAL,
                                   required=False, error_messages={"invalid_choice": _("Неизвестная важность.")})
    is_private = forms.BooleanField(label=_("Частное событие"), required=False)
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)
    # The CRM records a new event is bound to («leads.lead:5»: a card's «Запланировать встречу»).
    bind = forms.CharField(required=False, widget=forms.MultipleHiddenInput)

    def __init__(self, *args, user: User | None = None, occurrence: Occurrence | None = None, **kwargs):
        """`user` creates the event and binds it to the records he may see; without one (an edit)
        the bindings stay as they are."""
        super().__init__(*args, **kwargs)
        self.user, self.records = user, []
        if user is None:
            del self.fields["bind"]
        if occurrence is not None and occurrence.event.is_recurring:
            # Opened from one occurrence of a series: how far the change goes is asked every time.
            self.fields["scope"] = forms.ChoiceField(
                label=_("Изменить"), choices=SCOPES, widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
                error_messages={"required": _("Выберите, что изменить: только это событие, это и следующие или все."),
                                "invalid_choice": _("Неизвестный вариант изменения повторяющегося события.")})

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
                                           "importance", "is_private", "until", "count", "weekdays")}
        data["importance"] = d["importance"] or Importance.NORMAL
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
    def initial_for(cls, event: Event, occurrence: Occurrence | None = None) -> dict:
        """The event's values; opened from an occurrence, its times, title and place."""
        zone = timezone.get_current_timezone()
        initial = {name: getattr(event, name) for name in ("title", "all_day", "location", "description",
                                                           "availability", "importance", "is_private", "freq",
                                                           "until", "version", "interval", "weekdays", "count")}
        if occurrence is not None:
            initial.update(title=occurrence.display_title, location=occurrence.location)
            start, end = occurrence.start, occurrence.end
        else:
            start, end = (event.start_date, event.end_date) if event.all_day else (event.start, event.end)
        if event.all_day:
            initial.update(date=start, end_date=end)
        else:
            start, end = start.astimezone(zone), end.astimezone(zone)
            initial.update(date=start.date(), start_time=start.time(), end_date=end.date(), end_time=end.time())
        initial["participants"] = [p.user_id for p in event.participants.all() if p.user_id != event.organizer_id]
        initial["reminders"] = [r.minutes for r in event.reminders.all()]
        return initial


class OccurrenceField(forms.Field):
    """An occurrence of a repeating event, named by its original start in ISO 8601 with its offset
    (`Occurrence.original_start`, as the grid's links give it); cleaned to an aware UTC datetime."""

    default_error_messages = {"invalid": _("Повторение события указано неверно.")}

    def to_python(self, value):
        value = str(value or "").strip()
        if not value:
            return None
        if len(value) > 64:
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        try:
            moment = dt.datetime.fromisoformat(value.replace(" ", "+"))  # an unescaped «+» arrives as a space
        except ValueError as exc:
            raise ValidationError(self.error_messages["invalid"], code="invalid") from exc
        if timezone.is_naive(moment) or not 1900 <= moment.year <= 2999:
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return moment.astimezone(dt.UTC)


class OccurrenceParam(forms.Form):
    """`?occurrence=` of the event's card, dialog and cancellation."""

    occurrence = OccurrenceField(required=False)


class AnswerForm(forms.Form):
    answer = forms.ChoiceField(choices=((Answer.ACCEPTED, Answer.ACCEPTED.label), (Answer.DECLINED, Answer.DECLINED.label)),
                               error_messages={"required": _("Ответ на приглашение указан неверно."),
                                               "invalid_choice": _("Ответ на приглашение указан неверно.")})


class CancelForm(OccurrenceParam):
    """«Отменить»: for a repeating event, this occurrence or the whole series."""

    WHOLE, ONE = "all", "this"
    what = forms.ChoiceField(required=False, choices=((ONE, _("только это")), (WHOLE, _("всю серию"))),
                             error_messages={"invalid_choice": _("Выберите, что отменить: это событие или всю серию.")})
    version = forms.IntegerField(required=False)


class ConflictsForm(forms.Form):
    """The dialog's fields that the conflicts box reads (the rest of the dialog is sent along and
    ignored). Invalid: nothing to check yet, the dialog itself says what is wrong on saving."""

    participants = forms.ModelMultipleChoiceField(queryset=active_users(), required=False)
    all_day = forms.BooleanField(required=False)
    date = forms.DateField(input_formats=["%Y-%m-%d"])
    start_time = forms.TimeField(required=False)
    end_date = forms.DateField(required=False, input_formats=["%Y-%m-%d"])
    end_time = forms.TimeField(required=False)
    event = forms.IntegerField(required=False, min_value=1)

    def clean(self):
        data = super().clean()
        day = data.get("date")
        if any(d is not None and not 1900 <= d.year <= 2999 for d in (day, data.get("end_date"))):
            raise ValidationError(_("Дата должна быть между 1900 и 2999 годом."))
        if day is not None and not data.get("all_day") and data.get("start_time") is None:
            raise ValidationError(_("Укажите время начала или отметьте «Весь день»."))
        return data

    def span(self) -> tuple[dt.datetime, dt.datetime]:
        """The event's time in the user's zone (an all-day one: its whole days)."""
        d = self.cleaned_data
        zone = timezone.get_current_timezone()
        end_day = d.get("end_date") or d["date"]
        if d.get("all_day"):
            return (dt.datetime.combine(d["date"], dt.time(), tzinfo=zone),
                    dt.datetime.combine(max(end_day, d["date"]) + dt.timedelta(days=1), dt.time(), tzinfo=zone))
        start = dt.datetime.combine(d["date"], d["start_time"], tzinfo=zone)
        end = dt.datetime.combine(end_day, d["end_time"], tzinfo=zone) if d.get("end_time") else start + dt.timedelta(hours=1)
        return start, max(end, start)
