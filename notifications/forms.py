from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Kind


class EmailKindsForm(forms.Form):
    kinds = forms.MultipleChoiceField(label=_("Присылать на e-mail"), choices=Kind.choices, required=False,
                                      widget=forms.CheckboxSelectMultiple)
