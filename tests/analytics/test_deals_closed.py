"""The deals report's won and lost deals at a million leads: read in one query that joins the
period's closed stays to the deals (grouped by the database), with the same figures as a deal-by-
deal count — a deal won twice in the period counts once, a deal won and then lost counts in both,
each currency summed to the kopeck, the loss reasons per lost deal."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from analytics import selectors
from analytics.models import Stay
from tests.analytics.conftest import DEAL, deal_move, new_deal
from tests.factories import COLD

pytestmark = pytest.mark.django_db


def lost(deal, by, reason="Дорого"):
    from deals.models import LossReason

    return deal_move(deal, "Отказ", by, loss_reason=LossReason.objects.get(name=reason))


@pytest.fixture
def closed(owner, outsider):
    twice = deal_move(new_deal(owner, title="Дважды", amount=Decimal("1000.10")), "Оплачено", owner)
    twice = deal_move(deal_move(twice, "Презентация", owner), "Оплачено", owner)  # reopened, won again
    dollars = new_deal(owner, title="Доллары", amount=Decimal("50.25"))
    type(dollars).objects.filter(pk=dollars.pk).update(currency="USD")
    dollars = lost(deal_move(dollars, "Оплачено", owner), owner)  # won, then lost
    refused = lost(new_deal(outsider, title="Отказ", amount=Decimal("2000.55")), outsider)
    old = deal_move(new_deal(owner, title="Давно", amount=Decimal("7")), "Оплачено", owner)
    Stay.objects.filter(model=DEAL, object_id=old.pk).update(entered_at=timezone.now() - timedelta(days=40))
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


def test_it_reads_the_closed_deals_in_one_query(closed, head, month):
    with CaptureQueriesContext(connection) as queries:
        selectors.deals_report(User.objects.get(pk=head.pk), month)
    stays = [q["sql"] for q in queries if "analytics_stay" in q["sql"]]
    assert len(stays) == 1 and "deals_deal" in stays[0]
    # The success and failure stages come with the report's stages: no query of their own.
    assert len([q for q in queries if 'FROM "deals_stage"' in q["sql"]]) == 1
