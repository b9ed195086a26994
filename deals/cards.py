"""The deals panel of company and contact cards (registered into crm.cards by DealsConfig.ready)."""

from __future__ import annotations

from django.urls import reverse

from clients.models import Company
from crm.cards import Panel, register

from . import selectors


@register
def deals_panel(user, record) -> Panel | None:
    deals = selectors.deals_of(user, record)
    if deals is None:
        return None
    # A company's deals have a filter of their own in the deals list; a contact's do not.
    list_url = (f"{reverse('deals:list')}?company={record.pk}"
                if isinstance(record, Company) and deals["total"] else "")
    return Panel("deals/_card_panel.html", {"deals": deals, "list_url": list_url}, order=10)
