"""The deal card, its forms and dialogs. Views parse the request and render; every change goes
through deals.services, every lookup through the access gate (deals.selectors).

The move endpoint has the same contract as leads:move, so the board, the card's stage bar and
the forms without JavaScript all post to it: a move answers HX-Trigger `deal-moved`; missing
fields answer the «Для перевода сделки на стадию заполните обязательные поля» dialog with
exactly those fields (product rows included) in #crm-modal-content; a refusal answers a dialog
saying why."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import access
from accounts.models import Action, Level
from crm import cards, dialogs, timeline
from crm.money import Currency, format_money
from crm.timeline_views import timeline_context

from . import services
from .forms import ChangePipelineForm, DealForm, ProductsForm, product_rows, requirements_form_class
from .models import Deal, Pipeline, Stage
from .requirements import missing_for
from .selectors import card_pipelines, deal_for_card, pipelines_for, visible_clients_of

MAX_ID = 2**63 - 1


# --- Helpers ---

def _url(record) -> str:
    """A record's card URL, or "" while its app has no card page yet (clients are being built)."""
    try:
        return record.get_absolute_url()
    except NoReverseMatch:
        return ""


def parse_id(raw) -> int | None:
    raw = (raw or "").strip() if isinstance(raw, str) else ""
    if raw.isascii() and raw.isdigit() and 0 < int(raw) <= MAX_ID:
        return int(raw)
    return None


def _stage_or_404(raw) -> Stage:
    pk = parse_id(raw)
    stage = Stage.objects.select_related("pipeline").filter(pk=pk).first() if pk else None
    if stage is None:
        raise Http404(_("Нет такой стадии."))
    return stage


def movable_pipelines(user, visible: list[Pipeline] | None = None) -> list[Pipeline]:
    """Pipelines a deal may be created in or moved to by `user`: seen and added to. Pass the
    visible pipelines when the page has them already (no query then)."""
    visible = pipelines_for(user, Action.VIEW) if visible is None else visible
    return [p for p in visible if access.level(user, Deal.access_entity, Action.ADD, p.access_scope) > Level.NONE]


def stage_bar(deal: Deal, stages: list[Stage], can_change: bool) -> list[dict]:
    """The chevrons of the deal's pipeline: passed stages and the current one in their colours."""
    current = next(s for s in stages if s.pk == deal.stage_id)
    in_process = current.semantics == Stage.Semantics.IN_PROCESS
    steps = []
    for stage in stages:
        if stage.pk == current.pk:
            state = "current"
        elif stage.semantics == Stage.Semantics.IN_PROCESS and (
                (in_process and (stage.sort, stage.pk) < (current.sort, current.pk))
                or current.semantics == Stage.Semantics.SUCCESS):
            state = "done"
        else:
            state = "todo"
        steps.append({"stage": stage, "state": state, "clickable": can_change and stage.pk != current.pk,
                      "kind": stage.semantics})
    return steps


# --- The card ---

def _card_context(request, deal: Deal) -> dict:
    pipelines, stages = card_pipelines(request.user, deal.pipeline_id)
    deal._current_stage = next(s for s in stages if s.pk == deal.stage_id)
    can_change = access.can(request.user, Action.CHANGE, deal)
    products = list(deal.products.all())
    total = sum((row.total for row in products), 0)
    for row in products:
        row.price_display = format_money(row.price, deal.currency)
        row.total_display = format_money(row.total, deal.currency)
    # A company or contact the user may not see is not named: a deal's rights are per pipeline,
    # a client's are not (a user with rights in one pipeline only may see no clients at all).
    company_visible, visible_contacts, contacts_hidden = visible_clients_of(request.user, deal)
    contacts = [{"name": str(c), "url": _url(c)} for c in visible_contacts]
    lead = deal.lead
    movable = movable_pipelines(request.user, pipelines) if can_change else []
    return {
        **timeline_context(request, deal),
        "deal": deal,
        "stage": deal._current_stage,
        "steps": stage_bar(deal, stages, can_change),
        "can_change": can_change,
        "amount_display": format_money(deal.amount, deal.currency),
        "currency_label": Currency(deal.currency).label if deal.currency in Currency.values else deal.currency,
        "company_visible": company_visible,
        "company_url": _url(deal.company) if company_visible else "",
        "contacts": contacts,
        "contacts_hidden": contacts_hidden,
        "products": products,
        "products_total": format_money(total, deal.currency),
        "lead": lead,
        "lead_url": reverse("leads:detail", args=[lead.pk]) if lead else "",
        "lead_visible": bool(lead and access.can(request.user, Action.VIEW, lead)),
        # PROCESS.md §1.5: the lead's pinned comment (the «Разведка» findings) is visible from the deal.
        "lead_pinned": timeline.pinned(lead) if lead else None,
        # Offered only when there is another pipeline to go to. Its options are the pipelines read
        # already (the form's queryset would read them again).
        "pipeline_form": (ChangePipelineForm(pipelines=movable, current=deal.pipeline)
                          if any(p.pk != deal.pipeline_id for p in movable) else None),
        "pipeline_choices": sorted({p.pk: p for p in [*movable, deal.pipeline]}.values(), key=lambda p: (p.sort, p.pk)),
        "close_overdue": bool(deal.close_date and deal.close_date < timezone.localdate()
                              and deal._current_stage.semantics == Stage.Semantics.IN_PROCESS),
        "panels": cards.panels_for(request.user, deal),  # what other apps show (tasks: «Дела»)
    }


def deal_detail(request, pk):
    deal = deal_for_card(request.user, pk)
    return render(request, "deals/deal_detail.html", _card_context(request, deal))


# --- Create and edit ---

def deal_create(request):
    pipelines = movable_pipelines(request.user)
    if not pipelines:
        raise PermissionDenied(_("Нет прав на создание сделок."))
    wanted = parse_id(request.GET.get("pipeline"))
    pipeline = next((p for p in pipelines if p.pk == wanted), pipelines[0])
    form = DealForm(request.POST or None, user=request.user, pipelines=pipelines,
                    initial={"responsible": request.user, "pipeline": pipeline, "currency": Currency.RUB,
                             "start_date": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        data, m2m = form.split()
        chosen = data.pop("pipeline")
        try:
            deal = services.deal_create(data=data, m2m=m2m, by=request.user, pipeline=chosen)
        except (services.DealError, PermissionDenied) as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Сделка «%(title)s» создана.") % {"title": deal.title})
            return redirect("deals:detail", pk=deal.pk)
    return render(request, "deals/deal_form.html", {"form": form, "deal": None, "pipeline": pipeline})


def deal_edit(request, pk):
    deal = deal_for_card(request.user, pk, Action.CHANGE)
    form = DealForm(request.POST or None, instance=deal, user=request.user)
    if request.method == "POST" and form.is_valid():
        data, m2m = form.split()
        try:
            services.deal_update(deal, data=data, m2m=m2m, by=request.user,
                                 version=form.cleaned_data.get("version") or 0)
        except (services.DealError, PermissionDenied) as exc:
            # StaleEdit included: the message says why, the form keeps what was typed.
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Изменения сохранены."))
            return redirect("deals:detail", pk=deal.pk)
    deal = deal_for_card(request.user, deal.pk)  # the title as saved, not as typed
    return render(request, "deals/deal_form.html", {"form": form, "deal": deal, "pipeline": deal.pipeline})


# --- Product rows ---

def deal_products(request, pk):
    """Edit the deal's product rows (product, quantity, price); the amount follows them."""
    deal = deal_for_card(request.user, pk, Action.CHANGE)
    bound = request.method == "POST"
    formset = product_rows(deal, request.POST if bound else None)
    form = ProductsForm(request.POST if bound else None, initial={"version": deal.version})
    if bound and form.is_valid() and formset.is_valid():
        try:
            services.deal_set_products(deal, rows=formset.rows(), by=request.user,
                                       version=form.cleaned_data.get("version"))
        except (services.DealError, PermissionDenied) as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Товары сделки сохранены."))
            return redirect("deals:products" if request.POST.get("more") else "deals:detail", pk=deal.pk)
    return render(request, "deals/deal_products.html", {"deal": deal, "formset": formset, "form": form})


# --- Moves ---

def _moved(request, deal: Deal, source: int):
    text = _("Сделка «%(title)s» переведена на стадию «%(stage)s».") % {"title": deal.title,
                                                                        "stage": deal.current_stage.name}
    extra = {}
    if request.htmx and urlsplit(request.htmx.current_url or "").path == reverse("deals:board"):
        from .views_board import card_html

        extra["card"] = card_html(request, deal)  # the board puts it in place of the old card
    return dialogs.moved(request, deal, event="deal-moved", source=source, to=deal.stage_id, message=text,
                         extra=extra)


_STYLESHEETS = ("css/deals.css",)


def _dialog(request, template: str, context: dict):
    return dialogs.dialog(request, template, context, record=context["deal"], stylesheets=_STYLESHEETS)


def _refused(request, deal: Deal, message: str):
    return dialogs.refused(request, deal, message, title=_("Стадия не изменена"), context={"deal": deal},
                           stylesheets=_STYLESHEETS)


def _missing_dialog(request, deal: Deal, to: Stage, missing, data=None):
    with_products = any(r.key == "products" for r in missing)
    form = requirements_form_class(missing)(data, instance=deal, user=request.user, with_products=with_products,
                                            initial={"to": to.pk})
    rows = product_rows(deal, data, required=True) if with_products else None
    return form, rows


def _render_missing(request, deal, to, missing, form, rows):
    return _dialog(request, "deals/_missing_fields.html",
                   {"deal": deal, "form": form, "rows": rows, "to": to, "missing": missing,
                    "next": request.POST.get("next", "")})


@require_POST
def deal_move(request, pk):
    """Move to the stage `to`. When its rules are not met the deal stays and the answer is the
    missing-fields dialog; submitting it valid saves the fields (and the product rows) and moves
    the deal in one transaction, or saves nothing."""
    deal = deal_for_card(request.user, pk, Action.CHANGE)
    to = _stage_or_404(request.POST.get("to"))
    source = deal.stage_id
    if to.pipeline_id != deal.pipeline_id or to.pk == deal.stage_id:
        return _try_move(request, deal, source, to)  # the service says why (another pipeline) or does nothing
    missing = missing_for(deal, to)
    if not missing:
        return _try_move(request, deal, source, to)
    if not request.POST.get("dialog"):
        form, rows = _missing_dialog(request, deal, to, missing)
        return _render_missing(request, deal, to, missing, form, rows)
    form, rows = _missing_dialog(request, deal, to, missing, request.POST)
    valid = form.is_valid()
    valid = (rows is None or rows.is_valid()) and valid
    if valid:
        data, m2m = form.split()
        if rows is not None and "amount" in form.fields:
            if rows.total > 0:
                data["amount"] = rows.total  # the amount follows the rows
            elif not data.get("amount"):
                form.add_error("amount", _("Сумма должна быть больше нуля."))
                valid = False
        if valid:
            return _try_move(request, deal, source, to, data=data, m2m=m2m,
                             rows=rows.rows() if rows is not None else None)
    return _render_missing(request, deal, to, missing, form, rows)


def _try_move(request, deal: Deal, source: int, to: Stage, *, data=None, m2m=None, rows=None):
    try:
        # Rows first (the "products" rule), then the move: one transaction, so a refused move
        # leaves the rows unsaved too.
        with transaction.atomic():
            if rows is not None:
                services.deal_set_products(deal, rows=rows, by=request.user)
            moved = services.deal_move(deal, to=to, by=request.user, data=data, m2m=m2m)
    except services.MissingFields as exc:
        # The rules changed between the dialog and the save: ask for what is missing now.
        fresh = deal_for_card(request.user, deal.pk, Action.CHANGE)
        bound = request.POST if request.POST.get("dialog") else None
        form, rows_formset = _missing_dialog(request, fresh, to, exc.requirements, bound)
        if bound is not None:
            form.is_valid()
            if rows_formset is not None:
                rows_formset.is_valid()
        return _render_missing(request, fresh, to, exc.requirements, form, rows_formset)
    except (services.DealError, PermissionDenied) as exc:
        return _refused(request, deal, str(exc))
    return _moved(request, moved, source)


@require_POST
def deal_change_pipeline(request, pk):
    """«Сменить воронку»: to another pipeline (one the user sees and may add deals to), landing
    on its first stage."""
    deal = deal_for_card(request.user, pk, Action.CHANGE)
    form = ChangePipelineForm(request.POST, pipelines=movable_pipelines(request.user), current=deal.pipeline)
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return redirect("deals:detail", pk=deal.pk)
    try:
        moved = services.deal_change_pipeline(deal, pipeline=form.cleaned_data["pipeline"], by=request.user)
    except (services.DealError, PermissionDenied) as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Сделка перенесена в воронку «%(pipeline)s», стадия «%(stage)s».")
                         % {"pipeline": moved.pipeline, "stage": moved.current_stage.name})
    return redirect("deals:detail", pk=deal.pk)

