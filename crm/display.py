"""A record's field as a card shows it, in the reader's language: money «150 000 ₽» (the record's
currency), dates «02.12.2026», phones «+7 (912) 859-87-48» as a tel: link, e-mails as mailto: links,
http(s) websites as links,
choices by their label, yes/no. One function, so every card formats the same way."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.db import models
from django.utils import formats, timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from . import phones, websites
from .money import format_money, format_number


@dataclass(frozen=True)
class Shown:
    label: str
    text: str
    href: str = ""
    external: bool = False  # opens in a new tab (a website)


def field_value(record: models.Model, name: str) -> Shown:
    field = record._meta.get_field(name)
    label = str(field.verbose_name)
    if field.many_to_many:
        return Shown(label, ", ".join(str(v) for v in getattr(record, name).all()))
    value = getattr(record, name)
    if value is None or value == "":
        return Shown(label, "")
    if name in getattr(record, "phone_fields", ()):
        return Shown(label, phones.display(value), f"tel:{value}")
    if name in getattr(record, "website_fields", ()):
        # Only an http(s) address becomes a link; anything stored before the check stays text.
        return Shown(label, value, websites.href(value), external=True)
    if isinstance(field, models.EmailField):
        return Shown(label, value, f"mailto:{value}")
    return Shown(label, value_text(type(record), name, value, getattr(record, "currency", "RUB")))


def value_text(model: type[models.Model], name: str, value, currency: str = "RUB") -> str:
    """A value of the model's field `name` as text ('' for none). The history shares it: it keeps
    raw values (dates ISO, Decimals as strings, links as {"id", "text"}, many-to-many as lists of
    names — crm.timeline) and formats them when shown, in the reader's language."""
    if value is None or value == "" or value == []:
        return ""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):  # a link, named as it was then
        return str(value.get("text", ""))
    field = model._meta.get_field(name)
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return _("да") if value else _("нет")
    if name in getattr(model, "phone_fields", ()):
        return phones.display(value)
    if isinstance(field, models.DecimalField) or isinstance(value, Decimal):
        if name in getattr(model, "money_fields", ()):
            return format_money(Decimal(value), currency)
        return format_number(value)
    if isinstance(value, int):
        return format_number(value)
    if isinstance(field, models.DateTimeField):
        moment = value if isinstance(value, datetime) else parse_datetime(value)
        return formats.date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT") if moment else str(value)
    if isinstance(field, models.DateField):
        day = value if isinstance(value, date) else parse_date(value)
        return formats.date_format(day, "SHORT_DATE_FORMAT") if day else str(value)
    return str(value)
