import re
from decimal import Decimal

from django import forms
from django.core.validators import MinValueValidator
from django.forms.utils import flatatt
from django.utils import formats
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from .money import SYMBOLS, format_amount


class QuickSelect(forms.Select):
    """A single select rendered in Python: Django renders every option through a template, which
    cost a report page about 5 ms for its six selects of people, departments, sources and niches —
    a fifth of the page around its figures. The same markup (name, attributes, options, the
    selected ones); flat choices only."""

    def render(self, name, value, attrs=None, renderer=None):
        chosen = set(self.format_value(value))
        parts = [format_html("<select name=\"{}\"{}>", name, flatatt(self.build_attrs(self.attrs, attrs)))]
        for option, label in self.choices:
            if isinstance(label, (list, tuple)):
                raise ValueError(f"{name}: QuickSelect takes no option groups")
            option = "" if option is None else str(option)
            parts.append(format_html("<option value=\"{}\"{}>{}</option>", option,
                                     mark_safe(" selected") if option in chosen else "", label))
        parts.append("</select>")
        return mark_safe("".join(parts))


class CommentForm(forms.Form):
    """A comment's text; with files (the disk's field, read apart from the form) it may be empty."""

    text = forms.CharField(label=_("Комментарий"), widget=forms.Textarea(attrs={"rows": 2}), max_length=10000,
                           required=False)
    pin = forms.BooleanField(label=_("Закрепить"), required=False)

    def __init__(self, *args, with_files: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.with_files = with_files

    def clean_text(self):
        text = self.cleaned_data["text"].strip()
        if not text and not self.with_files:
            raise forms.ValidationError(_("Комментарий пуст."))
        return text


class PinForm(forms.Form):
    """What the «Закрепить»/«Открепить» button asks for; nothing (an older page) means «the opposite
    of now». Not a toggle of what the page showed: two people clicking «Закрепить» both mean pin."""

    pin = forms.NullBooleanField(required=False)


class AmountField(forms.DecimalField):
    """A sum typed as people write it — «150 000,50», «150000.50», «150 000 ₽» in Russian,
    «150,000.50» in English — read into a Decimal ≥ 0 with kopecks at most. A text input, not
    type=number: the number input refuses the grouping spaces and the comma the card shows."""

    widget = forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"})

    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", 14)
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("validators", [MinValueValidator(0, message=_("Сумма не может быть отрицательной."))])
        kwargs.setdefault("error_messages", {"invalid": _("Введите сумму числом, например 150 000,50.")})
        super().__init__(**kwargs)

    def prepare_value(self, value):
        # A stored Decimal is shown as the card shows it («150 000», not «150000.00»).
        if isinstance(value, (Decimal, int, float)) and not isinstance(value, bool):
            return format_amount(value)
        return value

    def to_python(self, value):
        if isinstance(value, str):
            value = re.sub(r"\s", "", value)
            for symbol in SYMBOLS.values():
                value = value.replace(symbol, "")
            thousands, decimal = formats.get_format("THOUSAND_SEPARATOR"), formats.get_format("DECIMAL_SEPARATOR")
            if thousands.strip():  # «,» in English; Russian groups with a space, gone already
                value = value.replace(thousands, "")
            # A point is a decimal point in Russian too (the numeric keypad types it).
            value = value.replace(decimal, ".")
        return super().to_python(value)
