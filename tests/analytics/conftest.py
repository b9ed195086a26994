"""History made the way the product makes it: through the services (the stays follow by the hooks)."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from analytics import history, source_counts
from analytics.models import Handover, Stay
from analytics.params import Period
from crm import timeline
from leads import services
from leads.models import Status
from tests.factories import COLD, pipeline, ref, stage
from tests.leads.conftest import decision_maker_data, decision_maker_m2m, qualification_data

LEAD, DEAL = "leads.lead", "deals.deal"

# The kept counts' stories around October: Tuesday 29 September 2026 (Q3) and Friday 2 October (Q4)
# are in one calendar week.
SEP29, OCT2, OCT20, NOV3 = date(2026, 9, 29), date(2026, 10, 2), date(2026, 10, 20), date(2026, 11, 3)
OCTOBER = Period(date(2026, 10, 1), date(2026, 10, 31))


def calendar_periods(days=(SEP29, OCT2, OCT20, NOV3)) -> list[tuple[str, Period]]:
    """(kind, period) of every calendar week, month, quarter and year of `days`, once each, in
    order: the periods the counts kept per period answer, to compare with the scan."""
    found = {}
    for day in days:
        for kind in history.FUNNEL_KINDS:
            start = history.period_start(kind, day)
            found[kind, start] = Period(start, history.period_end(kind, start))
    return sorted(((kind, period) for (kind, _start), period in found.items()), key=lambda kp: (kp[1].start, kp[1].end))


def new_lead(by, responsible=None, *, title="Лид", source="Контур.Компас", niche=None, ready=True):
    """A lead created on the card, with everything «Выход на ЛПР» asks (so any move is allowed)."""
    data = {"title": title, "source": ref("Source", source), "company_name": f"ООО «{title}»",
            "company_phone": "+78800000000", "responsible": responsible or by}
    m2m = None
    if ready:
        data |= {**qualification_data(), **decision_maker_data()}
        m2m = decision_maker_m2m()
    if niche is not None:
        data["niche"] = ref("Niche", niche)
    lead = services.lead_create(data=data, m2m=m2m, by=by)
    if ready:
        timeline.add_comment(lead, by, "Разведка: всё выяснено", pin_it=True)
    return lead


def move(lead, to, by):
    return services.lead_move(lead, to=to, by=by)


def junk(lead, by, reason="Отказ клиента"):
    return services.lead_junk(lead, reason=ref("JunkReason", reason), by=by)


def convert(lead, by, **deal_data):
    lead = move(lead, Status.DECISION_MAKER, by) if lead.status != Status.DECISION_MAKER else lead
    return services.lead_convert(lead, contact=False, company=False, deal=True, by=by,
                                 deal_data=deal_data or None)


def new_deal(by, responsible=None, *, title="Сделка", amount=Decimal("1000"), pipeline_name=COLD, source=None,
             close_date=None):
    from deals import services as deals

    data = {"title": title, "responsible": responsible or by, "source": ref("Source", source) if source else None,
            "close_date": close_date}
    return deals.deal_create(data=data, products=[(ref("Product", "Тренинги"), Decimal(1), amount)], by=by,
                             pipeline=pipeline(pipeline_name))


def deal_move(deal, stage_name, by, pipeline_name=COLD, **data):
    from deals import services as deals

    return deals.deal_move(deal, to=stage(pipeline_name, stage_name), by=by, data=data or None)


def stays(record, model=None):
    """(state, open?) of a record's stays in order."""
    label = model or record._meta.label_lower
    return [(s.state, s.left_at is None) for s in Stay.objects.filter(model=label, object_id=record.pk).order_by("entered_at", "pk")]


def backdate(record, *moments, now=None):
    """Set the record's stays' times to `moments` (days ago, one per stay, in order): a stay
    enters at its moment and leaves at the next one's; the record's creation (its created_at, its
    first handover) goes back to the first moment; a lead's funnel marks are recounted, and the
    open stays' days (as the demo data's history does)."""
    now = now or timezone.now()
    label = record._meta.label_lower
    rows = list(Stay.objects.filter(model=label, object_id=record.pk).order_by("entered_at", "pk"))
    assert len(rows) == len(moments)
    times = [now - timedelta(days=d) for d in moments]
    for index, stay in enumerate(rows):
        stay.entered_at = times[index]
        stay.left_at = times[index + 1] if index + 1 < len(times) else None
        stay.save()
    type(record).objects.filter(pk=record.pk).update(created_at=times[0])
    # An update() around the writers: the sources' month rollups follow as rebuild_analytics makes them.
    source_counts.rebuild()
    first = Handover.objects.filter(model=label, object_id=record.pk).order_by("at", "pk").first()
    Handover.objects.filter(pk=first.pk).update(at=times[0])
    from analytics import history

    # The funnel's calendar periods (leads) and the open stays' days follow the stays' new times.
    history.recount([record.pk], label)


def touch(responsible, record, days: float, *, done=False):
    """A call planned for `responsible` on `record`, due `days` from now (negative: past)."""
    from tasks_app import services as tasks

    task = tasks.task_create(data={"kind": "call", "title": "Звонок", "responsible": responsible,
                                   "deadline": timezone.now() + timedelta(days=days)}, by=responsible, records=[record])
    if done:
        task = tasks.task_transition(task, "complete", by=responsible)
    return task


@pytest.fixture
def month():
    """The last 30 days: the period every figure test reads."""
    from analytics.params import Period, ReportParams

    today = timezone.localdate()
    return ReportParams(period=Period(today - timedelta(days=29), today))


ZONE = timezone.get_default_timezone()


class Clock:
    """`timezone.now()` set by the test: the services and the hooks stamp the history with it."""

    def __init__(self, monkeypatch):
        self.now = timezone.now()
        monkeypatch.setattr(timezone, "now", lambda: self.now)

    def at(self, day: date, hour: int = 12) -> None:
        self.now = timezone.make_aware(datetime.combine(day, time(hour)), ZONE)


@pytest.fixture
def clock(monkeypatch):
    return Clock(monkeypatch)
