from django import forms
from django.utils.translation import gettext_lazy as _

from .models import OFFERED


class EmailKindsForm(forms.Form):
    kinds = forms.MultipleChoiceField(label=_("Присылать на e-mail"), choices=[(k.value, k.label) for k in OFFERED], required=False,
                                      widget=forms.CheckboxSelectMultiple)
