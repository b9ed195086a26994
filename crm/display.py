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
    if field.choices:
        return Shown(label, str(getattr(record, f"get_{name}_display")()))
    if isinstance(value, bool):
        return Shown(label, _("да") if value else _("нет"))
    if name in getattr(record, "phone_fields", ()):
        return Shown(label, phones.display(value), f"tel:{value}")
    if name in getattr(record, "website_fields", ()):
        # Only an http(s) address becomes a link; anything stored before the check stays text.
        return Shown(label, value, websites.href(value), external=True)
    if isinstance(field, models.EmailField):
        return Shown(label, value, f"mailto:{value}")
    if isinstance(value, Decimal) and name in getattr(record, "money_fields", ()):
        return Shown(label, format_money(value, getattr(record, "currency", "RUB")))
    if isinstance(value, (int, Decimal)):
        return Shown(label, format_number(value))
    if isinstance(value, datetime):
        return Shown(label, formats.date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT"))
    if isinstance(value, date):
        return Shown(label, formats.date_format(value, "SHORT_DATE_FORMAT"))
    return Shown(label, str(value))
