"""Money: Decimal amounts in a currency, shown the Russian way («1 234 567 ₽», «1 234,50 $»)."""

from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _


class Currency(models.TextChoices):
    RUB = "RUB", _("Российский рубль")
    USD = "USD", _("Доллар США")
    EUR = "EUR", _("Евро")


SYMBOLS = {Currency.RUB: "₽", Currency.USD: "$", Currency.EUR: "€"}


def format_money(amount, currency: str = Currency.RUB) -> str:
    """Thousands by spaces, kopecks only when there are any."""
    amount = Decimal(amount or 0).quantize(Decimal("0.01"))
    whole, fraction = divmod(abs(amount), 1)
    text = f"{int(whole):,}".replace(",", "\N{NO-BREAK SPACE}")
    if fraction:
        text += "," + f"{fraction:.2f}"[2:]
    sign = "−" if amount < 0 else ""
    return f"{sign}{text}\N{NO-BREAK SPACE}{SYMBOLS.get(currency, currency)}"
