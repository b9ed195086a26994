"""tasks.task.add/get/list/update, complete/start/pause/defer/renew/approve/disapprove, getfields —
«Задачи» in Bitrix24's dialect.

Bitrix24 takes the fields in upper case (TITLE, RESPONSIBLE_ID, UF_CRM_TASK) and answers in
camelCase: {"task": {...}} and {"tasks": [...]} (a list with total/next). We take either case.
Everything goes through tasks_app.selectors (who sees a task: its participants, and a level over
the responsible's department) and tasks_app.services (who may do what: the responsible starts
and completes, the creator or a supervisor edits — as in Bitrix24 and on the task card).

Fields: ID, TITLE (required), DESCRIPTION, STATUS (2 ждёт выполнения, 3 выполняется, 4 ждёт
контроля, 5 завершена, 6 отложена; a write moves the task through the transition that leads
there), PRIORITY (2 high = «Важная задача», 1 normal), RESPONSIBLE_ID (the webhook's user when not
given), CREATED_BY (read-only: the webhook's user creates), ACCOMPLICES (соисполнители), AUDITORS
(наблюдатели), DEADLINE, TASK_CONTROL (Y: «Принять работу после завершения»), CREATED_DATE,
CHANGED_DATE, DATE_START, CLOSED_DATE (read-only), UF_CRM_TASK (["L_4", "D_10", "C_7", "CO_5"]:
the records it is bound to that the user may see; given only when selected, as in Bitrix24).
Left out: GROUP_ID, PARENT_ID, checklists, time tracking, files, START_DATE_PLAN/END_DATE_PLAN —
no such things in our tasks.
"""

from __future__ import annotations

import re

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_fsm import can_proceed

from accounts import access
from rest.fields import Field, FieldMap
from rest.lists import list_page
from rest.methods.crm_timeline import (
    BY_LABEL,
    BY_PREFIX,
    OWNER_TYPES,
    ReaderMap,
    active_user,
    check_title,
    record,
)
from rest.parsing import as_list
from rest.registry import Call, Page, RestError, method
from tasks_app import selectors, services
from tasks_app.models import Status, Task

STATUS_CODES = {Status.PENDING: "2", Status.IN_PROGRESS: "3", Status.AWAITING_CONTROL: "4", Status.COMPLETED: "5",
                Status.DEFERRED: "6"}
STATUS_OF_CODE = {code: status for status, code in STATUS_CODES.items()}
# A STATUS write: the transitions that lead to it, tried in this order from the current status.
TRANSITIONS_TO = {
    Status.COMPLETED: ("complete", "accept"),
    Status.AWAITING_CONTROL: ("complete",),
    Status.IN_PROGRESS: ("start",),
    Status.PENDING: ("pause", "renew", "send_back"),
    Status.DEFERRED: ("defer",),
}
_BINDING = re.compile(r"^(L|D|C|CO)_(\d{1,18})$")


def _status(raw) -> str:
    text = str(raw).strip()
    if text not in STATUS_OF_CODE:
        raise RestError.invalid(_("Неизвестный статус задачи (STATUS) «%(value)s»: 2, 3, 4, 5 или 6.") % {"value": raw})
    return STATUS_OF_CODE[text]


def _participants(role: str):
    def condition(op: str, value):
        values = [v for v in (value if isinstance(value, list) else [value]) if v is not None]
        q = selectors.participant_condition(role, values)
        if op in ("!", "!=", "!@"):
            return ~q
        if op not in ("=", "@"):
            raise RestError.invalid(f"Filter {op} is not supported here")
        return q
    return condition


def _bindings_of(task: Task) -> list[str]:
    return getattr(task, "_rest_bindings", [])


def _crm_filter(op: str, value) -> object:
    values = value if isinstance(value, list) else [value]
    from django.db.models import Q

    q = Q()
    for item in values:
        prefix, pk = _binding(item)
        q |= selectors.bound_condition(OWNER_TYPES[BY_PREFIX[prefix]][1], [pk])
    if op in ("!", "!=", "!@"):
        return ~q
    if op not in ("=", "@"):
        raise RestError.invalid(f"Filter {op}UF_CRM_TASK is not supported")
    return q


def _prefetch(objects: list, names: set[str]) -> None:
    if names & {"ACCOMPLICES", "AUDITORS"}:
        from django.db.models import prefetch_related_objects

        prefetch_related_objects(objects, "coexecutors", "observers")
    if "UF_CRM_TASK" in names:
        # The bound records the reader may see (tasks_app.selectors: one query per kind of record).
        user = objects[0]._rest_reader
        found = selectors.visible_bindings(user, [t.pk for t in objects])
        for task in objects:
            task._rest_bindings = [f"{OWNER_TYPES[BY_LABEL[r._meta.label_lower]][2]}_{r.pk}"
                                   for r in found.get(task.pk, []) if r._meta.label_lower in BY_LABEL]


TASKS = FieldMap([
    Field("ID", "integer", "pk", title="ID", read_only=True),
    Field("TITLE", "string", "title", title=gettext_lazy("Название"), required=True),
    Field("DESCRIPTION", "text", "description", title=gettext_lazy("Описание")),
    Field("STATUS", "enumeration", "status", title=gettext_lazy("Статус"), parse=_status, render=lambda v: STATUS_CODES.get(v),
          items=[(code, Status(status).label) for status, code in STATUS_CODES.items()]),
    Field("PRIORITY", "enumeration", "is_important", title=gettext_lazy("Важная задача"),
          parse=lambda v: str(v).strip() == "2", render=lambda v: "2" if v else "1",
          items=[("0", gettext_lazy("Низкий")), ("1", gettext_lazy("Средний")), ("2", gettext_lazy("Высокий"))]),
    Field("RESPONSIBLE_ID", "user", "responsible_id", title=gettext_lazy("Ответственный")),
    Field("CREATED_BY", "user", "creator_id", title=gettext_lazy("Постановщик"), read_only=True),
    Field("ACCOMPLICES", "user", "coexecutors", title=gettext_lazy("Соисполнители"), multiple=True,
          filter=_participants("coexecutors")),
    Field("AUDITORS", "user", "observers", title=gettext_lazy("Наблюдатели"), multiple=True, filter=_participants("observers")),
    Field("DEADLINE", "datetime", "deadline", title=gettext_lazy("Крайний срок")),
    Field("TASK_CONTROL", "char", "needs_acceptance", title=gettext_lazy("Принять работу после завершения")),
    Field("CREATED_DATE", "datetime", "created_at", title=gettext_lazy("Создана"), read_only=True),
    Field("CHANGED_DATE", "datetime", "updated_at", title=gettext_lazy("Изменена"), read_only=True),
    Field("DATE_START", "datetime", "started_at", title=gettext_lazy("Начата"), read_only=True),
    Field("CLOSED_DATE", "datetime", "completed_at", title=gettext_lazy("Завершена"), read_only=True),
    Field("UF_CRM_TASK", "crm", title=gettext_lazy("Привязки к записям CRM"), multiple=True, get=_bindings_of,
          render=lambda v: v, filter=_crm_filter),
], prefetch=_prefetch)


def _upper(name: str) -> str:
    """responsibleId → RESPONSIBLE_ID, ufCrmTask → UF_CRM_TASK; upper-case names stay."""
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", str(name)).upper()


def _camel(name: str) -> str:
    head, *rest = name.lower().split("_")
    return head + "".join(part.capitalize() for part in rest)


def _rows(user, tasks: list[Task], names: list[str] | None) -> list[dict]:
    rows = ReaderMap(TASKS, user).to_rest_many(tasks, names)
    return [{_camel(k): v for k, v in row.items()} for row in rows]


def _keys_upper(value):
    """A filter/order/fields map with camelCase keys as Bitrix24's upper-case names (a filter
    key keeps its prefix: «>=deadline» → «>=DEADLINE»)."""
    if not isinstance(value, dict):
        return value
    result = {}
    for key, item in value.items():
        match = re.match(r"^([<>=!%@]*)(.*)$", str(key), re.S)
        result[match.group(1) + _upper(match.group(2))] = item
    return result


def _select(raw) -> list:
    return [_upper(s) if str(s).strip() not in ("*", "UF_*") else s for s in as_list(raw)]


def _task_id(call: Call) -> int:
    return call.id_param("taskId", "id")


def _task(call: Call) -> Task:
    task = selectors.visible(call.user).filter(pk=_task_id(call)).first()
    if task is None:
        raise RestError.not_found()
    return task


def _answer(call: Call, pk: int) -> dict:
    names = TASKS.select(_select(call.param("select"))) if call.param("select") else \
        TASKS.default_names() + ["UF_CRM_TASK"]
    task = selectors.visible(call.user).filter(pk=pk).first()
    if task is None:  # given to someone whose tasks the user does not see, and not a participant
        return {"task": {"id": str(pk)}}
    return {"task": _rows(call.user, [task], names)[0]}


def _binding(item) -> tuple[str, int]:
    match = _BINDING.match(str(item).strip().upper())
    if not match:
        raise RestError.invalid(_("Привязка «%(value)s» не понята (UF_CRM_TASK): L_12, D_5, C_7 или CO_3.")
                                % {"value": item})
    return match.group(1), int(match.group(2))


def _records(call: Call, raw) -> list:
    """UF_CRM_TASK's records: each must be one the user may see («Not found» otherwise)."""
    found = []
    for item in as_list(raw):
        if item in (None, "", "None"):
            continue
        prefix, pk = _binding(item)
        found.append(record(call.user, BY_PREFIX[prefix], pk))
    return found


def _data(call: Call, fields) -> tuple[dict, dict, list | None, str | None]:
    """(the task's fields, co-executors/observers, the records to bind (None: not given), the
    status asked) from `fields`."""
    fields = _keys_upper(fields if fields not in (None, "") else {})
    if not isinstance(fields, dict):
        raise RestError.invalid("Parameter fields must be an object")
    status = _status(fields["STATUS"]) if "STATUS" in fields else None
    records = _records(call, fields["UF_CRM_TASK"]) if "UF_CRM_TASK" in fields else None
    data, m2m, _comms = TASKS.from_rest({k: v for k, v in fields.items() if k not in ("STATUS", "UF_CRM_TASK")})
    if "responsible_id" in data:
        data["responsible"] = active_user(data.pop("responsible_id"), "RESPONSIBLE_ID")
    for name in ("title", "description"):
        if name in data:
            data[name] = "" if data[name] in (None, "None") else str(data[name]).strip()
    check_title(data, "TITLE")
    people = {}
    for name, label in (("coexecutors", "ACCOMPLICES"), ("observers", "AUDITORS")):
        if name in m2m:
            people[name] = [active_user(pk, label) for pk in dict.fromkeys(m2m[name])]
    return data, people, records, status


def _move(task: Task, status: str, by) -> Task:
    """STATUS written: the transition that leads there from where the task is."""
    if task.status == status:
        return task
    for name in TRANSITIONS_TO[status]:
        if can_proceed(getattr(task, name)):
            return services.task_transition(task, name, by=by)
    raise RestError.invalid(_("Задачу в статусе «%(from)s» нельзя перевести в «%(to)s».")
                            % {"from": Status(task.status).label, "to": Status(status).label})


@method("tasks.task.getfields", scope="task")
def task_fields(call: Call):
    return {"fields": TASKS.describe()}


@method("tasks.task.add", scope="task")
def task_add(call: Call):
    data, people, records, status = _data(call, call.param("fields", "arFields"))
    if not data.get("title"):
        raise RestError.invalid(_("Укажите название задачи (TITLE)."))
    data.setdefault("responsible", call.user)
    if not access.can_add(call.user, Task):
        raise RestError.access_denied()
    task = services.task_create(data=data, by=call.user, records=records or [], **people)
    if status is not None:
        task = _move(task, status, call.user)
    return _answer(call, task.pk)


@method("tasks.task.get", scope="task")
def task_get(call: Call):
    return _answer(call, _task(call).pk)


@method("tasks.task.list", scope="task", atomic=False)
def task_list(call: Call):
    params = dict(call.params)
    for key in list(params):
        if str(key).lower() in ("filter", "order"):
            params[key] = _keys_upper(params[key])
        elif str(key).lower() == "select":
            params[key] = _select(params[key])
    upper = Call(user=call.user, webhook=call.webhook, params=params, request=call.request)
    page = list_page(upper, selectors.visible(call.user), ReaderMap(TASKS, call.user))
    return Page({"tasks": [{_camel(k): v for k, v in row.items()} for row in page.rows]}, page.total, page.next)


@method("tasks.task.update", scope="task")
def task_update(call: Call):
    """Fields by the creator or a supervisor (tasks_app.services); STATUS through its transition;
    UF_CRM_TASK replaces the bindings the user may see (those he may not see stay)."""
    task = _task(call)
    data, people, records, status = _data(call, call.param("fields", "arFields"))
    if "title" in data and not data["title"]:
        raise RestError.invalid(_("Укажите название задачи (TITLE)."))
    if data or people:
        task = services.task_update(task, data=data, by=call.user, coexecutors=people.get("coexecutors"),
                                    observers=people.get("observers"))
    if records is not None:
        current = selectors.visible_bindings(call.user, [task.pk]).get(task.pk, [])
        keys = {(r._meta.label_lower, r.pk) for r in records}
        for old in current:
            if (old._meta.label_lower, old.pk) not in keys:
                services.task_unbind(task, old, by=call.user)
        had = {(r._meta.label_lower, r.pk) for r in current}
        new = [r for r in records if (r._meta.label_lower, r.pk) not in had]
        if new:
            services.task_bind(task, new, by=call.user)
    if status is not None:
        _move(selectors.visible(call.user).get(pk=task.pk), status, call.user)
    return _answer(call, task.pk)


def _transition(name: str):
    def run(call: Call):
        task = _task(call)
        services.task_transition(task, name, by=call.user)
        return _answer(call, task.pk)
    return run


# Bitrix24's state methods → our transitions (who may do which: tasks_app.services.ALLOWED).
for _method, _name in (("complete", "complete"), ("start", "start"), ("pause", "pause"), ("defer", "defer"),
                       ("renew", "renew"), ("approve", "accept"), ("disapprove", "send_back")):
    method(f"tasks.task.{_method}", scope="task")(_transition(_name))
