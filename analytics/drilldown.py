"""A report's number → the leads list narrowed to exactly those leads.

The list gets `?analytics=<kind>.<status>.<from>.<to>` (e.g. `reached.decision_maker.2026-10-01.2026-10-31`),
a crm.lists.LinkFilter registered here, so the list applies it to its own access-gated leads
with its own rules and shows it as a chip; the report's other filters travel as the list's own
ones (responsible, department, source, niche). Kinds, as analytics.selectors.funnel counts them:
- `entered`: the leads that entered the status in the period (a creation enters «Не обработан»);
- `reached`: those that entered it or a later status of the process order in the period.
Both read the stays (analytics.selectors.leads_entered): their `owner`, `source` and `niche` are
the lead's current ones, as the list's filters are."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.urls import reverse
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.lists import LinkFilter, register_link_filter
from leads.models import ORDER, Status

from . import selectors
from .params import Period, ReportParams

NAME = "analytics"
LEAD = "leads.lead"
ENTERED, REACHED = "entered", "reached"
# The process order of the funnel: «Не успешный» is apart (it is reached from any status).
FUNNEL_ORDER = [s for s in ORDER if s != Status.JUNK]
MAX_DAYS = 366 * 5


def token(kind: str, state: str, period: Period) -> str:
    return f"{kind}.{state}.{period.start:%Y-%m-%d}.{period.end:%Y-%m-%d}"


def parse(value: str) -> tuple[str, str, Period]:
    """(kind, status, period) of a token; ValidationError with a Russian reason otherwise."""
    parts = (value or "").split(".")
    if len(parts) != 4:
        raise ValidationError(_("Неверная ссылка из отчёта: обновите отчёт и перейдите по ссылке снова."))
    kind, state, start, end = parts
    if kind not in (ENTERED, REACHED) or state not in Status.values or kind == REACHED and state == Status.JUNK:
        raise ValidationError(_("Неверная ссылка из отчёта: неизвестный статус."))
    try:
        period = Period(dt.date.fromisoformat(start), dt.date.fromisoformat(end))
    except ValueError as exc:
        raise ValidationError(_("Неверная ссылка из отчёта: неверная дата.")) from exc
    if period.start > period.end or (period.end - period.start).days >= MAX_DAYS:
        raise ValidationError(_("Неверная ссылка из отчёта: неверный период."))
    return kind, state, period


def states(kind: str, state: str) -> list[str]:
    if kind == ENTERED:
        return [state]
    return [str(s) for s in FUNNEL_ORDER[FUNNEL_ORDER.index(state):]]


def describe(value: str) -> str:
    kind, state, period = parse(value)
    label = Status(state).label
    dates = {"start": formats.date_format(period.start, "SHORT_DATE_FORMAT"),
             "end": formats.date_format(period.end, "SHORT_DATE_FORMAT")}
    if kind == ENTERED:
        text = _("перешли в статус «%(status)s» с %(start)s по %(end)s")
    else:
        text = _("дошли до статуса «%(status)s» с %(start)s по %(end)s")
    return text % {"status": label, **dates}


def condition(model, value: str) -> Q:
    kind, state, period = parse(value)
    return Q(pk__in=selectors.leads_entered(states(kind, state), period))


register_link_filter(LinkFilter(
    name=NAME, label=gettext_lazy("Из отчёта"), describe=describe, condition=condition,
    models=frozenset({LEAD})))


def leads_url(params: ReportParams, **query) -> str:
    """The leads list with the report's owner, source and niche filters and `query`."""
    narrowed = {"responsible": params.responsible, "department": params.department,
                "source": params.source, "niche": params.niche, **query}
    return reverse("leads:list") + "?" + urlencode({k: v for k, v in narrowed.items() if v not in (None, "")})


def funnel_url(params: ReportParams, kind: str, state: str) -> str:
    return leads_url(params, **{NAME: token(kind, state, params.period)})


def created_url(params: ReportParams, **query) -> str:
    """The leads created in the period (the sources' report), by the list's own date filter."""
    return leads_url(params, created_after=params.period.start.isoformat(),
                     created_before=params.period.end.isoformat(), **query)
