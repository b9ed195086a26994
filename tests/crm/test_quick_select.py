"""crm.forms.QuickSelect: the markup Django's own Select gives, without a template per option."""

import re

import pytest
from django import forms

from crm.forms import QuickSelect

PEOPLE = [("", "любой"), (1, "Иванов <script>"), (2, "Петрова & Ко")]


class Both(forms.Form):
    django = forms.TypedChoiceField(choices=PEOPLE, required=False, coerce=int, empty_value=None,
                                    widget=forms.Select(attrs={"class": "form-select"}))
    quick = forms.TypedChoiceField(choices=PEOPLE, required=False, coerce=int, empty_value=None,
                                   widget=QuickSelect(attrs={"class": "form-select"}))


def _same(html: str) -> set:
    """The select's attributes and its options, whatever their order and spacing."""
    tag = re.match(r"<select ([^>]*)>", html).group(1).replace("django", "quick")
    attributes = {a for a in re.findall(r'[\w-]+="[^"]*"|\bselected\b', tag) if not a.startswith(("name=", "id="))}
    return {frozenset(attributes), *re.findall(r"<option[^>]*>[^<]*</option>", re.sub(r">\s+<", "><", html))}


@pytest.mark.parametrize("data", [None, {"django": "2", "quick": "2"}, {"django": "x", "quick": "x"}])
def test_it_renders_what_djangos_select_renders(data):
    form = Both(data)
    if data:
        form.is_valid()
    assert _same(str(form["quick"])) == _same(str(form["django"]))
    assert "&lt;script&gt;" in str(form["quick"]) and "<script>" not in str(form["quick"])


def test_it_refuses_option_groups():
    with pytest.raises(ValueError):
        QuickSelect(choices=[("Группа", [(1, "a")])]).render("x", None)
