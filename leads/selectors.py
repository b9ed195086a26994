"""Querysets for pages: each page costs a fixed number of queries, whatever the rows."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts import access
from accounts.models import Action

from .models import Lead

# What a row of a list or a kanban card shows.
ROW_RELATED = ("source", "responsible", "niche", "client_type", "crm_system")


def visible_leads(user, action: str = Action.VIEW, owner_index: bool = True) -> QuerySet[Lead]:
    """The one entry point for lead querysets in views: the access gate applied (see
    accounts.access.scope for `owner_index`)."""
    return access.scope(user, Lead.objects.all(), action, owner_index=owner_index)


def lead_for_card(user, pk, action: str = Action.VIEW) -> Lead:
    queryset = Lead.objects.select_related(
        *ROW_RELATED, "responsible__department", "sales_channel", "junk_reason", "created_by", "company", "contact"
    ).prefetch_related("products_to_sell", "used_products")
    return access.get_or_404(user, queryset, action, pk=pk)
