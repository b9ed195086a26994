"""Bitrix24's list machinery (`*.list`) over a queryset the method got from its app's selectors —
so the filter can only narrow what the user may see.

    @method("crm.lead.list", scope="crm")
    def lead_list(call):
        return list_page(call, selectors.leads_for(call.user), LEADS,
                         count_all=lambda: crm_lists.known_count(call.user, Lead))

- `filter`: {"<prefix>NAME": value}, prefixes `>= > <= < @ !@ % =% %= !% != !` and none (equal);
  a list value with none or `=` means «one of». Values are parsed as the field parses a write
  (a status code, a date). No OR, as in Bitrix24.
- `order`: {"NAME": "ASC"|"DESC"}; the primary key always ends it, so pages never overlap.
- `select`: names, `*` (every field but multifields and UF_*), `UF_*`; ID is always answered.
- `start`: the offset, pages of 50; `start=-1` counts nothing (no `total`, no `next`).
- An unknown field in any of them is RestError.

Cost at 100,000 rows. Ordered by ID only (both libraries do so when they walk a list), a page is
read by keyset — `ID > last` — when the previous page's cursor is known: each walk's cursor is kept
for a few minutes in the cache REST_CURSOR_CACHE. The default, per-process cache serves a walk inside
one batch (fast-bitrix24 asks start=50, 100… in order in one batch); a cache the server's workers
share (Redis…) serves the batches that land on another worker too. Without a cursor the offset is
skipped over the ids alone (the primary key's index), then the page is read by `ID >` the id found.
`total` is counted once per walk: a page continuing a walk answers the total counted at its start
(a client's `get_all` would otherwise count the table 2,000 times), and `count_all` (e.g. the record
counters of crm.tallies) answers it without a query when the client filters nothing. Inside a
`batch`, a walk's page brings its next pages with it (`read_ahead`: fast-bitrix24 asks fifty in a
row), and the rows of a select of plain columns are read as tuples and rendered by functions built
once per page (`only_selected`).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.core.cache import caches
from django.db.models import Q, QuerySet

from .fields import Field, FieldMap
from .parsing import as_list
from .registry import Call, Page, Rendered, RestError

PAGE_SIZE = 50
CURSOR_SECONDS = 300
READ_AHEAD = 10  # pages a batch's list command reads at once (read_ahead)
_ahead: ContextVar[PagesAhead | None] = ContextVar("rest_pages_ahead", default=None)

_PREFIX = re.compile(r"^(>=|<=|!=|!@|!%|=%|%=|>|<|@|%|=|!)?(.+)$", re.S)


def list_page(call: Call, queryset: QuerySet, fields: FieldMap, *, filter_key: str = "filter",
              order_key: str = "order", select_key: str = "select",
              count_all: Callable[[], int | None] | None = None, only_selected: bool = False) -> Page:
    """One page of `queryset` as Bitrix24 answers `*.list`; see the module's docstring.

    `count_all()`, if given, must count exactly `queryset` as passed (e.g. the tallies' count of
    every lead the user sees — crm.lists.known_count — when the queryset is all of them), or
    return None when it cannot; it is asked only when the client's filter is empty.

    `only_selected`: when every selected field is a plain column or declares the columns it reads,
    read only those columns, as tuples (FieldMap.paths, FieldMap.to_rest_values) — for a map whose
    fields read nothing else of the record."""
    raw_filter = call.param(filter_key) or {}
    if not isinstance(raw_filter, dict):
        raise RestError.invalid("Parameter filter must be an object")
    condition = filter_condition(fields, raw_filter)
    ordering = order_by(fields, call.param(order_key, "sort"))
    names = fields.select(call.param(select_key))
    start = _start(call.param("start"))

    rows = queryset.filter(condition) if condition else queryset
    # Only the selected fields' columns, read as tuples when each field is a plain column or says
    # which it reads (the rows rendered by readers built once per page, no model instance per row:
    # a get_all renders 100 000 of them).
    paths = fields.paths(names) if only_selected else None
    by_id = [o.lstrip("-") for o in ordering] == ["pk"]
    descending = by_id and ordering[0].startswith("-")
    walk = _walk_key(call, queryset, raw_filter, ordering) if by_id else None

    cache = caches[settings.REST_CURSOR_CACHE]
    cursor = cache.get(f"{walk}:{start}") if walk and start > 0 else None
    total = None
    if start >= 0:
        if cursor is not None:
            total = cursor["total"]
        elif not raw_filter and count_all is not None:
            total = count_all()
        if total is None:
            total = rows.order_by().count()

    offset = max(start, 0)
    ahead = _ahead.get() if walk and paths is not None and offset > 0 else None
    memo = (walk, tuple(paths or ()))
    if ahead is not None and (memo, offset) in ahead.pages:
        page_rows = ahead.pages.pop((memo, offset))
    else:
        # Inside a batch, the walk's next pages come with this one, for the commands that follow (read_ahead).
        limit = PAGE_SIZE * (1 + min(READ_AHEAD - 1, ahead.following) if ahead is not None else 1)
        if by_id and offset:
            after = cursor["after"] if cursor is not None else _id_at(rows, ordering, offset - 1)
            page = None if after is None else rows.filter(**{f"pk__{'lt' if descending else 'gt'}": after}).order_by(
                *ordering)[:limit]
        else:
            page = rows.order_by(*ordering)[offset:offset + limit]
        if page is None:
            page_rows = []
        elif paths is not None:
            page_rows = list(page.values_list("pk", *paths))
        else:
            page_rows = list(page)
        if ahead is not None:
            for later in range(PAGE_SIZE, limit, PAGE_SIZE):  # all read: those past the walk's end are empty
                ahead.pages[(memo, offset + later)] = page_rows[later:later + PAGE_SIZE]
            page_rows = page_rows[:PAGE_SIZE]
    last = None if not page_rows else page_rows[-1][0] if paths is not None else page_rows[-1].pk

    if walk and len(page_rows) == PAGE_SIZE:
        cache.set(f"{walk}:{offset + PAGE_SIZE}", {"after": last, "total": total}, CURSOR_SECONDS)
    if paths is not None:
        result = Rendered(fields.to_rest_values((row[1:] for row in page_rows), names, paths))
    else:
        result = fields.to_rest_many(page_rows, names)
    following = offset + PAGE_SIZE if total is not None and offset + PAGE_SIZE < total else None
    return Page(result, total if start >= 0 else None, following)


class PagesAhead:
    """What `read_ahead` keeps: pages by (walk, columns, offset), and how many commands of the
    batch follow the one running (no page is read for a command that will not come)."""

    def __init__(self):
        self.pages: dict = {}
        self.following = 0


@contextmanager
def read_ahead():
    """While a `batch` runs: a page (start > 0) of an ID walk read as tuples brings the walk's next
    pages with it — up to READ_AHEAD in all, no more than the batch's commands that follow —, kept
    for the commands that ask them: fast-bitrix24's get_all asks fifty consecutive pages in one
    batch, five queries instead of fifty. `batch` empties it before a command that may write (the
    rows read ahead would be stale)."""
    token = _ahead.set(PagesAhead())
    try:
        yield _ahead.get()
    finally:
        _ahead.reset(token)


def _start(raw) -> int:
    """Bitrix24 reads a start that is no number as 0; -1 means «do not count»."""
    try:
        start = int(str(raw).strip())
    except (TypeError, ValueError):
        return 0
    return start if start >= -1 and start < 2**31 else 0


def _id_at(rows: QuerySet, ordering: list[str], index: int):
    """The id at position `index` of the rows in this order: the offset skipped over the ids only."""
    found = list(rows.order_by(*ordering).values_list("pk", flat=True)[index:index + 1])
    return found[0] if found else None


def _walk_key(call: Call, queryset: QuerySet, raw_filter: dict, ordering: list[str]) -> str:
    """One client's walk over one list: the webhook, the model, the filter and the order (not
    the select: the rows are the same)."""
    webhook = call.webhook
    # created_at too: a webhook's id may come again (a database restored, a test's rolled back).
    text = json.dumps([webhook.pk if webhook else None, webhook.created_at if webhook else None, call.user.pk,
                       queryset.model._meta.label_lower,
                       str(queryset.query.where), _plain(raw_filter), ordering], sort_keys=True, default=str)
    return "rest-walk:" + hashlib.sha256(text.encode()).hexdigest()


def _plain(value):
    """A filter as text all through: JSON's 5 and a form's "5" (fast-bitrix24's first page comes as
    JSON, the next ones as batch commands' queries), a list and a PHP array, are one walk."""
    if isinstance(value, dict):
        keys = list(value)
        if keys and all(str(k).isdigit() for k in keys):
            return [_plain(v) for v in as_list(value)]
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return str(value)


def order_by(fields: FieldMap, raw) -> list[str]:
    """`order` as ORM ordering, ending with the primary key (ID ASC when none is asked)."""
    ordering: list[str] = []
    if raw not in (None, "", []):
        if not isinstance(raw, dict):
            raise RestError.invalid("Parameter order must be an object")
        for name, direction in raw.items():
            field = fields.field(name)
            if field is None or field.path is None:
                raise RestError.invalid(f"Unknown field in order: {name}")
            way = str(direction or "ASC").strip().upper()
            if way not in ("ASC", "DESC"):
                raise RestError.invalid(f"Invalid order direction of {name}: {direction}")
            path = "pk" if field.path in ("pk", "id") else field.path
            ordering.append(("-" if way == "DESC" else "") + path)
    if not any(o.lstrip("-") == "pk" for o in ordering):
        ordering.append("-pk" if ordering and ordering[-1].startswith("-") else "pk")
    return ordering


def filter_condition(fields: FieldMap, raw: dict) -> Q:
    condition = Q()
    for key, value in raw.items():
        match = _PREFIX.match(str(key).strip())
        if not match:
            raise RestError.invalid(f"Unknown field in filter: {key}")
        op, name = match.group(1) or "=", match.group(2)
        field = fields.field(name)
        if field is None or (field.path is None and field.filter is None):
            raise RestError.invalid(f"Unknown field in filter: {name}")
        condition &= _one(field, op, value)
    return condition


def _one(field: Field, op: str, raw) -> Q:
    many = op in ("@", "!@") or isinstance(raw, (list, dict))
    if many:
        values = [field.value(v) for v in as_list(raw)]
        if field.filter is not None:
            return field.filter(op, values)
        path = field.path
        if op in ("!", "!=", "!@"):
            return ~Q(**{f"{path}__in": values})
        if op in ("=", "@"):
            return Q(**{f"{path}__in": values})
        raise RestError.invalid(f"Filter {op}{field.name} takes one value")
    if op in ("%", "!%", "=%", "%="):
        text = "" if raw is None else str(raw)
        if field.filter is not None:
            return field.filter(op, text)
        q = _like(field.path, text, op)
        return ~q if op == "!%" else q
    value = field.value(raw)
    if field.filter is not None:
        return field.filter(op, value)
    path = field.path
    if value is None or value == "":
        empty = Q(**{f"{path}__isnull": True})
        if value == "":
            empty |= Q(**{path: ""})
        if op in ("=",):
            return empty
        if op in ("!", "!="):
            return ~empty
        raise RestError.invalid(f"Filter {op}{field.name} needs a value")
    lookup = {"=": "exact", "!": "exact", "!=": "exact", ">=": "gte", ">": "gt", "<=": "lte", "<": "lt"}[op]
    q = Q(**{f"{path}__{lookup}": value})
    return ~q if op in ("!", "!=") else q


def _like(path: str, text: str, op: str) -> Q:
    """`%`: contains; `=%`/`%=`: SQL LIKE with the client's own % marks (begins with, ends with…)."""
    if op in ("%", "!%"):
        return Q(**{f"{path}__icontains": text})
    inner = text.strip("%")
    if "%" in inner or not inner:
        return Q(**{f"{path}__icontains": inner.replace("%", "")}) if inner else Q()
    if text.startswith("%") and text.endswith("%"):
        return Q(**{f"{path}__icontains": inner})
    if text.endswith("%"):
        return Q(**{f"{path}__istartswith": inner})
    if text.startswith("%"):
        return Q(**{f"{path}__iendswith": inner})
    return Q(**{f"{path}__iexact": inner})
