from functools import cache
from zoneinfo import available_timezones

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from .models import User


class LoginForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("Неверный логин или пароль. Проверьте раскладку клавиатуры и Caps Lock."),
    }


# Russia's zones first, west to east, with a city the user knows; then every other zone of tzdata.
RUSSIAN_ZONES = (
    ("Europe/Kaliningrad", _("Калининград (UTC+2)")),
    ("Europe/Moscow", _("Москва (UTC+3)")),
    ("Europe/Samara", _("Самара (UTC+4)")),
    ("Asia/Yekaterinburg", _("Екатеринбург (UTC+5)")),
    ("Asia/Omsk", _("Омск (UTC+6)")),
    ("Asia/Novosibirsk", _("Новосибирск (UTC+7)")),
    ("Asia/Krasnoyarsk", _("Красноярск (UTC+7)")),
    ("Asia/Irkutsk", _("Иркутск (UTC+8)")),
    ("Asia/Yakutsk", _("Якутск (UTC+9)")),
    ("Asia/Vladivostok", _("Владивосток (UTC+10)")),
    ("Asia/Magadan", _("Магадан (UTC+11)")),
    ("Asia/Kamchatka", _("Петропавловск-Камчатский (UTC+12)")),
)


@cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())  # reads the disk: once per process


def zone_choices() -> list:
    russian = {name for name, _label in RUSSIAN_ZONES}
    others = sorted(_zones() - russian)
    return [("", _("Как у компании (%(zone)s)") % {"zone": settings.TIME_ZONE}),
            (_("Россия"), [(n, label) for n, label in RUSSIAN_ZONES if n in _zones()]),
            (_("Другие"), [(name, name) for name in others])]


class TimeZoneForm(forms.ModelForm):
    """The profile's «Часовой пояс»: every page shows times in it (accounts.middleware)."""

    time_zone = forms.ChoiceField(label=_("Часовой пояс"), choices=zone_choices, required=False,
                                  widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
                                  error_messages={"invalid_choice": _("Неизвестный часовой пояс: «%(value)s».")})

    class Meta:
        model = User
        fields = ["time_zone"]
