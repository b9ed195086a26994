"""Every figure of the analytics reports: the only reader of analytics.models.

Each report is of the records `user` may see: the stays are filtered with the records' own access
rules (accounts.access.gate on their `owner` and `scope`, kept current by analytics.history) and
carry what the period's figures sum (a lead's junk reason; a deal's amount, currency and loss
reason); the records themselves (titles, the forecast) are read through leads/deals selectors,
the touches through tasks_app.selectors, the deals' current stages from crm.tallies' counters.
`params` (analytics.params.ReportParams) narrow them. Each report costs a fixed number of queries
whatever the number of records (tests/analytics/test_figures_queries.py).
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import accumulate
from urllib.parse import urlencode

from django.core.cache import cache
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import (
    Aggregate,
    Case,
    Count,
    F,
    FloatField,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts import access
from accounts.models import Action, Entity, Level, User, full_name
from crm.money import Currency

from . import history
from .history import BITS, day_of, period_end, period_start
from .models import (
    ANY_PIPELINE,
    FUNNEL_KINDS,
    NONE,
    ClosedCount,
    EndedStayCount,
    FunnelCount,
    Handover,
    ManagerCount,
    OpenStayCount,
    Stay,
    TakenCount,
)
from .params import Period, ReportParams

LEAD, DEAL = "leads.lead", "deals.deal"
DAY = 86400.0


# --- What the reports return ---

@dataclass(frozen=True)
class FunnelRow:
    state: str
    label: str
    entered: int  # distinct leads that entered this status in the period
    reached: int  # … that entered it or a later status of the process order
    to_next: float | None  # reached(next) / reached(this)
    to_won: float | None  # reached(«Успешный») / reached(this)


@dataclass(frozen=True)
class Reason:
    id: int | None
    label: str
    count: int


@dataclass(frozen=True)
class Funnel:
    rows: list[FunnelRow]
    junk: list[Reason]  # leads that entered «Не успешный» in the period, by their reason
    total: int  # distinct leads that entered any status in the period


@dataclass(frozen=True)
class StateTime:
    state: str
    label: str
    count: int  # stays in this state that ended in the period
    median_days: float | None
    p90_days: float | None


@dataclass(frozen=True)
class Stuck:
    object_id: int
    title: str
    state: str
    label: str
    days: float
    owner: str


@dataclass(frozen=True)
class TimeInStatus:
    rows: list[StateTime]
    stuck: list[Stuck]  # the STUCK_SHOWN longest
    model: str = LEAD
    pipeline: int | None = None  # deals: the pipeline shown
    stuck_total: int = 0  # all the records stuck now, of which `stuck` shows the longest
    pipeline_name: str = ""


@dataclass(frozen=True)
class ManagerRow:
    user_id: int
    name: str
    taken: int = 0  # leads that became his in the period (created for him, reassigned to him)
    moved: int = 0  # lead status moves he made
    converted: int = 0  # his leads that became «Успешный» in the period
    junked: int = 0  # his leads that became «Не успешный» in the period
    planned: int = 0  # his touches due in the period
    done: int = 0  # his touches completed in the period
    overdue: int = 0  # his touches due in the period, not done and past due
    deals_won: int = 0  # his deals won in the period
    won_sum: Decimal = Decimal(0)  # their RUB sum
    won_other: dict[str, Decimal] = field(default_factory=dict)  # their sums in other currencies
    nothing_planned: int = 0  # his leads and deals in work with no planned touch (now)


@dataclass(frozen=True)
class SourceRow:
    id: int | None
    label: str
    leads: int  # leads created in the period
    deals: int  # deals made from them
    won: int  # of which won
    paid_sum: Decimal  # the won deals' RUB sum
    conv_deal: float | None  # deals / leads
    conv_won: float | None  # won / deals
    paid_other: dict[str, Decimal] = field(default_factory=dict)


@dataclass(frozen=True)
class StageRow:
    stage_id: int
    label: str
    count: int
    sums: dict[str, Decimal]  # per currency (crm.money), RUB first when there is any


@dataclass(frozen=True)
class Closed:
    count: int
    sums: dict[str, Decimal]


@dataclass(frozen=True)
class PipelineDeals:
    pipeline_id: int
    label: str
    stages: list[StageRow]  # now, every stage in order
    won: Closed  # deals that entered the success stage in the period
    lost: Closed  # … a failure stage
    forecast: list[StageRow]  # open deals expected to close in the period's month(s), per in-process stage
    loss_reasons: list[Reason]  # of the deals lost in the period


@dataclass(frozen=True)
class DealsReport:
    pipelines: list[PipelineDeals]


# --- Access and narrowing ---

def can_view_reports(user) -> bool:
    """A level on leads or deals (any pipeline) that covers more than his own records, or a superuser."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_superuser:
        return True
    levels = [access.level(user, Entity.LEAD, Action.VIEW), access.level(user, Entity.DEAL, Action.VIEW),
              *access.scoped_levels(user, Entity.DEAL, Action.VIEW).values()]
    return max(levels) > Level.OWN


# The one report a manager opens about himself: his figures among the managers' (the issue: «a
# supervisor sees his department tree; a manager sees himself»). The other reports compare people
# and sources and are the heads' tool.
OWN_REPORTS = ("managers",)


def reports_for(user) -> tuple[str, ...] | None:
    """The reports `user` may open: None for every one (can_view_reports), OWN_REPORTS for whoever
    reads at least his own leads, () for nobody else. Kept on the user object, as his levels are:
    a report page asks twice (the view, the menu)."""
    cached = getattr(user, "_analytics_reports", False)
    if cached is not False:
        return cached
    if can_view_reports(user):
        found = None
    elif getattr(user, "is_authenticated", False) and user.is_active and \
            access.level(user, Entity.LEAD, Action.VIEW) >= Level.OWN:
        found = OWN_REPORTS
    else:
        found = ()
    if getattr(user, "pk", None):  # not AnonymousUser: a shared object
        user._analytics_reports = found
    return found


def _record_model(label: str):
    from deals.models import Deal
    from leads.models import Lead

    return Lead if label == LEAD else Deal


def _tree(user, department: int) -> set[int]:
    children: dict[int | None, list[int]] = defaultdict(list)
    for pk, parent, _name in access.departments(user):
        children[parent].append(pk)
    found, stack = set(), [department]
    while stack:
        node = stack.pop()
        if node not in found:
            found.add(node)
            stack.extend(children.get(node, []))
    return found


def _owners(user, params: ReportParams) -> set[int] | None:
    """The owners the params narrow to (a responsible, a department's tree); None: not narrowed."""
    owners = None
    if params.department is not None:
        owners = set(User.objects.filter(department_id__in=_tree(user, params.department)).values_list("pk", flat=True))
    if params.responsible is not None:
        owners = {params.responsible} if owners is None else owners & {params.responsible}
    return owners


def _gated(user, rows: QuerySet, label: str) -> QuerySet:
    """`rows` (stays, handovers) of the records `user` may see: the records' own rule on their
    owner and (deals) pipeline columns."""
    model = _record_model(label)
    has_scope = label == DEAL and hasattr(rows.model, "scope")
    condition = access.gate(user, model, Action.VIEW, owner="owner", scope="scope" if has_scope else None)
    return rows.none() if condition is None else rows.filter(condition)


def _narrowed(user, rows: QuerySet, label: str, params: ReportParams) -> QuerySet:
    """Rows kept with a record's owner, source and niche (stays, the rollups) of the records `user`
    may see, narrowed as the params say."""
    rows = _gated(user, rows, label)
    owners = _owners(user, params)
    if owners is not None:
        rows = rows.filter(owner__in=sorted(owners))
    if params.source is not None:
        rows = rows.filter(source=params.source)
    if params.niche is not None and label == LEAD:  # a deal has no niche: the deals' figures ignore it
        rows = rows.filter(niche=params.niche)
    return rows.order_by()


def _stays(user, label: str, params: ReportParams, *, pipeline: int | None = None) -> QuerySet[Stay]:
    rows = _narrowed(user, Stay.objects.filter(model=label), label, params)
    return rows if pipeline is None else rows.filter(scope=pipeline)


def _entered(rows: QuerySet, period: Period) -> QuerySet:
    start, end = period.bounds()
    return rows.filter(entered_at__gte=start, entered_at__lt=end)


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _sorted_sums(sums: dict[str, Decimal]) -> dict[str, Decimal]:
    order = {c: i for i, c in enumerate(Currency.values)}
    return {c: sums[c] for c in sorted(sums, key=lambda c: (order.get(c, 99), c)) if sums[c] or c == Currency.RUB}


# --- The lead funnel ---

def _funnel_states():
    from leads.models import IN_PROCESS, Status

    return [*IN_PROCESS, Status.CONVERTED]


def _calendar(period: Period) -> tuple[str, date] | None:
    """(kind, start) when `period` is one calendar week / month / quarter / year — or such a
    period's part up to today or later («Мой день»: this week so far): nothing has entered a
    status after now, so its figures are the whole period's. None for any other period."""
    today = timezone.localdate(timezone=timezone.get_default_timezone())
    for kind in FUNNEL_KINDS:
        if period_start(kind, period.start) == period.start:
            end = period_end(kind, period.start)
            if period.end == end or today <= period.end < end:
                return kind, period.start
    return None


def _funnel_counts(user, params: ReportParams, kind: str, start: date) -> QuerySet[FunnelCount]:
    """The funnel's counts of the calendar period (kind, start) `user` may see, narrowed as `_stays`."""
    return _narrowed(user, FunnelCount.objects.filter(kind=kind, start=start), LEAD, params)


def _funnel_scan(user, params: ReportParams, states) -> tuple[dict[int, int], list[int], list[tuple]]:
    """(leads per furthest status, leads that entered each status, [(reason, name, leads)…] of the
    junked) from the period's stays. Two queries (and the gate's, once per user)."""
    from crm.models import JunkReason
    from leads.models import Status

    rows = _entered(_stays(user, LEAD, params), params.period)
    # One pass over the period's stays: per lead, the furthest status of the process it entered
    # (-1: only «Не успешный») and which statuses it entered; then per furthest status, how many
    # leads and how many of them entered each status.
    rank = Case(*[When(state=s, then=Value(i)) for i, s in enumerate(states)], default=Value(-1),
                output_field=IntegerField())
    flags = {f"e{i}": Max(Case(When(state=s, then=Value(1)), default=Value(0), output_field=IntegerField()))
             for i, s in enumerate(states)}
    per_lead = rows.values("object_id").annotate(furthest=Max(rank), **flags).values("furthest", *flags)
    got: dict[int, int] = {}
    entered_counts = [0] * len(states)
    try:
        sql, sql_params = per_lead.query.sql_with_params()
    except EmptyResultSet:  # nothing visible, or narrowed to nobody
        pass
    else:
        sums = ", ".join(f"SUM({name})" for name in flags)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT furthest, COUNT(*), {sums} FROM ({sql}) per_lead GROUP BY furthest", sql_params)
            for furthest, n, *entered_here in cursor.fetchall():
                got[furthest] = n
                entered_counts = [a + int(b or 0) for a, b in zip(entered_counts, entered_here, strict=True)]
    # The reason is the lead's current one, kept on its stays (analytics.history): no join into the leads.
    name = JunkReason.objects.filter(pk=OuterRef("reason")).values("name")[:1]
    junked = (rows.filter(state=Status.JUNK).values("reason").annotate(name=Subquery(name),
                                                                       n=Count("object_id", distinct=True))
              .values_list("reason", "name", "n"))
    return got, entered_counts, list(junked)


def _funnel_rollup(user, params: ReportParams, states, kind: str, start: date) -> tuple[dict[int, int], list[int],
                                                                                          list[tuple]]:
    """What `_funnel_scan` returns, from the period's FunnelCount rows: each row is `n` leads that
    entered exactly the statuses of its `mask`. One query (and the gate's, once per user)."""
    from crm.models import JunkReason
    from leads.models import Status

    bits = [BITS[str(s)] for s in states]
    junk_bit = BITS[str(Status.JUNK)]
    name = JunkReason.objects.filter(pk=OuterRef("reason")).values("name")[:1]
    found = (_funnel_counts(user, params, kind, start).values("mask", "reason").annotate(n=Sum("n"))
             .annotate(name=Subquery(name)).values_list("mask", "reason", "name", "n"))
    got: dict[int, int] = defaultdict(int)
    entered_counts = [0] * len(states)
    junked: dict[int | None, list] = {}
    for mask, reason, reason_name, n in found:
        if not n:
            continue
        furthest = max((i for i, bit in enumerate(bits) if mask & bit), default=-1)
        got[furthest] += n
        entered_counts = [a + (n if mask & bit else 0) for a, bit in zip(entered_counts, bits, strict=True)]
        if mask & junk_bit:
            key = None if reason == NONE else reason
            junked.setdefault(key, [key, reason_name, 0])[2] += n
    return dict(got), entered_counts, [tuple(row) for row in junked.values() if row[2]]


def funnel(user, params: ReportParams) -> Funnel:
    """A calendar week / month / quarter / year (the presets) from the rollup FunnelCount: one
    query; any other period from the stays: two. (And the gate's, once per user.)"""
    from leads.models import Status

    states = _funnel_states()
    calendar = _calendar(params.period)
    if calendar is None:
        got, entered_counts, junked = _funnel_scan(user, params, states)
    else:
        got, entered_counts, junked = _funnel_rollup(user, params, states, *calendar)
    # The funnel is monotone: «reached» counts the leads that got at least that far.
    entered = {s: entered_counts[i] for i, s in enumerate(states)}
    reached = [sum(n for index, n in got.items() if index >= i) for i in range(len(states))]
    won = reached[-1]
    funnel_rows = [FunnelRow(state=str(s), label=str(Status(s).label), entered=entered.get(s, 0), reached=reached[i],
                             to_next=_ratio(reached[i + 1], reached[i]) if i + 1 < len(states) else None,
                             to_won=_ratio(won, reached[i]))
                   for i, s in enumerate(states)]
    junk = sorted((Reason(id=pk, label=name if pk is not None else _("Возвращены в работу"), count=n)
                   for pk, name, n in junked), key=lambda r: (-r.count, r.id is None, r.label))
    return Funnel(rows=funnel_rows, junk=junk, total=sum(got.values()))


# --- Time in status ---

FRACTIONS = (0.5, 0.9)  # the median and the 90th percentile


class _Percentile(Aggregate):
    """PostgreSQL's percentile_cont of FRACTIONS[index]: the continuous percentile (linear between
    neighbours). Every fraction is one element of one array-valued call, which PostgreSQL computes
    once per group — one sort of the durations where two calls sorted them twice (12 % of the time
    report's query at a million leads, and half its spill to disk)."""

    function = "PERCENTILE_CONT"
    template = "(%(function)s(ARRAY[%(fractions)s]) WITHIN GROUP (ORDER BY %(expressions)s))[%(position)s]"

    def __init__(self, expression, fraction: float, **extra):
        super().__init__(expression, fractions=", ".join(map(repr, FRACTIONS)),
                         position=FRACTIONS.index(fraction) + 1, output_field=FloatField(), **extra)


def percentile(values: list[float], fraction: float) -> float | None:
    """percentile_cont in Python (SQLite has none): the same answers."""
    return counted_percentiles(sorted(Counter(values).items()), (fraction,))[1][0]


def counted_percentiles(counts: list[tuple[float, int]], fractions=FRACTIONS) -> tuple[int, list[float | None]]:
    """(how many values, [percentile_cont of each of `fractions`…]) of the values `counts` ([(value,
    how many)…] in ascending order; a count of 0 or less is none): the value at each fraction of the
    way from the first to the last, linear between neighbours."""
    counts = [(value, n) for value, n in counts if n > 0]
    ends = list(accumulate(n for _value, n in counts))  # the index after each value's last copy
    total = ends[-1] if ends else 0

    def at(index: int) -> float:
        return counts[bisect_right(ends, index)][0]

    found = []
    for fraction in fractions:
        position = fraction * (total - 1)
        low = int(position)
        found.append(at(low) + (at(min(low + 1, total - 1)) - at(low)) * (position - low) if total else None)
    return total, found


def durations(rows: QuerySet[Stay], *, states: list[str] | None = None,
              in_database: bool | None = None) -> dict[str, tuple[int, float | None, float | None]]:
    """{state: (count, median days, 90th percentile days)} of ended stays `rows` (of `states`
    when given): one query, the percentiles computed by PostgreSQL where it runs, else here. A
    duration is counted in the tenths of a day the report prints (history.tenths), as the kept
    counts of the calendar periods are: a preset and the same dates typed give the same figures.

    It reads only columns of the ended stays' covering index (an_stay_ended_idx): with `rows`
    narrowed to a model and scope, PostgreSQL answers from the index alone. Given the states, it
    is a union of one aggregate per state, each reading its state's range of the index in order
    (and in parallel), where one GROUP BY over the states sorted all the stays by state first."""
    if in_database is None:
        in_database = connection.vendor == "postgresql"
    if states is not None:
        if not states:
            return {}
        rows = rows.filter(state__in=states)
    if in_database:
        length = RawSQL(history.tenths_sql(f'"{Stay._meta.db_table}".'), [], output_field=FloatField())

        def per_state(stays: QuerySet[Stay]) -> QuerySet:
            return stays.values("state").annotate(n=Count("*"), median=_Percentile(length, 0.5),
                                                  p90=_Percentile(length, 0.9))

        if states:
            first, *others = [per_state(rows.filter(state=state)) for state in states]
            found = first.union(*others, all=True) if others else first
        else:
            found = per_state(rows)
        return {r["state"]: (r["n"], float(r["median"]) / 10, float(r["p90"]) / 10) for r in found}
    by_state: dict[str, list[int]] = defaultdict(list)
    for state, entered_at, left_at in rows.values_list("state", "entered_at", "left_at"):
        by_state[state].append(history.tenths((left_at - entered_at).total_seconds()))
    return {state: (len(values), percentile(values, 0.5) / 10, percentile(values, 0.9) / 10)
            for state, values in by_state.items()}


def _compiled(rows: QuerySet) -> tuple[str, tuple] | None:
    """A queryset's SQL and parameters, to run as it is or inside a query of ours; None when it
    selects nothing (a gate that opens nothing: Django then runs no query at all)."""
    try:
        return rows.query.sql_with_params()
    except EmptyResultSet:
        return None


def _kept_durations(user, model: str, params: ReportParams, scope: int,
                    states: list[str]) -> dict[str, tuple[int, float | None, float | None]] | None:
    """`durations` of the stays that ended in a calendar week, month, quarter or year, from their
    kept counts (EndedStayCount: a few thousand rows where a quarter's stays are 180 000 at a
    million leads): one query. None when the period is not one, or the params narrow
    by a source or a niche, which the counts do not keep."""
    calendar = _calendar(params.period)
    if calendar is None or params.source is not None or (params.niche is not None and model == LEAD):
        return None
    kind, start = calendar
    rows = EndedStayCount.objects.filter(model=model, scope=scope, kind=kind, start=start, state__in=states)
    rows = _narrowed(user, rows, model, params).values_list("state", "tenths").annotate(n=Sum("n")).order_by(
        "state", "tenths")
    histograms: dict[str, list[tuple[int, int]]] = defaultdict(list)
    # Its SQL run as it is: a quarter's histogram is a thousand rows, and Django's row by row
    # conversions of plain integers were a fifth of the read.
    if (compiled := _compiled(rows)) is None:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(*compiled)
        for state, length, n in cursor.fetchall():
            histograms[state].append((length, n))
    found = {}
    for state, counts in histograms.items():
        total, (median, p90) = counted_percentiles(counts)
        if total:
            found[state] = (total, median / 10, p90 / 10)
    return found


def _states_of(user, model: str, params: ReportParams):
    """(pipeline or None, [(state, label, in process?)…] in the process order)."""
    if model == LEAD:
        from leads.models import CLOSED, ORDER, Status

        return None, [(str(s), str(Status(s).label), s not in CLOSED) for s in ORDER]
    from deals.models import Stage
    from deals.selectors import pipeline_stages

    visible = {p.pk: (p, stages) for p, stages in pipeline_stages(user).items()}
    pipeline, stages = visible.get(params.pipeline) or next(iter(visible.values()), (None, []))
    return pipeline, [(str(s.pk), s.name, s.semantics == Stage.Semantics.IN_PROCESS) for s in stages]


def time_in_status(user, params: ReportParams, *, model: str = LEAD) -> TimeInStatus:
    """Three queries (deals: one more, for the pipelines and their stages); a calendar period's
    durations from their kept counts, any other's from the stays."""
    if model not in (LEAD, DEAL):
        raise ValueError(model)
    shown, states = _states_of(user, model, params)
    if model == DEAL and shown is None:
        return TimeInStatus(rows=[], stuck=[], model=model)
    pipeline = shown.pk if shown else None
    stays = _stays(user, model, params, pipeline=pipeline)
    if model == LEAD:
        stays = stays.filter(scope=0)  # a lead's scope: the model, scope and states lead the stays' indexes
    scope = pipeline if model == DEAL else 0
    stats = _kept_durations(user, model, params, scope, [s for s, _label, _p in states])
    if stats is None:
        start, end = params.period.bounds()
        stats = durations(stays.filter(left_at__gte=start, left_at__lt=end), states=[s for s, _label, _p in states])
    rows = [StateTime(state=s, label=label, count=stats.get(s, (0,))[0], median_days=stats.get(s, (0, None))[1],
                      p90_days=stats.get(s, (0, None, None))[2]) for s, label, _ in states]
    now = timezone.now()
    since = {state: now - timedelta(days=stats[state][2]) for state, _label, in_process in states
             if in_process and stats.get(state)}
    stuck: list[Stuck] = []
    if since:
        labels = {s: label for s, label, _ in states}
        for pk, title, state, entered_at, *name in _stuck_records(user, model, stays, since):
            stuck.append(Stuck(object_id=pk, title=title, state=state, label=labels.get(state, state),
                               days=(now - entered_at).total_seconds() / DAY, owner=_name(*name)))
    # A full list may hide more: only then are they counted (one query more).
    total = stuck_count(user, model, params, since, scope=scope) if len(stuck) == STUCK_SHOWN else len(stuck)
    return TimeInStatus(rows=rows, stuck=stuck, model=model, pipeline=pipeline, stuck_total=total,
                        pipeline_name=shown.name if shown else "")


STUCK_SHOWN = 50


def stuck_count(user, model: str, params: ReportParams, since: dict[str, datetime], *, scope: int = 0) -> int:
    """How many records of `model` (in the pipeline `scope`; 0 for leads) that `user` may see,
    narrowed as `params` say, are open in a state `since` names since before its moment. One query.

    Per state, the kept counts of the days before the moment's day (OpenStayCount: a few hundred
    rows, not the hundreds of thousands of stuck records' stays) + the open stays entered on the
    moment's own day before it (a small range of an_stay_open_idx). The counts have no source
    nor niche: narrowed by them, the open stays are counted (their index gives each state's range)."""
    if not since:
        return 0
    if params.source is not None or (params.niche is not None and model == LEAD):
        condition = Q()
        for state, moment in since.items():
            condition |= Q(state=state, entered_at__lt=moment)
        return _stays(user, model, params, pipeline=scope).filter(condition, left_at__isnull=True).count()
    before, on_the_day = Q(), Q()
    for state, moment in since.items():
        day = day_of(moment)
        before |= Q(state=state, day__lt=day)
        on_the_day |= Q(state=state, entered_at__gte=Period(day, day).bounds()[0], entered_at__lt=moment)
    today = _stays(user, model, params, pipeline=scope).filter(on_the_day, left_at__isnull=True).values("pk")
    counts = _narrowed(user, OpenStayCount.objects.filter(model=model, scope=scope), model, params).filter(
        before).values("n")
    # The two sums written out around their compiled queries: Django resolving one as a subquery
    # of the other cost more than the query takes to run.
    parts, sql_params = [], []
    for compiled, total in ((_compiled(counts), "COALESCE(SUM(c.n), 0)"), (_compiled(today), "COUNT(*)")):
        if compiled is not None:
            parts.append(f"(SELECT {total} FROM ({compiled[0]}) c)")
            sql_params += compiled[1]
    if not parts:
        return 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + " + ".join(parts), sql_params)
        return cursor.fetchone()[0] or 0


def _stuck_records(user, model: str, stays: QuerySet[Stay], since: dict[str, datetime]) -> list[tuple]:
    """(pk, title, state, since, last name, first name, username) of the 50 records longest in
    their state among `stays` open in a state `since` names since before its moment, read through
    the records' selector: one query — written out as the records joined to those stays, where
    Django's correlated subqueries for each record's state and moment cost more to build than the
    query takes to run (4.5 against 3 ms at a million leads).

    On PostgreSQL each state's 50 oldest come from the open stays' index (an_stay_open_idx, in
    entered_at order): a union of bounded reads, where one read over all the states would collect
    every old open stay (hundreds of thousands at a million leads) to sort them. SQLite has no
    LIMIT inside a UNION: one read there."""
    if model == LEAD:
        from leads.selectors import visible_leads as visible
    else:
        from deals.selectors import visible_deals as visible
    open_stays = stays.filter(left_at__isnull=True)
    # Longest first; among records stuck since the same moment (an import's), by the record.
    if connection.features.supports_slicing_ordering_in_compound:
        first, *others = [open_stays.filter(state=state, entered_at__lt=moment).order_by("entered_at", "object_id")
                          .values_list("object_id", "state", "entered_at")[:STUCK_SHOWN]
                          for state, moment in since.items()]
        longest = first.union(*others, all=True) if others else first
    else:
        condition = Q()
        for state, moment in since.items():
            condition |= Q(state=state, entered_at__lt=moment)
        longest = (open_stays.filter(condition).order_by("entered_at", "object_id")
                   .values_list("object_id", "state", "entered_at")[:STUCK_SHOWN])
    # The record's key under a name of ours: how Django names a compiled column is its own affair.
    records = visible(user).order_by().annotate(stuck_record=F("pk")).values_list(
        "stuck_record", "title", "responsible__last_name", "responsible__first_name", "responsible__username")
    compiled_records, compiled_longest = _compiled(records), _compiled(longest)
    if compiled_records is None or compiled_longest is None:
        return []
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM ({compiled_records[0]}) r JOIN ({compiled_longest[0]}) s "
                       f"ON s.object_id = r.stuck_record", [*compiled_records[1], *compiled_longest[1]])
        found = [(pk, title, state, history.moment(entered_at), *name)
                 for pk, title, *name, _object_id, state, entered_at in cursor.fetchall()]
    # The 50 longest as their stays order them (a union holds up to 50 per state).
    return sorted(found, key=lambda row: (row[3], row[0]))[:STUCK_SHOWN]


def _name(last_name: str, first_name: str, username: str) -> str:
    """As User.__str__ says it."""
    return full_name(last_name, first_name) or username


def _names(ids, asking: User) -> dict[int, str]:
    """{user id: name} of the users `ids` that exist; the ones this request has named already (the
    one asking, his department's people: accounts.access.people) are not read again."""
    known = access.people(asking)
    found = {pk: known[pk].name for pk in ids if pk in known}
    rest = sorted(set(ids) - set(found))
    if rest:
        found |= {user.pk: str(user) for user in User.objects.filter(pk__in=rest).only("username", "last_name",
                                                                                        "first_name")}
    return found


# --- Managers ---

def _people(user) -> set[int] | None:
    """Whose work `user` may see: the owners his levels on leads and deals open (None: everyone)."""
    levels = {access.level(user, Entity.LEAD, Action.VIEW), access.level(user, Entity.DEAL, Action.VIEW),
              *access.scoped_levels(user, Entity.DEAL, Action.VIEW).values()}
    if Level.ALL in levels:
        return None
    people: set[int] = set()
    for lvl in levels:
        if lvl == Level.OWN:
            people.add(user.pk)
        elif lvl > Level.OWN:
            people |= access.owner_ids(user, lvl)
    return people


def _success_and_failure() -> tuple[dict[str, int], dict[str, int]]:
    """{stage id as text: pipeline id} of the success stages, and of the failure ones. One query."""
    from deals.models import Stage

    won, lost = {}, {}
    for pk, pipeline, semantics in Stage.objects.exclude(semantics=Stage.Semantics.IN_PROCESS).values_list(
            "pk", "pipeline_id", "semantics"):
        (won if semantics == Stage.Semantics.SUCCESS else lost)[str(pk)] = pipeline
    return won, lost


def managers(user, params: ReportParams) -> list[ManagerRow]:
    """One row per manager whose work `user` may see (a manager: himself) with anything to show;
    a fixed number of queries. A calendar period without a source or niche filter reads «взято»,
    the moves, converted and junked in one query from the managers' counts kept per period
    (ManagerCount); with one, from the counts kept per period (TakenCount, FunnelCount) and the
    moves per day; any other period scans the handovers and the stays."""
    # Whose rows: the owners the user's levels open (`people`), narrowed by the filters
    # (`owners`). A read gated on the records' owner keeps the first already, so it is narrowed
    # by the filters alone: the same rows, and each condition costs its build at every request.
    people = _people(user)
    owners = _owners(user, params)
    if owners is not None:
        people = owners if people is None else people & owners
    figures: dict[int, dict] = defaultdict(dict)

    calendar = _calendar(params.period)
    if calendar is not None and params.source is None and params.niche is None:
        taken, moved, converted_and_junked = _kept_for_managers(user, owners, people, *calendar)
    else:
        taken, moved = _taken(user, params, owners), _moves(user, params, people)
        lead_stays = _entered(_stays(user, LEAD, params), params.period)
        converted_and_junked = _converted_and_junked(user, params, lead_stays)
    for owner, n in taken.items():
        figures[owner]["taken"] = n
    for who, n in moved.items():
        figures[who]["moved"] = n
    for owner, converted, junked in converted_and_junked:
        figures[owner] |= {"converted": converted, "junked": junked}

    for responsible, planned, done, overdue in _touch_counts(user, people, params.period):
        figures[responsible] |= {"planned": planned, "done": done, "overdue": overdue}

    for owner, currency, n, total in _won_once(user, params):
        mine = figures[owner]
        mine["deals_won"] = mine.get("deals_won", 0) + n
        if currency == Currency.RUB:
            mine["won_sum"] = mine.get("won_sum", Decimal(0)) + total
        else:
            other = mine.setdefault("won_other", {})
            other[currency] = other.get(currency, Decimal(0)) + total

    for owner, n in _nothing_planned(user, people, owners).items():
        figures[owner]["nothing_planned"] = n

    if people is not None and access.level(user, Entity.LEAD, Action.VIEW) == Level.OWN and user.pk in people:
        figures.setdefault(user.pk, {})  # a manager sees his own row, even empty
    names = _names(set(figures), user)
    rows = [ManagerRow(user_id=pk, name=names.get(pk, ""), **values) for pk, values in figures.items() if pk in names]
    return sorted(rows, key=lambda r: (r.name.lower(), r.user_id))


def _touch_counts(user, people: set[int] | None, period: Period) -> list[tuple[int, int, int, int]]:
    """(responsible, his touches due in the period, done in it, due in it and overdue now) of the
    touches (tasks bound to a record) `user` may see of `people`. One query. The touches' counts
    per day (tasks_app.touch_counts) answer for whoever sees every touch of `people` (those their
    responsibles hold): a few rows per manager and day, where reading a department's month of
    touches took 700 ms at a million leads. Someone who sees only some of them (a participant's,
    with a narrower level on tasks) has them read (`_touches_read`)."""
    from tasks_app import touch_counts

    found = touch_counts.figures(user, people, period.start, period.end)
    return _touches_read(user, people, period) if found is None else found


def _touches_read(user, people: set[int] | None, period: Period) -> list[tuple[int, int, int, int]]:
    """`_touch_counts` from the touches themselves: the tasks app's rows (its gate), narrowed to the
    period and counted by SQL written around their compiled query — the ORM's conditions and three
    filtered counts cost more to build than the query takes to run. One query."""
    from tasks_app import selectors as tasks
    from tasks_app.models import ACTIVE
    from tasks_app.models import Status as TaskStatus

    rows = tasks.touches_of(user, people).order_by().values("responsible", "status", "deadline", "completed_at")
    if (compiled := _compiled(rows)) is None:
        return []
    sql, sql_params = compiled
    qn, at = connection.ops.quote_name, connection.ops.adapt_datetimefield_value
    responsible, status, deadline, completed_at = (f"t.{qn(c)}" for c in ("responsible", "status", "deadline",
                                                                          "completed_at"))
    start, end = (at(moment) for moment in period.bounds())
    due, due_params = f"{deadline} >= %s AND {deadline} < %s", [start, end]
    done, done_params = f"{status} = %s AND {completed_at} >= %s AND {completed_at} < %s", [TaskStatus.COMPLETED,
                                                                                          start, end]
    overdue = f"{due} AND {deadline} < %s AND {status} IN ({', '.join(['%s'] * len(ACTIVE))})"
    overdue_params = [*due_params, at(timezone.now()), *ACTIVE]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {responsible}, SUM(CASE WHEN {due} THEN 1 ELSE 0 END), "
                       f"SUM(CASE WHEN {done} THEN 1 ELSE 0 END), SUM(CASE WHEN {overdue} THEN 1 ELSE 0 END) "
                       f"FROM ({sql}) t WHERE ({due}) OR ({done}) GROUP BY {responsible}",
                       [*due_params, *done_params, *overdue_params, *sql_params, *due_params, *done_params])
        return cursor.fetchall()


def _won_once(user, params: ReportParams) -> list[tuple]:
    """(owner, currency, deals won, their sum) of the deals `user` may see won in the period, each
    deal once (won twice, or in two pipelines: one deal, one sum), with its current amount and
    currency. A calendar period without a source, for a user whose access to deals is the same in
    every pipeline, reads the counts of the deals won in ANY_PIPELINE (ClosedCount: a few rows);
    otherwise the won stays, distinct per deal (the gate may differ by the pipeline won in). One
    query."""
    from deals.models import Deal

    calendar = _calendar(params.period)
    if calendar is not None and params.source is None and not access.scoped_levels(user, Deal.access_entity,
                                                                                      Action.VIEW):
        kind, start = calendar
        counts = _narrowed(user, ClosedCount.objects.filter(kind=kind, start=start, scope=ANY_PIPELINE, won=True),
                           DEAL, params)
        # A bucket back at 0 (its deals deleted, edited into another) is none: the scan has no row for it.
        return [row for row in counts.values_list("owner", "currency").annotate(deals=Sum("n"), sum=Sum("total"))
                if row[2]]
    won_stages, _lost = _success_and_failure()
    won = _won_stays(user, params, won_stages)
    return _summed(won.values("owner", "object_id", "amount", "currency").distinct(), ["owner", "currency"])


def _kept_for_managers(user, owners: set[int] | None, people: set[int] | None, kind: str,
                       start: date) -> tuple[dict[int, int], dict[int, int], list[tuple[int, int, int]]]:
    """What `_taken`, `_moves` and `_converted_and_junked` say of the calendar period (kind, start)
    — the same figures — from the managers' counts kept per period (ManagerCount, the projection of
    theirs), gated on the lead's owner as they are: the owners' rows (by 0) give their taken,
    converted and junked, the moves' rows the moves of `by` (one of `people`). The gate and the
    filters keep owners of `people` only. One query: a few rows per manager."""
    rows = _gated(user, ManagerCount.objects.filter(kind=kind, start=start), LEAD)
    if owners is not None:  # the responsible / department filter narrows the leads, as `_narrowed` does
        rows = rows.filter(owner__in=sorted(owners))
    taken: dict[int, int] = defaultdict(int)
    moved: dict[int, int] = defaultdict(int)
    closed: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for owner, by, t, m, c, j in rows.order_by().values_list("owner", "by", "taken", "moved", "converted", "junked"):
        taken[owner] += t
        closed[owner][0] += c
        closed[owner][1] += j
        if by and (people is None or by in people):
            moved[by] += m
    # A count back at 0 (its leads deleted, reopened, moved on) is no row of the scan's either.
    return ({owner: n for owner, n in taken.items() if n}, {by: n for by, n in moved.items() if n},
            [(owner, c, j) for owner, (c, j) in closed.items() if c or j])


def _converted_and_junked(user, params: ReportParams, lead_stays: QuerySet[Stay]) -> list[tuple[int, int, int]]:
    """(owner, his leads that became «Успешный», … «Не успешный» in the period) for the owners
    with either: a calendar period's from the funnel's rollup (the leads' CONVERTED and JUNK bits),
    any other's from the stays. One query."""
    from leads.models import Status

    calendar = _calendar(params.period)
    if calendar is None:
        return list(lead_stays.filter(state__in=[Status.CONVERTED, Status.JUNK]).values("owner").annotate(
            c=Count("object_id", distinct=True, filter=Q(state=Status.CONVERTED)),
            j=Count("object_id", distinct=True, filter=Q(state=Status.JUNK))).values_list("owner", "c", "j"))
    # The masks with either bit, per owner (a few dozen of them), summed here: the database groups
    # only, where two sums filtered by 64-element lists of masks cost as much to build and run.
    converted, junked = BITS[str(Status.CONVERTED)], BITS[str(Status.JUNK)]
    rows = _funnel_counts(user, params, *calendar).filter(mask__gte=min(converted, junked))
    found: dict[int, list[int]] = {}
    for owner, mask, n in rows.values("owner", "mask").annotate(n=Sum("n")).values_list("owner", "mask", "n"):
        if n and mask & (converted | junked):
            mine = found.setdefault(owner, [0, 0])
            mine[0] += n if mask & converted else 0
            mine[1] += n if mask & junked else 0
    return [(owner, c, j) for owner, (c, j) in found.items() if c or j]


def _taken(user, params: ReportParams, owners: set[int] | None) -> dict[int, int]:
    """{owner: the leads handed to him in the period (created for him, imported, reassigned to
    him), each once}, gated on the receiver with the leads' rule and narrowed to `owners` (the
    filters; None: not narrowed): a calendar period's from the
    counts kept per period (TakenCount, analytics.history), any other's from the handovers
    (COUNT DISTINCT: a lead handed to him twice counts once). One query."""
    calendar = _calendar(params.period)
    if calendar is None:
        handovers = _entered_at(_gated(user, Handover.objects.filter(model=LEAD), LEAD), params.period, "at")
        if owners is not None:
            handovers = handovers.filter(owner__in=sorted(owners))
        return dict(handovers.order_by().values("owner").annotate(n=Count("object_id", distinct=True))
                    .values_list("owner", "n"))
    kind, start = calendar
    rows = _gated(user, TakenCount.objects.filter(kind=kind, start=start), LEAD)
    if owners is not None:
        rows = rows.filter(owner__in=sorted(owners))
    # A count back at 0 (its leads deleted) is no work of his: no row for it, as the scan has none.
    return {owner: n for owner, n in rows.order_by().values_list("owner", "n") if n}


def _moves(user, params: ReportParams, people: set[int] | None) -> dict[int, int]:
    """{user: the status moves of leads he made in the period} from the moves' rollup per day
    (analytics.source_counts), gated and narrowed as the leads' stays are."""
    from .models import MoveCount

    rows = _narrowed(user, MoveCount.objects.filter(day__gte=params.period.start, day__lte=params.period.end), LEAD,
                     params)
    if people is not None:
        rows = rows.filter(by__in=sorted(people))
    return {by: n for by, n in rows.order_by().values("by").annotate(n=Sum("moves")).values_list("by", "n") if by and n}


def _in_work(model) -> list[str] | RawSQL | None:
    """Which of crm.tallies' board columns hold crm.day's records «in work» (leads.day, deals.day
    say the same): a lead's statuses in process; a deal's stages in process (a subquery: no read
    of the stages of its own). None: not known here."""
    from deals.models import Deal, Stage
    from leads.models import IN_PROCESS, Lead

    if model is Lead:
        return [str(s) for s in IN_PROCESS]
    if model is Deal:
        # Their ids as text, the counters' column. Written out: the ORM's subquery cost 0.6 ms of
        # the managers' report to build at every request, and the query itself next to nothing.
        qn, meta = connection.ops.quote_name, Stage._meta
        return RawSQL(f"SELECT CAST({qn(meta.pk.column)} AS varchar(20)) FROM {qn(meta.db_table)} "
                      f"WHERE {qn(meta.get_field('semantics').column)} = %s", (Stage.Semantics.IN_PROCESS,))
    return None


def _nothing_planned(user, people: set[int] | None, owners: set[int] | None) -> dict[int, int]:
    """{owner: his records in work (crm.day's sources) with no planned touch now}. The records that
    keep their next touch's date (leads, deals) from crm.tallies' counters of those without one:
    one read of a few counters for all of them. Another source's as its records in work (the
    counters) less the planned ones, or the unplanned ones counted. At a million leads counting
    the unplanned ones themselves was a scan of half the leads (0.7 s), and the planned ones from
    the index (responsible, status, date) 8–13 ms. One query: the parts' (owner, ± n) rows united.
    The counters are gated on their owner (narrowed to `owners`, the filters'); the records of a
    source may be a participant's too, so they are narrowed to `people`."""
    from crm import day, tallies
    from tasks_app import selectors as tasks

    def per_owner(records: QuerySet, sign: int = 1) -> QuerySet:
        return records.order_by().values("responsible").annotate(n=Count("*") * sign).values_list("responsible", "n")

    parts: list[QuerySet] = []
    counted: list[tuple] = []  # (model, its columns in work) the counters answer «unplanned» for
    for source in day.sources():
        columns = _in_work(source.model)
        if columns is not None and tallies.answers(source.model, planned=False):
            counted.append((source.model, columns))
            continue
        rows = source.in_work(user)
        if people is not None:
            rows = rows.filter(responsible__in=sorted(people))
        planned = tasks.planned_condition(source.model)
        if columns is None or not tallies.answers(source.model):  # no counters: count the unplanned themselves
            parts.append(per_owner(rows.exclude(planned)))
        else:
            parts += [tallies.owner_count_rows(user, [(source.model, columns)], owners=owners),
                      per_owner(rows.filter(planned), -1)]
    if counted:
        parts.insert(0, tallies.owner_count_rows(user, counted, owners=owners, planned=False))
    found: dict[int, int] = defaultdict(int)
    if parts:
        first, *others = parts
        for owner, n in first.union(*others, all=True) if others else first:
            found[owner] += int(n or 0)
    return {owner: n for owner, n in found.items() if owner and n > 0}


def _entered_at(rows: QuerySet, period: Period, column: str) -> QuerySet:
    start, end = period.bounds()
    return rows.filter(**{f"{column}__gte": start, f"{column}__lt": end})


# --- Sources ---

def _whole_months(period: Period) -> bool:
    """A month, a quarter, a year, or any run of whole calendar months."""
    from calendar import monthrange

    return period.start.day == 1 and period.end.day == monthrange(period.end.year, period.end.month)[1]


def _sources_scanned(user, params: ReportParams, key: str) -> tuple[dict, list[tuple]]:
    """The leads created in the period per `key`, and (key value, currency, deals, won, paid) of
    the deals made from them: from the leads and deals themselves (any period)."""
    from deals.models import Stage
    from deals.selectors import visible_deals
    from leads.selectors import visible_leads

    start, end = params.period.bounds()
    leads = visible_leads(user).filter(created_at__gte=start, created_at__lt=end)
    owners = _owners(user, params)
    if owners is not None:
        leads = leads.filter(responsible_id__in=sorted(owners))
    if params.source is not None:
        leads = leads.filter(source_id=params.source)
    if params.niche is not None:
        leads = leads.filter(niche_id=params.niche)
    counted = dict(leads.order_by().values(key).annotate(n=Count("pk")).values_list(key, "n"))
    success = Q(stage__semantics=Stage.Semantics.SUCCESS)
    made = list(visible_deals(user).filter(lead__in=leads.values("pk")).order_by()
                .values(f"lead__{key}", "currency")
                .annotate(n=Count("pk"), won=Count("pk", filter=success), paid=Sum("amount", filter=success))
                .values_list(f"lead__{key}", "currency", "n", "won", "paid"))
    return counted, made


def _sources_rolled_up(user, params: ReportParams, by: str) -> tuple[dict, list[tuple]]:
    """The same from the months' rollups (analytics.source_counts), gated as the scan is: the
    leads' rule on the lead's owner, and for the deals the deals' rule on theirs and their pipeline."""
    from deals.models import Deal

    from .models import SourceCount, SourceDealCount

    months = {"month__gte": params.period.start, "month__lte": params.period.end}
    leads = _gated(user, SourceCount.objects.filter(**months), LEAD)
    deals = _gated(user, SourceDealCount.objects.filter(**months), LEAD)
    deal_gate = access.gate(user, Deal, Action.VIEW, owner="deal_owner", scope="scope")
    deals = deals.none() if deal_gate is None else deals.filter(deal_gate)
    owners = _owners(user, params)
    narrowed = {}
    if owners is not None:
        narrowed["owner__in"] = sorted(owners)
    if params.source is not None:
        narrowed["source"] = params.source
    if params.niche is not None:
        narrowed["niche"] = params.niche
    leads, deals = leads.filter(**narrowed).order_by(), deals.filter(**narrowed).order_by()
    counted = {value or None: n for value, n in leads.values(by).annotate(n=Sum("leads")).values_list(by, "n") if n}
    made = [(value or None, currency, n, won, paid) for value, currency, n, won, paid in
            deals.values(by, "currency").annotate(n=Sum("deals"), won=Sum("won"), paid=Sum("paid"))
            .values_list(by, "currency", "n", "won", "paid") if n]
    return counted, made


def sources(user, params: ReportParams, *, by: str = "source") -> list[SourceRow]:
    """Leads created in the period per source (`by="niche"`: per niche), the deals made from
    them, the won ones and their sum. Whole calendar months read the rollups kept by the writers
    (analytics.source_counts), other periods scan the leads. Three queries."""
    from crm.models import Niche, Source

    if by not in ("source", "niche"):
        raise ValueError(by)
    if _whole_months(params.period):
        counted, found = _sources_rolled_up(user, params, by)
    else:
        counted, found = _sources_scanned(user, params, f"{by}_id")
    made: dict = defaultdict(lambda: {"deals": 0, "won": 0, "sums": {}})
    for value, currency, n, won, paid in found:
        row = made[value]
        row["deals"] += n
        row["won"] += won
        if won:
            row["sums"][currency] = row["sums"].get(currency, Decimal(0)) + (paid or Decimal(0))
    reference = Source if by == "source" else Niche
    names = list(reference.objects.order_by("sort", "name").values_list("pk", "name"))
    rows = []
    for pk, name in [*names, (None, _("Не указана") if by == "niche" else _("Не указан"))]:
        n, deals = counted.get(pk, 0), made.get(pk, {"deals": 0, "won": 0, "sums": {}})
        if not n and not deals["deals"]:
            continue
        sums = deals["sums"]
        rows.append(SourceRow(id=pk, label=name, leads=n, deals=deals["deals"], won=deals["won"],
                              paid_sum=sums.get(Currency.RUB, Decimal(0)), conv_deal=_ratio(deals["deals"], n),
                              conv_won=_ratio(deals["won"], deals["deals"]),
                              paid_other={c: s for c, s in sums.items() if c != Currency.RUB}))
    return rows


# --- Deals ---

def deals_report(user, params: ReportParams) -> DealsReport:
    """Per visible pipeline (or params.pipeline): the stages now (crm.tallies' counters when only
    the owners narrow them), won and lost in the period, the forecast of the period's months and
    the loss reasons. A fixed number of queries per pipeline."""
    from crm import boards, tallies
    from deals.models import Deal, Stage
    from deals.selectors import loss_reasons, pipelines_for, visible_deals

    pipelines = [p for p in pipelines_for(user) if params.pipeline in (None, p.pk)]
    if not pipelines:
        return DealsReport(pipelines=[])
    stages = list(Stage.objects.filter(pipeline__in=pipelines).order_by("pipeline__sort", "pipeline_id", "sort", "pk"))
    owners = _owners(user, params)
    narrowed = visible_deals(user).filter(pipeline__in=pipelines)
    if owners is not None:
        narrowed = narrowed.filter(responsible_id__in=sorted(owners))
    if params.source is not None:
        narrowed = narrowed.filter(source_id=params.source)
    ids = [s.pk for s in stages]
    now_totals = None
    if params.source is None:  # the counters know owners and pipelines, not sources
        # One read for all the pipelines: a stage id is its pipeline's own, and the gate on the
        # counters' scope is each pipeline's rule.
        now_totals = tallies.board_totals(user, Deal, "stage", ids, owners=owners, lines=False)
    if now_totals is None:
        now_totals = boards.column_totals(narrowed, "stage", ids, lines=False)
    first, last = params.period.months()
    in_process = [s.pk for s in stages if s.semantics == Stage.Semantics.IN_PROCESS]
    forecast = boards.column_totals(narrowed.filter(stage__in=in_process, close_date__gte=first, close_date__lte=last),
                                    "stage", ids, lines=False)

    won_stages = {str(s.pk) for s in stages if s.semantics == Stage.Semantics.SUCCESS}
    lost_stages = {str(s.pk) for s in stages if s.semantics == Stage.Semantics.FAILURE}
    won: dict[int, dict] = defaultdict(lambda: {"count": 0, "sums": {}})
    lost: dict[int, dict] = defaultdict(lambda: {"count": 0, "sums": {}})
    reasons: dict[int, dict] = defaultdict(lambda: defaultdict(int))
    closed = _closed_deals(user, params, [p.pk for p in pipelines], won_stages, lost_stages)
    for scope, is_won, currency, reason, n, total in closed:
        bucket = (won if is_won else lost)[scope]
        bucket["count"] += n
        bucket["sums"][currency] = bucket["sums"].get(currency, Decimal(0)) + total
        if not is_won:
            reasons[scope][reason] += n
    reason_names = dict(loss_reasons().values_list("pk", "name")) if any(reasons.values()) else {}

    report = []
    for pipeline in pipelines:
        mine = [s for s in stages if s.pipeline_id == pipeline.pk]

        def rows_of(totals, kept) -> list[StageRow]:
            return [StageRow(stage_id=s.pk, label=s.name, count=totals[s.pk]["count"],
                             sums=_sorted_sums(totals[s.pk]["sums"])) for s in kept]

        in_process = [s for s in mine if s.semantics == Stage.Semantics.IN_PROCESS]
        found = reasons.get(pipeline.pk, {})
        report.append(PipelineDeals(
            pipeline_id=pipeline.pk, label=pipeline.name, stages=rows_of(now_totals, mine),
            won=Closed(count=won[pipeline.pk]["count"], sums=_sorted_sums(won[pipeline.pk]["sums"])),
            lost=Closed(count=lost[pipeline.pk]["count"], sums=_sorted_sums(lost[pipeline.pk]["sums"])),
            forecast=rows_of(forecast, in_process),
            loss_reasons=sorted((Reason(id=pk, label=reason_names.get(pk, _("Не указана")), count=n)
                                 for pk, n in found.items()), key=lambda r: (-r.count, r.id is None, r.label)),
        ))
    return DealsReport(pipelines=report)


def _closed_deals(user, params: ReportParams, pipelines: list[int], won_stages: set[str],
                  lost_stages: set[str]) -> list[tuple]:
    """(pipeline id, won?, currency, loss reason id, deals, their sum) of the deals `user` may
    see that entered a success (won) or failure stage of `won_stages` / `lost_stages` of
    `pipelines` in the period: one query, grouped by the database. A deal counts once per
    pipeline and outcome (won twice in the period: one deal, one sum), with its current amount,
    currency and reason.

    A calendar week / month / quarter / year without a source reads the counts kept per period
    (ClosedCount, analytics.history: a few rows per pipeline, owner, currency and reason); any
    other period scans the stays as follows.

    Everything comes from the stays (analytics.history keeps the deal's amount, currency and
    loss reason on them) through their index on (scope, state, entered_at) of the deals
    (an_stay_deal_closed_idx), which covers those columns: PostgreSQL reads the index alone. The
    gate is the deals' rule on the stays' owner and pipeline, as for every stay: the pipeline a
    deal was won or lost in — for a deal moved to another pipeline since, not its current one (the
    join into the deals applied that one too; time in status already gates so)."""
    if not won_stages and not lost_stages:
        return []
    calendar = _calendar(params.period)
    if calendar is not None and params.source is None:  # the counts know owners and pipelines, not sources
        kind, start = calendar
        counts = _narrowed(user, ClosedCount.objects.filter(kind=kind, start=start, scope__in=sorted(pipelines)), DEAL,
                           params)
        # A bucket back at 0 (its deals deleted, edited into another) is none: the scan has no row for it.
        return [(scope, won, currency, None if reason == NONE else reason, n, total)
                for scope, won, currency, reason, n, total in counts.values("scope", "won", "currency", "reason")
                .annotate(deals=Sum("n"), sum=Sum("total")).values_list("scope", "won", "currency", "reason", "deals", "sum")
                if n]
    outcome = Case(When(state__in=sorted(won_stages), then=Value(1)), default=Value(0), output_field=IntegerField())
    closed = (_entered(_stays(user, DEAL, params), params.period)
              .filter(scope__in=pipelines, state__in=sorted(won_stages | lost_stages))
              .values("object_id", "scope").annotate(won=outcome)
              .values("object_id", "scope", "won", "amount", "currency", "reason").distinct())
    return [(scope, bool(is_won), currency, reason, n, total)
            for scope, is_won, currency, reason, n, total in _summed(closed, ["scope", "won", "currency", "reason"])]


def _summed(distinct: QuerySet, keys: list[str]) -> list[tuple]:
    """(*keys, how many, the sum of `amount`) of the rows of `distinct` (stays' values, one row
    per deal and whatever it is counted by), grouped by `keys` in the database: one query."""
    try:
        sql, sql_params = distinct.query.sql_with_params()
    except EmptyResultSet:  # nothing visible, or narrowed to nobody
        return []
    names = ", ".join(f"c.{connection.ops.quote_name(k)}" for k in keys)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {names}, COUNT(*), SUM(c.{connection.ops.quote_name('amount')}) FROM ({sql}) c "
                       f"GROUP BY {names}", sql_params)
        found = cursor.fetchall()
    # SQLite sums decimals as floats: rounded to the field's places, as the ORM's Sum does.
    places = Decimal(1).scaleb(-Stay._meta.get_field("amount").decimal_places)
    return [(*values, n, total if isinstance(total, Decimal) else Decimal(str(total or 0)).quantize(places))
            for *values, n, total in found]


def _won_stays(user, params: ReportParams, won_stages: dict[str, int]) -> QuerySet[Stay]:
    """The stays of the deals `user` may see that entered a success stage (`won_stages`: {stage
    id as text: its pipeline}, as `_success_and_failure` gives them) in the period. The pipelines
    too: they lead the closed deals' index (an_stay_deal_closed_idx), which then reads the won
    stays alone, with the amount and currency they carry."""
    return _entered(_stays(user, DEAL, params), params.period).filter(
        scope__in=sorted(set(won_stages.values())), state__in=sorted(won_stages))


def won_deals(user, period: Period) -> int:
    """How many deals `user` may see entered a success stage in `period`, in any pipeline — the
    sum over the pipelines of deals_report's `won.count` (a deal won in two pipelines counts in
    both), without the rest of that report. A calendar period («this month so far») sums the
    closed deals' counts (ClosedCount: one query, the marks know which stages won); any other
    scans the won stays (two queries). And the gate's, once per user."""
    calendar = _calendar(period)
    if calendar is not None:
        kind, start = calendar
        rows = _gated(user, ClosedCount.objects.filter(kind=kind, start=start, won=True).exclude(scope=ANY_PIPELINE),
                      DEAL)
        return rows.aggregate(n=Sum("n"))["n"] or 0
    won_stages, _lost = _success_and_failure()
    if not won_stages:
        return 0
    return _won_stays(user, ReportParams(period=period), won_stages).values("object_id", "scope").distinct().count()


# --- «Мой день» ---

# The head's figures on «Мой день», in their order (the page shows them as it waits for the values).
DAY_LABELS = (gettext_lazy("Новых лидов за неделю"), gettext_lazy("Конверсия лидов в «Успешный» за месяц"),
              gettext_lazy("Выиграно сделок за месяц"), gettext_lazy("Лидов дольше обычного в статусе"))


def day_numbers(user) -> list[tuple[str, int | str, str]]:
    """(label, value, url) for the head's «Мой день»: this week's new leads, this month's
    conversion to «Успешный» and won deals, the leads stuck now. Nothing for a user who may not
    see the reports."""
    if not can_view_reports(user):
        return []
    today = timezone.localdate()
    week = Period(today - timedelta(days=today.weekday()), today)
    month = Period(today.replace(day=1), today)
    this_week, this_month = funnel(user, ReportParams(period=week)), funnel(user, ReportParams(period=month))
    first, won = this_month.rows[0], this_month.rows[-1]
    conversion = f"{round(100 * won.reached / first.reached)} %" if first.reached else "—"
    norms = norm_period(today)
    now = timezone.now()
    since = {state: now - timedelta(seconds=seconds) for state, seconds in lead_norms(user, today).items()}
    stuck = stuck_count(user, LEAD, ReportParams(period=norms), since)
    values = [this_week.rows[0].entered, conversion, won_deals(user, month), stuck]
    urls = [_url("funnel", period="week"), _url("funnel", period="month"), _url("deals", period="month"),
            # The report of the norms' own days lists them: its 90th percentiles are these norms.
            _url("time", period="custom", start=norms.start.isoformat(), end=norms.end.isoformat())]
    return list(zip(map(str, DAY_LABELS), values, urls, strict=True))


NORM_DAYS = 90


def norm_period(today: date) -> Period:
    """The days whose stays say how long a lead usually spends in a status: the NORM_DAYS whole
    days before today (today's are not over, so the norms hold all day)."""
    return Period(today - timedelta(days=NORM_DAYS), today - timedelta(days=1))


def lead_norms(user, today: date) -> dict[str, float]:
    """{lead status in process: the 90th percentile of the seconds spent in it} over the stays
    `user` may see that ended in `norm_period(today)` — «обычное» время of «Мой день». The
    percentiles of 90 days are the costly part of the day's figures and do not change before
    midnight: computed once a day per user and kept in the cache until then. They are figures,
    not records: which leads count as stuck is read live, through the access gate."""
    from leads.models import IN_PROCESS

    key = f"analytics:lead-norms:{user.pk}:{today.isoformat()}"
    found = cache.get(key)
    if found is None:
        start, end = norm_period(today).bounds()
        stays = _stays(user, LEAD, ReportParams(period=norm_period(today))).filter(scope=0)
        stats = durations(stays.filter(left_at__gte=start, left_at__lt=end), states=[str(s) for s in IN_PROCESS])
        found = {state: p90 * DAY for state, (_n, _median, p90) in stats.items()}
        midnight = Period(today, today).bounds()[1]
        cache.set(key, found, max(1, int((midnight - timezone.now()).total_seconds())))
    return found


def _url(report: str, **query: str) -> str:
    # The report pages are analytics.urls' (another part of this app): their paths, not reverse(),
    # so the figures do not depend on the pages being installed.
    return f"/analytics/{report}/?{urlencode(query)}"


# --- The reports' links (analytics.drilldown) ---

def leads_entered(states: list[str], period: Period) -> QuerySet:
    """The ids of the leads that entered one of `states` in `period` (a subquery): the leads list
    applies its own access gate and filters around it."""
    start, end = period.bounds()
    return Stay.objects.filter(model=LEAD, state__in=states, entered_at__gte=start, entered_at__lt=end).values("object_id")
