"""The only ways companies and contacts change (conversion finds existing ones in clients.selectors)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts import access
from accounts.models import Action
from crm import deletion, phones, timeline, websites
from crm.models import Communication

from .models import Company, Contact

Kind = timeline.Kind
PHONE, EMAIL = Communication.Kind.PHONE, Communication.Kind.EMAIL


class ClientError(Exception):
    """A refusal with a message for the manager (in Russian)."""


class InnTaken(ClientError):
    """The ИНН belongs to another company already: the form puts this on its ИНН field."""


def _normalise(items) -> list[tuple[str, str, str, str]]:
    """(kind, type, value, ext) with phones in E.164 and e-mails lower-cased; empty ones dropped."""
    result = []
    for kind, type_, value, ext in items:
        value = (value or "").strip()
        if not value:
            continue
        if kind == PHONE:
            try:
                value, ext = phones.normalize(value), phones.normalize_ext(ext)
            except ValidationError as exc:
                raise ClientError(" ".join(exc.messages)) from exc
        else:
            value, ext = value.lower(), ""
        result.append((kind, type_ or "work", value, ext))
    return result


def _clean_website(record) -> None:
    """Only http(s) sites or bare domains, whoever saves (a form, the conversion, an import)."""
    if hasattr(record, "website"):
        try:
            record.website = websites.clean(record.website)
        except ValidationError as exc:
            raise ClientError(" ".join(exc.messages)) from exc


def _check(record) -> None:
    """A company's or contact's own field rules, whoever writes it (a card, an import): the site
    cleaned, then the model's validation."""
    _clean_website(record)
    try:
        record.full_clean(exclude=["responsible", "niche", "client_type", "created_by"], validate_unique=False,
                          validate_constraints=False)
    except ValidationError as exc:
        raise ClientError(" ".join(m for msgs in exc.message_dict.values() for m in msgs)) from exc


def _save(record, data: dict[str, Any], communications, by, m2m=None) -> list[dict[str, Any]]:
    changes = []
    for name, value in data.items():
        if record.pk is None:
            setattr(record, name, value)
            continue
        old = getattr(record, name)
        if old != value:
            changes.append(timeline.change(name, old, value))
            setattr(record, name, value)
    _check(record)
    items = _normalise(communications) if communications is not None else None
    if items is not None:
        record.refresh_search_text([Communication(kind=k, type=t, value=v, ext=e) for k, t, v, e in items])
    else:
        record.refresh_search_text()
    record.version += 1
    try:
        with transaction.atomic():
            record.save()
    except IntegrityError as exc:
        raise InnTaken(_("Компания с таким ИНН уже есть в CRM.")) from exc
    if items is not None:
        ct = ContentType.objects.get_for_model(record)
        old = sorted((c.kind, c.type, c.value, c.ext) for c in record.communications.all())
        if old != sorted(items):
            Communication.objects.filter(content_type=ct, object_id=record.pk).delete()
            Communication.objects.bulk_create([Communication(content_type=ct, object_id=record.pk, kind=k, type=t,
                                                             value=v, ext=e) for k, t, v, e in items])
            changes.append(timeline.change("communications", [o[2] for o in old], [i[2] for i in items]))
    for name, values in (m2m or {}).items():
        getattr(record, name).set(values)
    return changes


@transaction.atomic
def company_create(*, data: dict[str, Any], communications=(), by) -> Company:
    if by is not None and not access.can_add(by, Company):
        raise PermissionDenied(_("Нет прав на создание компаний."))
    company = Company(created_by=by)
    _save(company, data, communications, by)
    timeline.log(company, Kind.CREATED, by, timeline.message(gettext_noop("Компания создана")))
    return company


@transaction.atomic
def company_update(company: Company, *, data: dict[str, Any], communications=None, by, version: int) -> Company:
    locked = Company.objects.select_for_update().get(pk=company.pk)
    if by is not None and not access.can(by, Action.CHANGE, locked):
        raise PermissionDenied(_("Нет прав на изменение этой компании."))
    if locked.version != version:
        raise ClientError(_("Компанию уже изменил другой пользователь. Обновите страницу."))
    changes = _save(locked, data, communications, by)
    if changes:
        timeline.log(locked, Kind.CHANGE, by, changes=changes)
    return locked


@transaction.atomic
def contact_create(*, data: dict[str, Any], communications=(), companies=(), by) -> Contact:
    if by is not None and not access.can_add(by, Contact):
        raise PermissionDenied(_("Нет прав на создание контактов."))
    contact = Contact(created_by=by)
    companies = list(companies)
    access.check_new_links(by, [], companies)
    _save(contact, data, communications, by, m2m={"companies": companies})
    timeline.log(contact, Kind.CREATED, by, timeline.message(gettext_noop("Контакт создан")))
    return contact


@transaction.atomic
def contact_update(contact: Contact, *, data: dict[str, Any], communications=None, companies=None, by,
                   version: int) -> Contact:
    locked = Contact.objects.select_for_update().get(pk=contact.pk)
    if by is not None and not access.can(by, Action.CHANGE, locked):
        raise PermissionDenied(_("Нет прав на изменение этого контакта."))
    if locked.version != version:
        raise ClientError(_("Контакт уже изменил другой пользователь. Обновите страницу."))
    if companies is not None:
        # `companies` is what the user chose among those he sees: new links must be visible to
        # him, and the links he cannot see stay (his form never showed them).
        current = list(locked.companies.all())
        access.check_new_links(by, current, companies)
        companies = access.keep_hidden_links(by, current, companies)
    changes = _save(locked, data, communications, by, m2m=None if companies is None else {"companies": companies})
    if changes:
        timeline.log(locked, Kind.CHANGE, by, changes=changes)
    return locked


def contact_link_company(contact: Contact, company: Company, *, by) -> Contact:
    """Conversion links the contact it reuses to the lead's company: a change of the contact, so
    only by a user who may change it, and recorded in its history."""
    if by is not None and not access.can(by, Action.CHANGE, contact):
        raise PermissionDenied(_("Нет прав на изменение этого контакта."))
    before = set(contact.companies.all())
    access.check_new_links(by, before, [company])  # as every other link edit: not to a company he cannot see
    if company not in before:
        contact.companies.add(company)
        timeline.log(contact, Kind.CHANGE, by, changes=[timeline.change("companies", before, before | {company})])
    return contact


@transaction.atomic
def company_delete(company: Company, *, by):
    """Delete a company for good. Refused while deals are attached to it (Deal.company is
    PROTECT: a deal without its client loses its meaning; the manager moves or deletes the deals
    first); leads made from it keep their own copy of its requisites and lose only the link;
    contacts stay, unlinked. Returns the DeletionRecord; raises PermissionDenied or
    DeletionRefused."""
    locked = Company.objects.select_for_update().get(pk=company.pk)
    return deletion.delete_record(locked, by=by, title=locked.name, related=list(locked.contacts.all()))


@transaction.atomic
def contact_delete(contact: Contact, *, by):
    """Delete a contact for good: deals and companies lose it from their contacts (a deal keeps
    its company), leads keep their own copy of the person and lose only the link. Returns the
    DeletionRecord; raises PermissionDenied or DeletionRefused."""
    locked = Contact.objects.select_for_update().get(pk=contact.pk)
    return deletion.delete_record(locked, by=by, title=locked.full_name, related=list(locked.companies.all()))


# --- Imports (exchange.importers): many new companies or contacts at once, held to the same rules ---

@dataclass
class ImportItem:
    """One new company or contact of an import: its fields, phones and e-mails as (kind, type,
    value, ext) and, for a contact, its companies. The service fills `record` (created) or `error`
    (refused, nothing written)."""

    row: int
    data: dict[str, Any]
    communications: list[tuple[str, str, str, str]] = field(default_factory=list)
    companies: list[Company] = field(default_factory=list)
    record: Company | Contact | None = None
    error: str = ""


def _import_prepare(model, item: ImportItem, by, inns: set[str]) -> Company | Contact:
    """What `_save` checks for a new record (the site, the model's own validation, phones and
    e-mails normalised), without saving; the search columns are derived here, as save() would."""
    from crm.duplicates import company_key

    record = model(**item.data, created_by=by)
    _check(record)
    items = _normalise(item.communications)
    item.communications = items
    record.refresh_search_text([Communication(kind=k, type=t, value=v, ext=e) for k, t, v, e in items])
    if model is Company:
        record.company_key = company_key(record.name)
        if record.inn and record.inn in inns:
            raise InnTaken(_("Компания с таким ИНН уже есть в CRM."))
        if record.inn:
            inns.add(record.inn)
    if item.companies:
        access.check_new_links(by, [], item.companies)
    return record


def clients_import(model, items: list[ImportItem], *, by, source: str) -> list:
    """Create the companies or contacts (`model`) of `items` at once (an import's batch): each is
    validated as `company_create`/`contact_create` validate, then the valid ones are written with
    one insert per table — records, phones and e-mails, a contact's companies, the history
    («Импорт: file.csv») — in one transaction. An invalid item gets its `error` and is left out."""
    if by is not None and not access.can_add(by, model):
        for item in items:
            item.error = (_("Нет прав на создание компаний.") if model is Company
                          else _("Нет прав на создание контактов."))
        return []
    inns = set()
    if model is Company:
        wanted = {item.data.get("inn") for item in items if item.data.get("inn")}
        inns = set(Company.objects.filter(inn__in=wanted).values_list("inn", flat=True)) if wanted else set()
    valid = []
    for item in items:
        try:
            item.record = _import_prepare(model, item, by, inns)
        except (ClientError, PermissionDenied) as exc:
            item.error, item.record = str(exc), None
            continue
        valid.append(item)
    return _import_write(model, valid, by=by, source=source)


def _import_write(model, items: list[ImportItem], *, by, source: str) -> list:
    """The batch in one go; a batch the database refuses is written row by row, so only the bad
    row is left out."""
    from django.db import DatabaseError

    try:
        with transaction.atomic():
            return _import_insert(model, items, by=by, source=source)
    except DatabaseError:
        if len(items) == 1:
            items[0].error, items[0].record = _("Запись отклонена базой данных."), None
            return []
    created = []
    for item in items:
        created += _import_write(model, [item], by=by, source=source)
    return created


def _import_insert(model, items: list[ImportItem], *, by, source: str) -> list:
    records = model.objects.bulk_create([item.record for item in items])
    ct = ContentType.objects.get_for_model(model)
    Communication.objects.bulk_create([
        Communication(content_type=ct, object_id=item.record.pk, kind=k, type=t, value=v, ext=e)
        for item in items for k, t, v, e in item.communications])
    if model is Contact:
        through = Contact.companies.through
        through.objects.bulk_create([through(contact_id=item.record.pk, company_id=company.pk)
                                     for item in items for company in item.companies])
    timeline.log_many(records, Kind.CREATED, by, timeline.message(gettext_noop("Импорт: %(file)s"), file=source))
    return records


@transaction.atomic
def contact_link_companies(contact: Contact, companies, *, by) -> bool:
    """An import's contact row names its companies: those it is not linked to yet are added (links
    the file does not name stay), with one history line. Returns whether any was added."""
    if by is not None and not access.can(by, Action.CHANGE, contact):
        raise PermissionDenied(_("Нет прав на изменение этого контакта."))
    before = set(contact.companies.all())
    new = [company for company in companies if company not in before]
    if not new:
        return False
    access.check_new_links(by, before, new)
    contact.companies.add(*new)
    timeline.log(contact, Kind.CHANGE, by, changes=[timeline.change("companies", before, before | set(new))])
    return True
