"""Time in status: medians and 90th percentiles of the stays that ended in the period (from the
history, not the current state) and the records stuck longer than the 90th percentile, per persona.

Days ago, per lead (new → first_call [→ qualification]):
- A (owner): Не обработан 6→5, Первый звонок since 5 days.
- B (owner): 5→3, Первый звонок since 3.
- C (owner): 4.5→0.5, Первый звонок since 0.5.
- D (owner): 3→2, Первый звонок 2→1, Квалификация since 1.
- E (outsider): 12→2, Первый звонок since 2.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from analytics import selectors
from analytics.models import Stay
from leads.models import Status
from tests.analytics.conftest import DEAL, backdate, deal_move, move, new_deal, new_lead
from tests.factories import COLD, GENERAL, pipeline

pytestmark = pytest.mark.django_db


@pytest.fixture
def now():
    return timezone.now()


@pytest.fixture
def history(owner, outsider, now):
    made = {}
    for name, who, moments in [("A", owner, (6, 5)), ("B", owner, (5, 3)), ("C", owner, (4.5, 0.5)),
                               ("D", owner, (3, 2, 1)), ("E", outsider, (12, 2))]:
        lead = move(new_lead(who, title=name), Status.FIRST_CALL, who)
        if len(moments) == 3:
            lead = move(lead, Status.QUALIFICATION, who)
        backdate(lead, *moments, now=now)
        made[name] = lead
    return made


def times(report):
    return {r.state: (r.count, r.median_days, r.p90_days) for r in report.rows}


def approx(values):
    return [pytest.approx(v, abs=1e-6) if isinstance(v, float) else v for v in values]


def test_the_owner_sees_his_leads_times_and_stuck_ones(history, owner, month):
    report = selectors.time_in_status(owner, month)
    got = times(report)
    assert list(got) == ["new", "first_call", "qualification", "reconnaissance", "decision_maker", "converted", "junk"]
    assert approx(got["new"]) == [4, 1.5, 3.4]  # 1, 1, 2, 4 days
    assert approx(got["first_call"]) == [1, 1.0, 1.0]
    assert got["qualification"] == (0, None, None)
    assert [(s.title, s.state, s.label, s.owner) for s in report.stuck] == [
        ("A", "first_call", "Первый звонок", "Иванов Пётр"), ("B", "first_call", "Первый звонок", "Иванов Пётр")]
    assert [round(s.days, 3) for s in report.stuck] == [5, 3]
    assert report.stuck[0].object_id == history["A"].pk


def test_the_outsider_has_no_ended_first_call_so_nothing_is_stuck(history, outsider, month):
    report = selectors.time_in_status(outsider, month)
    assert approx(times(report)["new"]) == [1, 10.0, 10.0]
    assert times(report)["first_call"] == (0, None, None) and report.stuck == []


def test_the_teammate_sees_nothing(history, teammate, month):
    report = selectors.time_in_status(teammate, month)
    assert all(count == 0 for count, _m, _p in times(report).values()) and report.stuck == []


def test_the_head_sees_the_tree_and_the_outsiders_stuck_lead(history, head, month):
    report = selectors.time_in_status(head, month)
    assert approx(times(report)["new"]) == [5, 2.0, 7.6]  # 1, 1, 2, 4, 10 days
    assert [s.title for s in report.stuck] == ["A", "B", "E"]
    assert report.stuck[2].owner == "Сидоров Алексей"


def test_a_period_before_the_moves_ended_has_no_stays(history, head):
    from analytics.params import Period, ReportParams

    today = timezone.localdate()
    report = selectors.time_in_status(head, ReportParams(period=Period(today - timedelta(days=60), today - timedelta(days=30))))
    assert all(count == 0 for count, _m, _p in times(report).values()) and report.stuck == []


def test_deal_stages_per_pipeline(owner, head, month, now):
    deal = deal_move(new_deal(owner, title="Долгая", amount=Decimal("1000")), "Презентация", owner)
    backdate(deal, 8, 2, now=now)
    other = new_deal(owner, title="Общая", pipeline_name=GENERAL)
    report = selectors.time_in_status(head, month, model=DEAL)
    assert report.pipeline == pipeline(GENERAL).pk  # the first visible pipeline by its order
    assert all(r.count == 0 for r in report.rows) and other.pk
    from dataclasses import replace

    report = selectors.time_in_status(head, replace(month, pipeline=pipeline(COLD).pk), model=DEAL)
    by_label = {r.label: (r.count, r.median_days) for r in report.rows}
    assert by_label["Новая"][0] == 1 and by_label["Новая"][1] == pytest.approx(6, abs=1e-6)
    assert by_label["Презентация"] == (0, None)
    # A pipeline the user may not see is not shown: the first visible one instead.
    assert selectors.time_in_status(owner, replace(month, pipeline=10 ** 6), model=DEAL).pipeline == pipeline(GENERAL).pk


def test_the_database_and_python_percentiles_agree(history, head):
    rows = Stay.objects.filter(left_at__isnull=False)
    in_python = selectors.durations(rows, in_database=False)
    assert approx(in_python["new"]) == [5, 2.0, 7.6]
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("percentile_cont is PostgreSQL's")
    in_database = selectors.durations(rows, in_database=True)
    assert {state: approx(values) for state, values in in_database.items()} == {
        state: list(values) for state, values in in_python.items()}


def test_percentile_is_linear_between_neighbours():
    assert selectors.percentile([], 0.5) is None
    assert selectors.percentile([3.0], 0.9) == 3.0
    assert selectors.percentile([4.0, 1.0, 2.0, 1.0], 0.5) == 1.5
    assert selectors.percentile([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0], 0.9) == pytest.approx(9.1)
