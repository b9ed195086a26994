"""The sources' report over whole calendar months reads the rollups kept by the writers
(analytics.source_counts): they must say exactly what the scan of the leads and deals says, for
every persona, after every kind of write — leads created in two months, deals made from them,
won, a lead and a deal reassigned, a lead's source changed, a deal linked to a lead, deletions."""

from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from analytics import selectors, source_counts
from analytics.models import SourceCount
from analytics.params import Period, ReportParams
from leads import services
from leads.models import Status
from tests.analytics.conftest import convert, deal_move, new_deal, new_lead
from tests.factories import ref

pytestmark = pytest.mark.django_db


def _months() -> tuple[Period, Period]:
    first = timezone.localdate().replace(day=1)
    previous = (first - timedelta(days=1)).replace(day=1)
    return Period(previous, first - timedelta(days=1)), Period(first, (first + timedelta(days=32)).replace(day=1)
                                                               - timedelta(days=1))


@contextmanager
def last_month():
    """Records written inside are made on the 10th of the previous month, at noon."""
    previous, _this = _months()
    moment = timezone.make_aware(datetime.combine(previous.start + timedelta(days=9), time(12)))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(timezone, "now", lambda: moment)
        yield


def scanned(monkeypatch, user, params, by):
    with monkeypatch.context() as m:
        m.setattr(selectors, "_whole_months", lambda period: False)
        return selectors.sources(user, params, by=by)


def assert_rollup_is_the_scan(monkeypatch, personas, extra_params=()):
    previous, this = _months()
    periods = [previous, this, Period(previous.start, this.end), Period(date(this.start.year, 1, 1), date(this.start.year, 12, 31))]
    for persona, user in personas.items():
        for period in periods:
            for by in ("source", "niche"):
                for narrowed in ({}, *extra_params):
                    params = ReportParams(period=period, **narrowed)
                    fresh = User.objects.get(pk=user.pk)
                    assert selectors.sources(fresh, params, by=by) == scanned(monkeypatch, fresh, params, by), \
                        (persona, period, by, narrowed)
    assert source_counts.differences() == []


def test_it_counts_the_same_from_the_rollups_as_from_the_leads(monkeypatch, personas):
    from deals import services as deals
    from deals.models import Deal
    from leads.models import Lead

    owner, teammate, outsider, head = (personas[p] for p in ("owner", "teammate", "outsider", "head"))
    with last_month():
        old = new_lead(owner, title="Старый", niche="HoReCa")
        old_deal = convert(old, owner, amount=Decimal("50000")).deal
        old_deal = deal_move(old_deal, "Оплачено", owner)
        lost = new_lead(outsider, title="Чужой", source="Сайт")
    won = convert(new_lead(owner, title="Новый"), owner, amount=Decimal("90000")).deal
    won = deal_move(won, "Оплачено", owner)
    open_lead = new_lead(teammate, title="Открытый", niche="HoReCa")
    open_deal = convert(open_lead, teammate, amount=Decimal("7000")).deal
    gone = new_lead(owner, title="Удалить")
    gone_deal = convert(gone, owner, amount=Decimal("1000")).deal
    new_lead(outsider, title="Сайт", source="Сайт")
    previous, this = _months()
    shown = [(r.label, r.leads, r.deals, r.won, r.paid_sum) for r in selectors.sources(head, ReportParams(period=previous))]
    assert shown == [("Контур.Компас", 1, 1, 1, Decimal("50000")), ("Сайт", 1, 0, 0, Decimal(0))]
    assert_rollup_is_the_scan(monkeypatch, personas)

    # A lead reassigned (its deals' rows go with it), a deal reassigned, a source changed.
    old = services.lead_assign(Lead.objects.get(pk=old.pk), responsible=outsider, by=head)
    fresh = Deal.objects.get(pk=open_deal.pk)
    deals.deal_update(fresh, data={"responsible": outsider}, by=head, version=fresh.version)
    fresh = Lead.objects.get(pk=lost.pk)
    services.lead_update(fresh, data={"source": ref("Source", "Контур.Компас")}, by=outsider, version=fresh.version)
    fresh = Lead.objects.get(pk=open_lead.pk)
    services.lead_update(fresh, data={"niche": ref("Niche", "Розничная торговля")}, by=teammate, version=fresh.version)
    # A deal made apart, then linked to a lead of last month; a won deal back in work; another won in euros.
    apart = new_deal(owner, title="Отдельная", amount=Decimal("3000"))
    apart = deals.deal_update(apart, data={"lead": old}, by=head, version=apart.version)
    deal_move(won, "Презентация", owner)
    old_deal = Deal.objects.get(pk=old_deal.pk)
    deals.deal_update(old_deal, data={"currency": "EUR"}, by=head, version=old_deal.version)
    assert source_counts.differences() == []
    assert_rollup_is_the_scan(monkeypatch, personas, [{"responsible": outsider.pk}, {"source": ref("Source", "Сайт").pk},
                                                      {"niche": ref("Niche", "HoReCa").pk}])

    # Deletions: a deal, then a lead with a deal made from it (the deal stays, made from no lead).
    deals.deal_delete(Deal.objects.get(pk=apart.pk), by=head)
    assert Deal.objects.filter(pk=gone_deal.pk).exists()
    services.lead_delete(Lead.objects.get(pk=gone.pk), by=head)
    assert Deal.objects.get(pk=gone_deal.pk).lead_id is None
    assert source_counts.differences() == []
    assert_rollup_is_the_scan(monkeypatch, personas)


def test_it_reads_a_month_from_the_rollups_not_the_leads(personas):
    owner, head = personas["owner"], personas["head"]
    convert(new_lead(owner, title="Лид"), owner, amount=Decimal("1000"))
    _previous, this = _months()
    user = User.objects.get(pk=head.pk)
    with CaptureQueriesContext(connection) as queries:
        rows = selectors.sources(user, ReportParams(period=this))
    assert [(r.label, r.leads, r.deals) for r in rows] == [("Контур.Компас", 1, 1)]
    assert not [q["sql"] for q in queries if "leads_lead" in q["sql"] or "deals_deal" in q["sql"]]


def test_a_change_of_nothing_counted_costs_no_query(owner):
    lead = new_lead(owner, title="Лид")
    lead = services.lead_move(lead, to=Status.FIRST_CALL, by=owner)
    with CaptureQueriesContext(connection) as queries:
        source_counts.leads_written([lead])
    assert len(queries) == 0


def test_rebuild_analytics_finds_and_mends_a_wrong_rollup(owner):
    new_lead(owner, title="Лид")
    SourceCount.objects.update(leads=5)
    with pytest.raises(SystemExit):
        call_command("rebuild_analytics", "--check", "--only", "sources")
    call_command("rebuild_analytics", "--only", "sources")
    assert source_counts.differences() == []
    assert list(SourceCount.objects.values_list("leads", flat=True)) == [1]
    call_command("rebuild_analytics", "--check", "--only", "sources")
