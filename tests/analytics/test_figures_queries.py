"""Query budgets: each report costs the same number of queries for 3 records as for 30."""

from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from analytics import history, selectors
from analytics.params import Period, ReportParams
from leads.models import Status
from tests.analytics.conftest import DEAL, convert, deal_move, junk, move, new_deal, new_lead, touch

pytestmark = pytest.mark.django_db

REPORTS = {
    "funnel": lambda user, params: selectors.funnel(user, params),
    "time_in_status": lambda user, params: selectors.time_in_status(user, params),
    "time_in_status_deals": lambda user, params: selectors.time_in_status(user, params, model=DEAL),
    "managers": lambda user, params: selectors.managers(user, params),
    "managers_calendar": lambda user, params: selectors.managers(user, this_month()),
    "sources": lambda user, params: selectors.sources(user, params),
    "sources_niche": lambda user, params: selectors.sources(user, params, by="niche"),
    "deals_report": lambda user, params: selectors.deals_report(user, params),
    "day_numbers": lambda user, params: selectors.day_numbers(user),
}


# The reports whose deals' money is read from the stays (the deal's amount, currency and loss
# reason are kept on them): the managers' won deals no longer read the deals (14 → 13 for the head),
# «Мой день» counts the won deals without the whole deals' report (14 → 8), then sums this month's
# closed deals' counts (ClosedCount) in one query without reading the stages (7 → 6). The deals'
# report reads the counts of a calendar period in the query that scanned the stays, and the
# stages' counters of all its pipelines in one query instead of one per pipeline (9 → 7, 10 → 8).
# The managers' report of a calendar period reads «взято», «переведено», «конвертировано» and
# «забраковано» from one kept table (ManagerCount) instead of three (12 → 10, 13 → 11). A manager's
# own row takes his name from the user asking (−1); a calendar period's won deals read the counts of
# any pipeline and «без запланированных дел» the stages in process as a subquery: no read of the
# closing stages (−1). «Без запланированных дел» unites its three reads (the leads' and the deals'
# counters, the planned deals) in one query (−2), and the names of the people the access rules
# read with the department's members are not read again (accounts.access.people: −1 for a
# department's rows; the owner's own row, −1).
BUDGETS = {"managers": {"owner": 8, "head": 10}, "managers_calendar": {"owner": 5, "head": 7},
           "deals_report": {"owner": 7, "head": 8},
           "day_numbers": {"owner": 1, "head": 6}}


def this_month() -> ReportParams:
    """The calendar month of today: the kept counts answer it."""
    start = history.period_start("month", timezone.localdate())
    return ReportParams(period=Period(start, history.period_end("month", start)))


def grow(count: int, owner, outsider) -> None:
    for n in range(count):
        who = owner if n % 3 else outsider
        lead = move(new_lead(who, title=f"Лид {n}"), Status.FIRST_CALL, who)
        if n % 4 == 1:
            junk(lead, who)
        elif n % 4 == 2:
            convert(lead, who, amount=Decimal("1000"))
        elif n % 4 == 3:
            touch(who, lead, -1)
        deal_move(new_deal(who, title=f"Сделка {n}"), "Оплачено" if n % 2 else "Отказ", who,
                  **({} if n % 2 else {"loss_reason": _reason()}))


def _reason():
    from deals.models import LossReason

    return LossReason.objects.order_by("pk").first()


def counts(user_pk: int, params) -> dict[str, int]:
    found = {}
    for name, report in REPORTS.items():
        user = User.objects.get(pk=user_pk)  # the gate's caches start empty each time
        cache.clear()  # and so do the day's norms (analytics.selectors.lead_norms): the worst case
        with CaptureQueriesContext(connection) as queries:
            report(user, params)
        found[name] = len(queries)
    return found


@pytest.mark.parametrize("persona", ["owner", "head"])
def test_every_report_costs_the_same_for_3_and_30_records(personas, persona, month):
    owner, outsider = personas["owner"], personas["outsider"]
    grow(3, owner, outsider)
    few = counts(personas[persona].pk, month)
    grow(27, owner, outsider)
    many = counts(personas[persona].pk, month)
    assert many == few
    assert max(few.values()) <= 30, few
    assert not {name for name, budget in BUDGETS.items() if few[name] > budget[persona]}, str(few)


def test_the_funnel_reads_the_stays_and_never_the_leads(personas, month):
    """At a million leads the junk reasons' join into the leads was the funnel's slowest query:
    the reason is on the stays (analytics.history)."""
    owner, head = personas["owner"], personas["head"]
    junk(move(new_lead(owner), Status.FIRST_CALL, owner), owner)
    with CaptureQueriesContext(connection) as queries:
        report = selectors.funnel(User.objects.get(pk=head.pk), month)
    assert [(r.label, r.count) for r in report.junk] == [("Отказ клиента", 1)]
    assert not [q["sql"] for q in queries if "leads_lead" in q["sql"]]
