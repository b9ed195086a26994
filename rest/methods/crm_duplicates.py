"""crm.duplicate.findbycomm: which leads, contacts and companies have these phones or e-mails.

Bitrix24 answers `{"CONTACT": [275, 2297], "LEAD": [...]}` (only the kinds found; `[]` when none).
We ask the duplicate finders the forms ask (crm.duplicates), so the API follows the same policy:
a record the webhook's user may see is named by its id; one he may not see is left out — the
forms show it masked («Такой клиент уже есть в CRM у …»), which an id could not be, and an API
that answered ids of hidden records would be an oracle for «whose client is this number»."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from crm import duplicates as dup
from crm import phones
from rest.registry import RestError, method

MAX_VALUES = 20  # Bitrix24's limit per call
TYPES = ("PHONE", "EMAIL")
ENTITY_TYPES = {"leads.lead": "LEAD", "clients.contact": "CONTACT", "clients.company": "COMPANY"}
# Each finder gives at most 20–50 records per probe; the whole list is what we may return.
LIMIT = 1000


def _values(raw) -> list[str]:
    if isinstance(raw, dict):  # PHP-nested `values[0]=…&values[1]=…` arrives as a map
        raw = [raw[key] for key in sorted(raw, key=lambda k: int(k) if str(k).isdigit() else 0)]
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list) or not raw:
        raise RestError.invalid("Parameter 'values' must be array.")
    if len(raw) > MAX_VALUES:
        raise RestError.invalid(f"Too many values. Maximum allowed is {MAX_VALUES}.")
    return [str(v).strip() for v in raw if v is not None and str(v).strip()]


def _phones(values: list[str]) -> tuple[str, ...]:
    found = []
    for value in values:
        try:
            number = phones.normalize(value)
        except ValidationError:
            continue  # not a phone: nothing can match it (Bitrix24 answers no match, not an error)
        if number:
            found.append(number)
    return tuple(found)


def _emails(values: list[str]) -> tuple[str, ...]:
    found = []
    for value in values:
        try:
            validate_email(value)
        except ValidationError:
            continue
        found.append(value.lower())
    return tuple(found)


@method("crm.duplicate.findbycomm", scope="crm")
def findbycomm(call):
    kind = str(call.param("type") or "").upper()
    if kind not in TYPES:
        raise RestError.invalid("Parameter 'type' is not defined or invalid. Allowed: PHONE, EMAIL.")
    values = _values(call.param("values"))
    wanted = str(call.param("entity_type") or "").upper()
    if wanted and wanted not in ENTITY_TYPES.values():
        raise RestError.invalid("Parameter 'entity_type' is invalid. Allowed: LEAD, CONTACT, COMPANY.")
    probe = dup.Probe(phones=_phones(values)) if kind == "PHONE" else dup.Probe(emails=_emails(values))
    found: dict[str, list[int]] = {}
    for match in dup.find(call.user, probe, limit=LIMIT):
        if match.hidden or match.record is None:
            continue
        key = ENTITY_TYPES.get(match.record._meta.label_lower)
        if key is None or (wanted and key != wanted):
            continue
        if match.record.pk not in found.setdefault(key, []):
            found[key].append(match.record.pk)
    return {key: sorted(ids) for key, ids in found.items()} or []
