"""Querysets for pages: each page costs a fixed number of queries, whatever the rows."""

from __future__ import annotations

from difflib import SequenceMatcher

from django.contrib.contenttypes.models import ContentType
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts import access
from accounts.models import Action
from clients.selectors import linked
from crm import boards, lists, references
from crm import duplicates as dup
from crm.lists import search_condition
from crm.models import TimelineEntry

from .models import Lead

# What a row of the list shows of other tables, and of the lead's own columns (the others — the
# search text, the comment, the requisites — are not read for a page of fifty).
ROW_RELATED = ("source", "responsible")
ROW_FIELDS = ("title", "contact_last_name", "contact_first_name", "contact_middle_name", "company_name",
              "company_phone", "status", "amount", "currency", "created_at", "updated_at", *ROW_RELATED)


def visible_leads(user, action: str = Action.VIEW, owner_index: bool = True) -> QuerySet[Lead]:
    """The one entry point for lead querysets in views: the access gate applied (see
    accounts.access.scope for `owner_index`)."""
    return access.scope(user, Lead.objects.all(), action, owner_index=owner_index)


# The reference lists a card shows, read apart from the lead's row (crm.references: joined,
# they made PostgreSQL plan a 12-table query for longer than all the rest of the card's SQL).
CARD_REFERENCES = ("source", "niche", "client_type", "crm_system", "sales_channel", "junk_reason",
                   "products_to_sell", "used_products")


def lead_for_card(user, pk, action: str = Action.VIEW) -> Lead:
    # The row by its key, then the gate's answer for the loaded lead (access.can, the same rules
    # as access.scope): one record needs no access condition built into its query. Not seen or
    # not there: the same 404.
    # has_deals: most leads have none, and then linked_records asks for none.
    lead = (Lead.objects.select_related("responsible", "company", "contact").filter(pk=pk)
            .annotate(has_deals=Exists(Lead.deals.rel.related_model.objects.filter(lead=OuterRef("pk")))).first())
    if lead is None or not access.can(user, action, lead):
        raise Http404
    references.attach([lead], CARD_REFERENCES)
    return lead


def linked_records(user, lead: Lead) -> dict:
    """What the lead was converted into, as far as the user may see it: the company, contact and
    deals he may open, and for the rest only that they exist (an owner of the lead may not see
    a deal moved to a pipeline he has no rights in, nor a company handed over to another team)."""
    company = lead.company if lead.company_id and access.can(user, Action.VIEW, lead.company) else None
    contact = lead.contact if lead.contact_id and access.can(user, Action.VIEW, lead.contact) else None
    # A lead has a deal or two (its conversion's): read them all in one plain query and ask the
    # gate about each loaded deal, rather than a gated query plus a count of the rest.
    every_deal = list(lead.deals.order_by("pk")) if getattr(lead, "has_deals", True) else []
    deals = [deal for deal in every_deal if access.can(user, Action.VIEW, deal)]
    hidden_deals = len(every_deal) - len(deals)
    return {
        "company": company, "company_hidden": bool(lead.company_id and company is None),
        "contact": contact, "contact_hidden": bool(lead.contact_id and contact is None),
        "deals": deals, "deals_hidden": hidden_deals,
        "any": bool(lead.company_id or lead.contact_id or deals or hidden_deals),
    }


# --- Duplicates (crm.duplicates: same phone, e-mail, ИНН or a very similar company name) ---

SIMILAR = 0.85


def _similar(a: str, b: str) -> bool:
    return a == b or SequenceMatcher(None, a, b).ratio() >= SIMILAR


def duplicate_leads(user, probe: dup.Probe) -> list[dup.Match]:
    condition = Q()
    if probe.phones:
        condition |= Q(company_phone__in=probe.phones) | Q(contact_phone__in=probe.phones)
    if probe.emails:
        # Both sides are lower-case (Lead.derive_search_fields, Probe): an exact lookup the e-mail indexes serve.
        condition |= Q(company_email__in=probe.emails) | Q(contact_email__in=probe.emails)
    if probe.inn:
        condition |= Q(inn=probe.inn)
    key = probe.company_key
    if len(key) >= 3:
        # Candidates share the first word; the similarity check below decides.
        condition |= Q(company_key__startswith=key.split()[0])
    if not condition:
        return []
    found = (dup.candidates(user, Lead.objects.filter(condition))
             .select_related("responsible__department").order_by("-created_at"))
    if probe.exclude and probe.exclude[0] == "lead":
        found = found.exclude(pk=probe.exclude[1])
    matches = []
    for lead in found[:50]:
        reasons = []
        if probe.phones and {lead.company_phone, lead.contact_phone} & set(probe.phones):
            reasons.append(_("телефон"))
        if probe.emails and {lead.company_email.lower(), lead.contact_email.lower()} & set(probe.emails):
            reasons.append(_("e-mail"))
        if probe.inn and lead.inn == probe.inn:
            reasons.append(_("ИНН"))
        if len(key) >= 3 and _similar(key, lead.company_key):
            reasons.append(_("название компании"))
        if reasons:
            m = dup.match(user, lead, kind=_("Лид"), title=f"{lead.title} ({lead.company_name})",
                          url=reverse("leads:detail", args=[lead.pk]), reasons=reasons)
            if m is not None:
                matches.append(m)
    return matches


def list_rows(user, page, known: dict[str, dict] | None = None) -> list[Lead]:
    """The rows of one page of the leads list (its ids already gated, filtered and sorted), in
    the page's order, with what a row shows: its source and responsible taken from `known`
    (field → {pk: object}, what the filter panel read) or read for the page (crm.lists.attach)."""
    rows = lists.rows_of(visible_leads(user).only(*ROW_FIELDS), page)
    for field in ROW_RELATED:
        lists.attach(rows, field, (known or {}).get(field, {}))
    return rows


# --- The kanban board ---

def board_leads(user, owners: lists.Owners, filters: dict, owner_index: bool = False) -> QuerySet[Lead]:
    """The leads on this user's board: through the access gate, then the board's filters (crm.boards
    validated them). Columns read their first cards in date order: the gate leaves the (status,
    date) index to the database (owner_index=False); the totals, which read every visible lead,
    keep the owner index (the covering totals index has the owner column)."""
    visible = visible_leads(user, owner_index=owner_index)
    return boards.narrow(visible, owners, filters, lambda query: lists.search(
        visible, search_condition(query), lists.email_condition(query, Lead.EMAIL_FIELDS)))


# What a kanban card shows besides the lead's own columns (its responsible's short name): the
# fewer the joins, the cheaper the plan of the board's one cards query.
CARD_RELATED = ("responsible",)


def board_column(leads: QuerySet[Lead], status: str) -> QuerySet[Lead]:
    """One column of `leads` (a board_leads queryset), newest first, with what a card shows."""
    return leads.filter(status=status).select_related(*CARD_RELATED).order_by("-created_at", "-pk")


def board_first_pages(leads: QuerySet[Lead], statuses: list, limit: int) -> dict:
    """The first `limit` cards of each of `statuses` (columns of a board_leads queryset) and each
    one's next cursor, in one query (crm.boards.first_pages)."""
    return boards.first_pages(leads, "status", statuses, limit, CARD_RELATED)


# --- The leads panel of company and contact cards (leads.cards) ---

def leads_of(user, record) -> dict | None:
    """The leads of a company or a contact card that the user may see, each with its pinned
    comment (the «Разведка» summary, PROCESS.md §1.5: visible from what the lead was converted
    into) — one query for all of them; None for another kind of record."""
    link = {"company": "company", "contact": "contact"}.get(record._meta.model_name)
    if link is None:
        return None
    queryset = Lead.objects.filter(**{link: record.pk}).order_by("-created_at", "-pk")
    result = linked(user, queryset, ("responsible",))
    leads = result["items"]
    if leads:
        pinned = dict(TimelineEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(Lead), object_id__in=[lead.pk for lead in leads],
            is_pinned=True).values_list("object_id", "text"))
        for lead in leads:
            lead.pinned_text = pinned.get(lead.pk, "")
    return result


def import_candidates(user) -> QuerySet[Lead]:
    """Where an import looks for the leads its rows repeat (exchange.importers): where the duplicate
    check of the form looks — every lead for a user who may add leads (one he may not see is then
    reported only as «Такой клиент уже есть в CRM у …»), else those he sees."""
    return dup.candidates(user, Lead.objects.all())
