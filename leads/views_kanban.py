"""The leads kanban board: a column per status, cards moved by drag and drop.

The board is built to stay fast with a million leads: counts and sums come from the record
counters (crm.tallies; one aggregate query grouped by status when a filter they cannot answer is
set), the open columns' first pages of cards come in one query
(crm.boards.first_pages; the page costs a fixed number of queries), and «Показать ещё» fetches the
next page with a keyset cursor (created_at, pk) — a cursor, unlike an offset, does not skip or
repeat cards when other cards leave or enter the column in the meantime.

Moving is not done here: a drop posts to leads:move (leads.views.lead_move → leads.services),
which moves the lead or answers with the missing-fields / junk / refusal dialog.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from accounts import access
from accounts.models import Action
from crm import boards, lists
from crm.models import Source
from crm.money import format_money

from .models import CLOSED, ORDER, Lead, Status
from .selectors import board_column, board_first_pages, board_leads

PAGE_SIZE = 10  # a laptop screen shows 5–6 cards a column; the rest load on «Показать ещё»


# --- Columns (the queries are leads.selectors.board_leads / board_column) ---

def column_totals(leads: QuerySet[Lead]) -> dict[str, dict]:
    """Count and money per status in one query (grouped by status and currency)."""
    return boards.column_totals(leads, "status", ORDER)


def column_page(user, leads: QuerySet[Lead], status: str, after=None, limit: int = PAGE_SIZE) -> dict:
    """One page of a column's cards («Показать ещё»), newest first, and the cursor of the next
    page if any."""
    cards, next_cursor = boards.keyset_page(board_column(leads, status), after, limit)
    return {"cards": decorate(user, cards), "next_cursor": next_cursor}


def first_pages(user, leads: QuerySet[Lead], statuses: list, limit: int = PAGE_SIZE) -> dict:
    """The first page of each of `statuses`' columns, in one query: {status: column_page's dict}."""
    return {status: {"cards": decorate(user, cards), "next_cursor": next_cursor}
            for status, (cards, next_cursor) in board_first_pages(leads, statuses, limit).items()}


def decorate(user, cards: list[Lead]) -> list[Lead]:
    """Each card gets what its template shows ready-made (`kanban_*`): the card template is
    rendered a hundred times per board, so it only prints values — no `{% url %}`, date filters
    or per-card loops there (the board's target leaves a card about what a row of a minimal table
    costs)."""
    today = timezone.localdate()
    zone = timezone.get_current_timezone()
    detail_head, detail_tail = boards.url_parts("leads:detail")
    move_head, move_tail = boards.url_parts("leads:move")
    for lead in cards:
        lead.kanban_url = f"{detail_head}{lead.pk}{detail_tail}"
        lead.kanban_move_url = f"{move_head}{lead.pk}{move_tail}"
        lead.kanban_amount = format_money(lead.amount, lead.currency) if lead.amount else ""
        lead.kanban_cursor = boards.cursor_of(lead)
        created = lead.created_at.astimezone(zone)  # what the `date` filter would show
        lead.kanban_created_iso = created.isoformat()
        lead.kanban_created = created.strftime("%d.%m.%Y")
        lead.kanban_responsible = lead.responsible.short_name
        lead.kanban_touch = lead.next_touch_date.strftime("%d.%m.%Y") if lead.next_touch_date else ""
        # Query-free: the access levels are cached on the user, the responsible is select_related.
        lead.kanban_can_move = access.can(user, Action.CHANGE, lead)
        lead.kanban_touch_overdue = bool(lead.next_touch_date and lead.next_touch_date < today
                                         and lead.status not in CLOSED)
    return cards


def _column_url(status: str, filters: dict, **extra) -> str:
    query = boards.query_string(filters, **extra)
    return reverse("leads:kanban_column", args=[status]) + (f"?{query}" if query else "")


def _owners(request) -> lists.Owners:
    return lists.Owners(request.user, access.level(request.user, Lead.access_entity, Action.VIEW))


def _common_context(filters: dict) -> dict:
    query = boards.query_string(filters)
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
    owners = _owners(request)
    # The filter bar's choices only for the whole page: the totals part takes the filters the page
    # validated, and costs no more queries when filtered.
    bar = boards.filter_bar(owners, Source.objects.filter(is_active=True)) if request.GET.get("part") != "totals" else None
    filters = boards.board_filters(request, open_choices=CLOSED, choices=bar and bar["checks"])
    leads = board_leads(request.user, owners, filters)
    part_totals = filters["part"] == "totals"
    with_totals = part_totals or filters["totals"]
    pending = {"count": "…", "sum_lines": ["…"], "pending": True}
    totals = ((boards.tallied_totals(request.user, Lead, "status", ORDER, owners, filters)
               or column_totals(board_leads(request.user, owners, filters, owner_index=True))) if with_totals
              else {status: pending for status in ORDER})
    opened = set(filters["open"])
    expanded_statuses = [s for s in ORDER if s not in CLOSED or s.value in opened]
    pages = first_pages(request.user, leads, expanded_statuses) if not part_totals else {}
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
            "open_url": "?" + boards.query_string(filters, open=sorted(opened ^ {status.value})),
            **totals[status],
        }
        if expanded and not part_totals:
            page = pages[status]
            column["cards"] = page["cards"]
            column["next_url"] = (_column_url(status, filters, after=page["next_cursor"])
                                  if page["next_cursor"] else "")
        columns.append(column)
    # The next touch's state on every card of the board (tasks): one query for all the columns.
    lists.add_marks([card for column in columns for card in column.get("cards", [])])
    context = {**_common_context(filters), "columns": columns, "totals_pending": not with_totals, "bar": bar,
               "record_filters": boards.record_filter_selects(Lead, filters),
               "preset_urls": boards.preset_links(filters, bar,
                                                  lambda f: boards.query_string(f, open=sorted(opened))),
               "totals_url": reverse("leads:kanban") + "?" + boards.query_string(filters, part="totals"),
               "with_totals_url": "?" + boards.query_string(filters, totals="1", open=sorted(opened))}
    if part_totals:
        return render(request, "leads/_kanban_totals.html", context)
    return render(request, "leads/kanban.html", context)


@require_GET
def column(request, status):
    """GET /leads/kanban/column/<status>/?after=<cursor>: the next page of one column's cards
    (an htmx fragment; a page of its own without JavaScript)."""
    if status not in Status.values:
        raise Http404(_("Нет такого статуса лида: «%(status)s».") % {"status": status[:50]})
    filters = boards.board_filters(request)
    if filters["errors"]:
        # A fragment has nowhere to show a message: the next page asked with a bad cursor or
        # filter would be the wrong cards, so it is refused with the reason.
        return HttpResponseBadRequest(" ".join(filters["errors"]))
    page = column_page(request.user, board_leads(request.user, _owners(request), filters), status,
                       after=filters["after"])
    lists.add_marks(page["cards"])
    context = {
        **_common_context(filters),
        "status": Status(status),
        "cards": page["cards"],
        "next_url": _column_url(status, filters, after=page["next_cursor"]) if page["next_cursor"] else "",
    }
    template = "leads/_kanban_cards.html" if request.htmx else "leads/_kanban_column_page.html"
    return render(request, template, context)
