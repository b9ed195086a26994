"""Money: Decimal amounts in a currency, shown the Russian way («1 234 567 ₽», «1 234,50 $»)."""

from decimal import Decimal

from django.db import models
from django.utils import formats
from django.utils.translation import gettext_lazy as _


class Currency(models.TextChoices):
    RUB = "RUB", _("Российский рубль")
    USD = "USD", _("Доллар США")
    EUR = "EUR", _("Евро")


SYMBOLS = {Currency.RUB: "₽", Currency.USD: "$", Currency.EUR: "€"}


def format_money(amount, currency: str = Currency.RUB) -> str:
    """Kopecks only when there are any; grouping and separators of the reader's language
    («1 234,50 $» in Russian, «1,234.50 $» in English)."""
    amount = Decimal(amount or 0).quantize(Decimal("0.01"))
    sign = "−" if amount < 0 else ""
    return f"{sign}{format_amount(abs(amount))}\N{NO-BREAK SPACE}{SYMBOLS.get(currency, currency)}"


def format_amount(amount) -> str:
    """The number of a sum without its currency («150 000», «5 000,50»): what an amount input is
    prefilled with, so that it reads as the card does and AmountField reads it back."""
    amount = Decimal(amount or 0).quantize(Decimal("0.01"))
    places = 2 if amount % 1 else 0
    text = formats.number_format(amount, places, use_l10n=True, force_grouping=True)
    # Russian groups with a plain space in some locales' data: never let a sum break across lines.
    return text.replace(" ", "\N{NO-BREAK SPACE}")


def format_number(value) -> str:
    """A bare number (quantity, count) as the reader's language writes it: «1 500», «2,5»."""
    if value is None or value == "":
        return ""
    value = Decimal(value)
    places = 0 if value == value.to_integral_value() else len(str(value.normalize()).partition(".")[2])
    return formats.number_format(value, places, use_l10n=True, force_grouping=True).replace(" ", "\N{NO-BREAK SPACE}")
