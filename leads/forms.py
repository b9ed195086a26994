from __future__ import annotations

from decimal import Decimal

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Div, Fieldset, Layout
from django import forms
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm import phones, websites
from crm.forms import AmountField
from crm.models import JunkReason
from crm.money import Currency, format_amount

from .models import Lead, Status
from .requirements import CATALOGUE, rules_by_status, statuses_required_for

M2M_FIELDS = ("products_to_sell", "used_products")
# «Дата следующего касания» is the date of the lead's earliest planned touch (tasks keep the two
# one: crm.hooks.touch_date_set moves or plans the touch, and a touch planned or completed sets it).
TOUCH_DATE = "next_touch_date"
TOUCH_DATE_HELP = _("Дата ближайшего запланированного дела")
PHONE_FIELDS = ("company_phone", "contact_phone")

# The card's grouping (PROCESS.md §1.2), used by the create/edit form and the card itself; the slug
# names a group in the card's in-place edit URLs.
GROUPS = [
    ("about", _("О лиде"), ["title", "source", "amount", "currency", "responsible", "comment"]),
    ("company", _("Компания"), ["company_name", "company_phone", "company_email", "company_address",
                                "company_website"]),
    ("requisites", _("Реквизиты"), ["inn", "kpp", "ogrn", "legal_name", "legal_address"]),
    ("contact", _("Контактное лицо (ЛПР/ЛВР)"), ["contact_last_name", "contact_first_name", "contact_middle_name",
                                                 "contact_birth_date", "contact_position", "contact_phone",
                                                 "contact_phone_type", "contact_phone_ext", "contact_email"]),
    ("qualification", _("Квалификация"), ["crm_system", "niche", "client_type"]),
    ("decision-maker", _("Выход на ЛПР"), ["sales_channel", "employees_count", "talked_to_decision_maker",
                                           "products_to_sell", "usp_acknowledged", "used_products", "next_touch",
                                           "next_touch_date", "training_info"]),
]
ALL_FIELDS = [name for _slug, _label, names in GROUPS for name in names]
# What a new lead is created with; the other groups are folded on the create form.
OPEN_ON_CREATE = {"about", "company", "contact"}


def group_by_slug(slug: str) -> tuple[str, str, list[str]]:
    """The group named `slug` in a URL; anything else is a 404."""
    for entry in GROUPS:
        if entry[0] == slug:
            return entry
    raise Http404


class FoldedFieldset(Fieldset):
    """A group a new lead may fill in later: folded (<details>, no script), unless one of its
    fields has an error — a folded error would be an error nobody sees."""

    template = "leads/layout/folded_fieldset.html"

    def __init__(self, legend, *fields, names=(), **kwargs):
        super().__init__(legend, *fields, **kwargs)
        self.names = names

    def render(self, form, context, **kwargs):
        context.update({"folded_open": any(form[name].errors for name in self.names if name in form.fields)})
        return super().render(form, context, **kwargs)


class LeadFieldsMixin:
    """Widgets, phone normalisation and cross-field checks shared by every form on a lead."""

    def setup_fields(self) -> None:
        for name, field in self.fields.items():
            if name in M2M_FIELDS:
                field.widget = forms.CheckboxSelectMultiple(choices=field.choices)
                field.queryset = field.queryset.filter(is_active=True)
            elif isinstance(field, forms.ModelChoiceField):
                if hasattr(field.queryset.model, "is_active"):
                    current = getattr(self.instance, f"{name}_id", None)
                    field.queryset = field.queryset.filter(is_active=True) | field.queryset.filter(pk=current)
                field.empty_label = _("не выбрано")
            if isinstance(field.widget, forms.DateInput):
                field.widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
            if isinstance(field.widget, forms.Textarea):
                field.widget.attrs["rows"] = 2
        for name in PHONE_FIELDS:
            if name in self.fields and self.instance.pk and not self.is_bound:
                self.initial[name] = phones.display(getattr(self.instance, name))
            if name in self.fields:
                self.fields[name].widget.attrs.update(inputmode="tel", placeholder="8 (912) 345-67-89")
        if "inn" in self.fields:
            self.fields["inn"].widget.attrs.update(inputmode="numeric", maxlength=12)
        if "contact_phone_ext" in self.fields:
            self.fields["contact_phone_ext"].widget.attrs.update(inputmode="numeric")
        if "company_website" in self.fields:
            self.fields["company_website"].widget.attrs.update(placeholder="example.ru")
        if TOUCH_DATE in self.fields:
            self.fields[TOUCH_DATE].help_text = TOUCH_DATE_HELP

    def clean_company_phone(self):
        return phones.normalize(self.cleaned_data.get("company_phone", ""))

    def clean_contact_phone(self):
        return phones.normalize(self.cleaned_data.get("contact_phone", ""))

    def clean_contact_phone_ext(self):
        return phones.normalize_ext(self.cleaned_data.get("contact_phone_ext", ""))

    def clean_company_website(self):
        return websites.clean(self.cleaned_data.get("company_website", ""))

    def clean_inn(self):
        return (self.cleaned_data.get("inn") or "").strip()

    def clean_used_products(self):
        chosen = self.cleaned_data.get("used_products")
        if chosen and len(chosen) > 1 and any(p.means_none for p in chosen):
            raise forms.ValidationError(_("«Ничем не пользовалась» нельзя отметить вместе с другими продуктами."))
        return chosen

    def split(self) -> tuple[dict, dict]:
        """cleaned_data as the services take it: plain fields and many-to-many sets apart."""
        data = {k: v for k, v in self.cleaned_data.items() if k in self._meta.fields and k not in M2M_FIELDS}
        m2m = {k: list(v) for k, v in self.cleaned_data.items() if k in M2M_FIELDS}
        if TOUCH_DATE in data and self.fields[TOUCH_DATE].show_hidden_initial and TOUCH_DATE not in self.changed_data:
            del data[TOUCH_DATE]
        return data, m2m


class LeadForm(LeadFieldsMixin, forms.ModelForm):
    """Create and edit, in the card's grouping. Fields the status's rules require are marked
    required, so the form says what is missing before the service refuses."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    # Set only by the «Сохранить всё равно» button; never rendered, because a hidden empty
    # input later in the form would override the button's value in the request.
    save_anyway = forms.BooleanField(required=False)

    class Meta:
        model = Lead
        fields = ALL_FIELDS
        field_classes = {"amount": AmountField}  # «150 000,50» as typed and as shown

    def __init__(self, *args, responsible_choices=None, group=None, **kwargs):
        super().__init__(*args, **kwargs)
        if group is not None:
            # One group of the card edited in place: only its fields are validated and saved.
            keep = {*group[2], "version", "save_anyway"}
            for name in [n for n in self.fields if n not in keep]:
                del self.fields[name]
        self.setup_fields()
        if "responsible" in self.fields:
            if responsible_choices is not None:
                self.fields["responsible"].queryset = responsible_choices
            self.fields["responsible"].empty_label = None
        if self.instance.pk:
            self.initial.setdefault("version", self.instance.version)
            if TOUCH_DATE in self.fields:
                # The date the form showed travels with it: a touch planned or completed on the card
                # meanwhile changes the date without changing the lead's version, and an edit of the
                # other fields must not write back the date it showed (split drops it unchanged).
                self.fields[TOUCH_DATE].show_hidden_initial = True
        status = self.instance.status if self.instance.pk else Status.NEW
        if status in Status.values and status not in (Status.CONVERTED, Status.JUNK):
            rules = rules_by_status()
            for key in set().union(*(rules.get(s, set()) for s in statuses_required_for(status))):
                for name in CATALOGUE[key].form_fields[:1] if key in CATALOGUE else ():
                    if name in self.fields and not isinstance(self.fields[name], forms.BooleanField):
                        self.fields[name].required = True
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True
        if group is not None:
            # Opened by a click on the card: typing starts in the group's first field (htmx focuses it).
            self.fields[group[2][0]].widget.attrs["autofocus"] = True
            self.helper.layout = Layout(*self._group_fields(*group), "version")
            return
        if self.instance.pk:
            self.helper.layout = Layout(*[
                Div(Fieldset(label, *self._group_fields(slug, label, names), css_class="crm-fieldset"),
                    css_class="col-lg-6", css_id=f"group-{slug}")
                for slug, label, names in GROUPS
            ], "version")
            return
        # A new lead: what it is created with, and beside the contact the folded rest, stacked.
        self.helper.layout = Layout(*[
            Div(Fieldset(label, *self._group_fields(slug, label, names), css_class="crm-fieldset"),
                css_class="col-lg-6", css_id=f"group-{slug}")
            for slug, label, names in GROUPS if slug in OPEN_ON_CREATE
        ], Div(*[
            FoldedFieldset(label, *self._group_fields(slug, label, names), names=names, css_class="crm-fieldset",
                           css_id=f"group-{slug}")
            for slug, label, names in GROUPS if slug not in OPEN_ON_CREATE
        ], css_class="col-lg-6"), "version")

    @staticmethod
    def _group_fields(slug, label, names) -> list:
        if slug == "requisites":
            return [Div(*names, css_id="requisites-fields"), HTML('{% include "crm/_requisites_button.html" %}')]
        return list(names)


def requirements_form_class(requirements):
    """A form with exactly the fields that meet `requirements` (the «Для изменения статуса лида
    заполните обязательные поля» dialog)."""
    names = [n for r in requirements for n in r.form_fields]
    extra = {n for r in requirements for n in r.extra_fields}

    class RequirementsForm(LeadFieldsMixin, forms.ModelForm):
        to = forms.CharField(widget=forms.HiddenInput)
        if "pinned_comment" in extra:
            pinned_comment = forms.CharField(
                label=_("Закреплённый комментарий: итоги «Разведки» о компании и ЛПР/ЛВР"),
                widget=forms.Textarea(attrs={"rows": 4}),
            )

        class Meta:
            model = Lead
            fields = list(dict.fromkeys(names))
            field_classes = {"amount": AmountField}  # «150 000,50» as typed and as shown

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.setup_fields()
            optional = {"contact_phone_type", "contact_phone_ext", "contact_phone", "currency"}
            for name, field in self.fields.items():
                if name in self._meta.fields and name not in optional:
                    field.required = True
            self.helper = FormHelper()
            self.helper.form_tag = False
            self.helper.disable_csrf = True

        def clean(self):
            cleaned = super().clean()
            if "contact_phone_ext" in self.fields and not (cleaned.get("contact_phone") or cleaned.get("contact_phone_ext")):
                self.add_error("contact_phone", _("Укажите телефон ЛПР/ЛВР или добавочный номер."))
            if "amount" in self.fields and cleaned.get("amount") is not None and cleaned["amount"] <= 0:
                self.add_error("amount", _("Сумма должна быть больше нуля."))
            return cleaned

    return RequirementsForm


class JunkForm(forms.Form):
    junk_reason = forms.ModelChoiceField(
        label=_("Причина закрытия"), queryset=JunkReason.objects.filter(is_active=True), empty_label=_("не выбрано"),
        error_messages={"required": _("Выберите причину закрытия."),
                        "invalid_choice": _("Такой причины закрытия нет: выберите из списка.")},
    )
    comment = forms.CharField(label=_("Комментарий"), widget=forms.Textarea(attrs={"rows": 3}), required=False)


class ConvertForm(forms.Form):
    """«Успешный»: which records to create from the lead (any non-empty set), the deal's pipeline
    and, as in Bitrix24's conversion form, the deal's amount, currency and expected close date —
    prefilled with the lead's amount and currency; the close date starts empty (the lead has no
    such date, and its next touch is a call, not a closing)."""

    DEAL_FIELDS = ("amount", "currency", "close_date")

    contact = forms.BooleanField(label=_("Контакт"), required=False, widget=forms.CheckboxInput({"class": "form-check-input"}))
    company = forms.BooleanField(label=_("Компания"), required=False, widget=forms.CheckboxInput({"class": "form-check-input"}))
    deal = forms.BooleanField(label=_("Сделка"), required=False, widget=forms.CheckboxInput({"class": "form-check-input"}))
    pipeline = forms.ModelChoiceField(label=_("Воронка сделки"), queryset=None, required=False, empty_label=None,
                                      error_messages={"invalid_choice": _("Такой воронки нет или она вам недоступна.")})
    amount = AmountField(label=_("Сумма"), required=False)
    currency = forms.ChoiceField(label=_("Валюта"), choices=Currency.choices, required=False,
                                 error_messages={"invalid_choice": _("Такой валюты нет: выберите из списка.")})
    close_date = forms.DateField(label=_("Предполагаемая дата закрытия"), required=False,
                                 widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                                 error_messages={"invalid": _("Введите дату, например 02.12.2026.")})

    def __init__(self, *args, user, lead, **kwargs):
        from accounts import access
        from deals.models import Pipeline

        from .services import default_pipeline

        super().__init__(*args, **kwargs)
        allowed = [p.pk for p in Pipeline.objects.all() if access.level(user, "deal", "add", p.access_scope)]
        self.fields["pipeline"].queryset = Pipeline.objects.filter(pk__in=allowed)
        default = default_pipeline(lead)
        self.initial.setdefault("pipeline", default.pk if default and default.pk in allowed else None)
        self.initial.setdefault("company", bool(lead.company_name))
        self.initial.setdefault("contact", bool(lead.contact_first_name or lead.contact_last_name))
        self.initial.setdefault("deal", True)
        # No amount on the lead: an empty field to type into rather than a «0» to delete first.
        self.initial.setdefault("amount", format_amount(lead.amount) if lead.amount else "")
        self.fields["amount"].widget.attrs["placeholder"] = "0"
        self.initial.setdefault("currency", lead.currency)
        self.fields["close_date"].widget.attrs["min"] = timezone.localdate().isoformat()
        self.lead = lead

    def clean_close_date(self):
        close_date = self.cleaned_data.get("close_date")
        if close_date and close_date < timezone.localdate():
            raise forms.ValidationError(_("Дата закрытия не может быть раньше сегодняшнего дня."))
        return close_date

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("deal"):
            # No deal, nothing of its to check: its fields are disabled in the dialog then.
            for name in self.DEAL_FIELDS:
                self.errors.pop(name, None)
        if not (cleaned.get("contact") or cleaned.get("company") or cleaned.get("deal")):
            raise forms.ValidationError(_("Выберите, что создать: контакт, компанию или сделку."))
        if cleaned.get("deal") and not cleaned.get("pipeline"):
            self.add_error("pipeline", _("Выберите воронку для сделки."))
        return cleaned

    @property
    def deal_disabled(self) -> bool:
        """The deal's fields start disabled when «Сделка» is not ticked (static/js/crm.js follows the switch)."""
        return not (self["deal"].value() if self.is_bound else self.initial.get("deal"))

    def conversion(self) -> dict:
        """cleaned_data as services.lead_convert takes it. An emptied amount is zero, as in
        Bitrix24; an emptied currency is the lead's."""
        data = self.cleaned_data
        deal_data = {"amount": data["amount"] if data.get("amount") is not None else Decimal("0"),
                     "currency": data.get("currency") or self.lead.currency,
                     "close_date": data.get("close_date")} if data["deal"] else None
        return {"contact": data["contact"], "company": data["company"], "deal": data["deal"],
                "pipeline": data.get("pipeline"), "deal_data": deal_data}


class DuplicatesForm(forms.Form):
    """The live duplicate check's own parameter: the lead being edited, left out of the matches."""

    lead_id = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
