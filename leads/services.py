"""The only ways a lead changes. Views, the kanban, bulk actions, the admin and commands call
these; none of them sets fields or the status on their own."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django_fsm import can_proceed

from accounts import access
from accounts.models import Action, Entity, Level
from crm import deletion, hooks, phones, tallies, timeline, websites
from crm import duplicates as dup
from crm.requirements import Requirement
from notifications import services as notifications

from .models import CLOSED, IN_PROCESS, Lead, Status
from .requirements import missing_for, rules_by_status

Kind = timeline.Kind

TRANSITIONS = {
    Status.NEW: "to_new",
    Status.FIRST_CALL: "to_first_call",
    Status.QUALIFICATION: "to_qualification",
    Status.RECONNAISSANCE: "to_reconnaissance",
    Status.DECISION_MAKER: "to_decision_maker",
    Status.CONVERTED: "to_converted",
    Status.JUNK: "to_junk",
}


class LeadError(Exception):
    """A refusal with a message for the manager (in Russian)."""


class MissingFields(LeadError):
    def __init__(self, lead: Lead, target: str, requirements: list[Requirement]):
        self.lead, self.target, self.requirements = lead, target, requirements
        super().__init__(_("Для изменения статуса лида заполните обязательные поля: %(fields)s.")
                         % {"fields": ", ".join(r.label for r in requirements)})


class StaleEdit(LeadError):
    def __init__(self):
        super().__init__(_("Лид уже изменил другой пользователь. Обновите страницу: ваши изменения не сохранены, "
                           "чтобы не затереть чужие."))


def is_supervisor(user) -> bool:
    """Supervisors (the head of sales, CRM administrators) see beyond their own leads; they alone
    return closed leads to work."""
    return access.level(user, Entity.LEAD, Action.CHANGE) >= Level.DEPARTMENT or user.has_perm("leads.reopen_lead")


def _check_can_change(lead: Lead, by) -> None:
    if by is not None and not access.can(by, Action.CHANGE, lead):
        raise PermissionDenied(_("Нет прав на изменение этого лида."))


class InvalidData(LeadError):
    """Values no form checked (an import, a script): the same validation the forms do."""


_NOT_CLEANED = ("status", "company_phone", "contact_phone", "responsible", "source", "created_by")


@functools.cache
def _defaults_that_pass() -> frozenset[str]:
    """The fields whose default value passes the field's own checks — all of them but those with
    no valid default. A field's checks see only its value, so a new lead that leaves such a field
    at its default passes it every time: an import checks it once, here, not on every row."""
    lead = Lead()
    try:
        lead.clean_fields(exclude=_NOT_CLEANED)
    except ValidationError as exc:
        failing = set(exc.message_dict)
    else:
        failing = set()
    return frozenset(f.name for f in Lead._meta.concrete_fields if f.name not in failing)


def _validate(lead: Lead, m2m: dict[str, Any] | None, *, only: set[str] | None = None) -> None:
    """The lead's own field rules, whoever calls: phones normalised, the extension digits, the
    website an http(s) address or a domain, ИНН checksum, e-mails, amount ≥ 0, «Ничем не
    пользовалась» alone. Forms run the same checks first, so in the UI
    this never fires; it keeps imports and scripts from storing what a form would refuse.
    `only`: the fields a new lead was given (an import's row); the others hold their defaults, and
    those of `_defaults_that_pass` are not checked again — the same answer, without the work."""
    errors = []
    for name in ("company_phone", "contact_phone"):
        try:
            setattr(lead, name, phones.normalize(getattr(lead, name)))
        except ValidationError as exc:
            errors.extend(exc.messages)
    for name, clean in (("contact_phone_ext", phones.normalize_ext), ("company_website", websites.clean)):
        try:
            setattr(lead, name, clean(getattr(lead, name)))
        except ValidationError as exc:
            errors.extend(exc.messages)
    try:
        exclude = set(_NOT_CLEANED)
        if only is not None:
            exclude |= _defaults_that_pass() - only
        lead.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        errors.extend(f"{Lead._meta.get_field(k).verbose_name}: {m}" if k != "__all__" else m
                      for k, msgs in exc.message_dict.items() for m in msgs)
    used = list((m2m or {}).get("used_products", []))
    if len(used) > 1 and any(p.means_none for p in used):
        errors.append(_("«Ничем не пользовалась» нельзя отметить вместе с другими продуктами."))
    if errors:
        raise InvalidData(" ".join(errors))


def _apply(lead: Lead, data: dict[str, Any] | None, m2m: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Set fields on the (locked) lead; returns the changes for the history."""
    changes = []
    for name, value in (data or {}).items():
        old = getattr(lead, name)
        if old != value:
            changes.append(timeline.change(name, old, value))
            setattr(lead, name, value)
    _validate(lead, m2m)
    lead.version += 1
    lead.save()
    for name, values in (m2m or {}).items():
        manager = getattr(lead, name)
        old = set(manager.all())
        new = set(values)
        if old != new:
            manager.set(new)
            changes.append(timeline.change(name, old, new))
        # Drop a stale prefetch so the requirement checker sees the new values.
        getattr(lead, "_prefetched_objects_cache", {}).pop(name, None)
    return changes


@tallies.atomic()
def lead_create(*, data: dict[str, Any], m2m: dict[str, Any] | None = None, by, duplicates=()) -> Lead:
    """A new lead starts in «Не обработан» and must meet that status's rules. `duplicates` are
    the possible duplicates the manager saw and chose to save anyway: the timeline records it."""
    if by is not None and not access.can_add(by, Lead):
        raise PermissionDenied(_("Нет прав на создание лидов."))
    lead = Lead(**data, created_by=by)
    _validate(lead, m2m)
    lead.save()
    for name, values in (m2m or {}).items():
        getattr(lead, name).set(values)
    missing = missing_for(lead, Status.NEW)
    if missing:
        transaction.set_rollback(True)
        raise MissingFields(lead, Status.NEW, missing)
    timeline.log(lead, Kind.CREATED, by, timeline.message(gettext_noop("Лид создан")))
    notifications.assigned(lead, by)
    if lead.next_touch_date:
        hooks.touch_date_set(lead, lead.next_touch_date, by)
    hooks.moved(lead, by, "", lead.status)  # a new lead enters «Не обработан»: its rules run too
    if duplicates:
        timeline.log(lead, Kind.DUPLICATE, by, timeline.message(gettext_noop("Сохранён, несмотря на возможные дубликаты")),
                     matches=dup.as_data(duplicates))
    return lead


@tallies.atomic()
def lead_update(lead: Lead, *, data: dict[str, Any], m2m: dict[str, Any] | None = None, by, version: int,
                duplicates=()) -> Lead:
    """Save an edit made on a form that showed `version`. A newer save in between wins and this
    one is refused (StaleEdit) rather than silently overwriting it. The current status's rules
    still hold after the edit."""
    locked = Lead.objects.select_for_update().get(pk=lead.pk)
    _check_can_change(locked, by)
    if locked.version != version:
        raise StaleEdit()
    changes = _apply(locked, data, m2m)
    if locked.status in IN_PROCESS:
        missing = missing_for(locked, locked.status)
        if missing:
            transaction.set_rollback(True)
            raise MissingFields(locked, locked.status, missing)
    if changes:
        timeline.log(locked, Kind.CHANGE, by, changes=changes)
    _touch_date_followed(locked, changes, by)
    if any(c["name"] == "responsible" for c in changes):
        notifications.assigned(locked, by)
    if duplicates:
        timeline.log(locked, Kind.DUPLICATE, by, timeline.message(gettext_noop("Сохранён, несмотря на возможные дубликаты")),
                     matches=dup.as_data(duplicates))
    return locked


@tallies.atomic()
def lead_move(lead: Lead, *, to: str, by, data: dict[str, Any] | None = None, m2m: dict[str, Any] | None = None,
              pinned_comment: str = "", rules: dict[str, set[str]] | None = None, converting: bool = False) -> Lead:
    """Move a lead to status `to`, first saving `data` (the «заполните обязательные поля» form).

    Runs in a transaction on the locked row: two managers moving one lead at once are
    serialised, and the second sees the first's result. Raises MissingFields (nothing saved)
    when the target's requirements are not met, LeadError when the move is not allowed."""
    if to not in Status.values:
        raise LeadError(_("Неизвестный статус «%(to)s».") % {"to": to})
    locked = Lead.objects.select_for_update().get(pk=lead.pk)
    _check_can_change(locked, by)
    source = locked.status
    if source == to:
        return locked
    if source in CLOSED:
        if to not in IN_PROCESS:
            raise LeadError(_("Закрытый лид можно только вернуть в работу."))
        if by is not None and not is_supervisor(by):
            raise PermissionDenied(_("Вернуть закрытый лид в работу может только руководитель."))
    elif to == Status.CONVERTED and source != Status.DECISION_MAKER:
        raise LeadError(_("Лид становится «Успешным» только из статуса «Выход на ЛПР»."))
    elif to == Status.CONVERTED and not converting:
        # «Успешный» means the chosen contact/company/deal were created: only conversion sets it.
        raise LeadError(_("Лид становится «Успешным» только при конвертации в контакт, компанию или сделку."))

    with tallies.held(locked):  # counted with the status below, in one statement
        changes = _apply(locked, data, m2m) if (data or m2m) else []
    if pinned_comment.strip():
        timeline.add_comment(locked, by, pinned_comment, pin_it=True)

    if source in CLOSED:
        locked.reopen(to)
    else:
        method = getattr(locked, TRANSITIONS[to])
        if not can_proceed(method):
            missing = missing_for(locked, to, rules)
            transaction.set_rollback(True)
            if missing:
                raise MissingFields(locked, to, missing)
            raise LeadError(_("Переход из «%(from)s» в «%(to)s» не разрешён.")
                            % {"from": Status(source).label, "to": Status(to).label})
        method()
    locked.status_changed_at = _now()
    if not changes:
        locked.version += 1
    locked.save()
    if changes:
        timeline.log(locked, Kind.CHANGE, by, changes=changes)
    _touch_date_followed(locked, changes, by)
    if any(c["name"] == "responsible" for c in changes):  # the move's form handed the lead over, as an edit would
        notifications.assigned(locked, by)
    text = timeline.message(gettext_noop("Причина: %(reason)s"), reason=str(locked.junk_reason)) if to == Status.JUNK else ""
    timeline.log(locked, Kind.STATUS, by, text, **{"field": "status", "from": source, "to": to})
    hooks.moved(locked, by, source, to)
    return locked


def _touch_date_followed(lead: Lead, changes: list[dict[str, Any]], by) -> None:
    """«Дата следующего касания» edited on the lead: the planned touch follows (crm.hooks)."""
    if any(c["name"] == "next_touch_date" for c in changes):
        hooks.touch_date_set(lead, lead.next_touch_date, by)


def _now():
    from django.utils import timezone

    return timezone.now()


def lead_junk(lead: Lead, *, reason, by, comment: str = "") -> Lead:
    """«Забраковать»: close as «Не успешный» with a reason."""
    lead = lead_move(lead, to=Status.JUNK, by=by, data={"junk_reason": reason})
    if comment.strip():
        timeline.add_comment(lead, by, comment)
    return lead


@tallies.atomic()
def lead_assign(lead: Lead, *, responsible, by, notify: bool = True) -> Lead:
    """Hand the lead to `responsible`; `notify=False` leaves telling him to the caller (a bulk
    assign tells him once)."""
    locked = Lead.objects.select_for_update().get(pk=lead.pk)
    _check_can_change(locked, by)
    if locked.responsible_id == responsible.pk:
        return locked
    changes = _apply(locked, {"responsible": responsible}, None)
    timeline.log(locked, Kind.CHANGE, by, changes=changes)
    if notify:
        notifications.assigned(locked, by)
    return locked


@dataclass
class BulkReport:
    done: list[Lead] = field(default_factory=list)
    failed: list[tuple[Lead, str]] = field(default_factory=list)


def leads_bulk_move(leads, *, to: str, by) -> BulkReport:
    """Move each lead on its own: one that cannot move (missing fields, not allowed, no rights)
    is reported with the reason and does not stop the others."""
    report, rules = BulkReport(), rules_by_status()
    for lead in leads:
        try:
            report.done.append(lead_move(lead, to=to, by=by, rules=rules))
        except (LeadError, PermissionDenied) as exc:
            report.failed.append((lead, str(exc)))
    return report


def leads_bulk_assign(leads, *, responsible, by) -> BulkReport:
    report, handed = BulkReport(), []
    for lead in leads:
        try:
            assigned = lead_assign(lead, responsible=responsible, by=by, notify=False)
        except PermissionDenied as exc:
            report.failed.append((lead, str(exc)))
            continue
        report.done.append(assigned)
        if lead.responsible_id != responsible.pk:
            handed.append(assigned)
    if handed:
        notifications.assigned_many(handed, by, url=f"{reverse('leads:list')}?responsible={responsible.pk}")
    return report


@dataclass
class Conversion:
    lead: Lead
    company: Any = None
    contact: Any = None
    deal: Any = None
    company_found: bool = False
    contact_found: bool = False


def _product_rows(lead: Lead, amount) -> list[tuple]:
    """The lead's products as deal rows. The deal's amount follows its rows, so the deal's amount
    goes on the first row: the rows add up to what the manager set in the conversion dialog."""
    products = list(lead.products_to_sell.all())
    return [(p, 1, amount if i == 0 else 0) for i, p in enumerate(products)]


# What the conversion dialog may set on the deal; the rest comes from the lead.
DEAL_DATA = {"amount", "currency", "close_date"}


def default_pipeline(lead: Lead):
    """PROCESS.md §1.5: cold-call sources convert into «Холодное подключение», inbound ones into
    «Входящие заявки» — by the source's kind and the pipelines' «по умолчанию для», both data."""
    from deals.models import Pipeline

    pipelines = Pipeline.objects.order_by("sort", "pk")
    return (pipelines.filter(default_for=lead.source.kind).first() or pipelines.filter(default_for="other").first()
            or pipelines.first())


def lead_convert(lead: Lead, *, contact: bool, company: bool, deal: bool, by, pipeline=None,
                 deal_data: dict[str, Any] | None = None) -> Conversion:
    """«Успешный»: create (or find) the chosen contact, company and deal from the lead and close it,
    all in one transaction — any refusal leaves nothing behind. `deal_data` may set the deal's
    «amount», «currency» and «close_date» (the dialog's); the lead's amount and currency otherwise. The company is matched by ИНН,
    then by name and phone; the contact by phone, then e-mail (clients.selectors). A match is
    reused only if `by` may see and change it; otherwise a new record is created and the match is
    flagged on it as a possible duplicate for a supervisor (README, «Доступ»)."""
    from clients.services import ClientError
    from deals.services import DealError

    try:
        return _convert(lead, contact=contact, company=company, deal=deal, by=by, pipeline=pipeline,
                        deal_data=deal_data or {})
    except (ClientError, DealError) as exc:  # the transaction is already rolled back
        raise LeadError(str(exc)) from exc


def _flag_duplicates(record, existing, by) -> None:
    """The possible duplicates conversion could not reuse, on the new record's timeline: their
    number, owner and department, never their title (the converting user may not see them), so
    that a supervisor finds and merges them."""
    from crm.duplicates import hidden_notice

    timeline.log(record, Kind.DUPLICATE, by, timeline.message(gettext_noop("Возможный дубль")), matches=[
        {"kind": str(record._meta.verbose_name), "url": "", "reasons": [str(existing.reason)],
         "title": _("№%(pk)s — %(notice)s") % {"pk": other.pk, "notice": hidden_notice(other)}}
        for other in existing.others])


@tallies.atomic()
def _convert(lead: Lead, *, contact: bool, company: bool, deal: bool, by, pipeline,
             deal_data: dict[str, Any]) -> Conversion:
    from clients import selectors as found_in
    from clients import services as clients
    from crm.models import Communication
    from deals import services as deals

    if not (contact or company or deal):
        raise LeadError(_("Выберите, что создать: контакт, компанию или сделку."))
    unknown = set(deal_data) - DEAL_DATA
    if unknown:
        raise TypeError(f"lead_convert: deal_data takes only {sorted(DEAL_DATA)}, not {sorted(unknown)}")
    if deal_data.get("close_date") and deal_data["close_date"] < timezone.localdate():
        # Here, not only in the dialog's form: every caller (an import, the API) meets it.
        raise LeadError(_("Дата закрытия не может быть раньше сегодняшнего дня."))
    # The lead's row only (of=self): FOR UPDATE of the joined source would hold every new lead of it.
    locked = Lead.objects.select_for_update(of=("self",)).select_related("source").get(pk=lead.pk)
    _check_can_change(locked, by)
    if locked.status != Status.DECISION_MAKER:
        raise LeadError(_("Лид становится «Успешным» только из статуса «Выход на ЛПР»."))
    result = Conversion(lead=locked)
    phone, email = Communication.Kind.PHONE, Communication.Kind.EMAIL
    flagged = []
    if company:
        existing = found_in.conversion_company(by, inn=locked.inn, name=locked.company_name,
                                               phones_e164=[locked.company_phone])
        result.company_found = existing.record is not None
        result.company = existing.record
        if result.company is None:
            # The ИНН is unique: when it is another's company's, the new one goes without it (the
            # lead keeps it, the flag names the match) rather than refusing the whole conversion.
            inn_taken = any(other.inn == locked.inn for other in existing.others) if locked.inn else False
            result.company = clients.company_create(by=by, data=dict(
                name=locked.company_name or locked.title, inn="" if inn_taken else locked.inn, kpp=locked.kpp,
                ogrn=locked.ogrn, legal_name=locked.legal_name, legal_address=locked.legal_address,
                website=locked.company_website, address=locked.company_address, niche=locked.niche,
                client_type=locked.client_type, responsible=locked.responsible, comment=locked.comment,
            ), communications=[(phone, "work", locked.company_phone, ""), (email, "work", locked.company_email, "")])
            if existing.others:
                _flag_duplicates(result.company, existing, by)
                flagged.append(result.company)
    if contact:
        existing = found_in.conversion_contact(by, phones_e164=[locked.contact_phone], emails=[locked.contact_email])
        result.contact_found = existing.record is not None
        result.contact = existing.record
        if result.contact is None:
            if not (locked.contact_first_name or locked.contact_last_name):
                raise LeadError(_("Для контакта нужны имя или фамилия ЛПР/ЛВР."))
            result.contact = clients.contact_create(by=by, data=dict(
                last_name=locked.contact_last_name, first_name=locked.contact_first_name or locked.contact_last_name,
                middle_name=locked.contact_middle_name, birth_date=locked.contact_birth_date,
                position=locked.contact_position, responsible=locked.responsible,
            ), communications=[(phone, locked.contact_phone_type, locked.contact_phone, locked.contact_phone_ext),
                               (email, "work", locked.contact_email, "")],
                companies=[result.company] if result.company else [])
            if existing.others:
                _flag_duplicates(result.contact, existing, by)
                flagged.append(result.contact)
        elif result.company:
            clients.contact_link_company(result.contact, result.company, by=by)
    if deal:
        data = dict(title=locked.title, amount=locked.amount, currency=locked.currency, source=locked.source,
                    responsible=locked.responsible, lead=locked, comment=locked.comment, company=result.company,
                    start_date=timezone.localdate(_now())) | deal_data
        result.deal = deals.deal_create(by=by, pipeline=pipeline or default_pipeline(locked), data=data,
                                        m2m={"contacts": [result.contact] if result.contact else []},
                                        products=_product_rows(locked, data["amount"]))
    locked.company, locked.contact = result.company, result.contact
    locked.save(update_fields=["company", "contact"])
    result.lead = lead_move(locked, to=Status.CONVERTED, by=by, converting=True)
    found, duplicate = timeline.message(gettext_noop("найдена в CRM")), timeline.message(gettext_noop("возможный дубль отмечен"))
    made = [timeline.message("%(what)s: %(name)s (%(note)s)" if was_found or obj in flagged else "%(what)s: %(name)s",
                             what=timeline.message(label), name=str(obj), note=found if was_found else duplicate)
            for label, obj, was_found in ((gettext_noop("компания"), result.company, result.company_found),
                                          (gettext_noop("контакт"), result.contact, result.contact_found),
                                          (gettext_noop("сделка"), result.deal, False)) if obj]
    timeline.log(result.lead, Kind.SYSTEM, by, timeline.message(gettext_noop("Лид сконвертирован — %(records)s"), records=made))
    return result


@tallies.atomic()
def lead_delete(lead: Lead, *, by):
    """Delete a lead for good (the admin's delete and bulk delete call this). Deals made from it
    keep existing and lose only the link; its company and contact stay and note the deletion in
    their timelines. Returns the DeletionRecord; raises PermissionDenied or DeletionRefused."""
    locked = Lead.objects.select_for_update().get(pk=lead.pk)
    return deletion.delete_record(locked, by=by, title=locked.title, related=[locked.company, locked.contact])


# --- Imports (exchange.importers): many new leads at once, held to the same rules ---

@dataclass
class ImportItem:
    """One new lead of an import: its fields, many-to-many values and the status the file asks
    for. The service fills `lead` (created), or `error` (refused, nothing written), and `adjusted`
    (imported in an earlier status than asked, and why)."""

    row: int
    data: dict[str, Any]
    m2m: dict[str, list] = field(default_factory=dict)
    status: str = Status.NEW
    pinned_comment: str = ""
    lead: Lead | None = None
    error: str = ""
    adjusted: str = ""


def _import_missing(lead: Lead, item: ImportItem, target: str, rules: dict[str, set[str]]) -> list[Requirement]:
    """`missing_for` of a lead not saved yet: its many-to-many values and pinned comment are the
    item's (the catalogue reads them from the database otherwise); every other requirement is the
    catalogue's own check."""
    from .requirements import CATALOGUE, statuses_required_for

    keys = set().union(*(rules.get(s, set()) for s in statuses_required_for(target)))
    result = []
    for key, requirement in CATALOGUE.items():
        if key not in keys:
            continue
        if key in ("products_to_sell", "used_products"):
            met = bool(item.m2m.get(key))
        elif key == "pinned_comment":
            met = bool(item.pinned_comment.strip())
        else:
            met = requirement.is_met(lead)
        if not met:
            result.append(requirement)
    return result


def _import_status(lead: Lead, item: ImportItem, rules: dict[str, set[str]], strict: bool) -> str:
    """The status a new imported lead gets: the one asked if it meets its rules (as a move there
    would), else the furthest in-process status it meets, the item saying why (`strict`: refused)."""
    asked = item.status
    missing = _import_missing(lead, item, asked, rules)
    if not missing:
        return asked
    labels = ", ".join(r.label for r in missing)
    if asked == Status.NEW:
        raise MissingFields(lead, Status.NEW, missing)
    if strict:
        raise LeadError(_("Для статуса «%(status)s» не заполнены обязательные поля: %(fields)s.")
                        % {"status": Status(asked).label, "fields": labels})
    reachable = IN_PROCESS if asked in CLOSED else IN_PROCESS[: IN_PROCESS.index(asked)]
    status = Status.NEW
    for candidate in reachable:
        if _import_missing(lead, item, candidate, rules):
            break
        status = candidate
    if _import_missing(lead, item, Status.NEW, rules):
        raise MissingFields(lead, Status.NEW, _import_missing(lead, item, Status.NEW, rules))
    item.adjusted = (_("Для статуса «%(status)s» не заполнены обязательные поля: %(fields)s. Лид импортирован "
                       "в статусе «%(actual)s».") % {"status": Status(asked).label, "fields": labels,
                                                   "actual": Status(status).label})
    return status


def leads_import(items: list[ImportItem], *, by, source: str, strict: bool = False,
                 rules: dict[str, set[str]] | None = None, notify: bool = True) -> list[Lead]:
    """Create the leads of `items` at once (an import's batch): each is validated as `lead_create`
    validates (`_validate`, the status's required fields), then the valid ones are written with
    one insert per table — the leads, their many-to-many rows, their history («Импорт: file.csv»)
    — in one transaction. An invalid item gets its `error` and is left out, never half-written.
    The hooks a single create runs run too (automation rules of the status entered, the planned
    touch of «Дата следующего касания»); each responsible is told once per batch («записей: N»),
    not once per lead. Returns the created leads."""
    if by is not None and not access.can_add(by, Lead):
        for item in items:
            item.error = _("Нет прав на создание лидов.")
        return []
    rules = rules_by_status() if rules is None else rules
    valid = []
    for item in items:
        data = {k: v for k, v in item.data.items() if k != "status"}
        # Built in the status asked: the field is protected (no assignment), so only a lead that
        # lands in another status is built again, with the values _validate normalised.
        lead = Lead(**data, created_by=by, status=item.status)
        try:
            _validate(lead, item.m2m, only=set(data))
            status = _import_status(lead, item, rules, strict)
        except LeadError as exc:
            item.error = str(exc)
            continue
        if status != item.status:
            lead = Lead(**{**data, **{k: getattr(lead, k) for k in data}}, created_by=by, status=status)
        item.lead = lead
        valid.append(item)
    return _write_imported(valid, by=by, source=source, notify=notify)


def _write_imported(items: list[ImportItem], *, by, source: str, notify: bool = True) -> list[Lead]:
    """Write the batch; if the database refuses it (a constraint no validation foresaw), each item
    is written on its own so that only the bad one is left out."""
    from django.db import DatabaseError

    try:
        return _insert_imported(items, by=by, source=source, notify=notify)  # its own savepoint (tallies.atomic)
    except DatabaseError:
        if len(items) == 1:
            items[0].error, items[0].lead = _("Запись отклонена базой данных."), None
            return []
    created = []
    for item in items:
        created += _write_imported([item], by=by, source=source, notify=notify)
    return created


@tallies.atomic()
def _insert_imported(items: list[ImportItem], *, by, source: str, notify: bool = True) -> list[Lead]:
    from django.contrib.contenttypes.models import ContentType

    from crm.models import TimelineEntry

    leads = Lead.objects.bulk_create([item.lead for item in items])
    for name in ("products_to_sell", "used_products"):
        through = getattr(Lead, name).through
        target = getattr(Lead, name).field.m2m_reverse_field_name()
        through.objects.bulk_create([through(lead_id=item.lead.pk, **{f"{target}_id": value.pk})
                                     for item in items for value in item.m2m.get(name, [])])
    content_type = ContentType.objects.get_for_model(Lead)
    pinned = [TimelineEntry(content_type=content_type, object_id=item.lead.pk, kind=Kind.COMMENT, author=by,
                            text=item.pinned_comment.strip(), is_pinned=True)
              for item in items if item.pinned_comment.strip()]
    TimelineEntry.objects.bulk_create(pinned)
    timeline.log_many(leads, Kind.CREATED, by, timeline.message(gettext_noop("Импорт: %(file)s"), file=source))
    for lead in leads:
        if lead.next_touch_date:
            hooks.touch_date_set(lead, lead.next_touch_date, by)
    by_status: dict[str, list[Lead]] = {}
    by_owner: dict[int, list[Lead]] = {}
    for lead in leads:
        by_status.setdefault(lead.status, []).append(lead)
        by_owner.setdefault(lead.responsible_id, []).append(lead)
    for status, entered in by_status.items():
        hooks.moved_many(entered, by, "", status)
    if notify:  # the import engine tells each responsible once per file instead
        for owner, handed in by_owner.items():
            notifications.assigned_many(handed, by, url=f"{reverse('leads:list')}?responsible={owner}")
    return leads
