"""crm.timeline.comment.* and crm.activity.* — a record's comments and its planned touches.

Comments are the timeline's comments (crm.timeline): anyone who may open a record may comment on
it, as on its card. Bitrix24's «дела» (activities) are our touches: a task of kind call, meeting
or task bound to a lead, deal, contact or company (tasks_app), planned and completed through
tasks_app.services as the card's «Запланировать» and «Дело выполнено» do.

Activity fields (Bitrix24 → ours): ID; OWNER_TYPE_ID 1 lead / 2 deal / 3 contact / 4 company and
OWNER_ID — the record the touch is bound to (the first, when a task is bound to several);
TYPE_ID 1 meeting / 2 call / 3 task (6, Bitrix24's universal «дело», is taken as a task);
SUBJECT → title; DESCRIPTION; DEADLINE, START_TIME and END_TIME are our one deadline (written
from DEADLINE, else START_TIME, else END_TIME); COMPLETED Y/N and STATUS 1/2 (read) → completed
or not; PRIORITY 3 (high) ↔ «Важная задача»; RESPONSIBLE_ID; AUTHOR_ID (the creator, read-only);
CREATED, LAST_UPDATED (read-only). Left out: DIRECTION, COMMUNICATIONS, LOCATION, FILES,
BINDINGS, PROVIDER_*, ORIGIN_*, SETTINGS — a touch has none of these (written ones are ignored,
as Bitrix24 ignores fields it does not know)."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts import access
from accounts.models import Action
from crm import timeline
from crm.lists import active_users
from crm.models import TimelineEntry
from rest.dispatch import refusal
from rest.fields import Field, FieldMap
from rest.lists import list_page
from rest.parsing import as_list
from rest.registry import Call, RestError, method
from tasks_app import selectors as task_selectors
from tasks_app import services as task_services
from tasks_app.models import ACTIVE, Kind, Task

# Bitrix24's CRM object types (OWNER_TYPE_ID / ENTITY_TYPE / the UF_CRM_TASK prefixes).
OWNER_TYPES = {
    1: ("lead", "leads.lead", "L"),
    2: ("deal", "deals.deal", "D"),
    3: ("contact", "clients.contact", "C"),
    4: ("company", "clients.company", "CO"),
}
BY_NAME = {name: type_id for type_id, (name, _label, _prefix) in OWNER_TYPES.items()}
BY_LABEL = {label: type_id for type_id, (_name, label, _prefix) in OWNER_TYPES.items()}
BY_PREFIX = {prefix: type_id for type_id, (_name, _label, prefix) in OWNER_TYPES.items()}


def visible_records(user, type_id: int, action: str = Action.VIEW) -> models.QuerySet:
    """The records of one kind the user may act on: each app's own selector (the access gate)."""
    if type_id == 1:
        from leads.selectors import visible_leads

        return visible_leads(user, action)
    if type_id == 2:
        from deals.selectors import visible_deals

        return visible_deals(user, action)
    from clients.selectors import visible_companies, visible_contacts

    return visible_contacts(user, action) if type_id == 3 else visible_companies(user, action)


def as_id(value, what: str = "ID") -> int:
    """A positive integer id, as Bitrix24 takes it (a number or its string); RestError otherwise."""
    if isinstance(value, bool):
        raise RestError.invalid(f"{what} is not defined or invalid.")
    if isinstance(value, int):
        number = value
    else:
        text = str(value if value is not None else "").strip()
        if not (text.isascii() and text.isdigit()):
            raise RestError.invalid(f"{what} is not defined or invalid.")
        number = int(text)
    if not 0 < number < 2**63:
        raise RestError.invalid(f"{what} is not defined or invalid.")
    return number


def owner_type(value) -> int:
    """OWNER_TYPE_ID (1–4) or ENTITY_TYPE («lead», «deal», «contact», «company», any case)."""
    text = str(value if value is not None else "").strip().lower()
    if text in BY_NAME:
        return BY_NAME[text]
    if text.isascii() and text.isdigit() and int(text) in OWNER_TYPES:
        return int(text)
    raise RestError.invalid("ENTITY_TYPE is not defined or invalid. Allowed: lead, deal, contact, company.")


def record(user, type_id: int, pk, action: str = Action.VIEW) -> models.Model:
    """One record the user may see (and act on): anything else is Bitrix24's «Not found», so
    ids cannot be probed."""
    found = visible_records(user, type_id, Action.VIEW).filter(pk=as_id(pk, "ENTITY_ID")).first()
    if found is None:
        raise RestError.not_found()
    if action != Action.VIEW and not access.can(user, action, found):
        raise RestError.access_denied()
    return found


class ReaderMap(FieldMap):
    """A field map for one reader: what a record shows of its links depends on who reads it."""

    def __init__(self, fields: FieldMap, user):
        super().__init__(fields.fields, prefetch=fields.prefetch)
        self.user = user

    def to_rest_many(self, objects: list, names: list[str] | None = None) -> list[dict]:
        for record in objects:
            record._rest_reader = self.user
        return super().to_rest_many(objects, names)


def _fields(call: Call) -> dict:
    fields = call.param("fields", "arFields")
    if fields in (None, ""):
        return {}
    if not isinstance(fields, dict):
        raise RestError.invalid("Parameter fields must be an object")
    return {str(k).upper(): v for k, v in fields.items()}


def _without(call: Call, names: set[str]) -> Call:
    """The call with these names taken out of its `filter` (handled before the list machinery)."""
    raw = call.param("filter") or {}
    rest = {k: v for k, v in raw.items() if str(k).upper().lstrip("=") not in names} if isinstance(raw, dict) else raw
    params = {k: v for k, v in call.params.items() if str(k).lower() != "filter"}
    params["filter"] = rest
    return Call(user=call.user, webhook=call.webhook, params=params, request=call.request)


# --- crm.timeline.comment.* ---

def _entity_type(entry) -> str | None:
    label = ContentType.objects.get_for_id(entry.content_type_id)
    type_id = BY_LABEL.get(f"{label.app_label}.{label.model}")
    return OWNER_TYPES[type_id][0] if type_id else None


COMMENTS = FieldMap([
    Field("ID", "integer", "pk", title="ID", read_only=True),
    Field("CREATED", "datetime", "created_at", title=gettext_lazy("Когда"), read_only=True),
    Field("ENTITY_ID", "integer", "object_id", title=gettext_lazy("Запись"), read_only=True),
    Field("ENTITY_TYPE", "string", title=gettext_lazy("Тип записи"), read_only=True, get=_entity_type),
    Field("AUTHOR_ID", "user", "author_id", title=gettext_lazy("Автор"), read_only=True),
    Field("COMMENT", "text", "text", title=gettext_lazy("Комментарий"), required=True),
])


@method("crm.timeline.comment.fields", scope="crm")
def comment_fields(call: Call):
    return COMMENTS.describe()


@method("crm.timeline.comment.add", scope="crm")
def comment_add(call: Call):
    """Anyone who may open the record may comment on it, as on its card."""
    fields = _fields(call)
    target = record(call.user, owner_type(fields.get("ENTITY_TYPE")), fields.get("ENTITY_ID"))
    text = str(fields.get("COMMENT") or "").strip()
    if not text or text == "None":
        raise RestError.invalid("COMMENT is not defined or empty.")
    entry = timeline.add_comment(target, call.user, text)
    return entry.pk


@method("crm.timeline.comment.get", scope="crm")
def comment_get(call: Call):
    entry = timeline.comment(call.id_param())
    if entry is None:
        raise RestError.not_found()
    label = ContentType.objects.get_for_id(entry.content_type_id)
    type_id = BY_LABEL.get(f"{label.app_label}.{label.model}")
    if type_id is None:  # a comment on a task: not a CRM record's timeline
        raise RestError.not_found()
    record(call.user, type_id, entry.object_id)
    return COMMENTS.to_rest(entry)


@method("crm.timeline.comment.list", scope="crm", atomic=False)
def comment_list(call: Call):
    """Bitrix24 wants the record in the filter (ENTITY_ID and ENTITY_TYPE); the list is its comments."""
    raw = call.param("filter") or {}
    if not isinstance(raw, dict):
        raise RestError.invalid("Parameter filter must be an object")
    upper = {str(k).upper().lstrip("="): v for k, v in raw.items()}
    if "ENTITY_ID" not in upper or "ENTITY_TYPE" not in upper:
        raise RestError.invalid("ENTITY_ID and ENTITY_TYPE are required in the filter.")
    target = record(call.user, owner_type(upper["ENTITY_TYPE"]), upper["ENTITY_ID"])
    comments = timeline.entries(target).filter(kind=TimelineEntry.Kind.COMMENT)
    return list_page(_without(call, {"ENTITY_ID", "ENTITY_TYPE"}), comments, COMMENTS)


# --- crm.activity.* (our touches) ---

TYPE_IDS = {Kind.MEETING: "1", Kind.CALL: "2", Kind.TASK: "3"}
KIND_OF_TYPE = {"1": Kind.MEETING, "2": Kind.CALL, "3": Kind.TASK, "6": Kind.TASK}


def _kind(raw) -> str:
    text = str(raw).strip()
    if text not in KIND_OF_TYPE:
        raise RestError.invalid(_("Неизвестный тип дела (TYPE_ID) «%(value)s»: 1 — встреча, 2 — звонок, 3 — задача.")
                                % {"value": raw})
    return KIND_OF_TYPE[text]


def _done_filter(op: str, value) -> Q:
    values = value if isinstance(value, list) else [value]
    q = Q()
    for done in values:
        q |= ~Q(status__in=ACTIVE) if done else Q(status__in=ACTIVE)
    return ~q if op in ("!", "!=", "!@") else q


def _owner_type_filter(op: str, value) -> Q:
    values = value if isinstance(value, list) else [value]
    q = Q()
    for type_id in values:
        q |= task_selectors.bound_condition(OWNER_TYPES[owner_type(type_id)][1])
    return ~q if op in ("!", "!=", "!@") else q


def _owner_id_filter(op: str, value) -> Q:
    values = value if isinstance(value, list) else [value]
    q = task_selectors.bound_condition(None, [v for v in values if v is not None])
    return ~q if op in ("!", "!=", "!@") else q


def _owner(task: Task):
    return getattr(task, "_rest_owner", None) or (None, None)


def _owners(objects: list, names: set[str]) -> None:
    firsts = task_selectors.first_bindings([t.pk for t in objects])
    for task in objects:
        pair = firsts.get(task.pk)
        if pair is None:
            continue
        ct = ContentType.objects.get_for_id(pair[0])
        type_id = BY_LABEL.get(f"{ct.app_label}.{ct.model}")
        task._rest_owner = (type_id, pair[1])


ACTIVITIES = FieldMap([
    Field("ID", "integer", "pk", title="ID", read_only=True),
    Field("OWNER_TYPE_ID", "integer", title=gettext_lazy("Тип записи"), required=True, immutable=True,
          get=lambda t: _owner(t)[0], filter=_owner_type_filter),
    Field("OWNER_ID", "integer", title=gettext_lazy("Запись"), required=True, immutable=True,
          get=lambda t: _owner(t)[1], filter=_owner_id_filter),
    Field("TYPE_ID", "enumeration", "kind", title=gettext_lazy("Тип"), parse=_kind, render=lambda v: TYPE_IDS.get(v),
          items=[("1", gettext_lazy("Встреча")), ("2", gettext_lazy("Звонок")), ("3", gettext_lazy("Задача"))]),
    Field("SUBJECT", "string", "title", title=gettext_lazy("Название")),
    Field("DESCRIPTION", "text", "description", title=gettext_lazy("Описание")),
    Field("DEADLINE", "datetime", "deadline", title=gettext_lazy("Крайний срок")),
    Field("START_TIME", "datetime", "deadline", title=gettext_lazy("Крайний срок")),
    Field("END_TIME", "datetime", "deadline", title=gettext_lazy("Крайний срок")),
    Field("COMPLETED", "char", title=gettext_lazy("Выполнено"), get=lambda t: t.status not in ACTIVE, filter=_done_filter),
    Field("STATUS", "enumeration", title=gettext_lazy("Статус"), read_only=True,
          get=lambda t: "1" if t.status in ACTIVE else "2", items=[("1", gettext_lazy("Ждёт выполнения")), ("2", gettext_lazy("Выполнено"))],
          filter=lambda op, v: _done_filter(op, [str(x) == "2" for x in (v if isinstance(v, list) else [v])])),
    Field("PRIORITY", "enumeration", "is_important", title=gettext_lazy("Важная задача"),
          parse=lambda v: str(v).strip() == "3", render=lambda v: "3" if v else "2",
          items=[("1", gettext_lazy("Низкий")), ("2", gettext_lazy("Средний")), ("3", gettext_lazy("Высокий"))]),
    Field("RESPONSIBLE_ID", "user", "responsible_id", title=gettext_lazy("Ответственный")),
    Field("AUTHOR_ID", "user", "creator_id", title=gettext_lazy("Постановщик"), read_only=True),
    Field("CREATED", "datetime", "created_at", title=gettext_lazy("Создана"), read_only=True),
    Field("LAST_UPDATED", "datetime", "updated_at", title=gettext_lazy("Изменена"), read_only=True),
], prefetch=_owners)


def active_user(pk, field: str):
    """A user a task may be given to: active (the forms offer the same)."""
    found = active_users().filter(pk=pk).first() if pk is not None else None
    if found is None:
        raise RestError.invalid(_("Пользователь с ID %(id)s не найден или отключён (%(field)s).")
                                % {"id": pk, "field": field})
    return found


def check_title(data: dict, field: str) -> None:
    """A task's title fits its column (the services leave the length to the forms)."""
    limit = Task._meta.get_field("title").max_length
    if len(data.get("title") or "") > limit:
        raise RestError.invalid(_("Название длиннее %(n)s символов (%(field)s).") % {"n": limit, "field": field})


def _activity_data(fields: dict) -> tuple[dict, bool | None]:
    """(the task's fields, COMPLETED as asked or None) from an activity's `fields`."""
    writable = {k: v for k, v in fields.items() if k not in ("OWNER_TYPE_ID", "OWNER_ID", "COMPLETED")}
    data, _m2m, _comms = ACTIVITIES.from_rest(writable)
    for name in ("DEADLINE", "START_TIME", "END_TIME"):  # one deadline: DEADLINE first
        if name in fields:
            data["deadline"] = ACTIVITIES.field(name).value(fields[name])
            break
    if "responsible_id" in data:
        data["responsible"] = active_user(data.pop("responsible_id"), "RESPONSIBLE_ID")
    for name in ("title", "description"):
        if name in data:
            data[name] = "" if data[name] in (None, "None") else str(data[name]).strip()
    check_title(data, "SUBJECT")
    done = ACTIVITIES.field("COMPLETED").value(fields["COMPLETED"]) if "COMPLETED" in fields else None
    return data, done


def _activity(call: Call) -> Task:
    task = task_selectors.touches(call.user).filter(pk=call.id_param()).first()
    if task is None:
        raise RestError.not_found()
    return task


def _read_activity(user, pk: int) -> dict:
    task = task_selectors.touches(user).get(pk=pk)
    return ACTIVITIES.to_rest_many([task])[0]


refusal(task_services.TaskError)  # rest.dispatch answers the task services' refusals


@method("crm.activity.fields", scope="crm")
def activity_fields(call: Call):
    return ACTIVITIES.describe()


@method("crm.activity.add", scope="crm")
def activity_add(call: Call):
    """A touch planned on a record: as the card's «Запланировать», by whom may change the record."""
    fields = _fields(call)
    if "OWNER_TYPE_ID" not in fields or "OWNER_ID" not in fields:
        raise RestError.invalid("OWNER_TYPE_ID and OWNER_ID are required.")
    target = record(call.user, owner_type(fields["OWNER_TYPE_ID"]), fields["OWNER_ID"], Action.CHANGE)
    data, done = _activity_data(fields)
    data.setdefault("kind", Kind.CALL)
    if not data.get("title"):
        data["title"] = str(Kind(data["kind"]).label)
    if "responsible" not in data:
        owner = getattr(target, "responsible", None)
        data["responsible"] = owner if owner is not None and owner.is_active else call.user
    if not access.can_add(call.user, Task):
        raise RestError.access_denied()
    task = task_services.task_create(data=data, by=call.user, records=[target])
    if done:
        task_services.task_transition(task, "complete", by=call.user)
    return task.pk


@method("crm.activity.get", scope="crm")
def activity_get(call: Call):
    return ACTIVITIES.to_rest_many([_activity(call)])[0]


@method("crm.activity.list", scope="crm", atomic=False)
def activity_list(call: Call):
    """OWNER_TYPE_ID with OWNER_ID in the filter mean «bound to that record» together."""
    raw = call.param("filter") or {}
    queryset = task_selectors.touches(call.user)
    if isinstance(raw, dict):
        plain = {str(k).upper().lstrip("="): v for k, v in raw.items()}
        if "OWNER_TYPE_ID" in plain and "OWNER_ID" in plain and not isinstance(plain["OWNER_TYPE_ID"], (list, dict)):
            label = OWNER_TYPES[owner_type(plain["OWNER_TYPE_ID"])][1]
            ids = [as_id(v, "OWNER_ID") for v in as_list(plain["OWNER_ID"])]
            queryset = queryset.filter(task_selectors.bound_condition(label, ids))
            call = _without(call, {"OWNER_TYPE_ID", "OWNER_ID"})
    return list_page(call, queryset, ACTIVITIES)


@method("crm.activity.update", scope="crm")
def activity_update(call: Call):
    """Fields through tasks_app.services.task_update (the creator or a supervisor); COMPLETED Y/N
    completes or renews it (the responsible may too), as «Дело выполнено» on the card."""
    task = _activity(call)
    data, done = _activity_data(_fields(call))
    if data:
        task = task_services.task_update(task, data=data, by=call.user)
    if done is True and task.status in ACTIVE:
        task_services.task_transition(task, "complete", by=call.user)
    elif done is False and task.status not in ACTIVE:
        task_services.task_transition(task, "renew", by=call.user)
    return True


@method("crm.activity.delete", scope="crm")
def activity_delete(call: Call):
    task = _activity(call)
    task_services.task_delete(task, by=call.user)
    return True
