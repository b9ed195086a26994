"""What a deal must have to enter a stage: the same checker as leads (crm.requirements) with the
deal's catalogue; the rules are StageRequirement rows per pipeline stage."""

from __future__ import annotations

from crm.requirements import Requirement, filled, missing

from .models import Deal, Stage, StageRequirement


def _field(name: str) -> Requirement:
    field = Deal._meta.get_field(name)
    return Requirement(name, str(field.verbose_name), lambda deal: filled(getattr(deal, field.attname)), (name,))


def _has_products(deal) -> bool:
    return deal.pk is not None and len(deal.products.all()) > 0


def _has_contacts(deal) -> bool:
    return deal.pk is not None and len(deal.contacts.all()) > 0


CATALOGUE: dict[str, Requirement] = {
    r.key: r
    for r in [
        Requirement("amount", "Сумма больше нуля", lambda deal: (deal.amount or 0) > 0, ("amount", "currency")),
        Requirement("products", "Товары/услуги (хотя бы одна строка)", _has_products),
        _field("company"),
        Requirement("contacts", "Контакты (хотя бы один)", _has_contacts, ("contacts",)),
        _field("source"), _field("start_date"), _field("close_date"), _field("comment"),
        _field("loss_reason"),
    ]
}


def stages_required_for(target: Stage, stages: list[Stage]) -> list[Stage]:
    """Entering an in-process stage or the success stage needs the rules of every in-process
    stage up to it; a failure stage needs only its own."""
    if target.semantics == Stage.Semantics.FAILURE:
        return [target]
    ordered = [s for s in stages if s.semantics == Stage.Semantics.IN_PROCESS]
    if target.semantics == Stage.Semantics.SUCCESS:
        return [*ordered, target]
    return [s for s in ordered if (s.sort, s.pk) <= (target.sort, target.pk)]


def missing_for(deal: Deal, target: Stage) -> list[Requirement]:
    stages = list(target.pipeline.stages.all())
    wanted = stages_required_for(target, stages)
    keys = set(StageRequirement.objects.filter(stage__in=wanted).values_list("key", flat=True))
    return missing(deal, keys, CATALOGUE)
