"""Deals: stages as data, rules per pipeline stage, moves through the one service."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.db.models import ProtectedError

from accounts import access
from accounts.models import Action, Entity, Level, Permission
from crm import timeline
from deals import services
from deals.models import Deal, Pipeline, Stage, StageRequirement
from tests.factories import COLD, GENERAL, INBOUND, DealFactory, pipeline, ref, stage

pytestmark = pytest.mark.django_db


def test_three_pipelines_with_their_stages_are_seeded():
    names = {p.name: [s.name for s in p.stages.order_by("sort")] for p in Pipeline.objects.all()}
    assert names[GENERAL] == ["Новая", "Подготовка документов", "Счёт на предоплату", "В работе", "Финальный счёт",
                              "Сделка успешна", "Сделка провалена"]
    assert names[COLD][-2:] == ["Оплачено", "Отказ"] and names[INBOUND][0] == "Новая заявка"
    for p in Pipeline.objects.all():
        semantics = [s.semantics for s in p.stages.all()]
        assert semantics.count("success") == 1 and semantics.count("failure") == 1


def test_a_deal_starts_on_the_first_stage_and_moves_forward_and_back(owner):
    deal = services.deal_create(data={"title": "Внедрение", "responsible": owner}, pipeline=pipeline(COLD), by=owner)
    assert deal.current_stage.name == "Новая"
    deal = services.deal_move(deal, to=stage(COLD, "Презентация"), by=owner)
    deal = services.deal_move(deal, to=stage(COLD, "Новая"), by=owner)
    history = [(e.data["from_label"], e.data["to_label"]) for e in timeline.entries(deal).filter(kind="status").order_by("pk")]
    assert history == [("Новая", "Презентация"), ("Презентация", "Новая")]


def test_from_kp_sent_the_amount_and_a_product_are_required(owner):
    deal = DealFactory(responsible=owner)
    with pytest.raises(services.MissingFields) as exc:
        services.deal_move(deal, to=stage(COLD, "КП отправлено"), by=owner)
    assert {r.key for r in exc.value.requirements} == {"amount", "products"}
    services.deal_set_products(deal, rows=[(ref("Product", "Тренинги"), Decimal("2"), Decimal("15000"))], by=owner)
    deal.refresh_from_db()
    assert deal.amount == Decimal("30000")  # the amount follows the rows
    assert services.deal_move(deal, to=stage(COLD, "Счёт выставлен"), by=owner).current_stage.name == "Счёт выставлен"


def test_the_general_pipeline_requires_money_from_the_prepayment_invoice(owner):
    deal = DealFactory(responsible=owner, pipeline=pipeline(GENERAL))
    services.deal_move(deal, to=stage(GENERAL, "Подготовка документов"), by=owner)
    with pytest.raises(services.MissingFields):
        services.deal_move(deal, to=stage(GENERAL, "Счёт на предоплату"), by=owner)


def test_won_needs_every_in_process_rule_and_lost_needs_a_reason(owner):
    deal = DealFactory(responsible=owner)
    with pytest.raises(services.MissingFields) as exc:
        services.deal_move(deal, to=stage(COLD, "Оплачено"), by=owner)
    assert {r.key for r in exc.value.requirements} == {"amount", "products"}
    with pytest.raises(services.MissingFields) as exc:
        services.deal_move(deal, to=stage(COLD, "Отказ"), by=owner)
    assert [r.key for r in exc.value.requirements] == ["loss_reason"]
    from deals.models import LossReason

    lost = services.deal_move(deal, to=stage(COLD, "Отказ"), by=owner, data={"loss_reason": LossReason.objects.first()})
    assert lost.current_stage.semantics == Stage.Semantics.FAILURE
    assert "Причина" in timeline.entries(lost).filter(kind="status").first().text


def test_a_rule_changed_in_the_database_applies_to_the_next_move(owner):
    deal = DealFactory(responsible=owner)
    StageRequirement.objects.create(stage=stage(COLD, "Презентация"), key="close_date")
    with pytest.raises(services.MissingFields) as exc:
        services.deal_move(deal, to=stage(COLD, "Презентация"), by=owner)
    assert [r.key for r in exc.value.requirements] == ["close_date"]


def test_a_stage_of_another_pipeline_is_refused_and_a_pipeline_change_lands_on_the_first_stage(owner):
    deal = DealFactory(responsible=owner)
    deal = services.deal_move(deal, to=stage(COLD, "Презентация"), by=owner)
    with pytest.raises(services.DealError, match="другой воронки"):
        services.deal_move(deal, to=stage(INBOUND, "Демонстрация"), by=owner)
    moved = services.deal_change_pipeline(deal, pipeline=pipeline(INBOUND), by=owner)
    assert moved.pipeline.name == INBOUND and moved.current_stage.name == "Новая заявка"
    assert "Воронка" in timeline.entries(moved).filter(kind="status").first().text


def test_a_stage_that_holds_deals_cannot_be_deleted(owner):
    deal = DealFactory(responsible=owner)
    with pytest.raises(ProtectedError):
        deal.current_stage.delete()


def test_the_stage_cannot_be_changed_outside_the_services(owner):
    deal = Deal.objects.get(pk=DealFactory(responsible=owner).pk)
    deal.stage_id = stage(COLD, "Оплачено").pk
    with pytest.raises(ValueError, match="deals.services"):
        deal.save()


def test_negative_amounts_and_quantities_are_refused(owner):
    deal = DealFactory(responsible=owner)
    with pytest.raises(services.DealError, match="отрицательной"):
        services.deal_update(deal, data={"amount": Decimal("-1")}, by=owner, version=deal.version)
    with pytest.raises(services.DealError, match="Количество"):
        services.deal_set_products(deal, rows=[(ref("Product"), Decimal("0"), Decimal("10"))], by=owner)


def test_access_per_pipeline(owner, teammate, head):
    cold = DealFactory(responsible=owner, pipeline=pipeline(COLD))
    inbound = DealFactory(responsible=owner, pipeline=pipeline(INBOUND))
    visible = lambda user: set(access.scope(user, Deal.objects.all()).values_list("pk", flat=True))  # noqa: E731
    assert visible(owner) == {cold.pk, inbound.pk} and visible(teammate) == set()
    # The role «Менеджер» loses the inbound pipeline; the head keeps everything.
    manager_role = owner.roles.get()
    Permission.objects.create(role=manager_role, entity=Entity.DEAL, action=Action.VIEW, level=Level.NONE,
                              scope=pipeline(INBOUND).access_scope)
    fresh = type(owner).objects.get(pk=owner.pk)
    assert visible(fresh) == {cold.pk}
    assert not access.can(fresh, Action.VIEW, inbound) and access.can(fresh, Action.VIEW, cold)
    assert visible(head) == {cold.pk, inbound.pk}
    # A scoped level can also open more than the role's default.
    Permission.objects.create(role=manager_role, entity=Entity.DEAL, action=Action.VIEW, level=Level.DEPARTMENT,
                              scope=pipeline(COLD).access_scope)
    teammate_fresh = type(teammate).objects.get(pk=teammate.pk)
    assert visible(teammate_fresh) == {cold.pk}


def test_moves_need_change_rights(owner, teammate):
    deal = DealFactory(responsible=owner)
    with pytest.raises(PermissionDenied):
        services.deal_move(deal, to=stage(COLD, "Презентация"), by=teammate)


def test_a_hidden_pipeline_hides_its_deals_from_the_services_too(owner):
    deal = DealFactory(responsible=owner, pipeline=pipeline(INBOUND))
    Permission.objects.create(role=owner.roles.get(), entity=Entity.DEAL, action=Action.VIEW, level=Level.NONE,
                              scope=pipeline(INBOUND).access_scope)
    fresh = type(owner).objects.get(pk=owner.pk)
    with pytest.raises(PermissionDenied):
        services.deal_move(deal, to=stage(INBOUND, "Демонстрация"), by=fresh)


def test_an_edit_cannot_break_the_current_stage_rules_whoever_calls(owner):
    deal = DealFactory(responsible=owner)
    services.deal_set_products(deal, rows=[(ref("Product"), Decimal("1"), Decimal("500"))], by=owner)
    deal = services.deal_move(deal, to=stage(COLD, "КП отправлено"), by=owner)
    with pytest.raises(services.StageRulesBroken, match="КП отправлено"):
        services.deal_set_products(deal, rows=[], by=None)  # an import or a script, not the card
    with pytest.raises(services.StageRulesBroken):
        services.deal_update(deal, data={"amount": Decimal("0")}, by=owner, version=deal.version)
    deal.refresh_from_db()
    assert deal.products.count() == 1 and deal.amount == Decimal("500")
