from django import forms
from django.utils.translation import gettext_lazy as _

from . import addresses
from .models import EVENTS


class HandlerForm(forms.Form):
    name = forms.CharField(label=_("Название"), max_length=200)
    url = forms.URLField(label=_("Адрес обработчика"), max_length=1000, assume_scheme="https",
                         help_text=_("Сюда CRM отправляет события POST-запросом, как Битрикс24."))
    events = forms.MultipleChoiceField(label=_("События"), choices=EVENTS, widget=forms.CheckboxSelectMultiple,
                                       error_messages={"required": _("Выберите хотя бы одно событие.")})
    active = forms.BooleanField(label=_("Активен"), required=False, initial=True)

    def clean_url(self):
        url = self.cleaned_data["url"]
        trouble = addresses.problem(url, resolve=False)
        if trouble:
            raise forms.ValidationError(trouble)
        return url
