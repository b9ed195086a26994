"""The «Экспорт» menu of the lists: `{% export_menu "lead" %}` (CSV / Excel), carrying the list's
current filters and order, shown only to a user with the export right for those records."""

from django import template
from django.urls import reverse

from exchange import exports

register = template.Library()


@register.inclusion_tag("exchange/_export_menu.html", takes_context=True)
def export_menu(context, entity: str) -> dict:
    request = context["request"]
    if not exports.may_export(request.user, entity):
        return {"show": False}
    query = exports.filter_params(request.GET).urlencode()
    base = reverse("exchange:export", args=[entity]) + "?" + (f"{query}&" if query else "")
    return {"show": True, "entity": entity, "csv_url": f"{base}format=csv", "xlsx_url": f"{base}format=xlsx"}
