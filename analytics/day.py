"""«Мой день» of a head of sales: a few figures of the reports (analytics.selectors.day_numbers),
each linking to its report. Registered in crm.day, so the tasks app never imports analytics;
nothing (and no query past the access check) for whoever may not open the reports."""

from __future__ import annotations

from crm.day import register_numbers
from crm.money import format_number

from . import selectors


@register_numbers
def head_numbers(user) -> list[tuple]:
    if not selectors.can_view_reports(user):
        return []
    return [(label, value if isinstance(value, str) else format_number(value), url)
            for label, value, url in selectors.day_numbers(user)]
