"""A list's rows for an export: the same records the list page shows for the same query string —
its own filter set and sort order, the records the user may export (`access.scope(…,
Action.EXPORT)`, through each app's selector) — as (headers, rows), streamed in chunks with a
constant number of queries per chunk.

The columns of leads, companies, contacts and deals are the importer's (`exchange.columns`: one
definition, so an export imports back unchanged); tasks are export-only and their headers live here.
The cells are written by `exchange.fast_rows` from tuples, not model instances.

Used by the browser («Экспорт» on every list, exchange.views_export), the commands
(`export_leads` …) and the admin's action alike."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from types import SimpleNamespace
from typing import Any

from django.db.models import Model, QuerySet
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts import access
from accounts.models import Action, Level

from . import columns

ENTITIES = ("lead", "company", "contact", "deal", "task")
# How many records one round of queries reads: each chunk costs the same few queries (the rows,
# then one per prefetched relation), whatever the number of rows.
CHUNK = 2000
FORMATS = ("csv", "xlsx")
# Parameters of a list's URL that are not filters (the page shown, its key, the filter panel
# shown: crm.lists) or not the list's (ours).
NOT_FILTERS = ("page", "after", "before", "panel", "format")

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
    queryset: QuerySet  # of tuples (values_list), the pk first
    rows_of: Callable[[Any], Iterable[list]]  # a record's file rows (a deal: one per product row)
    prepare_chunk: Callable[[list], None]  # the chunk's linked records read, before its rows_of

    def count(self) -> int:
        return self.queryset.count()

    def rows(self, progress: Callable[[int], None] | None = None) -> Iterator[list]:
        """The rows, read `CHUNK` records at a time. `progress(n)` is told the number of records
        written so far, after each chunk.

        A server-side cursor on PostgreSQL, in the list's order. Keyset chunks (`pk > last`, ordered
        by pk) read 100 000 leads only ~10 % faster and would lose the list's order; the ids first,
        then chunks by id, were slower than the cursor. Its plan is not the problem either (an
        index walk on created_at, 0.36 s of 2.6 s, the rest being transfer and conversion). What
        cost was the per-chunk queries' IN lists of 2 000 ids (fast_rows now passes one array):
        BENCHMARKS.md «Импорт и экспорт»."""
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


def _narrowed(queryset: QuerySet, only: QuerySet | None) -> QuerySet:
    return queryset if only is None else queryset.filter(pk__in=only.values("pk"))


def _export(entity: str, user, queryset: QuerySet) -> Export:
    """Tuples, not model instances: 100 000 records with their joined relations cost several times
    the writing itself (BENCHMARKS.md «Импорт и экспорт»). `fast_rows` formats each column with
    what it built once and reads the linked records a chunk at a time."""
    from .fast_rows import Rows

    rows = Rows(entity, user, queryset.model, columns.columns(entity))
    return Export(entity, rows.headers, queryset.values_list(*rows.fields), rows.rows_of, rows.prepare_chunk)


def _leads(user, data: QueryDict, only: QuerySet | None) -> Export:
    from leads.filters import SORTING, LeadFilter, apply_sort
    from leads.selectors import visible_leads

    filterset = LeadFilter(_bound(data), queryset=_narrowed(visible_leads(user, Action.EXPORT), only),
                           request=_request(user, data))
    return _export("lead", user, apply_sort(_checked(filterset), SORTING.parse(data.get("sort"))))


def _companies(user, data: QueryDict, only: QuerySet | None) -> Export:
    from clients.filters import COMPANY_SORTING, CompanyFilter
    from clients.selectors import visible_companies

    filterset = CompanyFilter(_bound(data), queryset=_narrowed(visible_companies(user, Action.EXPORT), only),
                              request=_request(user, data))
    return _export("company", user, COMPANY_SORTING.apply(_checked(filterset),
                                                          COMPANY_SORTING.parse(data.get("sort"))))


def _contacts(user, data: QueryDict, only: QuerySet | None) -> Export:
    from clients.filters import CONTACT_SORTING, ContactFilter
    from clients.selectors import visible_companies, visible_contacts

    filterset = ContactFilter(_bound(data), queryset=_narrowed(visible_contacts(user, Action.EXPORT), only),
                              request=_request(user, data),
                              companies=visible_companies(user).order_by("name"))
    # A contact's companies: only those the user may see (fast_rows). The list names the others
    # without a link; a file leaves the CRM, so it names none it would not let him open.
    return _export("contact", user, CONTACT_SORTING.apply(_checked(filterset),
                                                          CONTACT_SORTING.parse(data.get("sort"))))


def _deals(user, data: QueryDict, only: QuerySet | None) -> Export:
    from deals.filters import SORTING, DealFilter
    from deals.selectors import pipelines_for, visible_deals

    filterset = DealFilter(_bound(data), queryset=_narrowed(visible_deals(user, Action.EXPORT), only),
                           request=_request(user, data), pipelines=pipelines_for(user, Action.VIEW), user=user)
    # The contacts are only those the user may see, the company and the lead only if he may see
    # them (fast_rows): a deal's rights are per pipeline, a client's are not.
    return _export("deal", user, SORTING.apply(_checked(filterset), SORTING.parse(data.get("sort"))))


# --- Tasks: export-only, their headers here (fast_rows.TaskRows writes the cells) ---

TASK_HEADERS = [
    "ID", gettext_lazy("Тип"), gettext_lazy("Название"), gettext_lazy("Описание"), gettext_lazy("Статус"),
    gettext_lazy("Важная задача"), gettext_lazy("Постановщик"), gettext_lazy("Ответственный"),
    gettext_lazy("Соисполнители"), gettext_lazy("Наблюдатели"), gettext_lazy("Крайний срок"),
    gettext_lazy("Создана"), gettext_lazy("Завершена"), gettext_lazy("Результат"), gettext_lazy("Элементы CRM"),
]


def _tasks(user, data: QueryDict, only: QuerySet | None) -> Export:
    from tasks_app.filters import SORTING, TaskFilter

    from .fast_rows import TaskRows

    filterset = TaskFilter(_bound(data), request=_request(user, data))
    # The tab chose the tasks the user may see (participants included); of those, the ones he
    # may export: a participant's reading right is not an export right.
    queryset = access.scope(user, _narrowed(_checked(filterset), only), Action.EXPORT)
    queryset = SORTING.apply(queryset, SORTING.parse(data.get("sort")))
    rows = TaskRows(user, [str(h) for h in TASK_HEADERS])
    return Export("task", rows.headers, queryset.values_list(*rows.fields), rows.rows_of, rows.prepare_chunk)


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
