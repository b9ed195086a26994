"""Querysets for the deal pages: every one starts at the access gate and costs a fixed number of
queries, whatever the number of deals.

Never `select_related("stage")`: `Deal.stage` is django-fsm's key field (its value is the stage
id) and a cached Stage makes `Deal.save()` trip. Pages map stage ids to Stage objects with one
query of the pipeline's stages instead (`stages_by_id`)."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from django.http import Http404

from accounts import access
from accounts.models import Action, Level

from .models import Deal, DealProduct, Pipeline, Stage

# What a list row or a board card shows.
ROW_RELATED = ("pipeline", "company", "source", "responsible")


def visible_deals(user, action: str = Action.VIEW) -> QuerySet[Deal]:
    """The one entry point for deal querysets in views: the access gate applied (per pipeline)."""
    return access.scope(user, Deal.objects.all(), action)


def pipelines_for(user, action: str = Action.VIEW) -> list[Pipeline]:
    """The pipelines in which `user` has any level for `action` (rights are set per pipeline):
    the board's tabs and the list's filter offer only these; create and «Сменить воронку» ask
    for ADD. One query (the levels are cached on the user)."""
    return [p for p in Pipeline.objects.order_by("sort", "pk")
            if access.level(user, Deal.access_entity, action, p.access_scope) > Level.NONE]


def stages_by_id(pipelines) -> dict[int, Stage]:
    """Stage id → Stage of these pipelines, in one query."""
    ids = [p.pk for p in pipelines]
    return {s.pk: s for s in Stage.objects.filter(pipeline_id__in=ids).order_by("pipeline_id", "sort", "pk")}


def deal_for_card(user, pk, action: str = Action.VIEW) -> Deal:
    queryset = Deal.objects.select_related(
        "pipeline", "company", "source", "responsible", "lead", "loss_reason", "created_by",
    ).prefetch_related(
        "contacts", Prefetch("products", queryset=DealProduct.objects.select_related("product").order_by("pk")),
    )
    # Seen first, then allowed: a pipeline hidden from a role hides its deals from every action,
    # even where the role's «change» level for deals would otherwise reach them.
    deal = access.get_or_404(user, queryset, Action.VIEW, pk=pk)
    if action != Action.VIEW and not access.can(user, action, deal):
        raise Http404
    return deal
