"""crm.contact.* and crm.company.* — companies and contacts in Bitrix24's names.

Everything goes through clients.selectors (what the webhook's user may see) and clients.services
(what he may add, change, delete; the history, «через REST»), as the cards' forms do.

Contact: ID, NAME (Имя, required), LAST_NAME, SECOND_NAME, BIRTHDATE, POST (Должность), COMMENTS,
ASSIGNED_BY_ID, COMPANY_IDS (Компании: those the reader may see) and COMPANY_ID (the first of
them), PHONE, EMAIL, ORIGIN_ID («Внешний ID», the id in the system it came from), CREATED_BY_ID,
DATE_CREATE, DATE_MODIFY.
Company: ID, TITLE (required), COMPANY_TYPE («Тип клиента») and INDUSTRY («Ниша компании») —
the reference lists' ids —, ADDRESS, ADDRESS_LEGAL, WEB (our one «Сайт»), PHONE, EMAIL, COMMENTS,
ASSIGNED_BY_ID, ORIGIN_ID, the requisites as user fields UF_CRM_INN, UF_CRM_KPP, UF_CRM_OGRN,
UF_CRM_LEGAL_NAME (Bitrix24 keeps them in crm.requisite, which we do not have), CREATED_BY_ID,
DATE_CREATE, DATE_MODIFY.

Multifields as Bitrix24 writes them: an item without ID is added, one with ID changes that value,
one with ID and an empty VALUE (or DELETE=Y) removes it; values not named stay. VALUE_TYPE WORK,
MOBILE, HOME, OTHER are ours; FAX, PAGER, MAILING are kept as «Другой». A phone's extension
(«Доб.») is not in Bitrix24's fields: it is kept when the value is changed by ID and not shown.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models import prefetch_related_objects
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from clients import selectors, services
from clients.models import Company, Contact
from crm import phones
from crm.models import Communication
from rest.dispatch import refusal
from rest.fields import Field, FieldMap
from rest.lists import list_page
from rest.methods.crm_timeline import ReaderMap, active_user
from rest.parsing import as_list
from rest.registry import Call, RestError, method

PHONE, EMAIL = Communication.Kind.PHONE, Communication.Kind.EMAIL
KINDS = {"PHONE": PHONE, "EMAIL": EMAIL}
# Bitrix24's VALUE_TYPE → ours (what we have no type for is «Другой»), and back.
TYPE_IN = {"WORK": "work", "MOBILE": "mobile", "HOME": "home", "OTHER": "other", "FAX": "other", "PAGER": "other",
           "MAILING": "other"}
MAX_VALUE = Communication._meta.get_field("value").max_length
TYPE_OUT = {"work": "WORK", "mobile": "MOBILE", "home": "HOME", "other": "OTHER"}


# --- Reading ---

def _comms(kind: str):
    def read(record) -> list[dict]:
        return [{"ID": str(c.pk), "VALUE_TYPE": TYPE_OUT.get(c.type, "OTHER"), "VALUE": c.value,
                 "TYPE_ID": "PHONE" if kind == PHONE else "EMAIL"}
                for c in record.communications.all() if c.kind == kind]
    return read


def _website(company: Company) -> list[dict]:
    # Our one «Сайт» as Bitrix24's WEB multifield; its ID is the company's (there is one value).
    return [{"ID": str(company.pk), "VALUE_TYPE": "WORK", "VALUE": company.website, "TYPE_ID": "WEB"}] \
        if company.website else []


def _comm_filter(model, kind: str):
    def condition(op: str, value):
        values = value if isinstance(value, list) else [value]
        values = [str(v).strip() for v in values if v not in (None, "")]
        if op in ("%", "=%", "%=", "!%"):
            q = selectors.communication_condition(model, kind, [values[0].strip("%")] if values else [""], contains=True)
        else:
            if op not in ("=", "@", "!", "!=", "!@"):
                raise RestError.invalid(f"Filter {op}{'PHONE' if kind == PHONE else 'EMAIL'} is not supported")
            q = selectors.communication_condition(model, kind, [_normal(kind, v) for v in values])
        return ~q if op.startswith("!") else q
    return condition


def _normal(kind: str, value: str) -> str:
    if kind == PHONE:
        try:
            return phones.normalize(value)
        except ValidationError:
            return value  # matches nothing
    return value.lower()


def _prefetch(objects: list, names: set[str]) -> None:
    lookups = []
    if names & {"PHONE", "EMAIL"}:
        lookups.append(selectors.communications_prefetch())
    if lookups:
        prefetch_related_objects(objects, *lookups)
    if names & {"COMPANY_ID", "COMPANY_IDS"} and isinstance(objects[0], Contact):
        # The companies the reader may see (one query for the page): a hidden one is not named,
        # and a COMPANY_IDS write keeps it (clients.services).
        prefetch_related_objects(objects, "companies")
        selectors.mark_visible_companies(objects[0]._rest_reader, objects)
        for contact in objects:
            contact._rest_company_ids = sorted(item["company"].pk for item in contact.company_list if item["can_open"])


def _company_ids(contact: Contact) -> list[int]:
    return contact._rest_company_ids


def _first_company(contact: Contact):
    return min(contact._rest_company_ids, default=None)


def _reference_id(name: str, field: str):
    """COMPANY_TYPE, INDUSTRY: a reference list's value by its id (as crm.status.list gives it) or
    its name; RestError otherwise."""
    def parse(raw):
        text = str(raw if raw is not None else "").strip()
        if text in ("", "None", "0"):
            return None
        items = list(selectors.reference_items(name))
        found = next((i for i in items if text.isdigit() and i.pk == int(text)), None) \
            or next((i for i in items if i.name.lower() == text.lower()), None)
        if found is None:
            raise RestError.invalid(_("Неизвестное значение «%(value)s» поля %(field)s.") % {"value": raw, "field": field})
        return found.pk
    return parse


def _common() -> list[Field]:
    return [
        Field("PHONE", "crm_multifield", title=gettext_lazy("Телефон"), get=_comms(PHONE)),
        Field("EMAIL", "crm_multifield", title=gettext_lazy("E-mail"), get=_comms(EMAIL)),
        Field("COMMENTS", "text", "comment", title=gettext_lazy("Комментарий")),
        Field("ASSIGNED_BY_ID", "user", "responsible_id", title=gettext_lazy("Ответственный")),
        Field("ORIGIN_ID", "string", "external_id", title=gettext_lazy("Внешний ID")),
        Field("CREATED_BY_ID", "user", "created_by_id", title=gettext_lazy("Кем создан"), read_only=True),
        Field("DATE_CREATE", "datetime", "created_at", title=gettext_lazy("Дата создания"), read_only=True),
        Field("DATE_MODIFY", "datetime", "updated_at", title=gettext_lazy("Дата изменения"), read_only=True),
    ]


def _company_filter(op: str, value):
    values = [v for v in (value if isinstance(value, list) else [value]) if v is not None]
    if op in ("=", "@"):
        return selectors.company_link_condition(values)
    if op in ("!", "!=", "!@"):
        return ~selectors.company_link_condition(values)
    raise RestError.invalid(f"Filter {op}COMPANY_ID is not supported")


CONTACTS = FieldMap([
    Field("ID", "integer", "pk", title="ID", read_only=True),
    Field("NAME", "string", "first_name", title=gettext_lazy("Имя"), required=True),
    Field("LAST_NAME", "string", "last_name", title=gettext_lazy("Фамилия")),
    Field("SECOND_NAME", "string", "middle_name", title=gettext_lazy("Отчество")),
    Field("BIRTHDATE", "date", "birth_date", title=gettext_lazy("Дата рождения")),
    Field("POST", "string", "position", title=gettext_lazy("Должность")),
    Field("COMPANY_ID", "crm_company", title=gettext_lazy("Компания"), get=_first_company, filter=_company_filter),
    Field("COMPANY_IDS", "crm_company", "companies", title=gettext_lazy("Компании"), multiple=True, get=_company_ids,
          filter=_company_filter),
    *_common(),
], prefetch=_prefetch)
CONTACTS.by_name["PHONE"].filter = _comm_filter(Contact, PHONE)
CONTACTS.by_name["EMAIL"].filter = _comm_filter(Contact, EMAIL)

COMPANIES = FieldMap([
    Field("ID", "integer", "pk", title="ID", read_only=True),
    Field("TITLE", "string", "name", title=gettext_lazy("Название компании"), required=True),
    Field("COMPANY_TYPE", "crm_status", "client_type_id", title=gettext_lazy("Тип клиента"), status_type="COMPANY_TYPE",
          parse=_reference_id("ClientType", "COMPANY_TYPE")),
    Field("INDUSTRY", "crm_status", "niche_id", title=gettext_lazy("Ниша компании"), status_type="INDUSTRY",
          parse=_reference_id("Niche", "INDUSTRY")),
    Field("ADDRESS", "string", "address", title=gettext_lazy("Адрес")),
    Field("ADDRESS_LEGAL", "string", "legal_address", title=gettext_lazy("Юридический адрес")),
    Field("WEB", "crm_multifield", title=gettext_lazy("Сайт"), get=_website),
    *_common(),
    Field("UF_CRM_INN", "string", "inn", title=gettext_lazy("ИНН")),
    Field("UF_CRM_KPP", "string", "kpp", title=gettext_lazy("КПП")),
    Field("UF_CRM_OGRN", "string", "ogrn", title=gettext_lazy("ОГРН")),
    Field("UF_CRM_LEGAL_NAME", "string", "legal_name", title=gettext_lazy("Полное наименование")),
], prefetch=_prefetch)
COMPANIES.by_name["PHONE"].filter = _comm_filter(Company, PHONE)
COMPANIES.by_name["EMAIL"].filter = _comm_filter(Company, EMAIL)


# --- Writing ---

def _clean(data: dict) -> dict:
    """Text columns hold "" for «empty» (Bitrix24's null or "" alike); ids of the responsible and
    of reference values become the records the services take."""
    for name in ("first_name", "last_name", "middle_name", "position", "comment", "external_id", "name", "address",
                 "legal_address", "inn", "kpp", "ogrn", "legal_name"):
        if name in data:
            data[name] = (data[name] or "").strip()
            if data[name] == "None":  # fast-bitrix24's batch sends None as «None»
                data[name] = ""
    if "responsible_id" in data:
        data["responsible"] = active_user(data.pop("responsible_id"), "ASSIGNED_BY_ID")
    for name, items in (("client_type_id", "ClientType"), ("niche_id", "Niche")):
        if name in data:
            pk = data.pop(name)
            data[name[:-3]] = selectors.reference_items(items).filter(pk=pk).first() if pk is not None else None
    return data


def _merged(record, comms: dict) -> list[tuple[str, str, str, str]] | None:
    """The record's phones and e-mails after Bitrix24's multifield write (see the module's
    docstring), as clients.services takes them; None when none is written."""
    if not any(name in comms for name in KINDS):
        return None
    current = list(record.communications.all()) if record is not None and record.pk else []
    rows = {c.pk: [c.kind, c.type, c.value, c.ext] for c in current}
    added = []
    for name, kind in KINDS.items():
        for item in comms.get(name, []):
            value = item["VALUE"]
            if len(value) > MAX_VALUE:
                raise RestError.invalid(_("Слишком длинное значение %(field)s: не больше %(n)s символов.")
                                        % {"field": name, "n": MAX_VALUE})
            if kind == EMAIL and value and not item["DELETE"]:
                try:
                    validate_email(value)
                except ValidationError:
                    raise RestError.invalid(_("Неверный e-mail «%(value)s».") % {"value": value}) from None
            if item["ID"] is None:
                added.append([kind, TYPE_IN.get(item["VALUE_TYPE"], "other"), value, ""])
                continue
            row = rows.get(item["ID"])
            if row is None or row[0] != kind:
                raise RestError.invalid(_("Нет значения %(field)s с ID %(id)s у этой записи.")
                                        % {"field": name, "id": item["ID"]})
            if item["DELETE"]:
                del rows[item["ID"]]
            else:
                row[1], row[2] = TYPE_IN.get(item["VALUE_TYPE"], "other"), value
    items = [tuple(r) for r in rows.values()] + [tuple(a) for a in added]
    seen = set()
    for kind, _type, value, _ext in items:
        key = (kind, _normal(kind, value))
        if key in seen:
            raise RestError.invalid(_("Телефон или e-mail «%(value)s» указан дважды.") % {"value": value})
        seen.add(key)
    return items


def _website_write(company: Company | None, comms: dict, data: dict) -> None:
    items = comms.get("WEB")
    if items is None:
        return
    website = company.website if company is not None else ""
    for item in items:
        website = "" if item["DELETE"] else item["VALUE"]
    data["website"] = website


def _companies(call: Call, ids: list) -> list[Company]:
    """COMPANY_IDS: companies the user may see (one he may not see is «not found», as in the card)."""
    ids = [int(i) for i in ids]
    found = {c.pk: c for c in selectors.visible_companies(call.user).filter(pk__in=ids)}
    missing = [str(i) for i in ids if i not in found]
    if missing:
        raise RestError.invalid(_("Компания с ID %(ids)s не найдена.") % {"ids": ", ".join(missing)})
    return [found[i] for i in dict.fromkeys(ids)]


refusal(services.ClientError)  # rest.dispatch answers the services' refusals


def _fields(call: Call):
    return call.param("fields", "arFields")


def _one(call: Call, queryset):
    record = queryset.filter(pk=call.id_param()).first()
    if record is None:
        raise RestError.not_found()
    return record


# --- Companies ---

@method("crm.company.fields", scope="crm")
def company_fields(call: Call):
    return COMPANIES.describe()


@method("crm.company.add", scope="crm")
def company_add(call: Call):
    data, _m2m, comms = COMPANIES.from_rest(_fields(call), adding=True)
    data = _clean(data)
    data.setdefault("responsible", call.user)
    _website_write(None, comms, data)
    company = services.company_create(data=data, communications=_merged(None, comms) or (), by=call.user)
    return company.pk


@method("crm.company.get", scope="crm")
def company_get(call: Call):
    company = _one(call, selectors.visible_companies(call.user))
    return COMPANIES.to_rest_many([company])[0]


@method("crm.company.list", scope="crm", atomic=False)
def company_list(call: Call):
    return list_page(call, selectors.visible_companies(call.user), COMPANIES)


@method("crm.company.update", scope="crm")
def company_update(call: Call):
    company = _one(call, selectors.visible_companies(call.user))
    data, _m2m, comms = COMPANIES.from_rest(_fields(call))
    data = _clean(data)
    if "name" in data and not data["name"]:
        raise RestError.invalid(_("Название компании не может быть пустым (TITLE)."))
    _website_write(company, comms, data)
    services.company_update(company, data=data, communications=_merged(company, comms), by=call.user,
                            version=company.version)
    return True


@method("crm.company.delete", scope="crm")
def company_delete(call: Call):
    company = _one(call, selectors.visible_companies(call.user))
    services.company_delete(company, by=call.user)
    return True


# --- Contacts ---

@method("crm.contact.fields", scope="crm")
def contact_fields(call: Call):
    return CONTACTS.describe()


def _contact_companies(call: Call, contact: Contact | None, fields, m2m: dict) -> list[Company] | None:
    """COMPANY_IDS replaces the links; COMPANY_ID alone adds one (the others stay)."""
    if "companies" in m2m:
        return _companies(call, m2m["companies"])
    raw = next((v for k, v in (fields or {}).items() if str(k).upper() == "COMPANY_ID"), None) \
        if isinstance(fields, dict) else None
    if raw in (None, "", "0", 0, "None"):
        return None
    try:
        wanted = int(str(raw).strip())
    except ValueError:
        raise RestError.invalid("Invalid value of field COMPANY_ID") from None
    # The links he sees, plus this one (clients.services keeps those he does not see).
    current = list(selectors.visible_companies(call.user).filter(selectors.company_ids_of(contact))) \
        if contact is not None else []
    if any(c.pk == wanted for c in current):
        return None
    return current + _companies(call, [wanted])


@method("crm.contact.add", scope="crm")
def contact_add(call: Call):
    fields = _fields(call)
    data, m2m, comms = CONTACTS.from_rest(fields, adding=True)
    data = _clean(data)
    if not data.get("first_name"):
        raise RestError.invalid(_("Укажите имя контакта (NAME)."))
    data.setdefault("responsible", call.user)
    companies = _contact_companies(call, None, fields, m2m) or []
    contact = services.contact_create(data=data, communications=_merged(None, comms) or (), companies=companies,
                                      by=call.user)
    return contact.pk


@method("crm.contact.get", scope="crm")
def contact_get(call: Call):
    contact = _one(call, selectors.visible_contacts(call.user))
    return ReaderMap(CONTACTS, call.user).to_rest_many([contact])[0]


@method("crm.contact.list", scope="crm", atomic=False)
def contact_list(call: Call):
    return list_page(call, selectors.visible_contacts(call.user), ReaderMap(CONTACTS, call.user))


@method("crm.contact.update", scope="crm")
def contact_update(call: Call):
    contact = _one(call, selectors.visible_contacts(call.user))
    fields = _fields(call)
    data, m2m, comms = CONTACTS.from_rest(fields)
    data = _clean(data)
    if "first_name" in data and not data["first_name"]:
        raise RestError.invalid(_("Укажите имя контакта (NAME)."))
    companies = _contact_companies(call, contact, fields, m2m)
    services.contact_update(contact, data=data, communications=_merged(contact, comms), companies=companies,
                            by=call.user, version=contact.version)
    return True


@method("crm.contact.delete", scope="crm")
def contact_delete(call: Call):
    contact = _one(call, selectors.visible_contacts(call.user))
    services.contact_delete(contact, by=call.user)
    return True


# --- Links between contacts and companies (crm.contact.company.*, crm.company.contact.items.get) ---

def _links(ids: list[int], key: str) -> list[dict]:
    return [{key: int(pk), "SORT": (i + 1) * 10, "ROLE_ID": 0, "IS_PRIMARY": "Y" if i == 0 else "N"}
            for i, pk in enumerate(ids)]


@method("crm.contact.company.items.get", scope="crm")
def contact_companies(call: Call):
    """The contact's companies the user may see (as COMPANY_IDS)."""
    contact = _one(call, selectors.visible_contacts(call.user))
    return _links(ReaderMap(CONTACTS, call.user).to_rest_many([contact], ["ID", "COMPANY_IDS"])[0]["COMPANY_IDS"],
                  "COMPANY_ID")


@method("crm.company.contact.items.get", scope="crm")
def company_contacts(call: Call):
    """The company's contacts the user may see."""
    company = _one(call, selectors.visible_companies(call.user))
    linked = selectors.visible_contacts(call.user).filter(selectors.company_link_condition([company.pk]))
    return _links(sorted(linked.values_list("pk", flat=True)), "CONTACT_ID")


def _company_of(item) -> int:
    """The COMPANY_ID of one item ({"COMPANY_ID": 5, …}); RestError when there is none."""
    raw = next((v for k, v in item.items() if str(k).upper() == "COMPANY_ID"), None) if isinstance(item, dict) else None
    try:
        return int(str(raw).strip())
    except (TypeError, ValueError):
        raise RestError.invalid("COMPANY_ID is not defined or invalid.") from None


def _link_companies(call: Call, contact: Contact, chosen: list[Company], current: list[Company]) -> bool:
    if {c.pk for c in chosen} != {c.pk for c in current}:
        services.contact_update(contact, data={}, companies=chosen, by=call.user, version=contact.version)
    return True


def _visible_companies_of(call: Call, contact: Contact) -> list[Company]:
    return list(selectors.visible_companies(call.user).filter(selectors.company_ids_of(contact)))


def _link_change(call: Call, add: bool):
    contact = _one(call, selectors.visible_contacts(call.user))
    wanted = _company_of(_fields(call))
    current = _visible_companies_of(call, contact)
    if add:
        chosen = current + [c for c in _companies(call, [wanted]) if c not in current]
    else:
        chosen = [c for c in current if c.pk != wanted]
    return _link_companies(call, contact, chosen, current)


@method("crm.contact.company.items.set", scope="crm")
def contact_company_items_set(call: Call):
    """The contact's companies become `items` (COMPANY_ID; SORT and IS_PRIMARY are not kept: the
    first by id is the primary one)."""
    contact = _one(call, selectors.visible_contacts(call.user))
    wanted = [_company_of(item) for item in as_list(call.param("items"))]
    return _link_companies(call, contact, _companies(call, wanted) if wanted else [],
                           _visible_companies_of(call, contact))


@method("crm.contact.company.items.delete", scope="crm")
def contact_company_items_delete(call: Call):
    contact = _one(call, selectors.visible_contacts(call.user))
    return _link_companies(call, contact, [], _visible_companies_of(call, contact))


@method("crm.contact.company.add", scope="crm")
def contact_company_add(call: Call):
    return _link_change(call, add=True)


@method("crm.contact.company.delete", scope="crm")
def contact_company_delete(call: Call):
    return _link_change(call, add=False)
