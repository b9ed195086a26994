"""The parameters of every report (analytics.selectors): plain values the pages' form builds from GET."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.utils import timezone


@dataclass(frozen=True)
class Period:
    """Days `start`…`end`, both inclusive, in the site's time zone."""

    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        """The same length right before: whole months give the months before (March → February,
        a quarter → the quarter before), other periods the same number of days."""
        if self.start.day == 1 and self.end == _month_end(self.end):
            months = (self.end.year - self.start.year) * 12 + self.end.month - self.start.month + 1
            end = self.start - timedelta(days=1)
            year, month = end.year, end.month - months + 1
            while month < 1:
                year, month = year - 1, month + 12
            return Period(date(year, month, 1), end)
        return Period(self.start - timedelta(days=self.days), self.start - timedelta(days=1))

    def bounds(self) -> tuple[datetime, datetime]:
        """Aware [start 00:00, end+1 00:00) in the site's time zone."""
        zone = timezone.get_default_timezone()
        return (timezone.make_aware(datetime.combine(self.start, time.min), zone),
                timezone.make_aware(datetime.combine(self.end + timedelta(days=1), time.min), zone))

    def months(self) -> tuple[date, date]:
        """The first day of the start's month and the last day of the end's (the deals' forecast)."""
        return self.start.replace(day=1), _month_end(self.end)


def _month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


@dataclass(frozen=True)
class ReportParams:
    period: Period
    responsible: int | None = None  # a user id
    department: int | None = None  # a department id: its tree
    source: int | None = None
    niche: int | None = None
    pipeline: int | None = None  # deals reports; None = every pipeline the user may see
