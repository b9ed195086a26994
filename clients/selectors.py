"""Querysets for the companies and contacts pages: every one starts at the access gate, and each
page costs a fixed number of queries whatever the rows (communications and companies are
prefetched, never read row by row)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.contrib.contenttypes.models import ContentType
from django.db.models import Model, Prefetch, Q, QuerySet, prefetch_related_objects
from django.http import Http404
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from accounts import access
from accounts.models import Action, User
from crm import duplicates as dup
from crm import phones, references
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


def inn_taken(inn: str, exclude_pk: int | None = None) -> bool:
    """Whether another company has this ИНН. ИНН is unique among companies (a database
    constraint), so the form says so in words before the database refuses; this tells only that
    the number is taken, never whose company it is."""
    return Company.objects.filter(inn=inn).exclude(pk=exclude_pk).exists()


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


def _for_card(user: User, queryset: QuerySet, pk, action: str):
    """A card's record: the row by its key, then the gate's answer for the loaded record
    (access.can, the same rules as access.scope) — one record needs no access condition built
    into its query; not seen or not there: the same 404."""
    record = queryset.filter(pk=pk).first()
    if record is None or not access.can(user, action, record):
        raise Http404
    return record


def company_for_card(user: User, pk, action: str = Action.VIEW) -> Company:
    company = _for_card(user, Company.objects.select_related("responsible"), pk, action)
    prefetch_related_objects([company], communications_prefetch())
    # Its niche and client type apart from the row (crm.references: fewer tables to plan).
    references.attach([company], ("niche", "client_type"))
    decorate([company])
    return company


def contact_for_card(user: User, pk, action: str = Action.VIEW) -> Contact:
    contact = _for_card(user, Contact.objects.select_related(*CONTACT_ROW_RELATED), pk, action)
    prefetch_related_objects([contact], communications_prefetch(),
                             Prefetch("companies", queryset=Company.objects.order_by("name")))
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
    # None at all (most records' leads, say): no list to read. Reading it anyway cost SQLite
    # 190 ms on a company card at 100 000 leads: with no statistics to say the company's index
    # finds nothing, it walked the whole date index for the first 50.
    shown = list(access.scope(user, queryset).select_related(*related)[:CARD_LIMIT]) if total else []
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


# --- Duplicates (crm.duplicates: what the lead, company and contact forms warn about) ---

def _card_url(name: str, pk: int) -> str:
    try:
        return reverse(name, args=[pk])
    except NoReverseMatch:
        return ""


def _by_communication(model, probe: dup.Probe) -> dict[int, list[str]]:
    """Record id → why it matches («телефон», «e-mail») for the probe's phones and e-mails."""
    reasons: dict[int, list[str]] = {}
    ct = ContentType.objects.get_for_model(model)
    condition = Q()
    if probe.phones:
        condition |= Q(kind=Communication.Kind.PHONE, value__in=probe.phones)
    if probe.emails:
        condition |= Q(kind=Communication.Kind.EMAIL, value__in=probe.emails)
    if condition:
        for object_id, kind in Communication.objects.filter(condition, content_type=ct).values_list("object_id", "kind"):
            reason = _("телефон") if kind == Communication.Kind.PHONE else _("e-mail")
            if reason not in reasons.setdefault(object_id, []):
                reasons[object_id].append(reason)
    return reasons


def duplicate_companies(user: User, probe: dup.Probe) -> list[dup.Match]:
    reasons = _by_communication(Company, probe)
    condition = Q(pk__in=list(reasons))
    if probe.inn:
        condition |= Q(inn=probe.inn)
    key = probe.company_key
    if len(key) >= 3:
        condition |= Q(company_key=key)
    found = dup.candidates(user, Company.objects.filter(condition)).select_related("responsible__department")
    if probe.exclude and probe.exclude[0] == "company":
        found = found.exclude(pk=probe.exclude[1])
    matches = []
    for company in found.order_by("pk")[:20]:
        why = list(reasons.get(company.pk, []))
        if probe.inn and company.inn == probe.inn:
            why.append(_("ИНН"))
        if len(key) >= 3 and company.company_key == key:
            why.append(_("название компании"))
        m = dup.match(user, company, kind=_("Компания"), title=company.name,
                      url=_card_url("clients:company_detail", company.pk), reasons=why)
        if m is not None:
            matches.append(m)
    return matches


def duplicate_contacts(user: User, probe: dup.Probe) -> list[dup.Match]:
    reasons = _by_communication(Contact, probe)
    if not reasons:
        return []
    found = dup.candidates(user, Contact.objects.filter(pk__in=list(reasons))).select_related("responsible__department")
    if probe.exclude and probe.exclude[0] == "contact":
        found = found.exclude(pk=probe.exclude[1])
    matches = [dup.match(user, c, kind=_("Контакт"), title=c.full_name, url=_card_url("clients:contact_detail", c.pk),
                         reasons=reasons[c.pk]) for c in found.order_by("pk")[:20]]
    return [m for m in matches if m is not None]


# --- Conversion: which existing company or contact a lead's conversion reuses ---

@dataclass
class Existing:
    """What conversion finds for one kind of record. `record` is the one it reuses: the user may
    see and change it (linking a company to a contact changes the contact; a deal on a company
    changes what the company's card shows). `others` match too but may not be reused by this
    user: conversion creates a new record and flags them as its possible duplicates."""

    record: Company | Contact | None = None
    others: list = field(default_factory=list)
    reason: str = ""


def _reusable(user: User | None, queryset: QuerySet) -> QuerySet:
    if user is None:  # a system call (a command): no user to hide anything from
        return queryset
    return access.scope(user, access.scope(user, queryset), Action.CHANGE)


def _existing(user: User | None, queryset: QuerySet, reason: str) -> Existing:
    queryset = queryset.select_related("responsible__department").order_by("pk")
    record = _reusable(user, queryset).first()
    if record is not None:
        return Existing(record=record, reason=reason)
    return Existing(others=list(queryset[:5]), reason=reason)


def conversion_company(user: User | None, *, inn: str = "", name: str = "", phones_e164=()) -> Existing:
    """The company a lead's conversion would reuse: by ИНН; else by the same name (legal form and
    quotes aside) together with one of the phones. The preview and the service both ask this."""
    if inn and Company.objects.filter(inn=inn).exists():
        return _existing(user, Company.objects.filter(inn=inn), _("ИНН"))
    key = dup.company_key(name)
    phones_e164 = [p for p in phones_e164 if p]
    if key and phones_e164:
        ids = Communication.objects.filter(content_type=ContentType.objects.get_for_model(Company),
                                           kind=Communication.Kind.PHONE, value__in=phones_e164).values("object_id")
        queryset = Company.objects.filter(company_key=key, pk__in=ids)
        if queryset.exists():
            return _existing(user, queryset, _("название компании и телефон"))
    return Existing()


def conversion_contact(user: User | None, *, phones_e164=(), emails=()) -> Existing:
    """The contact a lead's conversion would reuse: by phone, else by e-mail."""
    ct = ContentType.objects.get_for_model(Contact)
    for kind, values, reason in ((Communication.Kind.PHONE, [p for p in phones_e164 if p], _("телефон")),
                                 (Communication.Kind.EMAIL, [e.lower() for e in emails if e], _("e-mail"))):
        if not values:
            continue
        ids = Communication.objects.filter(content_type=ct, kind=kind, value__in=values).values("object_id")
        queryset = Contact.objects.filter(pk__in=ids)
        if queryset.exists():
            return _existing(user, queryset, reason)
    return Existing()


def import_candidates(user: User, model: type[Company] | type[Contact]) -> QuerySet:
    """Where an import looks for the companies or contacts its rows repeat (exchange.importers):
    where the duplicate check of the form looks (crm.duplicates.candidates). A re-run compares each
    match's phones and e-mails (and a contact's companies): they come with it."""
    related = ["communications"] + (["companies"] if model is Contact else [])
    return dup.candidates(user, model.objects.all()).prefetch_related(*related)


# --- The REST API (rest/methods/crm_clients.py): what its filters and dictionaries read ---

def communication_condition(model: type[Company] | type[Contact], kind: str, values: list[str],
                            contains: bool = False) -> Q:
    """For filtering companies or contacts: «has one of these phones (E.164) / e-mails», or one
    containing the text (`contains`, a single value). A subquery, so a record with two matching
    phones is still one row."""
    found = Communication.objects.filter(content_type=ContentType.objects.get_for_model(model), kind=kind)
    found = found.filter(value__icontains=values[0]) if contains else found.filter(value__in=values)
    return Q(pk__in=found.values("object_id"))


def reference_items(name: str) -> QuerySet:
    """The values of a company's reference list («Niche», «ClientType»), retired ones too (old
    records keep them), in the lists' order."""
    from crm.models import ClientType, Niche

    return {"Niche": Niche, "ClientType": ClientType}[name].objects.order_by("sort", "name")


def company_link_condition(company_ids: list[int]) -> Q:
    """For filtering contacts: «linked to one of these companies» (none given: «to no company»)."""
    links = Contact.companies.through.objects
    if not company_ids:
        return ~Q(pk__in=links.values("contact_id"))
    return Q(pk__in=links.filter(company_id__in=company_ids).values("contact_id"))


def company_ids_of(contact: Contact) -> Q:
    """For filtering companies: «linked to this contact»."""
    return Q(pk__in=Contact.companies.through.objects.filter(contact_id=contact.pk).values("company_id"))
