"""The deals board: one pipeline at a time, a column per stage, cards moved by drag and drop.

Built like the leads kanban on crm.boards and for the same reasons: counts and sums
come from the record counters (crm.tallies; one aggregate query grouped by stage and currency
when a filter they cannot answer is set), loaded right after the board
(`?part=totals`, htmx out-of-band swaps); the open columns' first pages of cards come in one
query (crm.boards.first_pages: the page costs a fixed number of queries); «Показать ещё» fetches the
next page with a keyset cursor (created_at, pk), which neither skips nor repeats cards when
others leave or enter the column meanwhile. The success and failure stages are collapsed.

Moving is not done here: a drop posts to deals:move (deals.views.deal_move → deals.services).
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from accounts import access
from accounts.models import Action
from crm import boards, lists
from crm.models import Source
from crm.money import format_money

from .models import Deal, Pipeline, Stage
from .selectors import (
    board_card,
    board_column,
    board_deals,
    board_first_pages,
    board_stage,
    company_visible,
    pipelines_for,
    stages_by_id,
)
from .views import movable_pipelines, parse_id

PAGE_SIZE = 10  # a laptop screen shows 5–6 cards a column; the rest load on «Показать ещё»


# --- Columns (the queries are deals.selectors.board_deals / board_column / board_card) ---

def _query_string(pipeline: Pipeline | None, filters: dict, **extra) -> str:
    leading = [("pipeline", str(pipeline.pk))] if pipeline is not None else []
    return boards.query_string(filters, *leading, **extra)


def column_totals(deals: QuerySet[Deal], stages: list[Stage]) -> dict[int, dict]:
    """Count and money per stage in one query (grouped by stage and currency)."""
    return boards.column_totals(deals, "stage", [s.pk for s in stages])


def column_page(user, deals: QuerySet[Deal], stage: Stage, after=None, limit: int = PAGE_SIZE) -> dict:
    """One page of a column's cards, newest first, and the cursor of the next page if any. Each
    card gets what its template shows ready-made (`board_*`): the card template only prints."""
    cards, next_cursor = boards.keyset_page(board_column(deals, stage), after, limit)
    return {"cards": decorate(user, cards, stage), "next_cursor": next_cursor}


def first_pages(user, deals: QuerySet[Deal], stages: list[Stage], limit: int = PAGE_SIZE) -> dict:
    """The first page of each of `stages`' columns, in one query: {stage id: column_page's dict}."""
    pages = board_first_pages(deals, [s.pk for s in stages], limit)
    return {stage.pk: {"cards": decorate(user, pages[stage.pk][0], stage), "next_cursor": pages[stage.pk][1]}
            for stage in stages}


def decorate(user, cards: list[Deal], stage: Stage) -> list[Deal]:
    """What a card shows, ready-made (`board_*`): URLs built once per page, money and dates
    formatted here. Needs the deals' company and responsible loaded."""
    today = timezone.localdate()
    detail_head, detail_tail = boards.url_parts("deals:detail")
    move_head, move_tail = boards.url_parts("deals:move")
    in_process = stage.semantics == Stage.Semantics.IN_PROCESS
    for deal in cards:
        deal._current_stage = stage
        deal.board_url = f"{detail_head}{deal.pk}{detail_tail}"
        deal.board_move_url = f"{move_head}{deal.pk}{move_tail}"
        deal.board_amount = format_money(deal.amount, deal.currency) if deal.amount else ""
        deal.board_cursor = boards.cursor_of(deal)
        deal.board_company = deal.company.name if company_visible(user, deal) else ""
        deal.board_responsible = deal.responsible.short_name
        deal.board_close = deal.close_date.strftime("%d.%m.%Y") if deal.close_date else ""
        deal.board_close_iso = deal.close_date.isoformat() if deal.close_date else ""
        deal.board_overdue = bool(in_process and deal.close_date and deal.close_date < today)
        # Query-free: the access levels are cached on the user; the owner is a column of the row.
        deal.board_can_move = access.can(user, Action.CHANGE, deal)
    return cards


def card_html(request, deal: Deal) -> str:
    """A moved deal's card as the board shows it: the move may have changed what it shows (the
    missing-fields dialog sets the amount, the company, the close date…)."""
    fresh = board_card(request.user, deal.pk)
    decorate(request.user, [fresh], deal.current_stage)
    lists.add_marks([fresh])
    return render_to_string("deals/_board_cards.html", {"cards": [fresh], "next_url": ""}, request=request)


def _column_url(stage: Stage, filters: dict, **extra) -> str:
    query = _query_string(None, filters, **extra)
    return reverse("deals:board_column", args=[stage.pk]) + (f"?{query}" if query else "")


def _owners(request, pipeline: Pipeline) -> lists.Owners:
    # Rights are per pipeline: the presets follow the level in this one.
    return lists.Owners(request.user, access.level(request.user, Deal.access_entity, Action.VIEW, pipeline.access_scope))


def _pipeline_or_404(request, pipelines: list[Pipeline]) -> Pipeline:
    raw = request.GET.get("pipeline")
    if raw in (None, ""):
        return pipelines[0]
    wanted = parse_id(raw)
    chosen = next((p for p in pipelines if p.pk == wanted), None)
    if chosen is None:
        # Another user's pipeline, a deleted one or garbage: the same answer.
        raise Http404(_("Нет такой воронки или у вас нет доступа к её сделкам."))
    return chosen


# --- Views ---

@require_GET
def board(request):
    """GET /deals/?pipeline=<id>: the board of one pipeline (default: the first the user sees).
    `?part=totals` answers only the columns' counts and sums as htmx out-of-band swaps (the board
    asks for them right after it is shown and after each move); without JavaScript `?totals=1`
    puts them in the page."""
    pipelines = pipelines_for(request.user, Action.VIEW)
    if not pipelines:
        return render(request, "deals/board.html", {"pipelines": [], "columns": []}, status=403)
    pipeline = _pipeline_or_404(request, pipelines)
    stages = list(stages_by_id([pipeline]).values())
    owners = _owners(request, pipeline)
    # The filter bar's choices only for the whole page: the totals part takes the filters the page
    # validated, and costs no more queries when filtered.
    bar = boards.filter_bar(owners, Source.objects.filter(is_active=True)) if request.GET.get("part") != "totals" else None
    filters = boards.board_filters(request, open_choices=[s.pk for s in stages if s.is_closed], close_dates=True,
                                   choices=bar and bar["checks"])
    deals = board_deals(request.user, owners, stages, filters)
    part_totals = filters["part"] == "totals"
    with_totals = part_totals or filters["totals"]
    pending = {"count": "…", "sum_lines": ["…"], "pending": True}
    totals = ((boards.tallied_totals(request.user, Deal, "stage", [s.pk for s in stages], owners, filters,
                                     scope=pipeline.pk) or column_totals(deals, stages))
              if with_totals else {s.pk: pending for s in stages})
    opened = {int(pk) for pk in filters["open"]}
    pages = first_pages(request.user, deals, [s for s in stages if not s.is_closed or s.pk in opened]) \
        if not part_totals else {}
    columns = []
    for stage in stages:
        closed = stage.is_closed
        expanded = not closed or stage.pk in opened
        column = {
            "stage": stage,
            "id": stage.pk,
            "label": stage.name,
            "color": stage.color,
            "kind": stage.semantics,
            "closed": closed,
            "collapsed": not expanded,
            "loaded": expanded,
            "url": _column_url(stage, filters),
            "open_url": "?" + _query_string(pipeline, filters, open=sorted(opened ^ {stage.pk})),
            **totals[stage.pk],
        }
        if expanded and not part_totals:
            page = pages[stage.pk]
            column["cards"] = page["cards"]
            column["next_url"] = _column_url(stage, filters, after=page["next_cursor"]) if page["next_cursor"] else ""
        columns.append(column)
    # The next touch's state on every card of the board (tasks): one query for all the columns.
    lists.add_marks([card for column in columns for card in column.get("cards", [])])
    query = _query_string(pipeline, filters)
    context = {
        "pipelines": [{"pipeline": p, "url": "?" + _query_string(p, filters), "active": p.pk == pipeline.pk}
                      for p in pipelines],
        "pipeline": pipeline,
        "stages": stages,
        "filters": filters,
        "bar": bar,
        "record_filters": boards.record_filter_selects(Deal, filters),
        "preset_urls": boards.preset_links(filters, bar, lambda f: _query_string(pipeline, f, open=sorted(opened))),
        "pipeline_reset_url": f"?pipeline={pipeline.pk}",
        "columns": columns,
        "board_url": reverse("deals:board") + f"?{query}",
        "totals_pending": not with_totals,
        "totals_url": reverse("deals:board") + "?" + _query_string(pipeline, filters, part="totals"),
        "with_totals_url": "?" + _query_string(pipeline, filters, totals="1", open=sorted(opened)),
        "can_add": bool(movable_pipelines(request.user, [pipeline])),
    }
    if part_totals:
        return render(request, "deals/_board_totals.html", context)
    return render(request, "deals/board.html", context)


@require_GET
def column(request, stage):
    """GET /deals/board/column/<stage>/?after=<cursor>: the next page of one column's cards (an
    htmx fragment; a page of its own without JavaScript)."""
    target = board_stage(request.user, stage)
    if target is None:
        raise Http404(_("Нет такой стадии или у вас нет доступа к сделкам её воронки."))
    filters = boards.board_filters(request, close_dates=True)
    if filters["errors"]:
        # A fragment has nowhere to show a message: the next page asked with a bad cursor or
        # filter would be the wrong cards, so it is refused with the reason.
        return HttpResponseBadRequest(" ".join(filters["errors"]))
    owners = _owners(request, target.pipeline)
    page = column_page(request.user, board_deals(request.user, owners, [target], filters), target,
                       after=filters["after"])
    lists.add_marks(page["cards"])
    context = {
        "stage": target,
        "pipeline": target.pipeline,
        "cards": page["cards"],
        "next_url": _column_url(target, filters, after=page["next_cursor"]) if page["next_cursor"] else "",
        "board_url": reverse("deals:board") + "?" + _query_string(target.pipeline, filters),
    }
    template = "deals/_board_cards.html" if request.htmx else "deals/board_column_page.html"
    return render(request, template, context)
