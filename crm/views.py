"""«Заполнить по ИНН»: the htmx partial that refills the requisites inputs of a form."""

from __future__ import annotations

from django import forms
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from .requisites import REQUISITES_FIELDS, Requisites, RequisitesError, get_client


class RequisitesFields(forms.Form):
    """The requisites inputs, named and labelled as on the lead (and company) forms, so that the
    partial can replace them in place. Never validated here: it only renders values."""

    inn = forms.CharField(label=_("ИНН"), max_length=12, required=False,
                          widget=forms.TextInput(attrs={"inputmode": "numeric"}))
    kpp = forms.CharField(label=_("КПП"), max_length=9, required=False)
    ogrn = forms.CharField(label=_("ОГРН"), max_length=15, required=False)
    legal_name = forms.CharField(label=_("Полное наименование"), max_length=500, required=False)
    legal_address = forms.CharField(label=_("Юридический адрес"), max_length=500, required=False)

    def __init__(self, *args, required: tuple[str, ...] | list[str] = (), **kwargs):
        super().__init__(*args, **kwargs)
        # The host form may require some of these (status rules): keep its asterisks.
        for name in required:
            if name in self.fields:
                self.fields[name].required = True


def _filled(values: dict[str, str], found: Requisites) -> dict[str, str]:
    """The registry's data over the user's; a value the registry lacks keeps what was typed,
    except the КПП of an ИП, which does not exist."""
    registry = {
        "inn": found.inn,
        "kpp": found.kpp,
        "ogrn": found.ogrn,
        "legal_name": found.full_name,
        "legal_address": found.legal_address,
    }
    merged = {name: registry[name] or values[name] for name in REQUISITES_FIELDS}
    if found.is_individual:
        merged["kpp"] = ""
    return merged


@require_POST
def requisites(request):
    """Looks the ИНН up and answers the requisites inputs, filled on success and exactly as the user
    left them on failure, with a note saying what happened. Always 200: htmx swaps it either way."""
    values = {name: request.POST.get(name, "") for name in REQUISITES_FIELDS}
    required = [name for name in request.POST.get("required", "").split(",") if name in REQUISITES_FIELDS]
    context: dict = {}
    try:
        found = get_client().lookup(values["inn"])
    except RequisitesError as exc:
        context.update(error=exc.message, error_code=exc.code)
    else:
        values = _filled(values, found)
        context["found"] = found
    form = RequisitesFields(initial=values, required=required)
    if context.get("error_code") == "invalid_inn":
        form.fields["inn"].widget.attrs.update({"class": "is-invalid", "aria-describedby": "requisites-message"})
    context["form"] = form
    return render(request, "crm/_requisites_result.html", context)
