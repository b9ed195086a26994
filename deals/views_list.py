"""The deals list («Список»): every pipeline the user may see, filters, search, sorting, pages of
50. Every queryset starts at the access gate (deals.selectors.visible_deals); the page costs a
fixed number of queries (the stages of the visible pipelines are read once and mapped by id)."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from accounts.models import Action
from crm.money import format_money

from .filters import DealFilter, apply_sort, next_sort, parse_sort
from .models import Deal, Stage
from .selectors import ROW_RELATED, pipelines_for, stages_by_id, visible_deals
from .views import movable_pipelines

PER_PAGE = 50

# (sort key or None, header, CSS classes of the header: less important columns hide on small screens)
COLUMNS = [
    ("title", gettext_lazy("Название"), ""),
    ("company", gettext_lazy("Компания"), ""),
    ("stage", gettext_lazy("Стадия"), ""),
    ("amount", gettext_lazy("Сумма"), "text-end"),
    ("responsible", gettext_lazy("Ответственный"), "d-none d-sm-table-cell"),
    ("close_date", gettext_lazy("Дата закрытия"), "d-none d-md-table-cell"),
    (None, gettext_lazy("Источник"), "d-none d-xl-table-cell"),
    ("created_at", gettext_lazy("Дата создания"), "d-none d-lg-table-cell"),
]


def _columns(sort: str) -> list[dict]:
    columns = []
    for key, label, css in COLUMNS:
        direction = ""
        if key and sort.lstrip("-") == key:
            direction = "desc" if sort.startswith("-") else "asc"
        columns.append({"key": key, "label": label, "css": css, "direction": direction,
                        "next": next_sort(sort, key) if key else ""})
    return columns


@require_GET
def deal_list(request: HttpRequest) -> HttpResponse:
    pipelines = pipelines_for(request.user, Action.VIEW)
    base = visible_deals(request.user)
    # Sorting or paging alone is not filtering: the page then says «Сделок пока нет», not «не найдено».
    filtering = any(key not in ("sort", "page") for key in request.GET)
    filterset = DealFilter(request.GET if filtering else None, queryset=base, request=request,
                           pipelines=pipelines, user=request.user)
    sort = parse_sort(request.GET.get("sort"))
    queryset = apply_sort(filterset.qs, sort)
    # Pages of ids: a deep page skips its offset over a narrow index, and only the 50 rows shown
    # are then read with their related objects.
    page = Paginator(queryset.values_list("pk", flat=True), PER_PAGE).get_page(request.GET.get("page"))
    rows = Deal.objects.select_related(*ROW_RELATED).in_bulk(list(page.object_list))
    deals = [rows[pk] for pk in page.object_list if pk in rows]
    stages = stages_by_id(pipelines) if deals else {}
    today = timezone.localdate()
    for deal in deals:
        stage = stages.get(deal.stage_id)
        if stage is None:  # a pipeline the user lost sight of between two queries
            stage = deal.current_stage
        deal._current_stage = stage
        deal.amount_display = format_money(deal.amount, deal.currency)
        deal.close_overdue = bool(deal.close_date and deal.close_date < today
                                  and stage.semantics == Stage.Semantics.IN_PROCESS)
    return render(request, "deals/deal_list.html", {
        "filter": filterset,
        "form": filterset.form,
        "select_fields": [filterset.form[n] for n in ("pipeline", "stage", "responsible", "company", "source")],
        "range_fields": [filterset.form["created"], filterset.form["close"]],
        "page": page,
        "deals": deals,
        "total": page.paginator.count,
        "page_range": page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1),
        "sort": sort,
        "columns": _columns(sort),
        "can_add": bool(movable_pipelines(request.user, pipelines)),
    })
