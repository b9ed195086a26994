"""The leads kanban board: a column per status, cards moved by drag and drop.

The board is built to stay fast with tens of thousands of leads: counts and sums come from one
aggregate query grouped by status, each open column loads only its first page of cards (one
query per column, so the page costs a fixed number of queries), and «Показать ещё» fetches the
next page with a keyset cursor (created_at, pk) — a cursor, unlike an offset, does not skip or
repeat cards when other cards leave or enter the column in the meantime.

Moving is not done here: a drop posts to leads:move (leads.views.lead_move → leads.services),
which moves the lead or answers with the missing-fields / junk / refusal dialog.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db.models import Count, QuerySet, Sum
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from accounts import access
from accounts.models import Action
from crm.money import Currency, format_money

from .filters import search_condition
from .models import CLOSED, ORDER, Lead, Status
from .selectors import ROW_RELATED, visible_leads

PAGE_SIZE = 10  # a laptop screen shows 5–6 cards a column; the rest load on «Показать ещё»
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MICRO = dt.timedelta(microseconds=1)


# --- Money ---

def format_sums(sums: dict[str, Decimal]) -> list[str]:
    """One line per currency present (amounts in different currencies are not added up);
    «0 ₽» for a column with no money in it."""
    lines = [format_money(sums[c], c) for c in Currency.values if sums.get(c)]
    lines += [format_money(v, c) for c, v in sums.items() if c not in Currency.values and v]
    return lines or [format_money(0, Currency.RUB)]


# --- Queries ---

def _filters(request) -> dict:
    return {
        "q": request.GET.get("q", "").strip()[:100],
        "mine": request.GET.get("mine", "") in ("1", "on", "true"),
    }


def _query_string(filters: dict, **extra) -> str:
    params: list[tuple[str, str]] = []
    if filters["q"]:
        params.append(("q", filters["q"]))
    if filters["mine"]:
        params.append(("mine", "1"))
    for key, value in extra.items():
        for item in value if isinstance(value, list | tuple) else [value]:
            params.append((key, item))
    return urlencode(params)


def board_leads(user, filters: dict, owner_index: bool = False) -> QuerySet[Lead]:
    """The leads on this user's board: through the access gate, then the board's filters.
    Columns read their first cards in date order: the gate leaves the (status, date) index to
    the database (owner_index=False); the totals, which read every visible lead, keep the owner
    index (the covering totals index has the owner column)."""
    leads = visible_leads(user, owner_index=owner_index)
    if filters["q"]:
        # The same search as the list's search box (phones in any format, e-mail, ИНН, person).
        condition = search_condition(filters["q"])
        if condition is not None:
            leads = leads.filter(condition)
    if filters["mine"]:
        leads = leads.filter(responsible=user)
    return leads


def column_totals(leads: QuerySet[Lead]) -> dict[str, dict]:
    """Count and money per status in one query (grouped by status and currency)."""
    totals: dict[str, dict] = {s: {"count": 0, "sums": {}} for s in ORDER}
    rows = leads.order_by().values("status", "currency").annotate(n=Count("pk"), total=Sum("amount"))
    for row in rows:
        column = totals.get(row["status"])
        if column is None:
            continue
        column["count"] += row["n"]
        column["sums"][row["currency"]] = column["sums"].get(row["currency"], Decimal(0)) + (row["total"] or 0)
    for column in totals.values():
        column["sum_lines"] = format_sums(column["sums"])
    return totals


def cursor_of(lead: Lead) -> str:
    return f"{(lead.created_at - _EPOCH) // _MICRO}_{lead.pk}"


def parse_cursor(value: str | None) -> tuple[dt.datetime, int] | None:
    """`<microseconds since the epoch>_<pk>` of the last card shown; ValueError when tampered."""
    if not value:
        return None
    micro, _sep, pk = value.partition("_")
    created = _EPOCH + dt.timedelta(microseconds=int(micro))
    return created, int(pk)


_PK = 2147483647  # a placeholder pk: a card's URL is one reverse() per page, not one per card


def _url_parts(name: str) -> tuple[str, str]:
    """`name`'s URL around its pk, e.g. ("/leads/", "/move/"): a card's URL is then a plain
    f-string — `{% url %}` costs ~25 µs a tag, which the board paid four times per card."""
    url = reverse(name, args=[_PK])
    head, _sep, tail = url.rpartition(str(_PK))
    return head, tail


def column_page(user, leads: QuerySet[Lead], status: str, after=None, limit: int = PAGE_SIZE) -> dict:
    """One page of a column's cards, newest first, and the cursor of the next page if any.

    Each card gets what its template shows ready-made (`kanban_*`): the card template is rendered
    a hundred times per board, so it only prints values — no `{% url %}`, date filters or per-card
    loops there (the board's target leaves a card about what a row of a minimal table costs)."""
    rows = leads.filter(status=status).select_related(*ROW_RELATED).order_by("-created_at", "-pk")
    if after is not None:
        created, pk = after
        # «Older than the cursor», written as a range on created_at (which the (status, date)
        # index serves) minus the cursor's own instant's newer ids: an OR would not use the index.
        rows = rows.filter(created_at__lte=created).exclude(created_at=created, pk__gte=pk)
    cards = list(rows[: limit + 1])
    has_more = len(cards) > limit
    cards = cards[:limit]
    today = timezone.localdate()
    zone = timezone.get_current_timezone()
    detail_head, detail_tail = _url_parts("leads:detail")
    move_head, move_tail = _url_parts("leads:move")
    for lead in cards:
        lead.kanban_url = f"{detail_head}{lead.pk}{detail_tail}"
        lead.kanban_move_url = f"{move_head}{lead.pk}{move_tail}"
        lead.kanban_amount = format_money(lead.amount, lead.currency) if lead.amount else ""
        lead.kanban_cursor = cursor_of(lead)
        created = lead.created_at.astimezone(zone)  # what the `date` filter would show
        lead.kanban_created_iso = created.isoformat()
        lead.kanban_created = created.strftime("%d.%m.%Y")
        lead.kanban_responsible = lead.responsible.short_name
        lead.kanban_touch = lead.next_touch_date.strftime("%d.%m.%Y") if lead.next_touch_date else ""
        # Query-free: the access levels are cached on the user, the responsible is select_related.
        lead.kanban_can_move = access.can(user, Action.CHANGE, lead)
        lead.kanban_touch_overdue = bool(lead.next_touch_date and lead.next_touch_date < today
                                         and lead.status not in CLOSED)
    return {"cards": cards, "next_cursor": cards[-1].kanban_cursor if has_more else None}


def _column_url(status: str, filters: dict, **extra) -> str:
    query = _query_string(filters, **extra)
    return reverse("leads:kanban_column", args=[status]) + (f"?{query}" if query else "")


def _common_context(filters: dict) -> dict:
    query = _query_string(filters)
    return {
        "filters": filters,
        "statuses": [(s.value, s.label) for s in ORDER],
        "board_url": reverse("leads:kanban") + (f"?{query}" if query else ""),
    }


# --- Views ---

@require_GET
def board(request):
    """GET /leads/kanban/: the whole board. `?part=totals` answers only the columns' counts and
    sums as htmx out-of-band swaps: the board asks for them right after it is shown and after
    each move. Counting and summing every visible lead is the one cost that grows with the
    number of leads (BENCHMARKS.md), so the cards do not wait for it; without JavaScript
    (`?totals=1`, the board's «Показать суммы» link) the totals are in the page itself."""
    filters = _filters(request)
    leads = board_leads(request.user, filters)
    with_totals = request.GET.get("part") == "totals" or request.GET.get("totals") == "1"
    pending = {"count": "…", "sum_lines": ["…"], "pending": True}
    totals = (column_totals(board_leads(request.user, filters, owner_index=True)) if with_totals
              else {status: pending for status in ORDER})
    opened = {s for s in request.GET.getlist("open") if s in CLOSED}
    columns = []
    for status in ORDER:
        closed = status in CLOSED
        expanded = not closed or status.value in opened
        column = {
            "status": status.value,
            "label": status.label,
            "closed": closed,
            "collapsed": not expanded,
            "loaded": expanded,
            "url": _column_url(status, filters),
            # Without JavaScript the «Показать» / «Свернуть» link reloads the board with the column toggled.
            "open_url": "?" + _query_string(filters, open=sorted(opened ^ {status.value})),
            **totals[status],
        }
        if expanded and request.GET.get("part") != "totals":
            page = column_page(request.user, leads, status)
            column["cards"] = page["cards"]
            column["next_url"] = (_column_url(status, filters, after=page["next_cursor"])
                                  if page["next_cursor"] else "")
        columns.append(column)
    context = {**_common_context(filters), "columns": columns, "totals_pending": not with_totals,
               "totals_url": reverse("leads:kanban") + "?" + _query_string(filters, part="totals"),
               "with_totals_url": "?" + _query_string(filters, totals="1", open=sorted(opened))}
    if request.GET.get("part") == "totals":
        return render(request, "leads/_kanban_totals.html", context)
    return render(request, "leads/kanban.html", context)


@require_GET
def column(request, status):
    """GET /leads/kanban/column/<status>/?after=<cursor>: the next page of one column's cards
    (an htmx fragment; a page of its own without JavaScript)."""
    if status not in Status.values:
        raise Http404(_("Нет такого статуса лида: «%(status)s».") % {"status": status[:50]})
    try:
        after = parse_cursor(request.GET.get("after"))
    except (ValueError, OverflowError):
        return HttpResponseBadRequest(_("Неверная позиция в колонке: обновите страницу."))
    filters = _filters(request)
    page = column_page(request.user, board_leads(request.user, filters), status, after=after)
    context = {
        **_common_context(filters),
        "status": Status(status),
        "cards": page["cards"],
        "next_url": _column_url(status, filters, after=page["next_cursor"]) if page["next_cursor"] else "",
    }
    template = "leads/_kanban_cards.html" if request.htmx else "leads/_kanban_column_page.html"
    return render(request, template, context)
