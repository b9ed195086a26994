"""The report parameters: periods, their previous period and bounds in the site's time zone."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

from analytics.params import Period, ReportParams


def test_a_month_compares_with_the_month_before():
    assert Period(date(2026, 3, 1), date(2026, 3, 31)).previous() == Period(date(2026, 2, 1), date(2026, 2, 28))


def test_a_quarter_compares_with_the_quarter_before_across_a_year():
    assert Period(date(2026, 1, 1), date(2026, 3, 31)).previous() == Period(date(2025, 10, 1), date(2025, 12, 31))


def test_other_periods_compare_with_as_many_days_before():
    assert Period(date(2026, 3, 10), date(2026, 3, 16)).previous() == Period(date(2026, 3, 3), date(2026, 3, 9))
    assert Period(date(2026, 3, 1), date(2026, 3, 15)).previous() == Period(date(2026, 2, 14), date(2026, 2, 28))
    assert Period(date(2026, 3, 5), date(2026, 3, 5)).previous() == Period(date(2026, 3, 4), date(2026, 3, 4))


def test_bounds_are_the_site_days_and_months_the_forecast_months(settings):
    moscow = ZoneInfo("Europe/Moscow")
    start, end = Period(date(2026, 3, 1), date(2026, 3, 31)).bounds()
    assert (start, end) == (datetime(2026, 3, 1, tzinfo=moscow), datetime(2026, 4, 1, tzinfo=moscow))
    assert Period(date(2026, 2, 10), date(2026, 3, 5)).months() == (date(2026, 2, 1), date(2026, 3, 31))


def test_params_default_to_no_narrowing():
    params = ReportParams(period=Period(date(2026, 3, 1), date(2026, 3, 31)))
    assert (params.responsible, params.department, params.source, params.niche, params.pipeline) == (None,) * 5
