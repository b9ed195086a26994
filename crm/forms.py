from django import forms
from django.utils.translation import gettext_lazy as _


class CommentForm(forms.Form):
    text = forms.CharField(label=_("Комментарий"), widget=forms.Textarea(attrs={"rows": 2}), max_length=10000,
                           error_messages={"required": _("Комментарий пуст.")})
    pin = forms.BooleanField(label=_("Закрепить"), required=False)


class PinForm(forms.Form):
    """What the «Закрепить»/«Открепить» button asks for; nothing (an older page) means «the opposite
    of now». Not a toggle of what the page showed: two people clicking «Закрепить» both mean pin."""

    pin = forms.NullBooleanField(required=False)
