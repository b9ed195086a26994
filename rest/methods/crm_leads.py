"""`crm.lead.*`: leads in Bitrix24's names, through leads.selectors (the access gate) and
leads.services (the only writers, the status gate).

Field mapping (bitrix24.md §1.1): TITLE, NAME / SECOND_NAME / LAST_NAME / BIRTHDATE / POST (the
contact person), COMPANY_TITLE, ADDRESS, SOURCE_ID, STATUS_ID, OPPORTUNITY, CURRENCY_ID,
ASSIGNED_BY_ID, COMMENTS; read-only ID, STATUS_SEMANTIC_ID, CREATED_BY_ID, DATE_CREATE, DATE_MODIFY,
MOVED_TIME, COMPANY_ID / CONTACT_ID (what conversion made), HAS_PHONE, HAS_EMAIL; our own fields
as UF_CRM_* (ИНН, ниша, CRM-система…, listed by crm.lead.fields with their Russian titles).

Multifields. A lead here keeps two phones (the company's and the contact person's), two e-mails
(likewise) and one website, not lists: PHONE, EMAIL and WEB read them as Bitrix24's items with
fixed IDs — PHONE 1 the company's and 2 the contact's, EMAIL 3 and 4, WEB 5. A new item (no ID)
fills the first empty one, the company's first; an item with an ID changes that one, with an
empty VALUE (or DELETE=Y) clears it; a third phone is refused. The contact's phone keeps its
VALUE_TYPE (WORK, MOBILE, HOME, the others as OTHER); its extension is UF_CRM_PHONE_EXT.

STATUS_ID changes go through leads.services.lead_move (the status gate): a refusal names the
missing fields. CONVERTED is refused (conversion is not a REST method here) and JUNK needs
UF_CRM_JUNK_REASON (in the same call or already set).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import Q, prefetch_related_objects
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Action
from crm import lists as crm_lists
from crm import phones
from crm import selectors as crm_selectors
from crm.models import CommunicationType
from crm.money import Currency
from leads import selectors, services
from leads.models import Lead, Status
from leads.requirements import CATALOGUE, missing_for, rules_by_status
from rest.dispatch import refusal
from rest.fields import Field, FieldMap
from rest.lists import list_page
from rest.registry import Call, Page, RestError, method

from .crm_statuses import lead_semantic_id, lead_status_code, lead_status_from_code, source_from_id, source_id

# --- Multifields: fixed slots of the lead's own columns ---

PHONE_SLOTS = {1: "company_phone", 2: "contact_phone"}
EMAIL_SLOTS = {3: "company_email", 4: "contact_email"}
WEB_SLOTS = {5: "company_website"}
SLOTS = {"PHONE": PHONE_SLOTS, "EMAIL": EMAIL_SLOTS, "WEB": WEB_SLOTS}
PHONE_TYPES = {CommunicationType.WORK: "WORK", CommunicationType.MOBILE: "MOBILE", CommunicationType.HOME: "HOME",
               CommunicationType.OTHER: "OTHER"}
_PHONE_TYPE_BY_CODE = {code: ours for ours, code in PHONE_TYPES.items()}


def _items(lead: Lead, name: str) -> list[dict]:
    items = []
    for ident, column in SLOTS[name].items():
        value = getattr(lead, column)
        if value:
            value_type = PHONE_TYPES.get(lead.contact_phone_type, "OTHER") if column == "contact_phone" else "WORK"
            items.append({"ID": str(ident), "VALUE_TYPE": value_type, "VALUE": value, "TYPE_ID": name})
    return items


def _multifield_filter(name: str):
    """PHONE / EMAIL / WEB in a filter: either column (a phone in any usual format)."""
    columns = list(SLOTS[name].values())

    def condition(op: str, value) -> Q:
        values = value if isinstance(value, list) else [value]
        if name == "PHONE":
            try:
                values = [phones.normalize(str(v)) for v in values]
            except ValidationError:  # not a phone: matches nothing, as an unknown value would
                values = []
        elif name == "EMAIL":
            values = [str(v).strip().lower() for v in values]
        q = Q()
        for column in columns:
            if op in ("%", "!%", "=%", "%="):
                q |= Q(**{f"{column}__icontains": str(value).strip("%")})
            else:
                q |= Q(**{f"{column}__in": values})
        return ~q if op.startswith("!") else q

    return condition


def _has(columns):
    def condition(op: str, value) -> Q:
        q = Q()
        for column in columns:
            q |= ~Q(**{column: ""})
        return q if bool(value) != op.startswith("!") else ~q

    return condition


# --- Reference lists (SOURCE_ID, the UF_CRM_* enumerations) ---

def _ref(model_name: str):
    """An enumeration value by its id (as Bitrix24's enumerations are written) or its name."""
    def parse(raw):
        text = "" if raw is None else str(raw).strip()
        if text in ("", "None", "0"):
            return None
        items = crm_selectors.reference_items(model_name)
        found = items.filter(pk=int(text)).first() if text.isdigit() else None
        found = found or items.filter(name__iexact=text).first()
        if found is None:
            raise RestError.invalid(_("Нет такого значения «%(value)s» в списке «%(list)s».")
                                    % {"value": raw, "list": items.model._meta.verbose_name})
        return found.pk

    return parse


def _source(raw):
    text = "" if raw is None else str(raw).strip()
    return None if text in ("", "None") else source_from_id(text).pk


def _currency(raw):
    text = str(raw or "").strip().upper()
    if text not in Currency.values:
        raise RestError.invalid(_("Неизвестная валюта «%(value)s». Валюты: %(codes)s.")
                                % {"value": raw, "codes": ", ".join(Currency.values)})
    return text


def _flag(value) -> str:
    return "1" if value else "0"


# Our reference lists behind the fields (the *_id path → the model name in crm) and many-to-many ones.
REFS = {"source_id": "Source", "crm_system_id": "CrmSystem", "niche_id": "Niche", "client_type_id": "ClientType",
        "sales_channel_id": "SalesChannel", "junk_reason_id": "JunkReason"}
M2M_REFS = {"products_to_sell": "Product", "used_products": "UsedProduct"}


def _title(name: str):
    return Lead._meta.get_field(name).verbose_name


def _uf(name: str, kind: str, path: str, **kwargs) -> Field:
    field_name = path if path in M2M_REFS else path.removesuffix("_id")
    return Field(f"UF_CRM_{name}", kind, path, title=kwargs.pop("title", None) or _title(field_name), **kwargs)


def _prefetch(leads: list, names: set[str]) -> None:
    wanted = [path for name, path in (("UF_CRM_PRODUCTS", "products_to_sell"), ("UF_CRM_USED_PRODUCTS", "used_products"))
              if name in names]
    if wanted:
        prefetch_related_objects(leads, *wanted)


LEADS = FieldMap([
    Field("ID", "integer", "pk", title="ID", read_only=True),
    Field("TITLE", "string", "title", title=_title("title")),
    Field("NAME", "string", "contact_first_name", title=_title("contact_first_name")),
    Field("SECOND_NAME", "string", "contact_middle_name", title=_title("contact_middle_name")),
    Field("LAST_NAME", "string", "contact_last_name", title=_title("contact_last_name")),
    Field("BIRTHDATE", "date", "contact_birth_date", title=_title("contact_birth_date")),
    Field("POST", "string", "contact_position", title=_title("contact_position")),
    Field("COMPANY_TITLE", "string", "company_name", title=_title("company_name")),
    Field("ADDRESS", "string", "company_address", title=_title("company_address")),
    Field("SOURCE_ID", "crm_status", "source_id", title=_title("source"), status_type="SOURCE", parse=_source,
          render=source_id),
    Field("STATUS_ID", "crm_status", "status", title=_title("status"), status_type="STATUS",
          parse=lead_status_from_code, render=lead_status_code),
    Field("STATUS_SEMANTIC_ID", "string", "status", title=gettext_lazy("Группа статуса"), read_only=True,
          render=lead_semantic_id, filter=lambda op, value: _semantic_filter(op, value)),
    Field("OPPORTUNITY", "double", "amount", title=_title("amount")),
    Field("CURRENCY_ID", "crm_currency", "currency", title=_title("currency"), parse=_currency),
    Field("ASSIGNED_BY_ID", "user", "responsible_id", title=_title("responsible")),
    Field("CREATED_BY_ID", "user", "created_by_id", title=_title("created_by"), read_only=True),
    Field("DATE_CREATE", "datetime", "created_at", title=_title("created_at"), read_only=True),
    Field("DATE_MODIFY", "datetime", "updated_at", title=_title("updated_at"), read_only=True),
    Field("MOVED_TIME", "datetime", "status_changed_at", title=_title("status_changed_at"), read_only=True),
    Field("COMMENTS", "string", "comment", title=_title("comment")),
    Field("COMPANY_ID", "crm_company", "company_id", title=_title("company"), read_only=True),
    Field("CONTACT_ID", "crm_contact", "contact_id", title=_title("contact"), read_only=True),
    Field("HAS_PHONE", "char", None, title=gettext_lazy("Есть телефон"), read_only=True,
          get=lambda lead: bool(lead.company_phone or lead.contact_phone), reads=("company_phone", "contact_phone"),
          filter=_has(PHONE_SLOTS.values())),
    Field("HAS_EMAIL", "char", None, title=gettext_lazy("Есть e-mail"), read_only=True,
          get=lambda lead: bool(lead.company_email or lead.contact_email), reads=("company_email", "contact_email"),
          filter=_has(EMAIL_SLOTS.values())),
    Field("PHONE", "crm_multifield", None, title=gettext_lazy("Телефон"), get=lambda lead: _items(lead, "PHONE"),
          reads=(*PHONE_SLOTS.values(), "contact_phone_type"), filter=_multifield_filter("PHONE")),
    Field("EMAIL", "crm_multifield", None, title=gettext_lazy("E-mail"), get=lambda lead: _items(lead, "EMAIL"),
          reads=tuple(EMAIL_SLOTS.values()), filter=_multifield_filter("EMAIL")),
    Field("WEB", "crm_multifield", None, title=gettext_lazy("Сайт"), get=lambda lead: _items(lead, "WEB"),
          reads=tuple(WEB_SLOTS.values()), filter=_multifield_filter("WEB")),
    _uf("INN", "string", "inn"),
    _uf("KPP", "string", "kpp"),
    _uf("OGRN", "string", "ogrn"),
    _uf("LEGAL_NAME", "string", "legal_name"),
    _uf("LEGAL_ADDRESS", "string", "legal_address"),
    _uf("PHONE_EXT", "string", "contact_phone_ext"),
    _uf("CRM_SYSTEM", "enumeration", "crm_system_id", parse=_ref("CrmSystem"), render=lambda v: None if v is None else str(v)),
    _uf("NICHE", "enumeration", "niche_id", parse=_ref("Niche"), render=lambda v: None if v is None else str(v)),
    _uf("CLIENT_TYPE", "enumeration", "client_type_id", parse=_ref("ClientType"),
        render=lambda v: None if v is None else str(v)),
    _uf("SALES_CHANNEL", "enumeration", "sales_channel_id", parse=_ref("SalesChannel"),
        render=lambda v: None if v is None else str(v)),
    _uf("EMPLOYEES", "integer", "employees_count"),
    _uf("DM_TALKED", "boolean", "talked_to_decision_maker", render=_flag),
    _uf("PRODUCTS", "enumeration", "products_to_sell", multiple=True, parse=_ref("Product"),
        render=lambda v: str(v)),
    _uf("USP_ACK", "boolean", "usp_acknowledged", render=_flag),
    _uf("USED_PRODUCTS", "enumeration", "used_products", multiple=True, parse=_ref("UsedProduct"),
        render=lambda v: str(v)),
    _uf("NEXT_TOUCH", "string", "next_touch"),
    _uf("TOUCH_DATE", "date", "next_touch_date"),
    _uf("TRAINING", "string", "training_info"),
    _uf("JUNK_REASON", "enumeration", "junk_reason_id", parse=_ref("JunkReason"),
        render=lambda v: None if v is None else str(v)),
], prefetch=_prefetch)

# The UF_CRM_* enumerations' lists, answered by crm.lead.fields as Bitrix24's `items`.
ENUMERATIONS = {"UF_CRM_CRM_SYSTEM": "CrmSystem", "UF_CRM_NICHE": "Niche", "UF_CRM_CLIENT_TYPE": "ClientType",
                "UF_CRM_SALES_CHANNEL": "SalesChannel", "UF_CRM_PRODUCTS": "Product",
                "UF_CRM_USED_PRODUCTS": "UsedProduct", "UF_CRM_JUNK_REASON": "JunkReason"}
# A status rule's key (leads.requirements.CATALOGUE) → the REST field that fills it.
RULE_FIELDS = {"title": "TITLE", "source": "SOURCE_ID", "company_name": "COMPANY_TITLE", "company_phone": "PHONE",
               "company_email": "EMAIL", "company_address": "ADDRESS", "company_website": "WEB", "inn": "UF_CRM_INN",
               "niche": "UF_CRM_NICHE", "crm_system": "UF_CRM_CRM_SYSTEM", "client_type": "UF_CRM_CLIENT_TYPE",
               "sales_channel": "UF_CRM_SALES_CHANNEL", "employees_count": "UF_CRM_EMPLOYEES",
               "contact_last_name": "LAST_NAME", "contact_first_name": "NAME", "contact_position": "POST",
               "contact_email": "EMAIL", "talked_to_decision_maker": "UF_CRM_DM_TALKED",
               "products_to_sell": "UF_CRM_PRODUCTS", "usp_acknowledged": "UF_CRM_USP_ACK",
               "used_products": "UF_CRM_USED_PRODUCTS", "next_touch": "UF_CRM_NEXT_TOUCH",
               "next_touch_date": "UF_CRM_TOUCH_DATE", "training_info": "UF_CRM_TRAINING", "amount": "OPPORTUNITY",
               "junk_reason": "UF_CRM_JUNK_REASON", "contact_phone_or_ext": "PHONE, UF_CRM_PHONE_EXT"}


def _semantic_filter(op: str, value) -> Q:
    wanted = {str(v).upper() for v in (value if isinstance(value, list) else [value])}
    statuses = [s for s in Status.values if lead_semantic_id(s) in wanted]
    q = Q(status__in=statuses)
    return ~q if op.startswith("!") else q


# --- Errors: the services' refusals as Bitrix24's answers (rest.dispatch answers them) ---

def _missing_text(exc: services.MissingFields) -> str:
    """The gate names our labels; the fields to send are named too (a pinned comment has none:
    crm.timeline.comment.add)."""
    names = list(dict.fromkeys(RULE_FIELDS[r.key] for r in exc.requirements if r.key in RULE_FIELDS))
    if not names:
        return str(exc)
    return f"{exc} " + _("Поля REST: %(names)s.") % {"names": ", ".join(names)}


refusal(services.LeadError)
refusal(services.MissingFields, _missing_text)


# The rules a lead not saved yet cannot be checked against (they read its saved relations).
_SAVED_ONLY = {"products_to_sell", "used_products", "pinned_comment"}


def _check_new(data: dict) -> None:
    """What «Не обработан» requires, before anything is written: the service checks the rules
    after saving, and a lead without a source cannot even be saved (the list is required by the
    schema, whatever the rules say)."""
    probe = Lead(**data)
    missing = [r for r in missing_for(probe, Status.NEW) if r.key not in _SAVED_ONLY]
    if probe.source_id is None and not any(r.key == "source" for r in missing):
        missing.insert(0, CATALOGUE["source"])
    if missing:
        raise services.MissingFields(probe, Status.NEW, missing)


# --- Reading ---

def _lead(call: Call, action: str = Action.VIEW) -> Lead:
    return call.record(selectors.lead_for_card, action)


@method("crm.lead.fields", scope="crm")
def lead_fields(call: Call) -> dict:
    answer = LEADS.describe()
    for name, model_name in ENUMERATIONS.items():
        answer[name]["items"] = [{"ID": str(item.pk), "VALUE": item.name}
                                 for item in crm_selectors.reference_items(model_name) if item.is_active]
    # Required: what a new lead must have by the rules of «Не обработан» (data a supervisor edits).
    for key in rules_by_status().get(Status.NEW, set()):
        name = RULE_FIELDS.get(key)
        if name in answer:
            answer[name]["isRequired"] = True
    return answer


@method("crm.lead.get", scope="crm")
def lead_get(call: Call) -> dict:
    lead = _lead(call)
    return LEADS.to_rest_many([lead])[0]


@method("crm.lead.list", scope="crm", atomic=False)
def lead_list(call: Call) -> Page:
    return list_page(call, selectors.visible_leads(call.user).defer("search_text", "company_key"), LEADS,
                     count_all=lambda: crm_lists.known_count(call.user, Lead), only_selected=True)


# --- Writing ---

def _comms_data(lead: Lead | None, comms: dict) -> dict:
    """PHONE / EMAIL / WEB items as changes of the lead's columns (see the module's docstring)."""
    data: dict = {}
    for name, items in comms.items():
        slots = SLOTS[name]
        for item in items:
            def current(column):
                return data.get(column, getattr(lead, column) if lead is not None else "")

            if item["ID"] is not None and lead is not None:
                column = slots.get(item["ID"])
                if column is None:
                    raise RestError.invalid(_("У лида нет значения %(name)s с ID %(id)s.") % {"name": name, "id": item["ID"]})
            else:
                if item["VALUE"] in {current(c) for c in slots.values()}:
                    continue  # already there: Bitrix24 would add a twin, a lead has no room for one
                column = next((c for c in slots.values() if not current(c)), None)
                if column is None:
                    raise RestError.invalid(
                        _("У лида не больше %(count)d значений %(name)s (%(slots)s): измените или удалите "
                          "существующее по его ID.") % {"count": len(slots), "name": name,
                                                         "slots": ", ".join(str(i) for i in slots)})
            data[column] = "" if item["DELETE"] else item["VALUE"]
            if column == "contact_phone" and not item["DELETE"]:
                data["contact_phone_type"] = _PHONE_TYPE_BY_CODE.get(item["VALUE_TYPE"], CommunicationType.OTHER)
    return data


def _objects(lead: Lead | None, data: dict, m2m: dict) -> tuple[dict, dict]:
    """Ids of reference lists and users as the objects the services take. A retired value of a list
    is refused unless the lead has it already (as the forms offer only the active ones)."""
    result = {}
    for path, value in data.items():
        if path in REFS:
            name = path.removesuffix("_id")
            if value is None:
                result[name] = None
                continue
            item = crm_selectors.reference_items(REFS[path]).get(pk=value)
            if not item.is_active and (lead is None or getattr(lead, path) != item.pk):
                raise RestError.invalid(_("Значение «%(value)s» больше не используется.") % {"value": item.name})
            result[name] = item
        elif path == "responsible_id":
            user = crm_lists.active_users().filter(pk=value).first() if value is not None else None
            if user is None:
                raise RestError.invalid(_("Нет такого активного пользователя: ASSIGNED_BY_ID=%(value)s.") % {"value": value})
            result["responsible"] = user
        elif value is None and Lead._meta.get_field(path).get_internal_type() in ("CharField", "TextField"):
            result[path] = ""  # an emptied text field is "" here (null in Bitrix24's answers)
        elif value is None and path in ("talked_to_decision_maker", "usp_acknowledged"):
            result[path] = False
        elif value is None and path in ("amount",):
            result[path] = 0
        elif value is None and path == "currency":
            continue
        else:
            result[path] = value
    objects = {}
    for path, values in m2m.items():
        items = {i.pk: i for i in crm_selectors.reference_items(M2M_REFS[path]).filter(pk__in=values)}
        current = {i.pk for i in getattr(lead, path).all()} if lead is not None else set()
        for item in items.values():
            if not item.is_active and item.pk not in current:
                raise RestError.invalid(_("Значение «%(value)s» больше не используется.") % {"value": item.name})
        objects[path] = [items[v] for v in values if v in items]
    return result, objects


def _fields_param(call: Call) -> dict:
    return call.param("fields", "arFields") or {}


def _not_converting(status: str | None, lead: Lead | None) -> None:
    """«Успешный» is set by conversion alone, which is done in the CRM, not here (as in Bitrix24,
    moving a lead to its success status through REST creates nothing: here it is refused)."""
    if status == Status.CONVERTED and (lead is None or lead.status != Status.CONVERTED):
        raise RestError.invalid(_("Лид становится «Успешным» только при конвертации в контакт, компанию или сделку; "
                                  "через REST лиды не конвертируются — сконвертируйте лид в CRM."))


@method("crm.lead.add", scope="crm")
def lead_add(call: Call) -> int:
    data, m2m, comms = LEADS.from_rest(_fields_param(call), adding=True)
    status = data.pop("status", None)
    _not_converting(status, None)
    data.update(_comms_data(None, comms))
    data.setdefault("responsible_id", call.user.pk)  # Bitrix24 assigns the new lead to its creator
    data, m2m = _objects(None, data, m2m)
    moves = {k: data.pop(k) for k in ("junk_reason",) if k in data and status == Status.JUNK}
    _check_new(data)
    lead = services.lead_create(data=data, m2m=m2m, by=call.user)
    if status and status != lead.status:
        services.lead_move(lead, to=status, by=call.user, data=moves or None)
    return lead.pk


@method("crm.lead.update", scope="crm")
def lead_update(call: Call) -> bool:
    lead = _lead(call, Action.CHANGE)
    data, m2m, comms = LEADS.from_rest(_fields_param(call))
    status = data.pop("status", None)
    _not_converting(status, lead)
    data.update(_comms_data(lead, comms))
    data, m2m = _objects(lead, data, m2m)
    # What «Не успешный» needs goes with the move (the gate checks it), not before it.
    moves = {k: data.pop(k) for k in ("junk_reason",) if k in data and status == Status.JUNK}
    changed = {k: v for k, v in data.items() if getattr(lead, k) != v}
    if changed or m2m:
        lead = services.lead_update(lead, data=changed, m2m=m2m or None, by=call.user, version=lead.version)
    if status and status != lead.status:
        lead = services.lead_move(lead, to=status, by=call.user, data=moves or None)
    return True


@method("crm.lead.delete", scope="crm")
def lead_delete(call: Call) -> bool:
    lead = _lead(call, Action.DELETE)
    services.lead_delete(lead, by=call.user)
    return True


# --- Product rows: a lead's «Продукты для продажи» ---

def _product_rows(lead: Lead) -> list[dict]:
    return [{"ID": str(product.pk), "OWNER_ID": str(lead.pk), "OWNER_TYPE": "L", "PRODUCT_ID": product.pk,
             "PRODUCT_NAME": product.name, "ORIGINAL_PRODUCT_NAME": product.name, "PRODUCT_DESCRIPTION": None,
             "PRICE": 0, "PRICE_EXCLUSIVE": 0, "PRICE_NETTO": 0, "PRICE_BRUTTO": 0, "PRICE_ACCOUNT": "0.00",
             "QUANTITY": 1, "DISCOUNT_TYPE_ID": 2, "DISCOUNT_RATE": 0, "DISCOUNT_SUM": 0, "TAX_RATE": None,
             "TAX_INCLUDED": "N", "CUSTOMIZED": "Y", "MEASURE_CODE": 796, "MEASURE_NAME": "шт", "SORT": (i + 1) * 10}
            for i, product in enumerate(lead.products_to_sell.all())]


@method("crm.lead.productrows.get", scope="crm")
def lead_productrows_get(call: Call) -> list:
    return _product_rows(_lead(call))


def product_of_row(row, catalogue: dict) -> object:
    """The product a row names by PRODUCT_ID, else by PRODUCT_NAME (our products are a reference
    list: a row cannot bring a new one)."""
    if not isinstance(row, dict):
        raise RestError.invalid(_("Каждая строка товаров — объект с PRODUCT_ID или PRODUCT_NAME."))
    row = {str(k).upper(): v for k, v in row.items()}
    ident = str(row.get("PRODUCT_ID") or "").strip()
    name = str(row.get("PRODUCT_NAME") or "").strip()
    product = catalogue["by_id"].get(int(ident)) if ident.isdigit() and ident != "0" else None
    if product is None and name:
        product = catalogue["by_name"].get(name.lower())
    if product is None:
        raise RestError.invalid(_("Нет такого товара: PRODUCT_ID=%(id)s, PRODUCT_NAME=%(name)s. Товары — значения "
                                  "списка UF_CRM_PRODUCTS в crm.lead.fields.") % {"id": ident or "—", "name": name or "—"})
    return product


def products_catalogue() -> dict:
    products = list(crm_selectors.reference_items("Product"))
    return {"by_id": {p.pk: p for p in products}, "by_name": {p.name.lower(): p for p in products}}


@method("crm.lead.productrows.set", scope="crm")
def lead_productrows_set(call: Call) -> bool:
    """The lead's «Продукты для продажи» become the rows' products. A lead records which products,
    not how many nor at what price: QUANTITY and PRICE are not kept (get answers 1 and 0)."""
    lead = _lead(call, Action.CHANGE)
    from rest.parsing import as_list

    catalogue = products_catalogue()
    products = []
    for row in as_list(call.param("rows")):
        product = product_of_row(row, catalogue)
        if product not in products:
            products.append(product)
    current = {p.pk for p in lead.products_to_sell.all()}
    for product in products:
        if not product.is_active and product.pk not in current:
            raise RestError.invalid(_("Значение «%(value)s» больше не используется.") % {"value": product.name})
    if {p.pk for p in products} != current:
        services.lead_update(lead, data={}, m2m={"products_to_sell": products}, by=call.user, version=lead.version)
    return True
