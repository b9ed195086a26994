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
from django.db.models import Count, QuerySet, Sum
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from crm.lists import SEARCH_MAX_LENGTH
from crm.money import Currency, format_money

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MICRO = dt.timedelta(microseconds=1)
_PK = 2147483647  # a placeholder pk: a card's URL is one reverse() per page, not one per card


# --- Filters and query strings ---

class BoardForm(forms.Form):
    """Every GET parameter of a board. A bad value (a NUL character, which PostgreSQL refuses in
    text; a tampered cursor; an unknown column) is left out and named above the board — the board
    still shows, without that filter — rather than reaching the database."""

    q = forms.CharField(label=_("Поиск"), required=False)  # CharField rejects NUL characters itself
    mine = forms.BooleanField(label=_("Только мои"), required=False)
    open = forms.MultipleChoiceField(label=_("Развёрнутые колонки"), required=False)
    part = forms.ChoiceField(label=_("Часть страницы"), required=False, choices=[("totals", "totals")])
    totals = forms.BooleanField(label=_("Суммы по колонкам"), required=False)
    after = forms.CharField(label=_("Позиция в колонке"), required=False)

    def __init__(self, data, open_choices=()):
        super().__init__(data)
        self.fields["open"].choices = [(str(c), str(c)) for c in open_choices]

    def clean_q(self) -> str:
        # Cut rather than refused: a long paste still searches by its beginning, as before.
        return self.cleaned_data["q"][:SEARCH_MAX_LENGTH]

    def clean_after(self):
        try:
            return parse_cursor(self.cleaned_data["after"])
        except (ValueError, OverflowError) as exc:
            raise forms.ValidationError(_("Неверная позиция в колонке: обновите страницу.")) from exc


def board_filters(request, open_choices=()) -> dict:
    """The board's parameters, validated: `q` and `mine` (kept in the board's links), `open` (the
    closed columns shown), `part`, `totals`, `after` (a column's cursor) and `errors`, one
    «label: message» per refused parameter, whose value is then ignored."""
    form = BoardForm(request.GET, open_choices)
    form.is_valid()
    data = form.cleaned_data  # only the valid fields
    return {
        "q": data.get("q", ""),
        "mine": data.get("mine", False),
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
    if filters["q"]:
        params.append(("q", filters["q"]))
    if filters["mine"]:
        params.append(("mine", "1"))
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


def column_totals(records: QuerySet, field: str, columns: Iterable) -> dict:
    """Count and money per column in one query (grouped by the column `field` and currency)."""
    totals: dict = {c: {"count": 0, "sums": {}} for c in columns}
    rows = records.order_by().values(field, "currency").annotate(n=Count("pk"), total=Sum("amount"))
    for row in rows:
        column = totals.get(row[field])
        if column is None:
            continue
        column["count"] += row["n"]
        column["sums"][row["currency"]] = column["sums"].get(row["currency"], Decimal(0)) + (row["total"] or 0)
    for column in totals.values():
        column["sum_lines"] = format_sums(column["sums"])
    return totals


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


def url_parts(name: str) -> tuple[str, str]:
    """`name`'s URL around its pk, e.g. ("/leads/", "/move/"): a card's URL is then a plain
    f-string — `{% url %}` costs ~25 µs a tag, which the board paid four times per card."""
    url = reverse(name, args=[_PK])
    head, _sep, tail = url.rpartition(str(_PK))
    return head, tail


def narrow(records: QuerySet, user, filters: dict, search_condition) -> QuerySet:
    """The board's filters on the access-gated `records`: the list's search box, «Только мои»."""
    if filters["q"]:
        condition = search_condition(filters["q"])
        if condition is not None:
            records = records.filter(condition)
    if filters["mine"]:
        records = records.filter(responsible=user)
    return records
