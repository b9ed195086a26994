"""The task pages' forms: a task's fields (create and edit), a checklist item, a transition's
result, a deadline board column. Every GET/POST value is checked here; the services check the
rules again (roles, MAX_CHECKLIST, inactive users) and their refusals land on the form."""

from __future__ import annotations

from datetime import datetime, time

from django import forms
from django.apps import apps
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts import access
from crm.lists import DateInput, active_users

from .models import Task
from .services import ALLOWED, BINDABLE, MAX_BINDINGS, MAX_CHECKLIST, MAX_PARTICIPANTS

# What a task may be bound to from a card link (?bind=leads.lead:5).
ITEM_MAX_LENGTH = 500


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%H:%M")


class UserChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return str(obj)


class UsersChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return str(obj)


USER_ERRORS = {
    "invalid_choice": _("Такого сотрудника нет среди активных: выберите из списка."),
    "invalid_pk_value": _("Такого сотрудника нет среди активных: выберите из списка."),
}


def resolve_binding(user, value: str):
    """«leads.lead:5» → the record, if `user` may see it; ValidationError otherwise."""
    error = forms.ValidationError(_("Запись для привязки не найдена или нет доступа: %(value)s."),
                                  params={"value": value[:60]})
    label, _sep, raw_pk = value.partition(":")
    if label not in BINDABLE or not (raw_pk.isascii() and raw_pk.isdigit()) or not 0 < int(raw_pk) < 2**63:
        raise error
    model = apps.get_model(label)
    try:
        return access.get_or_404(user, model.objects.all(), pk=int(raw_pk))
    except Http404 as exc:
        raise error from exc


class TaskForm(forms.Form):
    """A task's fields. `user` is the one filling it in (bindings are checked against his access);
    `task` the task being edited (None: a new one, which also takes a checklist and bindings)."""

    title = forms.CharField(label=_("Название"), max_length=255)
    description = forms.CharField(label=_("Описание"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    responsible = UserChoice(label=_("Ответственный"), queryset=active_users(), empty_label=None,
                             error_messages=USER_ERRORS)
    coexecutors = UsersChoice(label=_("Соисполнители"), queryset=active_users(), required=False,
                              error_messages=USER_ERRORS, widget=forms.SelectMultiple(attrs={"size": 4}))
    observers = UsersChoice(label=_("Наблюдатели"), queryset=active_users(), required=False,
                            error_messages=USER_ERRORS, widget=forms.SelectMultiple(attrs={"size": 4}))
    deadline_date = forms.DateField(label=_("Крайний срок: дата"), required=False, widget=DateInput)
    deadline_time = forms.TimeField(label=_("Время"), required=False, widget=TimeInput)
    is_important = forms.BooleanField(label=_("Важная задача"), required=False)
    needs_acceptance = forms.BooleanField(label=_("Принять работу после завершения"), required=False)
    checklist = forms.CharField(label=_("Чек-лист"), required=False, help_text=_("Один пункт на строку."),
                                widget=forms.Textarea(attrs={"rows": 3}))
    bind = forms.CharField(required=False, widget=forms.MultipleHiddenInput)
    version = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=0)

    def __init__(self, *args, user, task: Task | None = None, **kwargs):
        self.user, self.task = user, task
        if task is not None and "initial" not in kwargs:
            local = timezone.localtime(task.deadline) if task.deadline else None
            kwargs["initial"] = {
                "title": task.title, "description": task.description, "responsible": task.responsible_id,
                "coexecutors": [u.pk for u in task.coexecutors.all()], "observers": [u.pk for u in task.observers.all()],
                "deadline_date": local.date() if local else None, "deadline_time": local.time() if local else None,
                "is_important": task.is_important, "needs_acceptance": task.needs_acceptance, "version": task.version,
            }
        # Its own ids: the dialog opens over the list, whose filter panel has a «responsible» too.
        kwargs.setdefault("auto_id", "task_%s")
        super().__init__(*args, **kwargs)
        if task is not None:
            del self.fields["checklist"], self.fields["bind"]
        for field in self.fields.values():
            if isinstance(field.widget, forms.CheckboxInput):
                field.widget.attrs["class"] = "form-check-input"
            elif isinstance(field.widget, forms.Select):
                field.widget.attrs["class"] = "form-select"
            elif not isinstance(field.widget, forms.HiddenInput | forms.MultipleHiddenInput):
                field.widget.attrs["class"] = "form-control"
        self.records: list = []

    def clean_bind(self):
        values = self.data.getlist(self.add_prefix("bind")) if hasattr(self.data, "getlist") else []
        # The records that pass stay chosen (the form comes back with them) while the others are refused.
        self.records, errors = chosen_records(self.user, values)
        if errors:
            raise forms.ValidationError(errors)
        return [binding_value(r) for r in self.records]

    def clean_checklist(self):
        lines = [line.strip() for line in self.cleaned_data["checklist"].splitlines() if line.strip()]
        if len(lines) > MAX_CHECKLIST:
            raise forms.ValidationError(
                _("В чек-листе не больше %(max)s пунктов, а здесь %(n)s: разбейте работу на несколько задач."),
                params={"max": MAX_CHECKLIST, "n": len(lines)})
        if any(len(line) > ITEM_MAX_LENGTH for line in lines):
            raise forms.ValidationError(_("Пункт чек-листа не длиннее %(n)s символов."), params={"n": ITEM_MAX_LENGTH})
        return lines

    def clean(self):
        data = super().clean()
        day, at = data.get("deadline_date"), data.get("deadline_time")
        deadline = None
        if at is not None and day is None and "deadline_date" not in self.errors:
            self.add_error("deadline_date", _("Укажите дату крайнего срока или уберите время."))
        elif day is not None:
            if not 2000 <= day.year <= 2100:
                self.add_error("deadline_date", _("Крайний срок указан неверно: год должен быть между 2000 и 2100."))
            else:
                deadline = timezone.make_aware(datetime.combine(day, at or time(18, 0)))
                changed = self.task is None or self.task.deadline != deadline
                # A new deadline in the past is a typo, not a plan; an old one may stay as it was.
                if changed and deadline < timezone.now():
                    self.add_error("deadline_date", _("Крайний срок уже прошёл: укажите дату и время в будущем."))
        data["deadline"] = deadline
        people = len(data.get("coexecutors") or []) + len(data.get("observers") or [])
        if people > MAX_PARTICIPANTS:
            self.add_error(None, _("Соисполнителей и наблюдателей не больше %(n)s.") % {"n": MAX_PARTICIPANTS})
        return data

    def task_data(self) -> dict:
        data = self.cleaned_data
        return {"title": data["title"], "description": data["description"], "responsible": data["responsible"],
                "deadline": data["deadline"], "is_important": data["is_important"],
                "needs_acceptance": data["needs_acceptance"]}


class ChecklistAddForm(forms.Form):
    text = forms.CharField(label=_("Новый пункт"), max_length=ITEM_MAX_LENGTH,
                           widget=forms.TextInput(attrs={"class": "form-control form-control-sm",
                                                         "placeholder": _("Новый пункт чек-листа")}))


class TickForm(forms.Form):
    done = forms.BooleanField(required=False)


class TransitionForm(forms.Form):
    name = forms.ChoiceField(choices=[(n, n) for n in ALLOWED],
                             error_messages={"invalid_choice": _("Неизвестное действие с задачей."),
                                             "required": _("Неизвестное действие с задачей.")})
    result = forms.CharField(label=_("Результат"), required=False, max_length=5000)


class BoardFilterForm(forms.Form):
    """The deadline board's «Ответственный» (a head looks at his people's boards)."""

    responsible = UserChoice(label=_("Ответственный"), queryset=active_users(), required=False,
                             empty_label=_("я"), error_messages=USER_ERRORS,
                             widget=forms.Select(attrs={"class": "form-select form-select-sm"}))

    def __init__(self, *args, choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["responsible"].queryset = choices


# --- «Привязать к записи»: the search and the chosen records (the card and the create form) ---

SEARCH_MIN_LENGTH = 2
SEARCH_LIMIT = 10


class BindSearchForm(forms.Form):
    """The search box of «Привязать к записи» (?q=…, with the records already chosen as `bind`)."""

    q = forms.CharField(required=False, max_length=100, strip=True,
                        error_messages={"max_length": _("Запрос не длиннее %(limit_value)s символов.")})

    def query(self) -> str:
        """What to search for: '' when the box is empty, too short or invalid."""
        if not self.is_valid():
            return ""
        q = self.cleaned_data["q"]
        return q if len(q) >= SEARCH_MIN_LENGTH else ""

    def message(self) -> str:
        if not self.is_valid():
            return " ".join(e for errs in self.errors.values() for e in errs)
        if 0 < len(self.cleaned_data["q"]) < SEARCH_MIN_LENGTH:
            return str(_("Введите хотя бы %(n)s символа.") % {"n": SEARCH_MIN_LENGTH})
        return ""


class BindRecordForm(forms.Form):
    """One record to bind or unbind («leads.lead:5»), checked against the user's access."""

    record = forms.CharField(max_length=60, error_messages={"required": _("Не выбрана запись для привязки.")})

    def __init__(self, *args, user, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_record(self):
        return resolve_binding(self.user, self.cleaned_data["record"])


def chosen_records(user, values: list[str]) -> tuple[list, list[str]]:
    """The create form's chosen records («leads.lead:5» values): those the user may see, and
    the refusals of the others (unknown, hidden, more than MAX_BINDINGS)."""
    values = list(dict.fromkeys(v.strip() for v in values if v and v.strip()))
    records, errors = [], []
    for value in values[:MAX_BINDINGS]:
        try:
            records.append(resolve_binding(user, value))
        except forms.ValidationError as exc:
            errors.extend(exc.messages)
    if len(values) > MAX_BINDINGS:
        errors.append(str(_("Не больше %(n)s привязок к записям CRM.") % {"n": MAX_BINDINGS}))
    return records, errors


def binding_value(record) -> str:
    return f"{record._meta.label_lower}:{record.pk}"
