"""«Мой день» of a head of sales: a few figures of the reports (analytics.selectors.day_numbers),
each linking to its report — a panel registered in crm.day, so the tasks app never imports
analytics, and fetched by htmx after the day page loads, so the page pays none of its queries."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET

from crm.day import Panel, register_panel
from crm.money import format_number

from . import selectors


def placeholder() -> str:
    """The panel as it will look, with its labels and without its values: what the page shows
    until they come, so that the day's sections below do not move under the head's cursor."""
    return render_to_string("analytics/_day_numbers.html", {"labels": selectors.DAY_LABELS, "loading": True})


register_panel(Panel(url_name="analytics:day_numbers", check=selectors.can_view_reports, placeholder=placeholder))


@require_GET
def day_numbers(request: HttpRequest) -> HttpResponse:
    """The panel's partial; empty for whoever may not open the reports."""
    if not selectors.can_view_reports(request.user):
        return HttpResponse("")
    numbers = [(label, value if isinstance(value, str) else format_number(value), url)
               for label, value, url in selectors.day_numbers(request.user)]
    return render(request, "analytics/_day_numbers.html", {"numbers": numbers})
