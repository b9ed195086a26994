"""The forms of the disk's pages: every GET and POST parameter goes through one of these, so a bad
one (a hand-edited query string, a stale dialog) gets a Russian message instead of a 500."""

from __future__ import annotations

from datetime import datetime, time

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Department, User

from .models import Share

VIEWS = [("list", _("Список")), ("tiles", _("Плитка"))]
SORTS = [(key, key) for key in ("name", "-name", "size", "-size", "date", "-date", "author", "-author")]


class ListForm(forms.Form):
    """A listing's query string: the view (table or tiles), the order, the search and the page."""

    view = forms.ChoiceField(choices=VIEWS, required=False)
    sort = forms.ChoiceField(choices=SORTS, required=False)
    q = forms.CharField(label=_("Поиск по названию"), max_length=255, required=False, strip=True)
    page = forms.IntegerField(min_value=1, max_value=1_000_000, required=False)

    def values(self) -> dict:
        """The valid parameters, the defaults in place of the invalid ones (the page still shows)."""
        self.is_valid()
        cleaned = getattr(self, "cleaned_data", {})
        return {"view": cleaned.get("view") or "list", "sort": cleaned.get("sort") or "name",
                "q": cleaned.get("q") or "", "page": cleaned.get("page") or 1}

    def problems(self) -> list[str]:
        return [str(message) for errors in self.errors.values() for message in errors]


class NameForm(forms.Form):
    name = forms.CharField(label=_("Название"), max_length=255, strip=True)


class TargetForm(forms.Form):
    """The folder a move or a copy goes to (checked against the user's rights by the view)."""

    to = forms.IntegerField(label=_("Папка"), min_value=1, required=False)


class VersionForm(forms.Form):
    number = forms.IntegerField(min_value=1, max_value=1_000_000)


class ShareForm(forms.Form):
    user = forms.ModelChoiceField(label=_("Сотрудник"), queryset=User.objects.none(), required=False)
    department = forms.ModelChoiceField(label=_("Отдел"), queryset=Department.objects.none(), required=False)
    access = forms.ChoiceField(label=_("Права"), choices=Share.Access.choices, initial=Share.Access.READ)

    def __init__(self, *args, by=None, **kwargs):
        super().__init__(*args, **kwargs)
        users = User.objects.filter(is_active=True).order_by("last_name", "first_name", "username")
        self.fields["user"].queryset = users.exclude(pk=by.pk) if by is not None else users
        self.fields["department"].queryset = Department.objects.order_by("name")
        for field in self.fields.values():
            field.widget.attrs["class"] = "form-select"

    def clean(self):
        cleaned = super().clean()
        if bool(cleaned.get("user")) == bool(cleaned.get("department")) and not self.errors:
            raise forms.ValidationError(_("Выберите сотрудника или отдел (одно из двух)."))
        return cleaned


class LinkForm(forms.Form):
    expires_on = forms.DateField(label=_("Действует до (включительно)"), required=False,
                                 widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    password = forms.CharField(label=_("Пароль"), max_length=128, required=False, strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))

    def clean_expires_on(self):
        day = self.cleaned_data.get("expires_on")
        if day is not None and day < timezone.localdate():
            raise forms.ValidationError(_("Дата уже прошла."))
        return day

    def expires_at(self) -> datetime | None:
        """The end of the chosen day in the user's time zone: «до 5 марта» includes the 5th."""
        day = self.cleaned_data.get("expires_on")
        if day is None:
            return None
        return timezone.make_aware(datetime.combine(day, time.max), timezone.get_current_timezone())
