"""Querysets for the deal pages: every one starts at the access gate and costs a fixed number of
queries, whatever the number of deals.

Never `select_related("stage")`: `Deal.stage` is django-fsm's key field (its value is the stage
id) and a cached Stage makes `Deal.save()` trip. Pages map stage ids to Stage objects with one
query of the pipeline's stages instead (`stages_by_id`)."""

from __future__ import annotations

from functools import cache

from django.db.models import F, Prefetch, QuerySet, prefetch_related_objects
from django.http import Http404

from accounts import access
from accounts.models import Action, Level
from clients.selectors import linked
from crm import boards, lists, references
from crm.money import format_money

from .filters import search_condition
from .models import Deal, DealProduct, Pipeline, Stage

# What a list row or a board card shows.
ROW_RELATED = ("pipeline", "company", "source", "responsible")
# The deal's own columns a list row reads, and its company's (the name, and the owner its access
# is checked by): a page of fifty with every column of both tables cost a third of the rows' time.
ROW_FIELDS = ("title", "stage", "amount", "currency", "close_date", "created_at", *ROW_RELATED,
              "company__name", "company__responsible")


def visible_deals(user, action: str = Action.VIEW) -> QuerySet[Deal]:
    """The one entry point for deal querysets in views: the access gate applied (per pipeline)."""
    return access.scope(user, Deal.objects.all(), action)


def company_visible(user, deal: Deal) -> bool:
    """Whether a deal's company may be named to the user: rights in a pipeline are not rights on
    companies. Query-free with the company selected (the levels are cached on the user)."""
    return bool(deal.company_id) and access.can(user, Action.VIEW, deal.company)


def list_rows(user, page, known: dict[str, dict] | None = None) -> list[Deal]:
    """The rows of one page of the deals list (its ids already gated, filtered and sorted), in
    the page's order, with what a row shows: the company joined, the pipeline, source and
    responsible taken from `known` (field → {pk: object}: what the page and its filter panel read)
    or read for the page (crm.lists.attach)."""
    rows = lists.rows_of(visible_deals(user).select_related("company").only(*ROW_FIELDS), page)
    for field in ROW_RELATED:
        if field != "company":
            lists.attach(rows, field, (known or {}).get(field, {}))
    for deal in rows:
        deal.company_visible = company_visible(user, deal)
    return rows


def contact_ids_of(deal: Deal) -> list[int]:
    """The ids of a deal's contacts, visible or not: the deal form keeps the ones the user may not
    see among its choices, so saving the form does not unlink them."""
    return list(deal.contacts.values_list("pk", flat=True))


def visible_clients_of(user, deal: Deal) -> tuple[bool, list, int]:
    """Whether the user may see the deal's company, and the deal's contacts he may see (from the
    card's prefetch). A deal's rights are per pipeline, a client's are not: a user with rights in
    one pipeline only may see no clients at all, and then none is named. Also how many contacts
    are hidden."""
    contacts = list(deal.contacts.all())
    visible = [c for c in contacts if access.can(user, Action.VIEW, c)]
    return company_visible(user, deal), visible, len(contacts) - len(visible)


def pipelines_for(user, action: str = Action.VIEW) -> list[Pipeline]:
    """The pipelines in which `user` has any level for `action` (rights are set per pipeline):
    the board's tabs and the list's filter offer only these; create and «Сменить воронку» ask
    for ADD. One query (the levels are cached on the user)."""
    return [p for p in Pipeline.objects.order_by("sort", "pk") if _sees(user, p, action)]


def _stages_by_pipeline() -> dict[Pipeline, list[Stage]]:
    """Every pipeline that has stages (one with none yet can hold no deal), in order, with its
    stages in their order: one query."""
    found: dict[Pipeline, list[Stage]] = {}
    for stage in Stage.objects.select_related("pipeline").order_by("pipeline__sort", "pipeline_id", "sort", "pk"):
        found.setdefault(stage.pipeline, []).append(stage)
    return found


def _sees(user, pipeline: Pipeline, action: str = Action.VIEW) -> bool:
    return access.level(user, Deal.access_entity, action, pipeline.access_scope) > Level.NONE


def card_pipelines(user, pipeline_id: int) -> tuple[list[Pipeline], list[Stage]]:
    """For the deal card, in one query: the pipelines the user sees (as pipelines_for; a pipeline
    with no stage yet is left out) and the stages of the deal's pipeline in their order (as
    stages_by_id)."""
    found = _stages_by_pipeline()
    return [p for p in found if _sees(user, p)], next((s for p, s in found.items() if p.pk == pipeline_id), [])


def pipeline_stages(user) -> dict[Pipeline, list[Stage]]:
    """The pipelines the user sees (as pipelines_for; a pipeline with no stage yet is left out),
    each with its stages in their order: one query."""
    return {p: stages for p, stages in _stages_by_pipeline().items() if _sees(user, p)}


def stages_by_id(pipelines) -> dict[int, Stage]:
    """Stage id → Stage of these pipelines, in one query."""
    ids = [p.pk for p in pipelines]
    return {s.pk: s for s in Stage.objects.filter(pipeline_id__in=ids).order_by("pipeline_id", "sort", "pk")}


def deal_for_card(user, pk, action: str = Action.VIEW) -> Deal:
    # The source and the loss reason are read apart (crm.references): each joined table made
    # PostgreSQL plan the card's query longer (BENCHMARKS.md, issue 13).
    # The row by its key, then the gate's answer for the loaded deal (access.can, the same rules as
    # access.scope): one record needs no access condition — per pipeline, long — built into its
    # query. Seen first, then allowed: a pipeline hidden from a role hides its deals from every
    # action, even where the role's «change» level for deals would otherwise reach them.
    deal = (Deal.objects.select_related("pipeline", "company", "responsible", "lead").defer(*_lead_unread())
            .filter(pk=pk).first())
    if deal is None or not access.can(user, Action.VIEW, deal):
        raise Http404
    if action != Action.VIEW and not access.can(user, action, deal):
        raise Http404
    prefetch_related_objects(
        [deal], "contacts", Prefetch("products", queryset=DealProduct.objects.select_related("product").order_by("pk")))
    references.attach([deal], ("source", "loss_reason"))
    return deal


# The card names its lead, links it, checks its access and shows its pinned comment: the lead's
# other hundred-odd columns (the whole «Разведка») stayed unread in every card's row.
CARD_LEAD_FIELDS = ("id", "title", "responsible")


@cache
def _lead_unread() -> tuple[str, ...]:
    from leads.models import Lead

    return tuple(f"lead__{f.name}" for f in Lead._meta.concrete_fields if f.name not in CARD_LEAD_FIELDS)


# --- The board ---

BOARD_CARD_RELATED = ("company", "responsible")


def board_deals(user, owners: lists.Owners, stages: list[Stage], filters: dict) -> QuerySet[Deal]:
    """A pipeline's deals on this user's board: through the access gate, then the board's filters
    (crm.boards validated them). Selected by the pipeline's stages rather than the pipeline (the
    same deals): the covering totals index starts with the stage, so SQLite totals one pipeline
    without walking them all."""
    deals = visible_deals(user).filter(stage_id__in=[s.pk for s in stages])
    return boards.narrow(deals, owners, filters, lambda query: lists.search(deals, search_condition(query, user)))


def board_column(deals: QuerySet[Deal], stage: Stage) -> QuerySet[Deal]:
    """One column of `deals` (a board_deals queryset), newest first, with what a card shows."""
    return deals.filter(stage=stage.pk).select_related(*BOARD_CARD_RELATED).order_by("-created_at", "-pk")


def board_first_pages(deals: QuerySet[Deal], stage_ids: list[int], limit: int) -> dict:
    """The first `limit` cards of each stage's column of `deals` (a board_deals queryset) and each
    one's next cursor, in one query (crm.boards.first_pages)."""
    return boards.first_pages(deals, "stage", stage_ids, limit, BOARD_CARD_RELATED)


def board_card(user, pk: int) -> Deal:
    """One deal as its board card shows it (after a move), through the gate."""
    return access.get_or_404(user, Deal.objects.select_related(*BOARD_CARD_RELATED), Action.VIEW, pk=pk)


def board_stage(user, pk: int) -> Stage | None:
    """A column's stage, if the user sees deals of its pipeline (None otherwise: the same answer
    for a stage that does not exist)."""
    stage = Stage.objects.select_related("pipeline").filter(pk=pk).first()
    if stage is None or access.level(user, Deal.access_entity, Action.VIEW, stage.pipeline.access_scope) == Level.NONE:
        return None
    return stage


# --- The deals panel of company and contact cards (deals.cards) ---

def deals_of(user, record) -> dict | None:
    """The deals of a company or a contact card that the user may see: title, pipeline and the
    stage's name and colour; None for another kind of record. The stage is read by a join
    (annotation), never by select_related("stage") (see the module's docstring)."""
    link = {"company": "company", "contact": "contacts"}.get(record._meta.model_name)
    if link is None:
        return None
    queryset = Deal.objects.filter(**{link: record.pk}).annotate(
        stage_name=F("stage__name"), stage_color=F("stage__color"), stage_semantics=F("stage__semantics"),
    ).order_by("-created_at", "-pk")
    result = linked(user, queryset, ("pipeline", "responsible"))
    for deal in result["items"]:
        deal.amount_display = format_money(deal.amount, deal.currency)
    return result


def import_candidates(user) -> QuerySet[Deal]:
    """Where an import looks for the deals its rows repeat (by Bitrix24's ID: exchange.importers):
    where the duplicate check looks (crm.duplicates.candidates), contacts and product rows with them."""
    from crm import duplicates as dup

    return dup.candidates(user, Deal.objects.all()).prefetch_related("contacts", "products")


def pipelines_and_stages() -> tuple[list[Pipeline], list[Stage]]:
    """Every pipeline (in order) and every stage (by pipeline, in order), in two queries: the REST
    API's category ids and stage codes are computed over all of them, whoever asks (which pipelines
    a user may see is pipelines_for)."""
    return (list(Pipeline.objects.order_by("sort", "pk")),
            list(Stage.objects.order_by("pipeline_id", "sort", "pk")))


def loss_reasons():
    from .models import LossReason

    return LossReason.objects.order_by("sort", "name")


def with_contacts(contact_ids):
    """The deals linked to any of these contacts, as one condition (a subquery: no duplicate rows
    when a deal has several of them) — the REST API's CONTACT_ID filter."""
    from django.db.models import Q

    return Q(pk__in=Deal.contacts.through.objects.filter(contact_id__in=list(contact_ids)).values("deal_id"))


def linked_contacts(deal: Deal) -> list:
    """A deal's contacts, visible or not (from a prefetch when there is one: a page of the REST
    list prefetches them): the REST API answers their ids and keeps the hidden ones linked."""
    return list(deal.contacts.all())
