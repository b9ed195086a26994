"""The deals report's won and lost deals at a million leads: read in one query of the period's
closed stays alone — they carry the deal's current amount, currency and loss reason
(analytics.history) — grouped by the database, with the same figures as a deal-by-deal count — a
deal won twice in the period counts once, a deal won and then lost counts in both, each currency
summed to the kopeck, the loss reasons per lost deal. The managers' won sums and «Мой день» read
the same stays."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from analytics import history, selectors
from analytics.models import Stay
from tests.analytics.conftest import DEAL, deal_move, new_deal
from tests.factories import COLD, GENERAL, pipeline

pytestmark = pytest.mark.django_db


def lost(deal, by, reason="Дорого"):
    from deals.models import LossReason

    return deal_move(deal, "Отказ", by, loss_reason=LossReason.objects.get(name=reason))


def edit(deal, by, **data):
    """The deal's card saved with `data` (amount, currency…): the one writer of a deal's fields."""
    from deals import services as deals

    return deals.deal_update(deal, data=data, by=by, version=deal.version)


@pytest.fixture
def closed(owner, outsider):
    twice = deal_move(new_deal(owner, title="Дважды", amount=Decimal("1000.10")), "Оплачено", owner)
    twice = deal_move(deal_move(twice, "Презентация", owner), "Оплачено", owner)  # reopened, won again
    dollars = edit(new_deal(owner, title="Доллары", amount=Decimal("50.25")), owner, currency="USD")
    dollars = lost(deal_move(dollars, "Оплачено", owner), owner)  # won, then lost
    refused = lost(new_deal(outsider, title="Отказ", amount=Decimal("2000.55")), outsider)
    old = deal_move(new_deal(owner, title="Давно", amount=Decimal("7")), "Оплачено", owner)
    Stay.objects.filter(model=DEAL, object_id=old.pk).update(entered_at=timezone.now() - timedelta(days=40))
    history.recount([old.pk], DEAL)  # its closed marks follow the stays' new times (as the demo data's do)
    return {"twice": twice, "dollars": dollars, "refused": refused, "old": old}


def cold(report):
    return next(p for p in report.pipelines if p.label == COLD)


def test_it_counts_each_closed_deal_once_per_outcome_with_its_sums(closed, head, month):
    report = cold(selectors.deals_report(head, month))
    assert (report.won.count, report.won.sums) == (2, {"RUB": Decimal("1000.10"), "USD": Decimal("50.25")})
    assert (report.lost.count, report.lost.sums) == (2, {"RUB": Decimal("2000.55"), "USD": Decimal("50.25")})
    assert [(r.label, r.count) for r in report.loss_reasons] == [("Дорого", 2)]


def test_it_counts_only_the_deals_the_user_may_see(closed, owner, month):
    report = cold(selectors.deals_report(owner, month))
    assert (report.won.count, report.lost.count, report.lost.sums) == (2, 1, {"USD": Decimal("50.25")})
    assert [(r.label, r.count) for r in report.loss_reasons] == [("Дорого", 1)]


def test_it_reads_the_closed_deals_in_one_query_of_the_stays_alone(closed, head, month, monkeypatch):
    # Any period but a calendar one (which reads the counts kept per period: test_deals_closed_counts).
    monkeypatch.setattr(selectors, "_calendar", lambda period: None)
    with CaptureQueriesContext(connection) as queries:
        selectors.deals_report(User.objects.get(pk=head.pk), month)
    stays = [q["sql"] for q in queries if "analytics_stay" in q["sql"]]
    assert len(stays) == 1 and "deals_deal" not in stays[0]
    # The success and failure stages come with the report's stages: no query of their own.
    assert len([q for q in queries if 'FROM "deals_stage"' in q["sql"]]) == 1


def test_an_amount_edited_after_winning_changes_the_won_sum(closed, owner, head, month):
    edit(closed["twice"], owner, amount=Decimal("1500.00"))
    assert cold(selectors.deals_report(head, month)).won.sums == {"RUB": Decimal("1500.00"), "USD": Decimal("50.25")}
    row = next(r for r in selectors.managers(head, month) if r.user_id == owner.pk)
    assert (row.deals_won, row.won_sum, row.won_other) == (2, Decimal("1500.00"), {"USD": Decimal("50.25")})


def test_the_loss_reason_set_by_the_losing_move_shows_in_the_loss_reasons(owner, head, month):
    lost(new_deal(owner, title="Слишком дорого", amount=Decimal("10")), owner, reason="Дорого")
    assert Stay.objects.filter(model=DEAL, reason__isnull=False).count() == 2  # the first stage's and «Отказ»
    report = cold(selectors.deals_report(head, month))
    assert [(r.label, r.count) for r in report.loss_reasons] == [("Дорого", 1)]


def test_a_deal_moved_to_another_pipeline_counts_where_it_was_won_and_lost(owner, head, month):
    from deals import services as deals

    won_cold = deal_move(new_deal(owner, title="Переехала", amount=Decimal("300")), "Оплачено", owner)
    moved = deals.deal_change_pipeline(won_cold, pipeline=pipeline(GENERAL), by=head)
    edit(moved, head, amount=Decimal("350"))  # its stays in «Холодные» follow the amount too
    report = selectors.deals_report(head, month)
    general = next(p for p in report.pipelines if p.label == GENERAL)
    assert (cold(report).won.count, cold(report).won.sums) == (1, {"RUB": Decimal("350.00")})
    assert (general.won.count, general.lost.count) == (0, 0)
    assert set(Stay.objects.filter(model=DEAL, object_id=won_cold.pk).values_list("amount", flat=True)) == {
        Decimal("350.00")}


def test_the_managers_won_deals_read_the_stays_alone(closed, owner, head, month):
    with CaptureQueriesContext(connection) as queries:
        rows = selectors.managers(User.objects.get(pk=head.pk), month)
    row = next(r for r in rows if r.user_id == owner.pk)
    assert (row.deals_won, row.won_sum, row.won_other) == (2, Decimal("1000.10"), {"USD": Decimal("50.25")})
    # The deals are read only for «nothing planned» (their touches), never for their money.
    assert not [q["sql"] for q in queries if '"deals_deal"."amount"' in q["sql"]]



def test_a_pipeline_hidden_from_the_head_hides_its_won_deals_but_not_those_won_before_a_move_there(owner, head, month):
    """The gate is the stays' own: the pipeline a deal was won in. A deal won in «Холодные» and moved
    since to a pipeline the head may not see still counts in «Холодные», where he saw it won."""
    from accounts.models import Action, Entity, Level, Permission
    from deals import services as deals

    hidden = pipeline(GENERAL)
    for role in head.roles.all():
        Permission.objects.create(role=role, entity=Entity.DEAL, action=Action.VIEW, level=Level.NONE,
                                  scope=hidden.access_scope)
    deal_move(new_deal(owner, title="Там", amount=Decimal("70"), pipeline_name=GENERAL), "Сделка успешна", owner,
              pipeline_name=GENERAL)
    moved = deal_move(new_deal(owner, title="Переехала", amount=Decimal("300")), "Оплачено", owner)
    deals.deal_change_pipeline(moved, pipeline=hidden, by=owner)
    head = User.objects.get(pk=head.pk)  # the levels are cached on the user object
    report = selectors.deals_report(head, month)
    assert [p.label for p in report.pipelines if p.label == GENERAL] == []
    assert (cold(report).won.count, cold(report).won.sums) == (1, {"RUB": Decimal("300.00")})
    assert selectors.won_deals(head, month.period) == 1
