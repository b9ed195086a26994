"""The deals list («Список»): every pipeline the user may see, filters, search, sorting, pages of
50. Every queryset starts at the access gate (deals.selectors.visible_deals); the page costs a
fixed number of queries (the stages of the visible pipelines are read once and mapped by id)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import get_format
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from accounts.models import Action
from crm import boards, lists
from crm.money import format_money

from .filters import SORTING, DealFilter
from .models import Stage
from .selectors import list_rows, pipelines_for, stages_by_id, visible_deals
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


@require_GET
def deal_list(request: HttpRequest) -> HttpResponse:
    pipelines = pipelines_for(request.user, Action.VIEW)
    filterset = DealFilter(request.GET if lists.filtering(request) else None, queryset=visible_deals(request.user),
                           request=request, pipelines=pipelines, user=request.user, panel=lists.panel_asked(request))
    panel = lists.panel_context(request, filterset, [
        *filterset.owner_fields(), *(filterset.form[n] for n in ("pipeline", "stage", "responsible", "source")),
        *filterset.record_filter_fields()], [filterset.form["created"], filterset.form["close"]])
    if lists.panel_only(request):
        return render(request, "crm/_filter_panel.html", {
            **panel, "form": filterset.form, "panel_alone": True, "prefix": "deal", "list_url": reverse("deals:list")})
    sort = SORTING.parse(request.GET.get("sort"))
    page = lists.page_of_ids(request, SORTING.apply(filterset.qs, sort), PER_PAGE, count=filterset.tally_count(),
                             more_than=filterset.more_than())
    deals = list_rows(request.user, page, {
        "pipeline": {pipeline.pk: pipeline for pipeline in pipelines}, "source": filterset.loaded("source"),
        "responsible": {**filterset.loaded("responsible"), request.user.pk: request.user}})
    lists.add_marks(deals)  # the next touch's state (tasks), one query for the page
    stages = stages_by_id(pipelines) if deals else {}
    today = timezone.localdate()
    detail_head, detail_tail = boards.url_parts("deals:detail")  # a `{% url %}` a row cost ~25 µs each
    day = lists.date_texts(get_format("SHORT_DATE_FORMAT"))
    for deal in deals:
        deal.list_url = f"{detail_head}{deal.pk}{detail_tail}"
        deal.close_day, deal.created_day = day(deal.close_date), day(deal.created_at)
        stage = stages.get(deal.stage_id)
        if stage is None:  # a pipeline the user lost sight of between two queries
            stage = deal.current_stage
        deal._current_stage = stage
        deal.amount_display = format_money(deal.amount, deal.currency)
        deal.close_overdue = bool(deal.close_date and deal.close_date < today
                                  and stage.semantics == Stage.Semantics.IN_PROCESS)
    return render(request, "deals/deal_list.html", {
        **lists.list_context(filterset, page, SORTING, sort, COLUMNS, rows=deals),
        **panel,
        "deals": deals,
        "can_add": bool(movable_pipelines(request.user, pipelines)),
    })
