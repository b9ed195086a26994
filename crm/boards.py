"""What the kanban boards (leads by status, deals by stage) share: the board's filters and query
strings, the columns' counts and sums, the keyset cursor of «Показать ещё» and card URLs built
once per page.

Why a keyset cursor (created_at, pk) and not an offset: a cursor neither skips nor repeats cards
when other cards leave or enter the column in the meantime."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

from django import forms
from django.core.exceptions import EmptyResultSet
from django.db.models import Count, QuerySet, Sum
from django.db.models.expressions import RawSQL
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from crm import lists, tallies
from crm.lists import SEARCH_MAX_LENGTH
from crm.money import Currency, format_money

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MICRO = dt.timedelta(microseconds=1)
_MAX_ID = 2**63 - 1  # a bigger «id» would be refused by the database, not found
_PK = 2147483647  # a placeholder pk: a card's URL is one reverse() per page, not one per card


# --- Filters and query strings ---

class BoardForm(forms.Form):
    """Every GET parameter of a board. A bad value (a NUL character, which PostgreSQL refuses in
    text; a tampered cursor or id; an unknown column; a date that is no date) is left out and
    named above the board — the board still shows, without that filter — rather than reaching
    the database.

    The ids (responsible, department, source) are checked against the choices only where the
    page offers them (`choices`, the whole board): the column and totals endpoints take the ids
    the board put in their URLs, and an id the user may not choose narrows the access-gated
    records to nothing he could not see anyway."""

    q = forms.CharField(label=_("Поиск"), required=False)  # CharField rejects NUL characters itself
    preset = forms.ChoiceField(label=_("Чьи"), required=False,
                               choices=[("", ""), *((k, v) for k, v in lists.PRESETS.items())])
    responsible = forms.IntegerField(label=_("Ответственный"), required=False, min_value=1, max_value=_MAX_ID)
    department = forms.IntegerField(label=_("Отдел"), required=False, min_value=1, max_value=_MAX_ID)
    source = forms.IntegerField(label=_("Источник"), required=False, min_value=1, max_value=_MAX_ID)
    created_after = forms.DateField(label=_("Дата создания с"), required=False)
    created_before = forms.DateField(label=_("Дата создания по"), required=False)
    open = forms.MultipleChoiceField(label=_("Развёрнутые колонки"), required=False)
    part = forms.ChoiceField(label=_("Часть страницы"), required=False, choices=[("totals", "totals")])
    totals = forms.BooleanField(label=_("Суммы по колонкам"), required=False)
    after = forms.CharField(label=_("Позиция в колонке"), required=False)

    def __init__(self, data, open_choices=(), close_dates: bool = False, choices: dict | None = None):
        super().__init__(data)
        self.fields["open"].choices = [(str(c), str(c)) for c in open_choices]
        if close_dates:
            self.fields["close_after"] = forms.DateField(label=_("Дата закрытия с"), required=False)
            self.fields["close_before"] = forms.DateField(label=_("Дата закрытия по"), required=False)
        # The filters feature apps registered (tasks: «Дела»); `narrow` applies each one only to
        # the records it is for.
        for record_filter in lists.record_filters():
            self.fields[record_filter.name] = forms.ChoiceField(
                label=record_filter.label, required=False, choices=[("", ""), *record_filter.choices])
        self.choices = choices

    def clean_q(self) -> str:
        # Cut rather than refused: a long paste still searches by its beginning, as before.
        return self.cleaned_data["q"][:SEARCH_MAX_LENGTH]

    def clean_after(self):
        try:
            return parse_cursor(self.cleaned_data["after"])
        except (ValueError, OverflowError) as exc:
            raise forms.ValidationError(_("Неверная позиция в колонке: обновите страницу.")) from exc

    def clean(self):
        data = super().clean()
        for name in CHOSEN:
            value = data.get(name)
            if value not in (None, "") and self.choices is not None and value not in self.choices.get(name, ()):
                self.add_error(name, _("Выберите вариант из списка."))
        for start, end in (("created_after", "created_before"), ("close_after", "close_before")):
            if data.get(start) and data.get(end) and data[start] > data[end]:
                self.add_error(end, _("Дата «по» раньше даты «с»: период не применён."))
                del data[start]  # the range as a whole is dropped, not half of it
        return data


CHOSEN = ("preset", "responsible", "department", "source")  # the filters picked from a list
# The filters kept in the board's links (columns, totals, «Показать ещё», the pipeline tabs);
# those feature apps register (`kept()`) are kept too.
KEPT = ("q", *CHOSEN, "created_after", "created_before", "close_after", "close_before")


def kept() -> tuple[str, ...]:
    return (*KEPT, *(f.name for f in lists.record_filters()))


def board_filters(request, open_choices=(), close_dates: bool = False, choices: dict | None = None) -> dict:
    """The board's parameters, validated: the filters in KEPT (kept in the board's links), `open`
    (the closed columns shown), `part`, `totals`, `after` (a column's cursor) and `errors`, one
    «label: message» per refused parameter, whose value is then ignored. `choices` (filter name →
    the values the page offers) makes a value outside them an error too."""
    form = BoardForm(request.GET, open_choices, close_dates=close_dates, choices=choices)
    form.is_valid()
    data = form.cleaned_data  # only the valid fields
    names = kept()
    filters = {name: data.get(name) for name in names}
    filters["q"] = filters["q"] or ""
    filters["preset"] = filters["preset"] or ""
    return {
        **filters,
        # How many filters (the search box and the presets aside) narrow the board: shown on the
        # phone's «Фильтры» button, whose panel is folded.
        "active": sum(filters[name] not in (None, "") for name in names if name not in ("q", "preset")),
        "open": data.get("open", []),
        "part": data.get("part", ""),
        "totals": data.get("totals", False),
        "after": data.get("after"),
        "errors": [f"{form.fields[name].label}: {message}" for name, messages in form.errors.items()
                   for message in messages],
    }


def query_string(filters: dict, *leading: tuple[str, str], **extra) -> str:
    """The board's filters as a query string; `leading` pairs come first (the deals board's
    pipeline), `extra` values may be lists (one pair per item)."""
    params: list[tuple[str, str]] = list(leading)
    for name in kept():
        value = filters.get(name)
        if value not in (None, ""):
            params.append((name, value.isoformat() if isinstance(value, dt.date) else str(value)))
    for key, value in extra.items():
        for item in value if isinstance(value, list | tuple) else [value]:
            params.append((key, str(item)))
    return urlencode(params)


# --- Money ---

def format_sums(sums: dict[str, Decimal]) -> list[str]:
    """One line per currency present (amounts in different currencies are not added up);
    «0 ₽» for a column with no money in it."""
    lines = [format_money(sums[c], c) for c in Currency.values if sums.get(c)]
    lines += [format_money(v, c) for c, v in sums.items() if c not in Currency.values and v]
    return lines or [format_money(0, Currency.RUB)]


def column_totals(records: QuerySet, field: str, columns: Iterable, *, lines: bool = True) -> dict:
    """Count and money per column in one query (grouped by the column `field` and currency).
    COUNT(*), not COUNT(id): an index that covers the filter, the column, currency and amount (the
    deals' forecast by close date, deal_close_date_idx) then answers alone — PostgreSQL would read
    every row for its id (the forecast at 1M: 16 ms → 5 ms)."""
    rows = records.order_by().values_list(field, "currency").annotate(n=Count("*"), total=Sum("amount"))
    return totals_of(rows, columns, lines=lines)


def totals_of(rows: Iterable[tuple], columns: Iterable, *, lines: bool = True) -> dict:
    """{column: {"count", "sums", "sum_lines"}} from (column, currency, count, sum) rows; rows of
    other columns are left out. `lines=False`: no "sum_lines" — a reader that formats the sums
    its own way (the analytics' money cells) does not pay for the board's lines (a few ms on a
    report of three pipelines)."""
    totals: dict = {c: {"count": 0, "sums": {}} for c in columns}
    for value, currency, n, total in rows:
        column = totals.get(value)
        if column is None:
            continue
        column["count"] += n
        column["sums"][currency] = column["sums"].get(currency, Decimal(0)) + (total or 0)
    if lines:
        for column in totals.values():
            column["sum_lines"] = format_sums(column["sums"])
    return totals


def tallied_totals(user, model, field: str, columns: Iterable, owners: lists.Owners, filters: dict, *,
                   scope: int | None = None) -> dict | None:
    """column_totals of the board read from crm.tallies' counters when only the owner filters
    narrow it (a count and a sum per owner and column are all they hold); None when another
    filter (search, source, dates, a registered filter) is set, or the counters cannot answer —
    the caller aggregates the records then."""
    if any(filters.get(name) not in (None, "") for name in kept() if name not in lists.OWNER_FILTERS):
        return None
    narrowed = owners.owner_set(filters.get("preset") or "", filters.get("responsible"), filters.get("department"))
    return tallies.board_totals(user, model, field, columns, owners=narrowed, scope=scope)


# --- Pages of cards ---

def cursor_of(record) -> str:
    return f"{(record.created_at - _EPOCH) // _MICRO}_{record.pk}"


def parse_cursor(value: str | None) -> tuple[dt.datetime, int] | None:
    """`<microseconds since the epoch>_<pk>` of the last card shown; ValueError when tampered."""
    if not value:
        return None
    micro, _sep, pk = value.partition("_")
    created = _EPOCH + dt.timedelta(microseconds=int(micro))
    return created, int(pk)


def keyset_page(rows: QuerySet, after: tuple[dt.datetime, int] | None, limit: int) -> tuple[list, str | None]:
    """A page of `rows` (ordered newest first by created_at, pk) after the cursor, and the cursor
    of the next page if there is one."""
    if after is not None:
        created, pk = after
        # «Older than the cursor», written as a range on created_at (which the (column, date)
        # index serves) minus the cursor's own instant's newer ids: an OR would not use the index.
        rows = rows.filter(created_at__lte=created).exclude(created_at=created, pk__gte=pk)
    cards = list(rows[: limit + 1])
    next_cursor = cursor_of(cards[limit - 1]) if len(cards) > limit else None
    return cards[:limit], next_cursor


def first_pages(records: QuerySet, column_field: str, columns: list, limit: int,
                related: tuple[str, ...] = ()) -> dict:
    """The first page of each of `columns` (a board's open columns: values of `column_field`):
    {column: (cards newest first, the cursor of the next page or None)}, in one query.

    The ids are picked per column — each part reads its column's newest `limit` + 1 rows from the
    (column, date) index, as a column page alone would — and put together by UNION ALL; the rows,
    with what a card shows (`related`), are then read once by those ids. One query, planned once
    and over one small join, where a query per column planned the same join five to seven times
    (at a million leads the planning took four times the running)."""
    parts, params = [], []
    for column in columns:
        newest = records.filter(**{column_field: column}).order_by("-created_at", "-pk").values("pk")[: limit + 1]
        try:
            sql, part_params = newest.query.sql_with_params()
        except EmptyResultSet:  # nothing to see (a user without rights): no part, no query
            continue
        # Each part in a subquery of its own: SQLite refuses LIMIT in a bare part of a UNION.
        parts.append(f"SELECT * FROM ({sql}) AS board_column_{len(parts)}")
        params.extend(part_params)
    found: dict = {column: [] for column in columns}
    if parts:
        rows = records.filter(pk__in=RawSQL(" UNION ALL ".join(parts), params)).select_related(*related)
        attname = records.model._meta.get_field(column_field).attname
        for row in rows.order_by("-created_at", "-pk"):
            found.setdefault(getattr(row, attname), []).append(row)
    pages = {}
    for column in columns:
        cards = found[column]
        pages[column] = (cards[:limit], cursor_of(cards[limit - 1]) if len(cards) > limit else None)
    return pages


def url_parts(name: str) -> tuple[str, str]:
    """`name`'s URL around its pk, e.g. ("/leads/", "/move/"): a card's URL is then a plain
    f-string — `{% url %}` costs ~25 µs a tag, which the board paid four times per card."""
    url = reverse(name, args=[_PK])
    head, _sep, tail = url.rpartition(str(_PK))
    return head, tail


def narrow(records: QuerySet, owners: lists.Owners, filters: dict, search_condition) -> QuerySet:
    """The board's filters on the access-gated `records`: the list's search box, whose records
    («Мои», «Мой отдел», a responsible, a department), the source and the date ranges."""
    if filters["q"]:
        condition = search_condition(filters["q"])
        if condition is not None:
            records = records.filter(condition)
    records = records.filter(owners.condition(records.model.access_owner_field, filters["preset"],
                                              filters["responsible"], filters["department"]))
    if filters["source"] is not None:
        records = records.filter(source_id=filters["source"])
    zone = timezone.get_current_timezone()
    if filters["created_after"]:
        records = records.filter(created_at__gte=dt.datetime.combine(filters["created_after"], dt.time.min, zone))
    if filters["created_before"]:
        # Up to the end of that day in the user's time zone, as the list's date filter does.
        next_day = filters["created_before"] + dt.timedelta(days=1)
        records = records.filter(created_at__lt=dt.datetime.combine(next_day, dt.time.min, zone))
    if filters.get("close_after"):
        records = records.filter(close_date__gte=filters["close_after"])
    if filters.get("close_before"):
        records = records.filter(close_date__lte=filters["close_before"])
    for record_filter in lists.record_filters(records.model):
        records = lists.apply_record_filter(records, record_filter.name, filters.get(record_filter.name) or "")
    return records


def record_filter_selects(model, filters: dict) -> list[dict]:
    """The registered filters for `model`'s board, as the filter bar's selects (crm/_filter_select.html)."""
    return [{"name": f.name, "label": f.label, "empty": f.empty, "choices": f.choices, "value": filters.get(f.name) or ""}
            for f in lists.record_filters(model)]


def filter_bar(owners: lists.Owners, sources) -> dict:
    """The choices of a board's filter bar (two queries: the users and the sources; the
    departments came with `owners`) and what BoardForm checks the values against."""
    users = owners.user_labels()
    sources = [(s.pk, str(s)) for s in sources]
    departments = owners.department_choices()
    bar = {"presets": owners.presets(), "users": users if len(users) > 1 else [],
           "departments": departments, "sources": sources}
    checks = {"preset": [v for v, _label in bar["presets"] if v], "responsible": [pk for pk, _n in users],
              "department": [pk for pk, _n in departments], "source": [pk for pk, _n in sources]}
    return {**bar, "checks": checks}


def preset_links(filters: dict, bar: dict | None, query) -> list[dict]:
    """The presets as links (a segmented control that works without JavaScript): `query(filters)`
    is the board's query string for those filters. Choosing a preset keeps the other filters but
    drops a responsible or department chosen before, which the preset replaces."""
    if not bar:
        return []
    kept = {**filters, "responsible": None, "department": None}
    return [{"label": label, "value": value, "active": value == filters["preset"],
             "url": "?" + query({**kept, "preset": value})}
            for value, label in bar["presets"]]

