from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Scope


class WebhookForm(forms.Form):
    """«Новый вебхук» on the profile: a name and the scopes, as checkboxes."""

    name = forms.CharField(label=_("Название"), max_length=100, required=False,
                           help_text=_("Для себя: где он используется, например «Форма на сайте»."))
    scopes = forms.MultipleChoiceField(label=_("Права"), choices=Scope.choices, widget=forms.CheckboxSelectMultiple,
                                       error_messages={"required": _("Отметьте хотя бы одно право.")})
