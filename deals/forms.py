"""The deal forms: create/edit, the «заполните обязательные поля» dialog (with product rows when a
stage needs them), the product rows of a deal and «Сменить воронку». Forms validate; the views
hand cleaned data to deals.services."""

from __future__ import annotations

from decimal import Decimal

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Div, Fieldset, Layout
from django import forms
from django.core.validators import MinValueValidator
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from accounts import access
from accounts.models import Action
from clients.selectors import visible_companies, visible_contacts
from crm.forms import AmountField
from crm.lists import active_users
from crm.models import Product

from .models import Deal, LossReason, Pipeline
from .selectors import contact_ids_of

M2M_FIELDS = ("contacts",)

# The card's grouping (PROCESS.md §2), used by the create/edit form and the card itself.
GROUPS = [
    (_("О сделке"), ["pipeline", "title", "amount", "currency", "source", "responsible", "comment"]),
    (_("Клиент"), ["company", "contacts"]),
    (_("Сроки"), ["start_date", "close_date"]),
]


def _with_current(queryset: QuerySet, current) -> QuerySet:
    """A choice list that keeps the record's current value(s) even when the editor may not pick
    them now (a company another manager owns): saving the form must not drop them silently."""
    ids = [c for c in (current if isinstance(current, list | tuple | set) else [current]) if c]
    return queryset.model.objects.filter(Q(pk__in=queryset.values("pk")) | Q(pk__in=ids)) if ids else queryset


def _label_if_visible(user, hidden: str):
    """The kept current company or contact the editor may not see is not named in the choices
    (deal rights are per pipeline, client rights are not); only that one is linked."""
    return lambda record: str(record) if access.can(user, Action.VIEW, record) else hidden


class DealFieldsMixin:
    """Widgets and the choice lists (through the access gate) shared by every form on a deal."""

    user = None

    def setup_fields(self, user) -> None:
        instance = self.instance
        for field in self.fields.values():
            if isinstance(field.widget, forms.DateInput):
                field.widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
            if isinstance(field.widget, forms.Textarea):
                field.widget.attrs["rows"] = 3
            if isinstance(field, forms.ModelChoiceField) and not isinstance(field, forms.ModelMultipleChoiceField):
                field.empty_label = _("не выбрано")
        if "company" in self.fields:
            self.fields["company"].queryset = _with_current(
                visible_companies(user), instance.company_id if instance.pk else None
            ).order_by("name", "pk")
            self.fields["company"].label_from_instance = _label_if_visible(
                user, _("Связанная компания есть (нет доступа)"))
        if "contacts" in self.fields:
            current = contact_ids_of(instance) if instance.pk else []
            self.fields["contacts"].queryset = _with_current(visible_contacts(user), current)
            self.fields["contacts"].label_from_instance = _label_if_visible(
                user, _("Связанный контакт есть (нет доступа)"))
            self.fields["contacts"].widget.attrs["size"] = 6
            self.fields["contacts"].help_text = _("Несколько — с Ctrl (⌘ на Mac).")
        if "source" in self.fields:
            field = self.fields["source"]
            current = instance.source_id if instance.pk else None
            field.queryset = field.queryset.filter(Q(is_active=True) | Q(pk=current))
        if "loss_reason" in self.fields:
            current = instance.loss_reason_id if instance.pk else None
            self.fields["loss_reason"].queryset = LossReason.objects.filter(Q(is_active=True) | Q(pk=current))

    def split(self) -> tuple[dict, dict]:
        """cleaned_data as the services take it: plain fields and many-to-many sets apart."""
        data = {k: v for k, v in self.cleaned_data.items()
                if k in self._meta.fields and k not in M2M_FIELDS and not self.fields[k].disabled}
        m2m = {k: list(v) for k, v in self.cleaned_data.items() if k in M2M_FIELDS}
        return data, m2m


class DealForm(DealFieldsMixin, forms.ModelForm):
    """Create and edit. The pipeline is chosen at creation (among those the user may add deals
    to); afterwards it changes only by «Сменить воронку» on the card (a move to its first stage)."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Deal
        fields = ["pipeline", "title", "amount", "currency", "source", "responsible", "comment", "company",
                  "contacts", "start_date", "close_date"]
        field_classes = {"amount": AmountField}  # «150 000,50» as typed and as shown

    def __init__(self, *args, user, pipelines=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.setup_fields(user)
        self.fields["responsible"].queryset = active_users()
        self.fields["responsible"].empty_label = None
        if self.instance.pk:
            self.initial.setdefault("version", self.instance.version)
            del self.fields["pipeline"]
            if self.instance.products.exists() and self.instance.amount > 0:
                # The amount follows the product rows (deal_set_products): edit the rows instead.
                self.fields["amount"].disabled = True
                self.fields["amount"].help_text = _("Сумма равна итогу товаров сделки: измените товары.")
        else:
            self.fields["pipeline"].queryset = Pipeline.objects.filter(pk__in=[p.pk for p in pipelines or []])
            self.fields["pipeline"].empty_label = None
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True
        fieldsets = [Fieldset(label, *[n for n in names if n in self.fields], css_class="crm-fieldset")
                     for label, names in GROUPS]
        # «О сделке» on the left; the client and the dates on the right.
        self.helper.layout = Layout(Div(fieldsets[0], css_class="col-lg-6"), Div(*fieldsets[1:], css_class="col-lg-6"),
                                    "version")


# --- Product rows ---

class ProductRowForm(forms.Form):
    product = forms.ModelChoiceField(label=_("Товар/услуга"), queryset=Product.objects.none(),
                                     empty_label=_("не выбрано"),
                                     error_messages={"invalid_choice": _("Такого товара нет: выберите из списка.")})
    quantity = forms.DecimalField(label=_("Количество"), max_digits=10, decimal_places=2, initial=Decimal("1"),
                                  min_value=Decimal("0.01"),
                                  error_messages={"min_value": _("Количество должно быть больше нуля.")})
    price = AmountField(label=_("Цена"), validators=[MinValueValidator(0, message=_("Цена не может быть отрицательной."))])

    def __init__(self, *args, current_products=(), **kwargs):
        super().__init__(*args, **kwargs)
        # Active products, plus the retired ones already on the deal's rows.
        self.fields["product"].queryset = Product.objects.filter(Q(is_active=True) | Q(pk__in=list(current_products)))
        self.fields["quantity"].widget.attrs.update(step="0.01", min="0.01", inputmode="decimal")


class BaseProductRows(forms.BaseFormSet):
    default_error_messages = {
        "too_few_forms": _("Добавьте хотя бы одну строку: товар, количество и цену."),
        "too_many_forms": _("Слишком много строк товаров: не больше 100."),
    }

    def rows(self) -> list[tuple[Product, Decimal, Decimal]]:
        """(product, quantity, price) of the filled, not deleted rows, as deal_set_products takes them."""
        result = []
        for form in self.forms:
            if self.can_delete and self._should_delete_form(form):
                continue
            data = getattr(form, "cleaned_data", None) or {}
            if data.get("product"):
                result.append((data["product"], data["quantity"], data["price"]))
        return result

    @property
    def total(self) -> Decimal:
        return sum((q * p for _product, q, p in self.rows()), Decimal("0"))


def product_rows(deal: Deal, data=None, *, required: bool = False, prefix: str = "products"):
    """The deal's product rows as a formset: its current rows and empty ones to add more. In the
    missing-fields dialog (`required`) at least one row must be filled."""
    current = list(deal.products.all())
    initial = [{"product": row.product_id, "quantity": row.quantity, "price": row.price} for row in current]
    formset_class = forms.formset_factory(
        ProductRowForm, formset=BaseProductRows, extra=1 if required else 2, can_delete=bool(initial),
        min_num=1 if required else 0, validate_min=required, max_num=100, validate_max=True,
    )
    return formset_class(data, initial=initial, prefix=prefix,
                         form_kwargs={"current_products": [row.product_id for row in current]})


class ProductsForm(forms.Form):
    """The version of the deal the product rows were edited from (optimistic locking)."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


# --- «Для перевода сделки на стадию заполните обязательные поля» ---

def requirements_form_class(requirements):
    """A form with exactly the fields that meet `requirements`. The «products» requirement has no
    model field: the dialog adds product rows for it (`product_rows(..., required=True)`)."""
    names = list(dict.fromkeys(n for r in requirements for n in r.form_fields))

    class RequirementsForm(DealFieldsMixin, forms.ModelForm):
        to = forms.CharField(widget=forms.HiddenInput)

        class Meta:
            model = Deal
            fields = names
            field_classes = {"amount": AmountField}  # «150 000,50» as typed and as shown

        def __init__(self, *args, user, with_products: bool = False, **kwargs):
            super().__init__(*args, **kwargs)
            self.with_products = with_products
            self.setup_fields(user)
            for name, field in self.fields.items():
                if name in self._meta.fields and name != "currency":
                    field.required = True
            if with_products and "amount" in self.fields:
                # Rows whose total is above zero set the amount themselves (the amount follows the rows).
                self.fields["amount"].required = False
                self.fields["amount"].help_text = _("Если у товаров есть цена, сумма сделки равна их итогу.")
            self.helper = FormHelper()
            self.helper.form_tag = False
            self.helper.disable_csrf = True

        def clean_amount(self):
            amount = self.cleaned_data.get("amount")
            if amount is not None and amount <= 0 and not (self.with_products and amount == 0):
                raise forms.ValidationError(_("Сумма должна быть больше нуля."))
            return amount

    return RequirementsForm


class ChangePipelineForm(forms.Form):
    pipeline = forms.ModelChoiceField(
        label=_("Воронка"), queryset=Pipeline.objects.none(), empty_label=None,
        error_messages={"invalid_choice": _("Такой воронки нет или у вас нет прав на её сделки.")},
    )

    def __init__(self, *args, pipelines=(), current=None, **kwargs):
        # The current pipeline is a choice too, so the select shows where the deal is.
        super().__init__(*args, **kwargs)
        self.current = current
        ids = [p.pk for p in pipelines] + ([current.pk] if current else [])
        self.fields["pipeline"].queryset = Pipeline.objects.filter(pk__in=ids).order_by("sort", "pk")

    def clean_pipeline(self):
        pipeline = self.cleaned_data["pipeline"]
        if self.current is not None and pipeline.pk == self.current.pk:
            raise forms.ValidationError(_("Сделка уже в воронке «%(name)s»: выберите другую.") % {"name": pipeline.name})
        return pipeline
