from django import forms
from django.utils.translation import gettext_lazy as _


class CommentForm(forms.Form):
    text = forms.CharField(label=_("Комментарий"), widget=forms.Textarea(attrs={"rows": 2}), max_length=10000,
                           error_messages={"required": _("Комментарий пуст.")})
    pin = forms.BooleanField(label=_("Закрепить"), required=False)
