"""The demo data gets a history over the last months that every report shows, and that the
timeline agrees with (rebuild_analytics finds nothing to change)."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.models import User
from analytics import history, selectors, source_counts
from analytics.models import Stay
from analytics.params import Period, ReportParams
from leads.models import Lead

pytestmark = pytest.mark.django_db


def test_the_demo_history_spreads_over_months_and_fills_every_report(capsys):
    call_command("demo_data")
    count = Stay.objects.count()
    call_command("demo_data")  # a second run adds nothing
    assert Stay.objects.count() == count
    for label in (history.LEAD, history.DEAL):
        assert history.differences(label) == [], label
    # The rollups kept by the writers agree with the spread history: the funnel's calendar marks,
    # the sources' months and the moves' days (the spread moves dates around the writers).
    marks, counts = history.funnel_differences()
    assert (marks, counts) == (0, [])
    assert source_counts.differences() == []
    now = timezone.now()
    assert Stay.objects.filter(entered_at__lt=now - timedelta(days=60)).exists()
    assert not Stay.objects.filter(entered_at__gt=now).exists()
    assert not Lead.objects.filter(created_at__gt=now).exists()

    head = User.objects.get(username="head")
    today = timezone.localdate()
    params = ReportParams(period=Period(today - timedelta(days=130), today))
    funnel = selectors.funnel(head, params)
    assert all(row.reached for row in funnel.rows), funnel.rows
    assert funnel.junk and funnel.total >= 40
    times = selectors.time_in_status(head, params)
    assert sum(1 for row in times.rows if row.median_days) >= 4
    deals = selectors.deals_report(head, params)
    assert sum(p.won.count for p in deals.pipelines) >= 3 and sum(p.lost.count for p in deals.pipelines) >= 2
    assert any(p.loss_reasons for p in deals.pipelines)
    assert [r.name for r in selectors.managers(head, params)][:3] == ["Иванов Пётр", "Петрова Мария", "Сидоров Алексей"]
    assert selectors.sources(head, params)
