"""The leads panel of company and contact cards (registered into crm.cards by LeadsConfig.ready)."""

from __future__ import annotations

from crm.cards import Panel, register

from . import selectors


@register
def leads_panel(user, record) -> Panel | None:
    leads = selectors.leads_of(user, record)
    return None if leads is None else Panel("leads/_card_panel.html", {"leads": leads}, order=20)
