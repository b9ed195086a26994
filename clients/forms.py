"""Company and contact forms: the card's fields, the phones and e-mails formset, the optimistic
lock (`version`). They validate; clients.services saves."""

from __future__ import annotations

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Div, Fieldset, Layout
from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from crm import phones, websites
from crm.models import Communication, CommunicationType

from . import selectors
from .models import Company, Contact

PHONE, EMAIL = Communication.Kind.PHONE, Communication.Kind.EMAIL

# The cards' grouping, used by the forms and by the cards themselves.
COMPANY_GROUPS = [
    (_("О компании"), ["name", "website", "address", "niche", "client_type"]),
    (_("Реквизиты"), ["inn", "kpp", "ogrn", "legal_name", "legal_address"]),
    (_("Работа с клиентом"), ["responsible", "comment"]),
]
CONTACT_GROUPS = [
    (_("О контакте"), ["last_name", "first_name", "middle_name", "birth_date", "position"]),
    (_("Компании"), ["companies"]),
    (_("Работа с клиентом"), ["responsible", "comment"]),
]
COMMUNICATIONS_SLOT = HTML('{% include "clients/_communications.html" %}')


class CommunicationForm(forms.Form):
    """One phone or e-mail. A row with an empty value is simply not saved, so the form can offer
    a few empty rows without asking anything of them."""

    kind = forms.ChoiceField(label=_("Вид"), choices=Communication.Kind.choices, initial=PHONE)
    type = forms.ChoiceField(label=_("Тип"), choices=CommunicationType.choices, initial=CommunicationType.WORK)
    value = forms.CharField(label=_("Телефон или e-mail"), max_length=254, required=False)
    ext = forms.CharField(label=_("Доб."), max_length=10, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].widget.attrs.update({"class": "form-select form-select-sm crm-comm-kind",
                                                 "aria-label": _("Телефон или e-mail")})
        self.fields["type"].widget.attrs.update({"class": "form-select form-select-sm", "aria-label": _("Тип")})
        kind = self.data.get(self.add_prefix("kind")) if self.is_bound else self.initial.get("kind", PHONE)
        placeholders = {PHONE: _("8 (912) 345-67-89"), EMAIL: _("name@example.ru")}
        # static/js/clients.js swaps the placeholder and the keyboard when the kind changes.
        self.fields["value"].widget.attrs.update({
            "class": "form-control form-control-sm crm-comm-value", "aria-label": _("Номер или адрес"),
            "placeholder": placeholders.get(kind, placeholders[PHONE]),
            "inputmode": "email" if kind == EMAIL else "tel",
            "data-placeholder-phone": placeholders[PHONE], "data-placeholder-email": placeholders[EMAIL],
        })
        self.fields["ext"].widget.attrs.update({"class": "form-control form-control-sm", "inputmode": "numeric",
                                                "aria-label": _("Добавочный номер"), "placeholder": _("доб.")})

    def full_clean(self):
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                widget = self.fields[name].widget
                widget.attrs["class"] = widget.attrs.get("class", "") + " is-invalid"

    def clean(self):
        cleaned = super().clean()
        kind, value, ext = cleaned.get("kind"), (cleaned.get("value") or "").strip(), (cleaned.get("ext") or "").strip()
        if not value:
            cleaned["value"] = ""
            if ext:
                self.add_error("value", _("Укажите номер телефона для добавочного номера."))
            return cleaned
        if kind == PHONE:
            try:
                cleaned["value"] = phones.normalize(value)
            except ValidationError as exc:
                self.add_error("value", exc)
            try:
                cleaned["ext"] = phones.normalize_ext(ext)
            except ValidationError as exc:
                self.add_error("ext", exc)
        elif kind == EMAIL:
            try:
                validate_email(value)
            except ValidationError:
                self.add_error("value", _("Введите правильный адрес электронной почты, например name@example.ru."))
            cleaned["value"] = value.lower()
            cleaned["ext"] = ""
        return cleaned

    def item(self) -> tuple[str, str, str, str] | None:
        """(kind, type, value, ext) as the services take it; None for an empty or deleted row."""
        data = getattr(self, "cleaned_data", None) or {}
        if not data.get("value") or data.get("DELETE"):
            return None
        return (data["kind"], data.get("type") or CommunicationType.WORK, data["value"],
                data.get("ext", "") if data["kind"] == PHONE else "")


class BaseCommunicationFormSet(forms.BaseFormSet):
    def clean(self):
        if any(self.errors):
            return
        seen: set[tuple[str, str]] = set()
        for form in self.forms:
            item = form.item()
            if item is None:
                continue
            key = (item[0], item[2])
            if key in seen:
                form.add_error("value", _("Этот телефон или e-mail уже указан выше."))
            seen.add(key)

    def items(self) -> list[tuple[str, str, str, str]]:
        return [item for item in (form.item() for form in self.forms) if item is not None]

    def partial_items(self) -> list[tuple[str, str, str, str]]:
        """The valid rows of a formset that may be invalid elsewhere (for the live duplicate check)."""
        self.is_valid()
        return [item for item in (form.item() for form in self.forms if not form.errors) if item is not None]


CommunicationFormSet = forms.formset_factory(
    CommunicationForm, formset=BaseCommunicationFormSet, extra=0, can_delete=True, max_num=30, validate_max=True,
)

# Rows an empty form offers: a work phone and a work e-mail; the «+» buttons add more.
BLANK_ROWS = [{"kind": PHONE, "type": CommunicationType.WORK}, {"kind": EMAIL, "type": CommunicationType.WORK}]


def communication_formset(data=None, record=None) -> BaseCommunicationFormSet:
    """The formset of a record's phones and e-mails (phones shown in the Russian format), plus a
    blank phone and e-mail row."""
    initial = []
    if record is not None and record.pk:
        for c in record.communications.all():
            initial.append({"kind": c.kind, "type": c.type, "ext": c.ext,
                            "value": phones.display(c.value) if c.kind == PHONE else c.value})
    kinds = {row["kind"] for row in initial}
    initial += [row for row in BLANK_ROWS if row["kind"] not in kinds] or [BLANK_ROWS[0]]
    formset = CommunicationFormSet(data, initial=None if data is not None else initial, prefix="comm")
    return formset


def stored_items(record) -> list[tuple[str, str, str, str]]:
    return sorted((c.kind, c.type, c.value, c.ext) for c in record.communications.all())


class ClientFormMixin:
    """Widgets, the hidden `version` and the crispy layout shared by both forms."""

    groups: list = []

    def setup(self, responsible_choices: QuerySet | None) -> None:
        for name, field in self.fields.items():
            if isinstance(field, forms.ModelChoiceField) and not isinstance(field, forms.ModelMultipleChoiceField):
                model = field.queryset.model
                if hasattr(model, "is_active") and name != "responsible":
                    current = getattr(self.instance, f"{name}_id", None)
                    field.queryset = field.queryset.filter(is_active=True) | field.queryset.filter(pk=current)
                field.empty_label = _("не выбрано")
            if isinstance(field.widget, forms.DateInput):
                field.widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
            if isinstance(field.widget, forms.Textarea):
                field.widget.attrs["rows"] = 3
        if responsible_choices is not None:
            self.fields["responsible"].queryset = responsible_choices
        self.fields["responsible"].empty_label = None
        if self.instance.pk:
            self.initial.setdefault("version", self.instance.version)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True
        parts = []
        for index, (label, names) in enumerate(self.groups):
            if names == ["inn", "kpp", "ogrn", "legal_name", "legal_address"]:
                body = [Div(*names, css_id="requisites-fields"), HTML('{% include "crm/_requisites_button.html" %}')]
            else:
                body = names
            # Phones and e-mails come right after the main group, as on the card, and get the wider
            # half: a row holds four inputs.
            parts.append(Div(Fieldset(label, *body, css_class="crm-fieldset"), css_class="col-lg-5" if index == 0 else "col-lg-6"))
            if index == 0:
                parts.append(Div(COMMUNICATIONS_SLOT, css_class="col-lg-7"))
        self.helper.layout = Layout(*parts, "version")

    def data_for_service(self) -> dict:
        return {name: self.cleaned_data[name] for name in self._meta.fields
                if name in self.cleaned_data and name != "companies"}


class CompanyForm(ClientFormMixin, forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    groups = COMPANY_GROUPS

    class Meta:
        model = Company
        fields = [name for _label, names in COMPANY_GROUPS for name in names]

    def __init__(self, *args, responsible_choices=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.setup(responsible_choices)
        self.fields["inn"].widget.attrs.update(inputmode="numeric", maxlength=12)
        self.fields["website"].widget.attrs.update(placeholder="example.ru")

    def clean_name(self):
        return (self.cleaned_data.get("name") or "").strip()

    def clean_website(self):
        return websites.clean(self.cleaned_data.get("website"))

    def clean_inn(self):
        inn = (self.cleaned_data.get("inn") or "").strip()
        # ИНН identifies a company (a unique constraint): say so in words, before the database does.
        if inn and selectors.inn_taken(inn, exclude_pk=self.instance.pk):
            raise forms.ValidationError(_("Компания с таким ИНН уже есть в CRM."), code="inn_taken")
        return inn


class ContactForm(ClientFormMixin, forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    groups = CONTACT_GROUPS

    class Meta:
        model = Contact
        fields = [name for _label, names in CONTACT_GROUPS for name in names]

    def __init__(self, *args, responsible_choices=None, companies: QuerySet[Company] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.setup(responsible_choices)
        field = self.fields["companies"]
        if companies is not None:
            field.queryset = companies.order_by("name")
        field.widget.attrs.update({"size": 6, "class": "form-select"})
        field.help_text = _("Несколько компаний — с зажатой клавишей Ctrl (⌘ на Mac).")
