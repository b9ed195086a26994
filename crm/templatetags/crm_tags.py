import html

from django import template
from django.conf import settings

from crm import lists
from crm.requisites import REQUISITES_FIELDS

register = template.Library()


@register.simple_tag
def dadata_configured() -> bool:
    """Whether «Заполнить по ИНН» can work (DADATA_API_KEY is set)."""
    return bool((getattr(settings, "DADATA_API_KEY", "") or "").strip())


@register.simple_tag
def requisites_required(form=None) -> str:
    """Comma-separated names of the requisites fields that `form` requires, for the partial to keep
    their asterisks after it swaps the inputs."""
    fields = getattr(form, "fields", None) or {}
    return ",".join(name for name in REQUISITES_FIELDS if name in fields and fields[name].required)


@register.filter
def panel_widget(field) -> str:
    """A filter panel's field as HTML, a select rendered once for the same choices and value (crm.lists)."""
    return lists.panel_widget(field)


def esc(value) -> str:
    """Django's conditional_escape (what `{{ value }}` prints) without its lazy-string wrapper,
    which cost more than the escaping: a value with __html__ (safe) as it is, any other escaped."""
    if hasattr(value, "__html__"):
        return value.__html__()
    return html.escape(str(value))


def marks_html(record) -> str:
    """A list row's marks (crm.lists.Mark, set by crm.lists.add_marks) as escaped HTML, for the
    rows built in Python (leads.templatetags.leads_list, deals.templatetags.deals_list)."""
    return "".join(f'<div class="small {esc(mark.css)}" title="{esc(mark.title)}" data-testid="{esc(mark.testid)}">'
                   f'{esc(mark.text)}</div>' for mark in getattr(record, "marks", ()))
