"""Querysets for the companies and contacts pages: every one starts at the access gate, and each
page costs a fixed number of queries whatever the rows (communications and companies are
prefetched, never read row by row)."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Model, Prefetch, QuerySet, prefetch_related_objects
from django.urls import NoReverseMatch

from accounts import access
from accounts.models import Action, User
from crm import phones
from crm.models import Communication

from .models import Company, Contact

COMPANY_ROW_RELATED = ("responsible", "niche", "client_type")
CONTACT_ROW_RELATED = ("responsible",)
# How many linked records a card lists (a company with thousands of deals is an account, not a card).
CARD_LIMIT = 50


def communications_prefetch() -> Prefetch:
    # Phones first, then e-mails, each in the order entered (as the form shows them).
    return Prefetch("communications", queryset=Communication.objects.order_by("-kind", "pk"))


def visible_companies(user: User, action: str = Action.VIEW) -> QuerySet[Company]:
    """The one entry point for company querysets in views: the access gate applied."""
    return access.scope(user, Company.objects.all(), action)


def visible_contacts(user: User, action: str = Action.VIEW) -> QuerySet[Contact]:
    return access.scope(user, Contact.objects.all(), action)


def decorate(records: Iterable[Company | Contact]) -> None:
    """Phones and e-mails of each record in the order shown, phones in the Russian format. Reads
    the prefetched communications only."""
    for record in records:
        items = list(record.communications.all())
        record.phone_list = [
            {"value": c.value, "display": phones.display(c.value), "type": c.get_type_display(), "ext": c.ext}
            for c in items if c.kind == Communication.Kind.PHONE
        ]
        record.email_list = [
            {"value": c.value, "type": c.get_type_display()} for c in items if c.kind == Communication.Kind.EMAIL
        ]


def company_rows(ids: list[int]) -> list[Company]:
    """The rows of one list page, in the order of `ids` (already access-checked and sorted)."""
    rows = (Company.objects.select_related(*COMPANY_ROW_RELATED)
            .prefetch_related(communications_prefetch()).in_bulk(ids))
    companies = [rows[pk] for pk in ids if pk in rows]
    decorate(companies)
    return companies


def contact_rows(user: User, ids: list[int]) -> list[Contact]:
    """The rows of one contacts page with their companies; a company the user may not open is
    named without a link (one query tells which of them are visible)."""
    rows = (Contact.objects.select_related(*CONTACT_ROW_RELATED)
            .prefetch_related(communications_prefetch(), Prefetch("companies", queryset=Company.objects.order_by("name")))
            .in_bulk(ids))
    contacts = [rows[pk] for pk in ids if pk in rows]
    decorate(contacts)
    mark_visible_companies(user, contacts)
    return contacts


def mark_visible_companies(user: User, contacts: list[Contact]) -> None:
    company_ids = {c.pk for contact in contacts for c in contact.companies.all()}
    visible = set(visible_companies(user).filter(pk__in=company_ids).values_list("pk", flat=True)) if company_ids else set()
    for contact in contacts:
        contact.company_list = [{"company": c, "can_open": c.pk in visible} for c in contact.companies.all()]


def company_for_card(user: User, pk, action: str = Action.VIEW) -> Company:
    queryset = Company.objects.select_related(
        *COMPANY_ROW_RELATED, "responsible__department", "created_by"
    ).prefetch_related(communications_prefetch())
    company = access.get_or_404(user, queryset, action, pk=pk)
    decorate([company])
    return company


def contact_for_card(user: User, pk, action: str = Action.VIEW) -> Contact:
    queryset = Contact.objects.select_related(
        *CONTACT_ROW_RELATED, "responsible__department", "created_by"
    ).prefetch_related(communications_prefetch(), Prefetch("companies", queryset=Company.objects.order_by("name")))
    contact = access.get_or_404(user, queryset, action, pk=pk)
    decorate([contact])
    return contact


def _url(record: Model) -> str:
    # A module that is not built yet (e.g. the deal card) leaves the title without a link.
    try:
        return record.get_absolute_url()
    except NoReverseMatch:
        return ""


def linked(user: User, queryset: QuerySet, related: tuple[str, ...] = ()) -> dict:
    """The records of a card's related list that the user may see (through the gate), and how many
    more there are that the user may not see. Also used by the panels leads and deals register
    on the cards (crm.cards)."""
    total = queryset.count()
    shown = list(access.scope(user, queryset).select_related(*related)[:CARD_LIMIT])
    for record in shown:
        record.card_url = _url(record)
    return {"items": shown, "hidden": max(total - len(shown), 0) if len(shown) < CARD_LIMIT else 0,
            "more": total > CARD_LIMIT and len(shown) == CARD_LIMIT, "total": total}


def contacts_of(user: User, company: Company) -> dict:
    result = linked(user, company.contacts.order_by("last_name", "first_name", "pk"), ("responsible",))
    contacts = result["items"]
    if contacts:
        # One query for the communications of all shown contacts.
        prefetch_related_objects(contacts, communications_prefetch())
        decorate(contacts)
    return result
