"""A list's rows for an export: the same records the list page shows for the same query string —
its own filter set and sort order, the records the user may export (`access.scope(…,
Action.EXPORT)`, through each app's selector) — as (headers, rows), streamed in chunks with a
constant number of queries per chunk.

The columns of leads, companies, contacts and deals are the importer's (`exchange.columns`: one
definition, so an export imports back unchanged); tasks are export-only and their columns live here.

Used by the browser («Экспорт» on every list, exchange.views_export), the commands
(`export_leads` …) and the admin's action alike."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from types import SimpleNamespace
from typing import Any

from django.db.models import Model, Prefetch, QuerySet
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts import access
from accounts.models import Action, Level

ENTITIES = ("lead", "company", "contact", "deal", "task")
# How many records one round of queries reads: each chunk costs the same few queries (the rows,
# then one per prefetched relation), whatever the number of rows.
CHUNK = 2000
FORMATS = ("csv", "xlsx")
# Parameters of a list's URL that are not filters (the page shown) or not the list's (ours).
NOT_FILTERS = ("page", "format")

TITLES = {
    "lead": gettext_lazy("Лиды"),
    "company": gettext_lazy("Компании"),
    "contact": gettext_lazy("Контакты"),
    "deal": gettext_lazy("Сделки"),
    "task": gettext_lazy("Задачи"),
}


class ExportError(Exception):
    """An export that cannot be made as asked: the messages say why, in Russian (a filter's
    value the list itself refuses, an unknown list)."""

    def __init__(self, messages: list[str]):
        self.messages = [str(m) for m in messages]
        super().__init__(" ".join(self.messages))


def may_export(user, entity: str) -> bool:
    """Whether the user may export any record of this kind: a level above «Нет доступа» for
    «Экспорт» (deals: in some pipeline — rights are per pipeline)."""
    model = model_for(entity)
    if access.level(user, model.access_entity, Action.EXPORT) > Level.NONE:
        return True
    if getattr(model, "access_scope_field", None):
        return any(lvl > Level.NONE for lvl in _scoped_export_levels(user, model))
    return False


def _scoped_export_levels(user, model) -> list[Level]:
    scopes = access.scoped_levels(user, model.access_entity, Action.EXPORT)
    return [access.level(user, model.access_entity, Action.EXPORT, s) for s in scopes]


def file_name(entity: str, fmt: str) -> str:
    """«Лиды 2026-11-29.csv»: the list's name and today's date (the site's time zone)."""
    return f"{TITLES[entity]} {timezone.localdate().isoformat()}.{fmt}"


def filter_params(params: QueryDict | str | dict | None) -> QueryDict:
    """The list's query string without what is not a filter: `--filter "status=new&responsible=3"`,
    a request's GET, or a dict."""
    if isinstance(params, QueryDict):
        data = params.copy()
    else:
        data = QueryDict(mutable=True)
        if isinstance(params, str):
            data = QueryDict(params.lstrip("?"), mutable=True)
        elif params:
            for key, value in params.items():
                data.setlist(key, [str(v) for v in value] if isinstance(value, list | tuple) else [str(value)])
    for key in NOT_FILTERS:
        data.pop(key, None)
    return data


@dataclass
class Export:
    entity: str
    headers: list[str]
    queryset: QuerySet
    rows_of: Callable[[Any], Iterable[list]]  # a record's file rows (a deal: one per product)
    prepare_chunk: Callable[[list], None]

    def count(self) -> int:
        return self.queryset.count()

    def rows(self, progress: Callable[[int], None] | None = None) -> Iterator[list]:
        """The rows, read `CHUNK` records at a time (a server-side cursor on PostgreSQL).
        `progress(n)` is told the number of records written so far, after each chunk."""
        records = self.queryset.iterator(chunk_size=CHUNK)
        done = 0
        while True:
            chunk = list(islice(records, CHUNK))
            if chunk:
                self.prepare_chunk(chunk)
                for record in chunk:
                    yield from self.rows_of(record)
                done += len(chunk)
            if progress is not None:
                progress(done)
            if len(chunk) < CHUNK:
                return


def rows(entity: str, user, params: QueryDict | str | dict | None = None) -> tuple[list[str], Iterator[list]]:
    """(headers, rows) of the list `entity` as `user` sees it with `params` (the list's query
    string). Raises ExportError for an unknown list or a filter the list refuses."""
    export = prepare(entity, user, params)
    return export.headers, export.rows()


def prepare(entity: str, user, params: QueryDict | str | dict | None = None,
            queryset: QuerySet | None = None) -> Export:
    """The export of the list `entity`: its filters applied to the records `user` may export.
    `queryset` (the admin's ticked rows) narrows them further instead of the filters."""
    if entity not in ENTITIES:
        raise ExportError([_("Неизвестный список «%(entity)s». Можно выгрузить: %(known)s.")
                           % {"entity": entity, "known": ", ".join(ENTITIES)}])
    data = filter_params(params)
    builder = _BUILDERS[entity]
    return builder(user, data, queryset)


# --- The lists: each one's filter set and order, as its list view builds them ---

def _checked(filterset) -> QuerySet:
    """The filtered records, or ExportError with the list's own messages for a refused value
    (the list page shows the same messages under its filters and filters by the rest)."""
    if filterset.is_bound and not filterset.is_valid():
        messages = []
        for name, errors in filterset.form.errors.items():
            field = filterset.form.fields.get(name)
            label = f"{field.label}: " if field is not None and field.label else ""
            messages += [f"{label}{error}" for error in errors]
        raise ExportError(messages)
    return filterset.qs


def _request(user, data: QueryDict):
    # The filter sets read the user from a request; a command has none.
    return SimpleNamespace(user=user, GET=data)


def _bound(data: QueryDict) -> QueryDict | None:
    # As crm.lists.filtering: sorting alone is not filtering (an unbound filter set filters nothing).
    return data if any(key != "sort" for key in data) else None


def _columns(entity: str) -> tuple[list[str], Callable[[Any], Iterable[list]]]:
    from . import columns

    cols = columns.columns(entity)

    def rows_of(record) -> Iterable[list]:
        return columns.export_rows(entity, cols, record)

    return [str(c.header) for c in cols], rows_of


def _no_chunk_work(chunk: list) -> None:
    return None


def _narrowed(queryset: QuerySet, only: QuerySet | None) -> QuerySet:
    return queryset if only is None else queryset.filter(pk__in=only.values("pk"))


def _leads(user, data: QueryDict, only: QuerySet | None) -> Export:
    from leads.filters import SORTING, LeadFilter, apply_sort
    from leads.selectors import visible_leads

    from .fast_rows import LeadRows

    filterset = LeadFilter(_bound(data), queryset=_narrowed(visible_leads(user, Action.EXPORT), only),
                           request=_request(user, data))
    queryset = apply_sort(_checked(filterset), SORTING.parse(data.get("sort")))
    # Tuples, not model instances: 100 000 leads with ten joined relations cost several times
    # the writing itself (BENCHMARKS.md «Импорт и экспорт»). LeadRows formats each column with
    # what it built once and reads the linked names a chunk at a time.
    lead_rows = LeadRows(user)
    return Export("lead", lead_rows.headers, queryset.values_list(*lead_rows.fields), lead_rows.rows_of,
                  lead_rows.prepare_chunk)


def _forget_hidden(user, record: Model, links: tuple[str, ...]) -> None:
    """As on the card: a linked record the user may not see (a converted lead's company handed
    to another team, a deal's company for a user with rights in its pipeline only) is not named.
    The record is read-only here (never saved), so the link is simply forgotten. Query-free: the
    linked records are selected and the levels cached on the user."""
    for name in links:
        linked = getattr(record, name)
        if linked is not None and not access.can(user, Action.VIEW, linked):
            setattr(record, name, None)


def _communications() -> Prefetch:
    from clients.selectors import communications_prefetch

    return communications_prefetch()


def _companies(user, data: QueryDict, only: QuerySet | None) -> Export:
    from clients.filters import COMPANY_SORTING, CompanyFilter
    from clients.selectors import visible_companies

    filterset = CompanyFilter(_bound(data), queryset=_narrowed(visible_companies(user, Action.EXPORT), only),
                              request=_request(user, data))
    queryset = COMPANY_SORTING.apply(_checked(filterset), COMPANY_SORTING.parse(data.get("sort")))
    headers, rows_of = _columns("company")
    queryset = queryset.select_related("responsible", "niche", "client_type", "created_by").prefetch_related(
        _communications())
    return Export("company", headers, queryset, rows_of, _no_chunk_work)


def _contacts(user, data: QueryDict, only: QuerySet | None) -> Export:
    from clients.filters import CONTACT_SORTING, ContactFilter
    from clients.selectors import visible_companies, visible_contacts

    filterset = ContactFilter(_bound(data), queryset=_narrowed(visible_contacts(user, Action.EXPORT), only),
                              request=_request(user, data),
                              companies=visible_companies(user).order_by("name"))
    queryset = CONTACT_SORTING.apply(_checked(filterset), CONTACT_SORTING.parse(data.get("sort")))
    headers, rows_of = _columns("contact")
    # A contact's companies: only those the user may see. The list names the others without a
    # link; a file leaves the CRM, so it names none it would not let him open.
    queryset = queryset.select_related("responsible", "created_by").prefetch_related(
        _communications(), Prefetch("companies", queryset=visible_companies(user).order_by("name", "pk")))
    return Export("contact", headers, queryset, rows_of, _no_chunk_work)


def _deals(user, data: QueryDict, only: QuerySet | None) -> Export:
    from clients.selectors import visible_contacts
    from deals.filters import SORTING, DealFilter
    from deals.models import DealProduct
    from deals.selectors import pipelines_for, stages_by_id, visible_deals

    pipelines = pipelines_for(user, Action.VIEW)
    filterset = DealFilter(_bound(data), queryset=_narrowed(visible_deals(user, Action.EXPORT), only),
                           request=_request(user, data), pipelines=pipelines, user=user)
    queryset = SORTING.apply(_checked(filterset), SORTING.parse(data.get("sort")))
    headers, rows_of = _columns("deal")
    # Never select_related("stage") (deals.selectors): the stages are read once and mapped by id.
    # The contacts are only those the user may see: a deal's rights are per pipeline, a client's
    # are not (the card names no other).
    queryset = queryset.select_related(
        "pipeline", "company", "source", "responsible", "lead", "loss_reason", "created_by",
    ).prefetch_related(
        Prefetch("contacts", queryset=visible_contacts(user).order_by("last_name", "first_name", "pk")),
        Prefetch("products", queryset=DealProduct.objects.select_related("product").order_by("pk")),
    )
    stages: dict[int, Any] = {}

    def prepare_chunk(chunk: list) -> None:
        if not stages:
            stages.update(stages_by_id(pipelines))
        for deal in chunk:
            stage = stages.get(deal.stage_id)
            if stage is not None:
                deal._current_stage = stage
            _forget_hidden(user, deal, ("company", "lead"))

    return Export("deal", headers, queryset, rows_of, prepare_chunk)


# --- Tasks: export-only, their columns here ---

@dataclass(frozen=True)
class TaskColumn:
    field: str
    header: Any
    value: Callable[[Any], Any]


def _names(users) -> str:
    return ", ".join(str(u) for u in users)


TASK_COLUMNS = [
    TaskColumn("id", "ID", lambda t: t.pk),
    TaskColumn("kind", gettext_lazy("Тип"), lambda t: t.get_kind_display()),
    TaskColumn("title", gettext_lazy("Название"), lambda t: t.title),
    TaskColumn("description", gettext_lazy("Описание"), lambda t: t.description),
    TaskColumn("status", gettext_lazy("Статус"), lambda t: t.get_status_display()),
    TaskColumn("is_important", gettext_lazy("Важная задача"), lambda t: t.is_important),
    TaskColumn("creator", gettext_lazy("Постановщик"), lambda t: str(t.creator) if t.creator_id else None),
    TaskColumn("responsible", gettext_lazy("Ответственный"), lambda t: str(t.responsible)),
    TaskColumn("coexecutors", gettext_lazy("Соисполнители"), lambda t: _names(t.coexecutors.all())),
    TaskColumn("observers", gettext_lazy("Наблюдатели"), lambda t: _names(t.observers.all())),
    TaskColumn("deadline", gettext_lazy("Крайний срок"), lambda t: t.deadline),
    TaskColumn("created_at", gettext_lazy("Создана"), lambda t: t.created_at),
    TaskColumn("completed_at", gettext_lazy("Завершена"), lambda t: t.completed_at),
    TaskColumn("result", gettext_lazy("Результат"), lambda t: t.result),
    TaskColumn("records", gettext_lazy("Элементы CRM"), lambda t: t.export_records),
]


def _tasks(user, data: QueryDict, only: QuerySet | None) -> Export:
    from django.contrib.auth import get_user_model

    from tasks_app import selectors
    from tasks_app.filters import SORTING, TaskFilter

    User = get_user_model()
    filterset = TaskFilter(_bound(data), request=_request(user, data))
    # The tab chose the tasks the user may see (participants included); of those, the ones he
    # may export: a participant's reading right is not an export right.
    queryset = access.scope(user, _narrowed(_checked(filterset), only), Action.EXPORT)
    queryset = SORTING.apply(queryset, SORTING.parse(data.get("sort")))
    users = User.objects.order_by("last_name", "first_name", "pk")
    queryset = queryset.select_related("responsible", "creator").prefetch_related(
        Prefetch("coexecutors", queryset=users), Prefetch("observers", queryset=users))

    def prepare_chunk(chunk: list) -> None:
        # Only the bound records the user may see are named (as on the list): one query for the
        # bindings and one per kind of record for the chunk.
        bound = selectors.visible_bindings(user, [t.pk for t in chunk])
        for task in chunk:
            task.export_records = "; ".join(f"{r._meta.verbose_name}: {r}" for r in bound.get(task.pk, []))

    def rows_of(task) -> Iterable[list]:
        return [[column.value(task) for column in TASK_COLUMNS]]

    return Export("task", [str(c.header) for c in TASK_COLUMNS], queryset, rows_of, prepare_chunk)


_BUILDERS: dict[str, Callable[[Any, QueryDict, QuerySet | None], Export]] = {
    "lead": _leads, "company": _companies, "contact": _contacts, "deal": _deals, "task": _tasks,
}


def model_for(entity: str) -> type[Model]:
    from clients.models import Company, Contact
    from deals.models import Deal
    from leads.models import Lead
    from tasks_app.models import Task

    return {"lead": Lead, "company": Company, "contact": Contact, "deal": Deal, "task": Task}[entity]


def model_entity(model: type[Model]) -> str:
    """The export list of a model (for the admin's action)."""
    for entity in ENTITIES:
        if model_for(entity) is model:
            return entity
    raise KeyError(model)
