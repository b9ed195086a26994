"""The records stuck longer than their state's 90th percentile, across states: on PostgreSQL each
state's oldest open stays are read from the open stays' index apart (a union), then the longest
of all of them are kept — the same list as one read over every state.

Days ago (every stay that ended lasted 1 day, so each 90th percentile is 1 day):
- X1: Не обработан 6→5, Первый звонок 5→4, Квалификация since 4 (no ended stay there: not stuck).
- X2: Не обработан since 8.
- X3: Не обработан 7→6, Первый звонок since 6.
- X4: Не обработан since 3.
"""

import pytest
from django.utils import timezone

from analytics import selectors
from leads.models import Status
from tests.analytics.conftest import backdate, move, new_lead

pytestmark = pytest.mark.django_db


@pytest.fixture
def stuck_leads(owner):
    now = timezone.now()
    x1 = move(move(new_lead(owner, title="X1"), Status.FIRST_CALL, owner), Status.QUALIFICATION, owner)
    backdate(x1, 6, 5, 4, now=now)
    backdate(new_lead(owner, title="X2"), 8, now=now)
    backdate(move(new_lead(owner, title="X3"), Status.FIRST_CALL, owner), 7, 6, now=now)
    backdate(new_lead(owner, title="X4"), 3, now=now)


def test_it_lists_the_longest_stuck_records_of_every_state(stuck_leads, owner, month):
    report = selectors.time_in_status(owner, month)
    assert [(s.title, s.state, round(s.days)) for s in report.stuck] == [
        ("X2", "new", 8), ("X3", "first_call", 6), ("X4", "new", 3)]


def test_it_keeps_the_longest_of_all_states_when_there_are_more_than_it_shows(stuck_leads, owner, month, monkeypatch):
    monkeypatch.setattr(selectors, "STUCK_SHOWN", 2)
    report = selectors.time_in_status(owner, month)
    assert [(s.title, s.state) for s in report.stuck] == [("X2", "new"), ("X3", "first_call")]


def test_it_counts_all_the_stuck_records_when_it_shows_only_the_longest(stuck_leads, owner, month, monkeypatch):
    monkeypatch.setattr(selectors, "STUCK_SHOWN", 2)
    report = selectors.time_in_status(owner, month)
    assert (len(report.stuck), report.stuck_total) == (2, 3)


# --- «Мой день»: «Лидов дольше обычного в статусе» ---

def stuck_number(user):
    [number] = [(value, url) for label, value, url in selectors.day_numbers(user) if label == "Лидов дольше обычного в статусе"]
    return number


def test_the_head_s_day_counts_every_stuck_lead_he_sees_by_the_norms_of_the_90_days_before_today(
        stuck_leads, head, monkeypatch):
    monkeypatch.setattr(selectors, "STUCK_SHOWN", 2)  # the count is not the report's shown list
    value, url = stuck_number(head)
    assert value == 3
    today = timezone.localdate()
    norms = selectors.norm_period(today)
    assert (norms.end - norms.start).days + 1 == 90 and norms.end < today
    # The link opens the time report of those same days: its stuck records are the ones counted.
    assert url == f"/analytics/time/?period=custom&start={norms.start}&end={norms.end}"
    assert selectors.time_in_status(head, selectors.ReportParams(period=norms)).stuck_total == 3


def ended_stays_read(queries) -> int:
    """The queries that read the stays ended in a period: the norms' percentiles."""
    return sum('"left_at" >=' in q["sql"] for q in queries.captured_queries)


def test_the_day_s_norms_are_computed_once_a_day_and_the_stuck_leads_read_live(stuck_leads, head, owner):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as first:
        assert stuck_number(head)[0] == 3
    assert ended_stays_read(first) == 1
    backdate(new_lead(owner, title="X5"), 5)
    with CaptureQueriesContext(connection) as again:
        assert stuck_number(head)[0] == 4  # a lead stuck since is counted at once
    assert ended_stays_read(again) == 0 and len(again) < len(first)


def test_a_manager_who_sees_only_his_own_leads_has_no_such_number(stuck_leads, owner, outsider):
    assert selectors.day_numbers(owner) == []


def test_the_report_says_how_many_are_stuck_when_it_lists_only_the_longest(stuck_leads, owner, month, monkeypatch):
    from analytics import reports

    monkeypatch.setattr(selectors, "STUCK_SHOWN", 2)
    table = next(t for t in reports.time_in_status(owner, month, None).tables if t.testid == "time-leads-stuck")
    assert table.caption.endswith("— всего 3, показаны 2 дольше всех") and len(table.rows) == 2
