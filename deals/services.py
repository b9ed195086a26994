"""The only ways a deal changes: the card, the kanban, the admin, conversion and imports call these."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django_fsm import can_proceed

from accounts import access
from accounts.models import Action
from crm import deletion, hooks, tallies, timeline
from crm.requirements import Requirement
from notifications import services as notifications

from .models import Deal, DealProduct, Pipeline, Stage, StageRequirement
from .requirements import missing_for

Kind = timeline.Kind


class DealError(Exception):
    """A refusal with a message for the manager (in Russian)."""


class MissingFields(DealError):
    def __init__(self, deal: Deal, target: Stage, requirements: list[Requirement]):
        self.deal, self.target, self.requirements = deal, target, requirements
        super().__init__(_("Для перевода сделки на стадию «%(stage)s» заполните обязательные поля: %(fields)s.")
                         % {"stage": target.name, "fields": ", ".join(r.label for r in requirements)})


class StageRulesBroken(DealError):
    """An edit would leave the deal without what its current stage requires (e.g. removing the
    last product row on «КП отправлено»): refused, whoever edits — card, admin or import."""

    def __init__(self, deal: Deal, stage: Stage, requirements: list[Requirement]):
        self.requirements = requirements
        super().__init__(_("На стадии «%(stage)s» обязательны: %(fields)s. Изменения не сохранены.")
                         % {"stage": stage.name, "fields": ", ".join(r.label for r in requirements)})


def _keep_stage_rules(deal: Deal) -> None:
    stage = deal.current_stage
    missing = missing_for(deal, stage)
    if missing:
        transaction.set_rollback(True)
        raise StageRulesBroken(deal, stage, missing)


class StaleEdit(DealError):
    def __init__(self):
        super().__init__(_("Сделку уже изменил другой пользователь. Обновите страницу: ваши изменения не сохранены, "
                           "чтобы не затереть чужие."))


def _check(deal: Deal, by, action: str = Action.CHANGE) -> None:
    # A pipeline hidden from the user (no «view» there) hides its deals from every action, even
    # where an entity-wide «change» level would allow it.
    if by is not None and not (access.can(by, Action.VIEW, deal) and access.can(by, action, deal)):
        raise PermissionDenied(_("Нет прав на изменение этой сделки."))


def _validate(deal: Deal) -> None:
    try:
        deal.full_clean(exclude=["stage", "pipeline", "responsible", "company", "source", "lead", "loss_reason",
                                 "created_by"], validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        raise DealError(" ".join(f"{Deal._meta.get_field(k).verbose_name}: {m}" if k != "__all__" else m
                                 for k, msgs in exc.message_dict.items() for m in msgs)) from exc


def _check_links(deal: Deal, by, data: dict[str, Any] | None, m2m: dict[str, Any] | None) -> None:
    """A new company or contact link must be to a record `by` may see (the forms offer only those;
    an import or the API is held to the same). Links already there may stay or go: the form shows
    them, unnamed, as «нет доступа»."""
    if data and data.get("company") is not None:
        access.check_new_links(by, [deal.company] if deal.pk and deal.company_id else [], [data["company"]])
    if m2m and "contacts" in m2m:
        access.check_new_links(by, list(deal.contacts.all()) if deal.pk else [], m2m["contacts"])


def _apply(deal: Deal, data: dict[str, Any] | None, m2m: dict[str, Any] | None) -> list[dict[str, Any]]:
    changes = []
    for name, value in (data or {}).items():
        old = getattr(deal, name)
        if old != value:
            changes.append(timeline.change(name, old, value))
            setattr(deal, name, value)
    _validate(deal)
    deal.version += 1
    deal.save()
    for name, values in (m2m or {}).items():
        manager = getattr(deal, name)
        old, new = set(manager.all()), set(values)
        if old != new:
            manager.set(new)
            changes.append(timeline.change(name, old, new))
        getattr(deal, "_prefetched_objects_cache", {}).pop(name, None)
    return changes


def _follow_products(deal: Deal) -> None:
    """When the product rows add up to more than zero, the amount is their total."""
    total = sum((row.total for row in deal.products.all()), Decimal("0"))
    if total > 0 and deal.amount != total:
        deal.amount = total
        deal.save(update_fields=["amount"])


@tallies.atomic()
def deal_create(*, data: dict[str, Any], m2m: dict[str, Any] | None = None, products=(), by,
                pipeline: Pipeline | None = None) -> Deal:
    """A new deal starts on its pipeline's first stage."""
    pipeline = pipeline or data.pop("pipeline", None) or Pipeline.objects.order_by("sort", "pk").first()
    data.pop("pipeline", None)
    deal = Deal(**data, pipeline=pipeline, stage_id=pipeline.first_stage().pk, created_by=by)
    if by is not None and not access.level(by, Deal.access_entity, Action.ADD, pipeline.access_scope):
        raise PermissionDenied(_("Нет прав на создание сделок в воронке «%(p)s».") % {"p": pipeline})
    _check_links(deal, by, data, m2m)
    _validate(deal)
    deal.save()
    for name, values in (m2m or {}).items():
        getattr(deal, name).set(values)
    for product, quantity, price in products:
        DealProduct.objects.create(deal=deal, product=product, quantity=quantity, price=price)
    _follow_products(deal)
    timeline.log(deal, Kind.CREATED, by, timeline.message(gettext_noop("Сделка создана")))
    notifications.assigned(deal, by)
    hooks.moved(deal, by, "", str(deal.stage_id))  # a new deal enters its first stage: its rules run too
    return deal


@tallies.atomic()
def deal_update(deal: Deal, *, data: dict[str, Any], m2m: dict[str, Any] | None = None, by, version: int) -> Deal:
    locked = Deal.objects.select_for_update().get(pk=deal.pk)
    _check(locked, by)
    if locked.version != version:
        raise StaleEdit()
    _check_links(locked, by, data, m2m)
    changes = _apply(locked, data, m2m)
    _keep_stage_rules(locked)
    if changes:
        timeline.log(locked, Kind.CHANGE, by, changes=changes)
    if any(c["name"] == "responsible" for c in changes):
        notifications.assigned(locked, by)
    return locked


@tallies.atomic()
def deal_set_products(deal: Deal, *, rows: list[tuple[Any, Decimal, Decimal]], by, version: int | None = None) -> Deal:
    """Replace the product rows (product, quantity, price); the amount follows them. The current
    stage's rules still hold afterwards (its «products» rule keeps at least one row)."""
    locked = Deal.objects.select_for_update().get(pk=deal.pk)
    _check(locked, by)
    if version is not None and locked.version != version:
        raise StaleEdit()
    for _product, quantity, price in rows:
        if quantity <= 0 or price < 0:
            raise DealError(_("Количество должно быть больше нуля, а цена — не меньше нуля."))
    before = _product_rows(locked)
    locked.products.all().delete()
    DealProduct.objects.bulk_create([DealProduct(deal=locked, product=p, quantity=q, price=pr) for p, q, pr in rows])
    _follow_products(locked)
    _keep_stage_rules(locked)
    locked.version += 1
    locked.save(update_fields=["version"])
    after = [{"product": str(p), "quantity": str(q), "price": str(pr)} for p, q, pr in rows]
    timeline.log(locked, Kind.CHANGE, by, changes=[timeline.change("products", before, after)])
    return locked


def _product_rows(deal: Deal) -> list[dict[str, str]]:
    """The rows as the history keeps them: names then, raw numbers."""
    return [{"product": str(row.product), "quantity": str(row.quantity), "price": str(row.price)}
            for row in deal.products.select_related("product")]


@tallies.atomic()
def deal_move(deal: Deal, *, to: Stage, by, data: dict[str, Any] | None = None,
              m2m: dict[str, Any] | None = None) -> Deal:
    """Move to a stage of the deal's pipeline (forward, back, won, lost), saving `data` first
    (the missing-fields dialog). On a locked row; MissingFields leaves nothing saved."""
    # The deal's row only (of=self): FOR UPDATE of the joined pipeline would hold every new deal
    # of that pipeline (its foreign key check) and, with the counters' rows, could deadlock.
    locked = Deal.objects.select_for_update(of=("self",)).select_related("pipeline").get(pk=deal.pk)
    _check(locked, by)
    if to.pipeline_id != locked.pipeline_id:
        raise DealError(_("Стадия «%(stage)s» из другой воронки: чтобы перенести сделку в другую воронку, "
                          "смените воронку.") % {"stage": to.name})
    source = locked.current_stage
    if source.pk == to.pk:
        return locked
    _check_links(locked, by, data, m2m)
    with tallies.held(locked):  # counted with the stage below, in one statement
        changes = _apply(locked, data, m2m) if (data or m2m) else []
    locked._target_stage = to
    if not can_proceed(locked.move_to):
        missing = missing_for(locked, to)
        transaction.set_rollback(True)
        raise MissingFields(locked, to, missing)
    locked.move_to(to)
    locked.stage_changed_at = timezone.now()
    if not changes:
        locked.version += 1
    locked.save()
    if changes:
        timeline.log(locked, Kind.CHANGE, by, changes=changes)
        if any(c["name"] == "responsible" for c in changes):  # the move's form handed the deal over, as an edit would
            notifications.assigned(locked, by)
    text = (timeline.message(gettext_noop("Причина: %(reason)s"), reason=str(locked.loss_reason))
            if to.semantics == Stage.Semantics.FAILURE else "")
    timeline.log(locked, Kind.STATUS, by, text, **{"field": "stage", "from": source.pk, "to": to.pk,
                                                   "from_label": source.name, "to_label": to.name})
    hooks.moved(locked, by, str(source.pk), str(to.pk))
    return locked


@tallies.atomic()
def deal_change_pipeline(deal: Deal, *, pipeline: Pipeline, by) -> Deal:
    """To another pipeline, landing on its first stage; recorded in the history."""
    # The deal's row only (of=self): FOR UPDATE of the joined pipeline would hold every new deal
    # of that pipeline (its foreign key check) and, with the counters' rows, could deadlock.
    locked = Deal.objects.select_for_update(of=("self",)).select_related("pipeline").get(pk=deal.pk)
    _check(locked, by)
    if locked.pipeline_id == pipeline.pk:
        return locked
    if by is not None and not access.level(by, Deal.access_entity, Action.ADD, pipeline.access_scope):
        raise PermissionDenied(_("Нет прав на сделки воронки «%(p)s».") % {"p": pipeline})
    old_pipeline, old_stage = locked.pipeline, locked.current_stage
    locked.change_pipeline(pipeline)
    locked.stage_changed_at = timezone.now()
    locked.version += 1
    locked.save()
    timeline.log(locked, Kind.STATUS, by, timeline.message(gettext_noop("Воронка: %(old)s → %(new)s"), old=str(old_pipeline),
                                                           new=str(pipeline)),
                 **{"field": "stage", "from": old_stage.pk, "to": locked.stage_id, "from_label": f"{old_pipeline}: {old_stage.name}",
                    "to_label": f"{pipeline}: {locked.current_stage.name}"})
    hooks.moved(locked, by, str(old_stage.pk), str(locked.stage_id))
    return locked


@tallies.atomic()
def deal_delete(deal: Deal, *, by):
    """Delete a deal for good (the admin's delete and bulk delete call this): its product rows go
    with it; its company, contacts and lead stay and note the deletion in their timelines.
    Returns the DeletionRecord; raises PermissionDenied or DeletionRefused."""
    locked = Deal.objects.select_for_update().get(pk=deal.pk)
    related = [locked.company, locked.lead, *locked.contacts.all()]
    return deletion.delete_record(locked, by=by, title=locked.title, related=related)


# --- Imports (exchange.importers): many new deals at once, held to the same rules ---

@dataclass
class ImportItem:
    """One new deal of an import: its fields, pipeline, the stage the file asks for (None: the
    first), contacts and product rows (product, quantity, price). The service fills `deal`
    (created) or `error` (refused), and `adjusted` (put on an earlier stage than asked, and why)."""

    row: int
    data: dict[str, Any]
    pipeline: Pipeline
    stage: Stage | None = None
    contacts: list = field(default_factory=list)
    products: list[tuple[Any, Decimal, Decimal]] = field(default_factory=list)
    deal: Deal | None = None
    error: str = ""
    adjusted: str = ""


class _Rules:
    """Stages and their rule keys, read once per import rather than once per deal."""

    def __init__(self):
        self.stages: dict[int, list[Stage]] = {}
        self.keys: dict[int, set[str]] = {}
        for stage in Stage.objects.order_by("pipeline_id", "sort", "pk"):
            self.stages.setdefault(stage.pipeline_id, []).append(stage)
        for stage_id, key in StageRequirement.objects.values_list("stage_id", "key"):
            self.keys.setdefault(stage_id, set()).add(key)

    def missing(self, deal: Deal, item: ImportItem, target: Stage) -> list[Requirement]:
        """`missing_for` of a deal not saved yet: its products and contacts are the item's."""
        from .requirements import CATALOGUE, stages_required_for

        wanted = stages_required_for(target, self.stages.get(target.pipeline_id, []))
        keys = set().union(*(self.keys.get(s.pk, set()) for s in wanted))
        result = []
        for key, requirement in CATALOGUE.items():
            if key not in keys:
                continue
            met = (bool(item.products) if key == "products" else bool(item.contacts) if key == "contacts"
                   else requirement.is_met(deal))
            if not met:
                result.append(requirement)
        return result


def _import_stage(deal: Deal, item: ImportItem, rules: _Rules, strict: bool) -> Stage:
    stages = rules.stages.get(item.pipeline.pk, [])
    first = next(s for s in stages if s.semantics == Stage.Semantics.IN_PROCESS)
    asked = item.stage or first
    missing = rules.missing(deal, item, asked)
    if not missing:
        return asked
    labels = ", ".join(r.label for r in missing)
    if strict or asked == first:
        raise MissingFields(deal, asked, missing)
    reachable = [s for s in stages if s.semantics == Stage.Semantics.IN_PROCESS
                 and (asked.semantics != Stage.Semantics.IN_PROCESS or (s.sort, s.pk) < (asked.sort, asked.pk))]
    stage = first
    for candidate in reachable:
        if rules.missing(deal, item, candidate):
            break
        stage = candidate
    if rules.missing(deal, item, stage):
        raise MissingFields(deal, stage, rules.missing(deal, item, stage))
    item.adjusted = (_("Для стадии «%(stage)s» не заполнены обязательные поля: %(fields)s. Сделка импортирована "
                       "на стадии «%(actual)s».") % {"stage": asked.name, "fields": labels, "actual": stage.name})
    return stage


def deals_import(items: list[ImportItem], *, by, source: str, strict: bool = False, rules: _Rules | None = None,
                 notify: bool = True) -> list[Deal]:
    """Create the deals of `items` at once (an import's batch): each is checked as `deal_create`
    checks (the right to add in its pipeline, links only to visible records, the model's
    validation, product rows, the stage's required fields), then the valid ones are written with one
    insert per table — deals, contacts, product rows, history («Импорт: file.csv») — in one
    transaction. The hooks of the stage entered run; each responsible is told once per batch."""
    from crm.duplicates import search_normalize

    rules = rules or _Rules()
    valid = []
    for item in items:
        data = dict(item.data)
        try:
            if by is not None and not access.level(by, Deal.access_entity, Action.ADD, item.pipeline.access_scope):
                raise PermissionDenied(_("Нет прав на создание сделок в воронке «%(p)s».") % {"p": item.pipeline})
            deal = Deal(**data, pipeline=item.pipeline, stage_id=0, created_by=by)
            _check_links(deal, by, data, {"contacts": item.contacts})
            for _product, quantity, price in item.products:
                if quantity <= 0 or price < 0:
                    raise DealError(_("Количество должно быть больше нуля, а цена — не меньше нуля."))
            total = sum((q * p for _product, q, p in item.products), Decimal("0")).quantize(Decimal("0.01"))
            if total > 0:
                deal.amount = total  # the amount follows the product rows (_follow_products)
            _validate(deal)
            stage = _import_stage(deal, item, rules, strict)
        except (DealError, PermissionDenied) as exc:
            item.error = str(exc)
            continue
        deal = Deal(**{**data, "amount": deal.amount}, pipeline=item.pipeline, stage_id=stage.pk, created_by=by)
        deal.search_text = search_normalize(" ".join(p for p in (deal.title, deal.comment[:200]) if p))
        item.deal = deal
        valid.append(item)
    return _import_write(valid, by=by, source=source, notify=notify)


def _import_write(items: list[ImportItem], *, by, source: str, notify: bool = True) -> list[Deal]:
    from django.db import DatabaseError

    try:
        return _import_insert(items, by=by, source=source, notify=notify)  # its own savepoint (tallies.atomic)
    except DatabaseError:
        if len(items) == 1:
            items[0].error, items[0].deal = _("Запись отклонена базой данных."), None
            return []
    created = []
    for item in items:
        created += _import_write([item], by=by, source=source, notify=notify)
    return created


@tallies.atomic()
def _import_insert(items: list[ImportItem], *, by, source: str, notify: bool = True) -> list[Deal]:
    from django.urls import reverse

    deals = Deal.objects.bulk_create([item.deal for item in items])
    through = Deal.contacts.through
    through.objects.bulk_create([through(deal_id=item.deal.pk, contact_id=c.pk) for item in items for c in item.contacts])
    DealProduct.objects.bulk_create([DealProduct(deal_id=item.deal.pk, product=p, quantity=q, price=pr)
                                     for item in items for p, q, pr in item.products])
    timeline.log_many(deals, Kind.CREATED, by, timeline.message(gettext_noop("Импорт: %(file)s"), file=source))
    by_stage: dict[int, list[Deal]] = {}
    by_owner: dict[int, list[Deal]] = {}
    for deal in deals:
        deal._loaded_stage_id = deal.stage_id  # as loaded: its stage changes only through deal_move
        by_stage.setdefault(deal.stage_id, []).append(deal)
        by_owner.setdefault(deal.responsible_id, []).append(deal)
    for stage_id, entered in by_stage.items():
        hooks.moved_many(entered, by, "", str(stage_id))
    if notify:  # the import engine tells each responsible once per file instead
        for owner, handed in by_owner.items():
            notifications.assigned_many(handed, by, url=f"{reverse('deals:list')}?responsible={owner}")
    return deals


@tallies.atomic()
def deal_import_update(deal: Deal, *, data: dict[str, Any], contacts, products, pipeline: Pipeline,
                       stage: Stage | None, by) -> bool:
    """An import's row for a deal that exists: its changed fields, the contacts the file adds (those
    it does not name stay), its product rows if the file gives others, its pipeline and stage — each
    through the service the card uses, all or nothing. Returns whether anything changed."""
    changed = False
    current = list(deal.contacts.all())
    new = [c for c in contacts if c.pk not in {n.pk for n in current}]
    if data or new:
        deal = deal_update(deal, data=data, m2m={"contacts": current + new} if new else None, by=by,
                           version=deal.version)
        changed = True
    rows = sorted((p.pk, q, pr) for p, q, pr in products)
    if rows and rows != sorted((r.product_id, r.quantity, r.price) for r in deal.products.all()):
        deal = deal_set_products(deal, rows=products, by=by)
        changed = True
    if pipeline.pk != deal.pipeline_id:
        deal = deal_change_pipeline(deal, pipeline=pipeline, by=by)
        changed = True
    if stage is not None and stage.pk != deal.stage_id:
        deal_move(deal, to=stage, by=by)
        changed = True
    return changed
