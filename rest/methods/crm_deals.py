"""`crm.deal.*`: deals in Bitrix24's names, through deals.selectors (the access gate, per pipeline)
and deals.services (the only writers, the stage gate).

Field mapping (bitrix24.md §2): TITLE, CATEGORY_ID (the pipeline: our first is Bitrix24's 0),
STAGE_ID («NEW», «C3:WON»: crm_statuses), OPPORTUNITY, CURRENCY_ID, COMPANY_ID, CONTACT_IDS (and the
older CONTACT_ID: the first contact), SOURCE_ID, BEGINDATE / CLOSEDATE (start and expected close
dates), ASSIGNED_BY_ID, COMMENTS, UF_CRM_LOSS_REASON; read-only ID, STAGE_SEMANTIC_ID, CLOSED,
LEAD_ID, CREATED_BY_ID, DATE_CREATE, DATE_MODIFY, MOVED_TIME.

As in Bitrix24, `crm.deal.update` does not move a deal to another pipeline: CATEGORY_ID is dropped
there (immutable); a STAGE_ID of another pipeline is refused. A stage change goes through
deals.services.deal_move: its refusal names the missing fields; a failure stage needs
UF_CRM_LOSS_REASON (in the same call or already set). OPPORTUNITY follows the product rows when
they add up to more than zero (crm.deal.productrows.set), as on the card.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.db.models import Q, prefetch_related_objects
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts import access
from accounts.models import Action
from clients import selectors as client_selectors
from crm import lists as crm_lists
from deals import selectors, services
from deals.models import Deal, Stage
from exchange import bitrix24 as b24
from rest.dispatch import refusal
from rest.fields import Field, FieldMap
from rest.lists import list_page
from rest.parsing import as_list
from rest.registry import Call, Page, RestError, method

from .crm_leads import _currency, _source, product_of_row, products_catalogue
from .crm_statuses import SEMANTIC_IDS, catalog, source_id


def _title(name: str):
    return Deal._meta.get_field(name).verbose_name


def _category(raw):
    text = "" if raw is None else str(raw).strip()
    return None if text in ("", "None") else catalog().pipeline(text).pk


def _stage(raw):
    text = "" if raw is None else str(raw).strip()
    return None if text in ("", "None") else catalog().stage(text).pk


def _loss_reason(raw):
    text = "" if raw is None else str(raw).strip()
    if text in ("", "None", "0"):
        return None
    reasons = selectors.loss_reasons()
    found = reasons.filter(pk=int(text)).first() if text.isdigit() else None
    found = found or reasons.filter(name__iexact=text).first()
    if found is None:
        raise RestError.invalid(_("Нет такой причины провала «%(value)s».") % {"value": raw})
    return found.pk


def _semantics_filter(op: str, value) -> Q:
    """STAGE_SEMANTIC_ID (P, S, F) and CLOSED (Y/N) filter by the stages that have them."""
    wanted = {str(v).upper() for v in (value if isinstance(value, list) else [value])}
    stages = [s.pk for s in catalog().stages if SEMANTIC_IDS.get(s.semantics, "P") in wanted]
    q = Q(stage_id__in=stages)
    return ~q if op.startswith("!") else q


def _closed_filter(op: str, value) -> Q:
    closed = [s.pk for s in catalog().stages if s.semantics != Stage.Semantics.IN_PROCESS]
    q = Q(stage_id__in=closed)
    return q if bool(value) != op.startswith("!") else ~q


def _contacts_filter(op: str, value) -> Q:
    values = value if isinstance(value, list) else [value]
    q = selectors.with_contacts(values)
    return ~q if op.startswith("!") else q


def _contact_ids(deal: Deal) -> list[int]:
    return sorted(c.pk for c in selectors.linked_contacts(deal))


def _prefetch(deals: list, names: set[str]) -> None:
    if names & {"CONTACT_ID", "CONTACT_IDS"}:
        prefetch_related_objects(deals, "contacts")


DEALS = FieldMap([
    Field("ID", "integer", "pk", title="ID", read_only=True),
    Field("TITLE", "string", "title", title=_title("title")),
    Field("CATEGORY_ID", "crm_category", "pipeline_id", title=_title("pipeline"), immutable=True, parse=_category,
          render=lambda pk: None if pk is None else str(catalog().category_id(pk))),
    Field("STAGE_ID", "crm_status", "stage_id", title=_title("stage"), status_type="DEAL_STAGE", parse=_stage,
          render=lambda pk: catalog().stage_id(pk)),
    Field("STAGE_SEMANTIC_ID", "string", None, title=gettext_lazy("Группа стадии"), read_only=True,
          get=lambda deal: catalog().semantic_id(deal.stage_id), filter=_semantics_filter),
    Field("CLOSED", "char", None, title=gettext_lazy("Сделка закрыта"), read_only=True,
          get=lambda deal: catalog().semantic_id(deal.stage_id) != "P", filter=_closed_filter),
    Field("OPPORTUNITY", "double", "amount", title=_title("amount")),
    Field("CURRENCY_ID", "crm_currency", "currency", title=_title("currency"), parse=_currency),
    Field("COMPANY_ID", "crm_company", "company_id", title=_title("company")),
    Field("CONTACT_ID", "crm_contact", None, title=gettext_lazy("Контакт"),
          get=lambda deal: (_contact_ids(deal) or [None])[0], filter=_contacts_filter),
    Field("CONTACT_IDS", "crm_contact", None, title=_title("contacts"), multiple=True, get=_contact_ids,
          filter=_contacts_filter),
    Field("SOURCE_ID", "crm_status", "source_id", title=_title("source"), status_type="SOURCE", parse=_source,
          render=source_id),
    Field("BEGINDATE", "date", "start_date", title=_title("start_date")),
    Field("CLOSEDATE", "date", "close_date", title=_title("close_date")),
    Field("ASSIGNED_BY_ID", "user", "responsible_id", title=_title("responsible")),
    Field("LEAD_ID", "crm_lead", "lead_id", title=_title("lead"), read_only=True),
    Field("COMMENTS", "string", "comment", title=_title("comment")),
    Field("CREATED_BY_ID", "user", "created_by_id", title=_title("created_by"), read_only=True),
    Field("DATE_CREATE", "datetime", "created_at", title=_title("created_at"), read_only=True),
    Field("DATE_MODIFY", "datetime", "updated_at", title=_title("updated_at"), read_only=True),
    Field("MOVED_TIME", "datetime", "stage_changed_at", title=_title("stage_changed_at"), read_only=True),
    Field("UF_CRM_LOSS_REASON", "enumeration", "loss_reason_id", title=_title("loss_reason"), parse=_loss_reason,
          render=lambda pk: None if pk is None else str(pk)),
], prefetch=_prefetch)


# --- Errors: the services' refusals (rest.dispatch answers them) ---

refusal(services.DealError)


# --- Reading ---

def _deal(call: Call, action: str = Action.VIEW) -> Deal:
    return call.record(selectors.deal_for_card, action)


@method("crm.deal.fields", scope="crm")
def deal_fields(call: Call) -> dict:
    answer = DEALS.describe()
    answer["UF_CRM_LOSS_REASON"]["items"] = [{"ID": str(r.pk), "VALUE": r.name} for r in selectors.loss_reasons()
                                             if r.is_active]
    answer["TITLE"]["isRequired"] = True
    return answer


@method("crm.deal.get", scope="crm")
def deal_get(call: Call) -> dict:
    catalog(fresh=True)
    return DEALS.to_rest_many([_deal(call)])[0]


@method("crm.deal.list", scope="crm", atomic=False)
def deal_list(call: Call) -> Page:
    catalog(fresh=True)
    return list_page(call, selectors.visible_deals(call.user), DEALS,
                     count_all=lambda: crm_lists.known_count(call.user, Deal))


# --- Writing ---

def _links(call: Call, deal: Deal | None, fields: dict, data: dict) -> dict:
    """COMPANY_ID, CONTACT_IDS / CONTACT_ID as the objects the services take: a new link must be to
    a record the user may see (the service checks again); links he cannot see stay as they are."""
    m2m = {}
    if "company_id" in data:
        pk = data.pop("company_id")
        if pk is None:
            data["company"] = None
        elif deal is None or pk != deal.company_id:
            company = client_selectors.visible_companies(call.user).filter(pk=pk).first()
            if company is None:
                raise RestError.invalid(_("Компания COMPANY_ID=%(id)s не найдена.") % {"id": pk})
            data["company"] = company
    upper = {str(k).upper(): v for k, v in fields.items()}
    raw = upper["CONTACT_IDS"] if "CONTACT_IDS" in upper else ([upper["CONTACT_ID"]] if "CONTACT_ID" in upper else None)
    if raw is not None:
        field = DEALS.field("CONTACT_IDS")
        wanted = [v for v in (field.value(x) for x in as_list(raw)) if v not in (None, "", 0)]
        current = {c.pk: c for c in selectors.linked_contacts(deal)} if deal is not None else {}
        found = {c.pk: c for c in client_selectors.visible_contacts(call.user).filter(pk__in=wanted)}
        chosen = []
        for pk in dict.fromkeys(wanted):
            contact = found.get(pk) or current.get(pk)
            if contact is None:
                raise RestError.invalid(_("Контакт CONTACT_ID=%(id)s не найден.") % {"id": pk})
            chosen.append(contact)
        m2m["contacts"] = access.keep_hidden_links(call.user, list(current.values()), chosen)
    return m2m


def _objects(deal: Deal | None, data: dict) -> dict:
    """Ids of the lists and users as objects; a retired source or loss reason only if the deal has it."""
    from crm import selectors as crm_selectors

    result = {}
    for path, value in data.items():
        if path == "source_id":
            item = crm_selectors.reference_items("Source").filter(pk=value).first() if value is not None else None
            if item is not None and not item.is_active and (deal is None or deal.source_id != item.pk):
                raise RestError.invalid(_("Значение «%(value)s» больше не используется.") % {"value": item.name})
            result["source"] = item
        elif path == "loss_reason_id":
            item = selectors.loss_reasons().filter(pk=value).first() if value is not None else None
            if item is not None and not item.is_active and (deal is None or deal.loss_reason_id != item.pk):
                raise RestError.invalid(_("Значение «%(value)s» больше не используется.") % {"value": item.name})
            result["loss_reason"] = item
        elif path == "responsible_id":
            user = crm_lists.active_users().filter(pk=value).first() if value is not None else None
            if user is None:
                raise RestError.invalid(_("Нет такого активного пользователя: ASSIGNED_BY_ID=%(value)s.") % {"value": value})
            result["responsible"] = user
        elif value is None and path in ("title", "comment"):
            result[path] = ""
        elif value is None and path == "amount":
            result[path] = Decimal("0")
        elif value is None and path == "currency":
            continue
        else:
            result[path] = value
    return result


def _fields_param(call: Call) -> dict:
    fields = call.param("fields", "arFields") or {}
    if not isinstance(fields, dict):
        raise RestError.invalid("Parameter fields must be an object")
    return fields


def _without_stage(fields: dict) -> tuple[dict, object]:
    """`fields` without STAGE_ID, and its value: a stage is read in the deal's pipeline (an
    unprefixed code names that pipeline's stage, as a prefixed one names its own), which the
    field's own parser — category 0's, as Bitrix24 reads a filter — does not know."""
    rest = {k: v for k, v in fields.items() if str(k).upper() != "STAGE_ID"}
    raw = next((v for k, v in fields.items() if str(k).upper() == "STAGE_ID"), None)
    return rest, None if raw is None or str(raw).strip() in ("", "None") else raw


@method("crm.deal.add", scope="crm")
def deal_add(call: Call) -> int:
    cat = catalog(fresh=True)
    fields, raw_stage = _without_stage(_fields_param(call))
    data, _m2m, _comms = DEALS.from_rest(fields, adding=True)
    category = data.pop("pipeline_id", None)
    if category is not None:
        pipeline = next(p for p in cat.pipelines if p.pk == category)
    elif raw_stage is not None and b24.split_stage(str(raw_stage))[0] is not None:
        pipeline = next(p for p in cat.pipelines if p.pk == cat.stage(raw_stage).pipeline_id)
    else:
        pipeline = cat.pipeline(0)
    stage = cat.stage(raw_stage, pipeline.pk) if raw_stage is not None else None
    data.setdefault("responsible_id", call.user.pk)
    m2m = _links(call, None, fields, data)
    data = _objects(None, data)
    if not data.get("title"):
        raise RestError.invalid(_("Не заполнено обязательное поле: TITLE (%(label)s).") % {"label": _title("title")})
    moves = {k: data.pop(k) for k in ("loss_reason",) if k in data}
    deal = services.deal_create(data=data, m2m=m2m or None, by=call.user, pipeline=pipeline)
    if stage is not None and stage.pk != deal.stage_id:
        deal = services.deal_move(deal, to=stage, by=call.user, data=moves or None)
    elif moves:
        deal = services.deal_update(deal, data=moves, by=call.user, version=deal.version)
    return deal.pk


@method("crm.deal.update", scope="crm")
def deal_update(call: Call) -> bool:
    cat = catalog(fresh=True)
    deal = _deal(call, Action.CHANGE)
    fields, raw_stage = _without_stage(_fields_param(call))
    data, _m2m, _comms = DEALS.from_rest(fields)
    data.pop("pipeline_id", None)  # immutable here, as in Bitrix24 (crm.item.update moves pipelines there)
    stage = cat.stage(raw_stage, deal.pipeline_id) if raw_stage is not None else None
    m2m = _links(call, deal, fields, data)
    data = _objects(deal, data)
    moving = stage is not None and stage.pk != deal.stage_id
    moves = {k: data.pop(k) for k in ("loss_reason",) if k in data and moving
             and stage.semantics == Stage.Semantics.FAILURE}
    changed = {k: v for k, v in data.items() if getattr(deal, k) != v}
    if changed or m2m:
        deal = services.deal_update(deal, data=changed, m2m=m2m or None, by=call.user, version=deal.version)
    if moving:
        services.deal_move(deal, to=stage, by=call.user, data=moves or None)
    return True


@method("crm.deal.delete", scope="crm")
def deal_delete(call: Call) -> bool:
    deal = _deal(call, Action.DELETE)
    services.deal_delete(deal, by=call.user)
    return True


# --- Product rows ---

def _number(row: dict, name: str, default: Decimal) -> Decimal:
    raw = row.get(name)
    if raw in (None, ""):
        return default
    try:
        value = Decimal(str(raw).replace(",", "."))
    except InvalidOperation:
        raise RestError.invalid(_("%(name)s: нужно число, а не «%(value)s».") % {"name": name, "value": raw}) from None
    if not value.is_finite() or abs(value) >= Decimal(10) ** 12:
        raise RestError.invalid(_("%(name)s: недопустимое число «%(value)s».") % {"name": name, "value": raw})
    return value.quantize(Decimal("0.01"))


@method("crm.deal.productrows.get", scope="crm")
def deal_productrows_get(call: Call) -> list:
    deal = _deal(call)
    return [{"ID": str(row.pk), "OWNER_ID": str(deal.pk), "OWNER_TYPE": "D", "PRODUCT_ID": row.product_id,
             "PRODUCT_NAME": row.product.name, "ORIGINAL_PRODUCT_NAME": row.product.name, "PRODUCT_DESCRIPTION": None,
             "PRICE": float(row.price), "PRICE_EXCLUSIVE": float(row.price), "PRICE_NETTO": float(row.price),
             "PRICE_BRUTTO": float(row.price), "PRICE_ACCOUNT": f"{row.price:.2f}", "QUANTITY": float(row.quantity),
             "DISCOUNT_TYPE_ID": 2, "DISCOUNT_RATE": 0, "DISCOUNT_SUM": 0, "TAX_RATE": None, "TAX_INCLUDED": "N",
             "CUSTOMIZED": "Y", "MEASURE_CODE": 796, "MEASURE_NAME": "шт", "SORT": (i + 1) * 10}
            for i, row in enumerate(deal.products.all())]


@method("crm.deal.productrows.set", scope="crm")
def deal_productrows_set(call: Call) -> bool:
    """The deal's rows become these (product, QUANTITY, PRICE); discounts and taxes are not kept.
    An empty `rows` removes them all, as in Bitrix24."""
    deal = _deal(call, Action.CHANGE)
    catalogue = products_catalogue()
    current = {row.product_id for row in deal.products.all()}
    rows = []
    for raw in as_list(call.param("rows")):
        product = product_of_row(raw, catalogue)
        if not product.is_active and product.pk not in current:
            raise RestError.invalid(_("Значение «%(value)s» больше не используется.") % {"value": product.name})
        upper = {str(k).upper(): v for k, v in raw.items()}
        rows.append((product, _number(upper, "QUANTITY", Decimal("1")), _number(upper, "PRICE", Decimal("0"))))
    services.deal_set_products(deal, rows=rows, by=call.user)
    return True


# --- A deal's contacts: crm.deal.contact.* ---
# Our deal links its contacts without an order or roles: the first by id is the primary one
# (CONTACT_ID), SORT follows that order, ROLE_ID is 0; SORT and IS_PRIMARY sent are not kept.

def _contact_items(deal: Deal) -> list[dict]:
    return [{"CONTACT_ID": pk, "SORT": (i + 1) * 10, "ROLE_ID": 0, "IS_PRIMARY": "Y" if i == 0 else "N"}
            for i, pk in enumerate(_contact_ids(deal))]


def _contact_of(item) -> int:
    """The CONTACT_ID of one item ({"CONTACT_ID": 5, …}); RestError when there is none."""
    upper = {str(k).upper(): v for k, v in item.items()} if isinstance(item, dict) else {}
    try:
        pk = DEALS.field("CONTACT_IDS").value(upper.get("CONTACT_ID"))
    except RestError:
        pk = None
    if not pk or pk < 0:
        raise RestError.invalid("CONTACT_ID is not defined or invalid.")
    return pk


def _link_contacts(call: Call, deal: Deal, ids: list[int]) -> bool:
    """The deal's contacts become `ids` (a new one must be visible to the user; those he cannot
    see stay linked, as crm.deal.update keeps them)."""
    m2m = _links(call, deal, {"CONTACT_IDS": ids}, {})
    if {c.pk for c in m2m["contacts"]} != set(_contact_ids(deal)):
        services.deal_update(deal, data={}, m2m=m2m, by=call.user, version=deal.version)
    return True


@method("crm.deal.contact.items.get", scope="crm")
def deal_contact_items_get(call: Call) -> list:
    return _contact_items(_deal(call))


@method("crm.deal.contact.items.set", scope="crm")
def deal_contact_items_set(call: Call) -> bool:
    deal = _deal(call, Action.CHANGE)
    return _link_contacts(call, deal, [_contact_of(item) for item in as_list(call.param("items"))])


@method("crm.deal.contact.items.delete", scope="crm")
def deal_contact_items_delete(call: Call) -> bool:
    return _link_contacts(call, _deal(call, Action.CHANGE), [])


@method("crm.deal.contact.add", scope="crm")
def deal_contact_add(call: Call) -> bool:
    deal = _deal(call, Action.CHANGE)
    pk = _contact_of(call.param("fields"))
    return _link_contacts(call, deal, [*_contact_ids(deal), pk])


@method("crm.deal.contact.delete", scope="crm")
def deal_contact_delete(call: Call) -> bool:
    deal = _deal(call, Action.CHANGE)
    pk = _contact_of(call.param("fields"))
    return _link_contacts(call, deal, [c for c in _contact_ids(deal) if c != pk])
