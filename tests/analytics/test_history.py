"""Every way a record moves leaves exactly the right stays (analytics.history, through crm.hooks)."""

from decimal import Decimal

import pytest
from django.core.management import call_command

from analytics import history
from analytics.models import Handover, Stay
from crm import hooks
from deals.models import Deal
from leads import services
from leads.models import Lead, Status
from tests.analytics.conftest import DEAL, LEAD, convert, deal_move, junk, move, new_deal, new_lead, stays
from tests.factories import ref

pytestmark = pytest.mark.django_db


def test_it_opens_the_first_stay_when_a_lead_is_created(owner):
    lead = new_lead(owner)
    stay = Stay.objects.get(model=LEAD, object_id=lead.pk)
    assert (stay.state, stay.scope, stay.owner, stay.source, stay.niche, stay.entered_by, stay.left_at) == (
        "new", 0, owner.pk, lead.source_id, lead.niche_id, owner.pk, None)


def test_it_closes_and_opens_a_stay_on_each_card_move_back_and_forth(owner):
    lead = new_lead(owner)
    lead = move(lead, Status.FIRST_CALL, owner)
    lead = move(lead, Status.QUALIFICATION, owner)
    lead = move(lead, Status.FIRST_CALL, owner)
    assert stays(lead) == [("new", False), ("first_call", False), ("qualification", False), ("first_call", True)]
    rows = list(Stay.objects.filter(model=LEAD, object_id=lead.pk).order_by("entered_at", "pk"))
    assert all(a.left_at == b.entered_at for a, b in zip(rows, rows[1:], strict=False))


def test_a_bulk_move_moves_each_lead_and_skips_the_refused(owner):
    ready, short = new_lead(owner, title="Готов"), new_lead(owner, title="Без квалификации", ready=False)
    report = services.leads_bulk_move([ready, short], to=Status.QUALIFICATION, by=owner)
    assert [lead.pk for lead in report.done] == [ready.pk] and len(report.failed) == 1
    assert stays(ready) == [("new", False), ("qualification", True)]
    assert stays(short) == [("new", True)]


def test_a_kanban_drop_moves_the_stay(client, owner):
    lead = new_lead(owner)
    client.force_login(owner)
    response = client.post(f"/leads/{lead.pk}/move/", {"to": Status.FIRST_CALL}, HTTP_HX_REQUEST="true")
    assert response.status_code in (200, 204, 302)
    assert stays(lead) == [("new", False), ("first_call", True)]


def test_junk_and_reopen_are_moves(owner, head):
    lead = junk(new_lead(owner), owner)
    assert stays(lead) == [("new", False), ("junk", True)]
    move(lead, Status.QUALIFICATION, head)
    assert stays(lead) == [("new", False), ("junk", False), ("qualification", True)]
    assert Stay.objects.get(model=LEAD, object_id=lead.pk, state="qualification").entered_by == head.pk


def test_conversion_closes_the_lead_and_opens_the_deals_first_stage(owner):
    result = convert(new_lead(owner), owner)
    assert stays(result.lead) == [("new", False), ("decision_maker", False), ("converted", True)]
    deal = result.deal
    stay = Stay.objects.get(model=DEAL, object_id=deal.pk)
    assert (stay.state, stay.scope, stay.owner, stay.left_at) == (str(deal.stage_id), deal.pipeline_id, owner.pk, None)


def test_deal_moves_and_a_pipeline_change_keep_the_stage_and_the_pipeline(owner):
    from deals import services as deals
    from tests.factories import GENERAL, pipeline

    deal = new_deal(owner)
    first_pipeline = deal.pipeline_id
    deal = deal_move(deal, "Презентация", owner)
    deal = deals.deal_change_pipeline(deal, pipeline=pipeline(GENERAL), by=owner)
    rows = list(Stay.objects.filter(model=DEAL, object_id=deal.pk).order_by("entered_at", "pk"))
    assert [(r.scope, r.left_at is None) for r in rows] == [(first_pipeline, False), (first_pipeline, False),
                                                            (deal.pipeline_id, True)]
    assert rows[-1].state == str(deal.stage_id)


def test_an_import_opens_the_stays_of_its_leads_in_one_insert(head, owner, django_assert_num_queries):
    items = [services.ImportItem(row=n, data={"title": f"Импорт {n}", "source": ref("Source"), "company_name": f"Ф{n}",
                                              "company_phone": f"+7912000000{n}", "responsible": owner})
             for n in range(3)]
    leads = services.leads_import(items, by=head, source="leads.csv")
    assert len(leads) == 3
    assert sorted(Stay.objects.filter(model=LEAD).values_list("state", "owner", "entered_by", "left_at")) == [
        ("new", owner.pk, head.pk, None)] * 3
    # Many records at once cost one update and one insert whatever their number: the hook's `many`
    # (and for the funnel's calendar periods one read and one write of their marks, one upsert of its counts;
    # one upsert of the open stays' counts: −1 on the closed stays' days, +1 on today's; one of the
    # ended stays' durations).
    leads = list(Lead.objects.all())
    with django_assert_num_queries(7):
        history.moved_many(leads, head, "new", "first_call")
    assert sorted(Stay.objects.filter(model=LEAD, left_at=None).values_list("state", flat=True)) == ["first_call"] * 3


def test_a_deal_import_opens_its_stays(head, owner):
    from deals import services as deals
    from tests.factories import COLD, pipeline

    cold = pipeline(COLD)
    items = [deals.ImportItem(row=1, data={"title": "Импорт", "responsible": owner}, pipeline=cold)]
    created = deals.deals_import(items, by=head, source="deals.csv")
    assert [(s.state, s.scope) for s in Stay.objects.filter(model=DEAL, object_id=created[0].pk)] == [
        (str(cold.first_stage().pk), cold.pk)]


def test_a_reassignment_moves_every_stay_of_the_lead_in_one_update(owner, teammate, head, django_assert_num_queries):
    lead = move(new_lead(owner), Status.FIRST_CALL, owner)
    services.lead_assign(lead, responsible=teammate, by=head)
    assert set(Stay.objects.filter(model=LEAD, object_id=lead.pk).values_list("owner", flat=True)) == {teammate.pk}
    assert list(Handover.objects.filter(object_id=lead.pk).order_by("at", "pk").values_list(
        "owner", "previous", "by")) == [(owner.pk, None, owner.pk), (teammate.pk, owner.pk, head.pk)]
    locked = Lead.objects.get(pk=lead.pk)
    locked.responsible = owner
    # The update of all its stays, the handover, its funnel counts moved (a read of its marks, an
    # upsert), and its «взято» marks' insert (back to the owner in the same periods: no mark is new,
    # so no count to add); its stays read, their open and ended stays' counts moved to the new owner
    # (an upsert each).
    with django_assert_num_queries(8):
        history.changed(locked, head, "update")
    locked.source = ref("Source", "Сайт")
    with django_assert_num_queries(3):  # a source changed: the update and the funnel counts only
        history.changed(locked, head, "update")
    locked.comment = "Без смены владельца"
    with django_assert_num_queries(0):
        history.changed(locked, head, "update")


def test_a_source_or_niche_change_follows_onto_the_stays(owner):
    lead = move(new_lead(owner), Status.FIRST_CALL, owner)
    lead = services.lead_update(lead, data={"source": ref("Source", "Сайт"), "niche": ref("Niche", "HoReCa")},
                                by=owner, version=lead.version)
    assert set(Stay.objects.filter(model=LEAD, object_id=lead.pk).values_list("source", "niche")) == {
        (ref("Source", "Сайт").pk, ref("Niche", "HoReCa").pk)}


def test_an_edit_of_other_fields_leaves_the_stays_alone(owner, django_assert_num_queries):
    lead = new_lead(owner)
    before = list(Stay.objects.filter(model=LEAD, object_id=lead.pk).values())
    services.lead_update(lead, data={"comment": "звонить после обеда"}, by=owner, version=lead.version)
    assert list(Stay.objects.filter(model=LEAD, object_id=lead.pk).values()) == before


def test_a_deal_reassignment_moves_its_stays(owner, teammate, head):
    from deals import services as deals

    deal = deal_move(new_deal(owner), "Презентация", owner)
    deals.deal_update(deal, data={"responsible": teammate}, by=head, version=Deal.objects.get(pk=deal.pk).version)
    assert set(Stay.objects.filter(model=DEAL, object_id=deal.pk).values_list("owner", flat=True)) == {teammate.pk}


def test_a_deal_carries_its_amount_currency_and_loss_reason_on_every_stay(owner, head, django_assert_num_queries):
    from deals import services as deals
    from deals.models import LossReason

    def money(deal):
        return set(Stay.objects.filter(model=DEAL, object_id=deal.pk).values_list("amount", "currency", "reason"))

    deal = deal_move(new_deal(owner, amount=Decimal("1200.50")), "Презентация", owner)
    assert money(deal) == {(Decimal("1200.50"), "RUB", None)}
    deal = deals.deal_update(deal, data={"amount": Decimal("990"), "currency": "USD"}, by=owner,
                             version=Deal.objects.get(pk=deal.pk).version)
    assert money(deal) == {(Decimal("990.00"), "USD", None)}
    expensive = LossReason.objects.get(name="Дорого")
    deal = deal_move(deal, "Отказ", owner, loss_reason=expensive)  # the reason the losing move asked for
    assert money(deal) == {(Decimal("990.00"), "USD", expensive.pk)}
    assert Stay.objects.filter(model=DEAL, object_id=deal.pk).count() == 3
    assert history.differences(DEAL) == []
    # An edit of the money is one update of all the deal's stays — and, the deal being lost, its
    # closed marks read, moved to the new sum and the counts' upsert (analytics.history); an edit
    # of other fields none.
    locked = Deal.objects.get(pk=deal.pk)
    locked.amount = Decimal("1000")
    with django_assert_num_queries(4):
        history.changed(locked, head, "update")
    locked.comment = "Перезвонить в марте"
    with django_assert_num_queries(0):
        history.changed(locked, head, "update")
    assert money(deal) == {(Decimal("1000.00"), "USD", expensive.pk)}


def test_a_leads_stays_carry_no_money(owner):
    lead = move(new_lead(owner), Status.FIRST_CALL, owner)
    assert set(Stay.objects.filter(model=LEAD, object_id=lead.pk).values_list("amount", "currency")) == {(None, "")}


def test_a_deletion_removes_the_stays_and_leaves_the_others(owner, crm_admin):
    gone, kept = move(new_lead(owner, title="Удаляемый"), Status.FIRST_CALL, owner), new_lead(owner, title="Остаётся")
    services.lead_delete(gone, by=crm_admin)
    assert not Stay.objects.filter(model=LEAD, object_id=gone.pk).exists()
    assert not Handover.objects.filter(model=LEAD, object_id=gone.pk).exists()
    assert stays(kept) == [("new", True)]


def test_a_deal_deletion_removes_its_stays(owner, crm_admin):
    from deals import services as deals

    deal = new_deal(owner)
    deals.deal_delete(deal, by=crm_admin)
    assert not Stay.objects.filter(model=DEAL).exists()


def test_a_move_that_rolls_back_leaves_no_stay(owner):
    lead = new_lead(owner)

    def refuse(record, by, source, target):
        raise RuntimeError("правило не может выполниться")

    hooks.on_moved(refuse)
    try:
        with pytest.raises(RuntimeError):
            move(lead, Status.FIRST_CALL, owner)
    finally:
        hooks._moved.remove(refuse)
    assert Lead.objects.get(pk=lead.pk).status == Status.NEW
    assert stays(lead) == [("new", True)]


def test_a_move_refused_for_missing_fields_leaves_no_stay(owner):
    lead = new_lead(owner, ready=False)
    with pytest.raises(services.MissingFields):
        move(lead, Status.QUALIFICATION, owner)
    assert stays(lead) == [("new", True)]



def test_the_stays_carry_the_leads_current_junk_reason(owner, head):
    lead = junk(new_lead(owner), owner, reason="Дубликат")
    other = new_lead(owner, title="Другой")

    def reasons(record):
        return sorted(Stay.objects.filter(model=LEAD, object_id=record.pk).values_list("state", "reason"))

    duplicate, refused = ref("JunkReason", "Дубликат").pk, ref("JunkReason", "Отказ клиента").pk
    assert reasons(lead) == [("junk", duplicate), ("new", duplicate)]
    move(lead, Status.QUALIFICATION, head)  # reopened: no reason any more, on every stay
    assert reasons(lead) == [("junk", None), ("new", None), ("qualification", None)]
    junk(Lead.objects.get(pk=lead.pk), head, reason="Отказ клиента")
    assert reasons(lead) == [("junk", refused), ("junk", refused), ("new", refused), ("qualification", refused)]
    assert reasons(other) == [("new", None)]
    assert history.differences(LEAD) == []

def test_rebuild_makes_the_stays_the_hooks_wrote(owner, teammate, head, crm_admin):
    from deals import services as deals
    from tests.factories import GENERAL, pipeline

    lead = move(new_lead(owner, title="Туда-обратно"), Status.FIRST_CALL, owner)
    move(move(lead, Status.QUALIFICATION, owner), Status.FIRST_CALL, owner)
    move(junk(new_lead(owner, title="Брак"), owner), Status.NEW, head)
    converted = convert(new_lead(teammate, title="Успех"), teammate)
    services.lead_assign(converted.lead, responsible=owner, by=head)
    deal = deal_move(converted.deal, "Презентация", teammate)
    deals.deal_change_pipeline(deal, pipeline=pipeline(GENERAL), by=teammate)
    won = deal_move(new_deal(owner, title="Выиграна", amount=Decimal("5000")), "Оплачено", owner)
    services.lead_delete(new_lead(owner, title="Удалён"), by=crm_admin)
    services.leads_import([services.ImportItem(row=1, data={"title": "Импорт", "source": ref("Source"), "company_name": "И",
                                                            "company_phone": "+79120000009", "responsible": owner})],
                          by=head, source="x.csv")
    assert won.current_stage.name == "Оплачено"

    def written():
        return (sorted(history.key(s) for s in Stay.objects.all()),
                sorted(history.handover_key(h) for h in Handover.objects.all()))

    for label in (LEAD, DEAL):
        assert history.differences(label) == []
    by_hooks = written()
    assert len(by_hooks[0]) == 16 and len(by_hooks[1]) == 7  # 11 lead stays, 5 deal stays; 6 creations, 1 reassignment
    Stay.objects.all().delete()
    Handover.objects.all().delete()
    call_command("rebuild_analytics")
    assert written() == by_hooks


def test_rebuild_check_reports_a_difference_and_changes_nothing(owner, capsys):
    lead = move(new_lead(owner), Status.FIRST_CALL, owner)
    Stay.objects.filter(model=LEAD, object_id=lead.pk, state="new").delete()
    with pytest.raises(SystemExit):
        call_command("rebuild_analytics", "--check")
    assert "1" in capsys.readouterr().out
    assert stays(lead) == [("first_call", True)]
    call_command("rebuild_analytics")
    assert stays(lead) == [("new", False), ("first_call", True)]


def test_rebuild_check_reports_the_stays_of_a_record_gone(owner):
    from django.utils import timezone

    Stay.objects.create(model=LEAD, object_id=10 ** 6, state="new", owner=owner.pk, entered_at=timezone.now())
    assert [(kept.object_id, fresh) for kept, fresh in history.differences(LEAD)] == [(10 ** 6, None)]
    call_command("rebuild_analytics")
    assert not Stay.objects.exists()


def test_rebuild_check_finds_a_deal_stay_with_a_wrong_amount(owner, capsys):
    deal = deal_move(new_deal(owner, amount=Decimal("5000")), "Оплачено", owner)
    Stay.objects.filter(model=DEAL, object_id=deal.pk, left_at__isnull=True).update(amount=Decimal("1"))
    assert [(kept.amount, fresh.amount) for kept, fresh in history.differences(DEAL)] == [
        (Decimal("1.00"), Decimal("5000.00"))]
    with pytest.raises(SystemExit):
        call_command("rebuild_analytics", "--check")
    call_command("rebuild_analytics")
    assert set(Stay.objects.filter(model=DEAL, object_id=deal.pk).values_list("amount", flat=True)) == {Decimal("5000.00")}
