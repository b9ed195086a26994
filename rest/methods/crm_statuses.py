"""Bitrix24's dictionaries: lead statuses, sources, deal pipelines («направления», categories) and
their stages — `crm.status.list`, `crm.status.entity.types`, `crm.category.list`,
`crm.dealcategory.list`, `crm.dealcategory.stage.list` — and the codes the lead and deal methods
read and write (`STATUS_ID`, `SOURCE_ID`, `CATEGORY_ID`, `STAGE_ID`).

The codes are stable, whatever supervisors rename:
- lead statuses: NEW, CONVERTED and JUNK for «Не обработан», «Успешный» and «Не успешный» (as in
  Bitrix24); our other statuses are FIRST_CALL, QUALIFICATION, RECONNAISSANCE, DECISION_MAKER;
- sources: the reference list's id («5»), as Bitrix24 numbers the sources a portal adds; a write
  may also name one of Bitrix24's default codes (WEB, CALL…) or a source's name;
- pipelines: Bitrix24's category 0 is our first pipeline (the smallest id: «Общая воронка», seeded
  first), the others keep their id;
- stages: `Stage.code` (deals migration 0007), with «C<category>:» before it outside category 0.
"""

from __future__ import annotations

from contextvars import ContextVar

from django.utils.translation import gettext as _

from accounts.models import Action
from crm import selectors as crm_selectors
from deals import selectors as deal_selectors
from deals.models import Stage
from exchange import bitrix24 as b24
from leads.models import CLOSED, ORDER, Status
from rest.registry import Call, Page, RestError, method

# --- Lead statuses ---

LEAD_STATUS_CODES = {
    Status.NEW: "NEW", Status.FIRST_CALL: "FIRST_CALL", Status.QUALIFICATION: "QUALIFICATION",
    Status.RECONNAISSANCE: "RECONNAISSANCE", Status.DECISION_MAKER: "DECISION_MAKER",
    Status.CONVERTED: "CONVERTED", Status.JUNK: "JUNK",
}
_LEAD_STATUS_BY_CODE = {code: status for status, code in LEAD_STATUS_CODES.items()}
LEAD_COLORS = {Status.NEW: "#39A8EF", Status.FIRST_CALL: "#2FC6F6", Status.QUALIFICATION: "#55D0E0",
               Status.RECONNAISSANCE: "#47E4C2", Status.DECISION_MAKER: "#FFA900", Status.CONVERTED: "#7BD500",
               Status.JUNK: "#FF5752"}
# Bitrix24's semantics: P (in process, null in crm.status.list), S (success), F (failure).
SEMANTIC_IDS = {Stage.Semantics.IN_PROCESS: "P", Stage.Semantics.SUCCESS: "S", Stage.Semantics.FAILURE: "F"}


def lead_status_code(status: str | None) -> str | None:
    return LEAD_STATUS_CODES.get(status) if status else None


def lead_status_from_code(code) -> str:
    """Our status for a STATUS_ID (any case); RestError names the codes there are."""
    text = str(code).strip().upper()
    if text not in _LEAD_STATUS_BY_CODE:
        raise RestError.invalid(_("Неизвестный статус лида «%(code)s». Статусы: %(codes)s.")
                                % {"code": code, "codes": ", ".join(LEAD_STATUS_CODES.values())})
    return _LEAD_STATUS_BY_CODE[text]


def lead_semantic_id(status: str | None) -> str | None:
    if not status:
        return None
    return "S" if status == Status.CONVERTED else "F" if status == Status.JUNK else "P"


# --- Pipelines and stages (read once per call: see catalog()) ---

class Catalog:
    """The pipelines and stages of this call, with their Bitrix24 ids."""

    def __init__(self):
        self.pipelines, self.stages = deal_selectors.pipelines_and_stages()
        default = min((p.pk for p in self.pipelines), default=None)
        self.category_of = {p.pk: 0 if p.pk == default else p.pk for p in self.pipelines}
        self.pipeline_of_category = {c: p for p in self.pipelines for c in [self.category_of[p.pk]]}
        self.stage_by_pk = {s.pk: s for s in self.stages}

    def category_id(self, pipeline_id: int | None) -> int | None:
        return self.category_of.get(pipeline_id)

    def pipeline(self, category) -> object:
        """The pipeline of a CATEGORY_ID; RestError if there is none."""
        try:
            number = int(str(category).strip())
        except (TypeError, ValueError):
            raise RestError.invalid(_("Неизвестная воронка (CATEGORY_ID) «%(value)s».") % {"value": category}) from None
        pipeline = self.pipeline_of_category.get(number)
        if pipeline is None:
            raise RestError.invalid(_("Неизвестная воронка (CATEGORY_ID) «%(value)s».") % {"value": category})
        return pipeline

    def prefix(self, pipeline_id: int) -> str:
        category = self.category_of.get(pipeline_id)
        return f"C{category}:" if category else ""

    def stage_id(self, stage_pk: int | None) -> str | None:
        stage = self.stage_by_pk.get(stage_pk)
        return None if stage is None else self.prefix(stage.pipeline_id) + stage.code

    def stage(self, raw, pipeline_id: int | None = None) -> Stage:
        """The stage a STAGE_ID names: «C3:NEW», or «NEW» in category 0 — or in `pipeline_id`'s
        pipeline when given (a deal's own pipeline: Bitrix24 accepts its stages' codes unprefixed
        there too). RestError if there is no such stage."""
        text = str(raw).strip()
        category, code = b24.split_stage(text)
        if category is not None:
            pipeline = self.pipeline_of_category.get(int(category))
            if pipeline is None and int(category) in self.category_of and self.category_of[int(category)] == 0:
                pipeline = self.pipeline_of_category[0]  # «C<id of the default pipeline>:» is meant as category 0
            pipelines = [pipeline] if pipeline is not None else []
        else:
            pipelines = [self.pipeline_of_category.get(0)]
            if pipeline_id is not None:
                pipelines.insert(0, next((p for p in self.pipelines if p.pk == pipeline_id), None))
        for pipeline in pipelines:
            if pipeline is None:
                continue
            for stage in self.stages:
                if stage.pipeline_id == pipeline.pk and stage.code.upper() == code.upper():
                    return stage
        raise RestError.invalid(_("Неизвестная стадия сделки (STAGE_ID) «%(value)s».") % {"value": raw})

    def semantic_id(self, stage_pk: int | None) -> str | None:
        stage = self.stage_by_pk.get(stage_pk)
        return None if stage is None else SEMANTIC_IDS.get(stage.semantics, "P")

    def stages_of(self, pipeline_id: int) -> list[Stage]:
        return [s for s in self.stages if s.pipeline_id == pipeline_id]


_catalog: ContextVar[Catalog | None] = ContextVar("rest_deal_catalog", default=None)


def catalog(fresh: bool = False) -> Catalog:
    """This call's pipelines and stages. Every method that reads or writes deals starts with
    `catalog(fresh=True)`, so a stage a supervisor added a second ago is known, and the renders of
    a page of 50 deals read them once."""
    current = _catalog.get()
    if current is None or fresh:
        current = Catalog()
        _catalog.set(current)
    return current


# --- Sources ---

def source_id(source_pk: int | None) -> str | None:
    return None if source_pk is None else str(source_pk)


def source_from_id(raw):
    """The source a SOURCE_ID names: its id, one of Bitrix24's default codes (WEB → «Сайт»…) or a
    source's name. RestError if none."""
    text = str(raw).strip()
    sources = list(crm_selectors.reference_items("Source"))
    if text.isdigit():
        found = next((s for s in sources if s.pk == int(text)), None)
        if found is not None:
            return found
    by_name = {b24.key(s.name): s for s in sources}
    for name in (text, *b24.source_names(text)):
        if b24.key(name) in by_name:
            return by_name[b24.key(name)]
    raise RestError.invalid(_("Неизвестный источник (SOURCE_ID) «%(value)s». Источники — в crm.status.list "
                              "с ENTITY_ID=SOURCE.") % {"value": raw})


# --- crm.status.* ---

def _status_row(row_id, entity, status_id, name, sort, color, semantics, category=None, system=False) -> dict:
    return {"ID": str(row_id), "ENTITY_ID": entity, "STATUS_ID": status_id, "NAME": name, "NAME_INIT": name if system else "",
            "SORT": str(sort), "SYSTEM": "Y" if system else "N", "CATEGORY_ID": None if category is None else str(category),
            "COLOR": color, "SEMANTICS": {"S": "S", "F": "F"}.get(semantics),
            "EXTRA": {"SEMANTICS": {"S": "success", "F": "failure"}.get(semantics, "process"), "COLOR": color}}


def _entity_ids(user) -> list[tuple[str, int | None]]:
    """The dictionaries this user may read: lead statuses, sources, and the stages of each
    pipeline he has rights in ((ENTITY_ID, pipeline id))."""
    cat = catalog()
    visible = {p.pk for p in deal_selectors.pipelines_for(user)}
    result = [("STATUS", None), ("SOURCE", None)]
    for pipeline in cat.pipelines:
        if pipeline.pk in visible:
            category = cat.category_id(pipeline.pk)
            result.append(("DEAL_STAGE" if category == 0 else f"DEAL_STAGE_{category}", pipeline.pk))
    return result


# crm.status.list rows have a numeric ID in Bitrix24; ours are computed in ranges of their own
# (a stage's is its id), so that a client keying rows by ID never mixes two of them.
LEAD_ROW_IDS, SOURCE_ROW_IDS = 1_000_000, 2_000_000


def status_rows(user, entity_id: str | None = None) -> list[dict]:
    cat = catalog()
    rows = []
    for entity, pipeline_id in _entity_ids(user):
        if entity_id is not None and entity != entity_id:
            continue
        if entity == "STATUS":
            for i, status in enumerate(ORDER, start=1):
                code = LEAD_STATUS_CODES[status]
                rows.append(_status_row(LEAD_ROW_IDS + i, "STATUS", code, str(Status(status).label), i * 10, LEAD_COLORS[status],
                                        lead_semantic_id(status), system=status in (Status.NEW, *CLOSED)))
        elif entity == "SOURCE":
            for source in crm_selectors.reference_items("Source"):
                rows.append(_status_row(SOURCE_ROW_IDS + source.pk, "SOURCE", str(source.pk), source.name, source.sort, "", None))
        else:
            category = cat.category_id(pipeline_id)
            for stage in cat.stages_of(pipeline_id):
                rows.append(_status_row(stage.pk, entity, cat.stage_id(stage.pk), stage.name, stage.sort,
                                        stage.color.upper(), SEMANTIC_IDS.get(stage.semantics),
                                        category=category if category else None,
                                        system=stage.code in ("NEW", "WON", "LOSE")))
    return rows


def _page(call: Call, rows: list) -> Page:
    try:
        start = int(str(call.param("start", default=0) or 0))
    except ValueError:
        start = 0
    if start < 0:
        return Page(rows=rows[:50], total=None, next=None)
    chunk = rows[start:start + 50]
    return Page(rows=chunk, total=len(rows), next=start + 50 if start + 50 < len(rows) else None)


def _sorted(rows: list[dict], order, default: tuple[str, ...]) -> list[dict]:
    """Rows ordered as `order` asks ({"SORT": "ASC"}), by default by `default`; numbers as numbers."""
    def value(row, key):
        raw = row.get(key)
        text = "" if raw is None else str(raw)
        return (0, int(text), "") if text.lstrip("-").isdigit() else (1, 0, text)

    keys = [(str(k).upper(), str(v).upper() == "DESC") for k, v in order.items()] if isinstance(order, dict) else []
    keys = [(k, d) for k, d in keys if rows and k in rows[0]] or [(k, False) for k in default]
    for key, descending in reversed(keys):
        rows = sorted(rows, key=lambda r, k=key: value(r, k), reverse=descending)
    return rows


def _filtered(rows: list[dict], filters) -> list[dict]:
    """Equality on the rows' own fields (Bitrix24 filters crm.status.list on ENTITY_ID, STATUS_ID…);
    a field the rows do not have is refused."""
    if not filters:
        return rows
    if not isinstance(filters, dict):
        raise RestError.invalid("Parameter filter must be an object")
    for key, wanted in filters.items():
        name = str(key).lstrip("=").upper()
        if rows and name not in rows[0]:
            raise RestError.invalid(f"Unknown field in filter: {key}")
        wanted_set = {str(w) for w in wanted} if isinstance(wanted, list) else {str(wanted)}
        rows = [r for r in rows if str(r.get(name) if r.get(name) is not None else "") in wanted_set]
    return rows


@method("crm.status.list", scope="crm")
def status_list(call: Call) -> Page:
    catalog(fresh=True)
    filters = call.param("filter") or {}
    entity = None
    if isinstance(filters, dict):
        entity = next((str(v) for k, v in filters.items() if str(k).lstrip("=").upper() == "ENTITY_ID"), None)
    rows = status_rows(call.user, entity.upper() if entity else None)
    rows = _filtered(rows, filters)
    return _page(call, _sorted(rows, call.param("order"), ("ENTITY_ID", "SORT")) if not entity
                 else _sorted(rows, call.param("order"), ("SORT", "ID")))


@method("crm.status.entity.types", scope="crm")
def status_entity_types(call: Call) -> list:
    cat = catalog(fresh=True)
    answer = []
    for entity, pipeline_id in _entity_ids(call.user):
        if entity == "STATUS":
            answer.append({"ID": "STATUS", "NAME": _("Статусы лидов"), "ENTITY_TYPE_ID": 1,
                           "SEMANTIC_INFO": {"START_FIELD": "NEW", "FINAL_SUCCESS_FIELD": "CONVERTED",
                                             "FINAL_UNSUCCESS_FIELD": "JUNK", "FINAL_SORT": 0}})
        elif entity == "SOURCE":
            answer.append({"ID": "SOURCE", "NAME": _("Источники")})
        else:
            pipeline = next(p for p in cat.pipelines if p.pk == pipeline_id)
            category = cat.category_id(pipeline_id)
            stages = cat.stages_of(pipeline_id)
            first = next((s for s in stages if s.semantics == Stage.Semantics.IN_PROCESS), None)
            won = next((s for s in stages if s.semantics == Stage.Semantics.SUCCESS), None)
            lost = next((s for s in stages if s.semantics == Stage.Semantics.FAILURE), None)
            row = {"ID": entity, "NAME": _("Стадии сделок «%(name)s»") % {"name": pipeline.name}, "ENTITY_TYPE_ID": 2,
                   "SEMANTIC_INFO": {"START_FIELD": cat.stage_id(first.pk) if first else None,
                                     "FINAL_SUCCESS_FIELD": cat.stage_id(won.pk) if won else None,
                                     "FINAL_UNSUCCESS_FIELD": cat.stage_id(lost.pk) if lost else None,
                                     "FINAL_SORT": won.sort if won else 0},
                   "FIELD_ATTRIBUTE_SCOPE": f"category_{category}" if category else "", "CATEGORY_ID": category}
            if category:
                row.update({"PARENT_ID": "DEAL_STAGE", "PREFIX": f"C{category}"})
            answer.append(row)
    return answer


# --- Pipelines ---

def _visible_pipelines(user) -> list:
    return deal_selectors.pipelines_for(user, Action.VIEW)


@method("crm.category.list", scope="crm")
def category_list(call: Call) -> dict:
    """{"categories": [...]} of an entity type; deals (2) are the only one with pipelines here."""
    entity_type = call.param("entityTypeId")
    if str(entity_type).strip() != "2":
        raise RestError("NOT_FOUND", _("Воронки есть только у сделок (entityTypeId=2)."), 400)
    cat = catalog(fresh=True)
    categories = [{"id": cat.category_id(p.pk), "name": p.name, "sort": p.sort, "entityTypeId": 2,
                   "isDefault": "Y" if cat.category_id(p.pk) == 0 else "N", "originId": "", "originatorId": ""}
                  for p in _visible_pipelines(call.user)]
    return {"categories": categories}


@method("crm.dealcategory.list", scope="crm")
def dealcategory_list(call: Call) -> Page:
    """The pipelines besides category 0, as Bitrix24's deprecated method answers (the default one is
    crm.dealcategory.default.get there)."""
    cat = catalog(fresh=True)
    rows = [{"ID": str(cat.category_id(p.pk)), "NAME": p.name, "SORT": str(p.sort), "IS_LOCKED": "N",
             "CREATED_DATE": None}
            for p in _visible_pipelines(call.user) if cat.category_id(p.pk) != 0]
    return _page(call, _filtered(rows, call.param("filter")))


@method("crm.dealcategory.default.get", scope="crm")
def dealcategory_default(call: Call) -> dict:
    cat = catalog(fresh=True)
    pipeline = cat.pipeline_of_category.get(0)
    return {"ID": 0, "NAME": pipeline.name if pipeline else ""}


@method("crm.dealcategory.stage.list", scope="crm")
def dealcategory_stage_list(call: Call) -> list:
    """The stages of one pipeline ({id: category}, 0 by default) — crm.status.list's rows."""
    cat = catalog(fresh=True)
    raw = call.param("id", default=0)
    pipeline = cat.pipeline(0 if raw in (None, "") else raw)
    if pipeline.pk not in {p.pk for p in _visible_pipelines(call.user)}:
        raise RestError.access_denied()
    category = cat.category_id(pipeline.pk)
    return status_rows(call.user, "DEAL_STAGE" if category == 0 else f"DEAL_STAGE_{category}")
