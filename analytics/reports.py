"""What each report page shows, built from the selectors' figures: its charts (analytics.charts)
and its tables — one `Table` serves the page (formatted cells, links to the lists, the change
against the previous period) and the export (the raw values: analytics.export).

The five reports (REPORTS) take (user, params, previous params or None) and return a `Report`."""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.money import Currency, format_money, format_number

from . import charts, drilldown, selectors
from .params import ReportParams

INT, MONEY, RATIO, DAYS, TEXT = "int", "money", "ratio", "days", "text"
DASH = "—"


@dataclass
class Column:
    label: str
    kind: str = INT

    @property
    def numeric(self) -> bool:
        return self.kind != TEXT


@dataclass
class Delta:
    """The change against the previous period: a sign and an arrow (not a colour) say its direction."""

    text: str  # «+5», «−120 000 ₽», «+3 п. п.»
    arrow: str  # ▲ ▼ or =
    direction: str  # "up", "down", "same"
    previous: str  # the previous period's value as shown


@dataclass
class Cell:
    value: Any  # the raw value (the export's cell)
    text: str  # as shown
    url: str = ""
    delta: Delta | None = None
    previous: Any = None  # the previous period's raw value (the export)
    numeric: bool = False


@dataclass
class Table:
    caption: str
    columns: list[Column]
    rows: list[list[Cell]] = field(default_factory=list)
    testid: str = ""
    compared: bool = False
    half: bool = False  # a narrow table: two side by side on a wide screen

    @property
    def body(self) -> str:
        """The rows' markup (the page's <tbody>), built in Python: through the template's tags a
        report's hundred-odd cells, each a few conditions and links, cost the managers' page at a
        million leads about a tenth of its time (as crm.forms.QuickSelect does for the selects)."""
        if not self.rows:
            return format_html('<tr><td colspan="{}" class="text-body-secondary text-center py-3">{}</td></tr>',
                               len(self.columns), _("За этот период данных нет."))
        return mark_safe("".join("<tr>" + "".join(_cell_html(cell, index == 0) for index, cell in enumerate(row))
                                 + "</tr>" for row in self.rows))


def _escaped(value) -> str:
    """conditional_escape without its lazy-string wrapper (a cell's text is never a lazy one)."""
    return value.__html__() if hasattr(value, "__html__") else html.escape(str(value))


def _cell_html(cell: Cell, first: bool) -> str:
    # f-strings around _escaped, not format_html: a report's several hundred cells each went
    # through it two or three times (a tenth of time in status's page at a million leads).
    text, url = _escaped(cell.text), _escaped(cell.url)
    if first:
        shown = f'<a href="{url}">{text}</a>' if cell.url else text
        return f'<th scope="row" class="fw-normal">{shown}</th>'
    shown = f'<a href="{url}" class="crm-drill" data-testid="drill">{text}</a>' if cell.url else text
    if delta := cell.delta:
        was = _escaped(_("было %(value)s") % {"value": delta.previous})
        shown += (f'<small class="d-block crm-delta crm-delta-{_escaped(delta.direction)}"><span '
                  f'aria-hidden="true">{_escaped(delta.arrow)}</span> {_escaped(delta.text)} '
                  f'<span class="text-body-secondary">({was})</span></small>')
    return f'<td class="{"text-end text-nowrap" if cell.numeric else ""}">{shown}</td>'


@dataclass
class Report:
    charts: list[tuple[str, str]] = field(default_factory=list)  # (title, inline SVG)
    tables: list[Table] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def shown(kind: str, value) -> str:
    if value is None:
        return DASH
    if kind == MONEY:
        return format_money(value)
    if kind == RATIO:
        return f"{format_number(round(Decimal(str(value)) * 100))}\N{NO-BREAK SPACE}%"
    if kind == DAYS:
        return format_number(round(Decimal(str(value)), 1))
    if kind == INT:
        return format_number(value)
    return str(value)


def exported(kind: str, value):
    """A value as the export writes it: ratios as percents, days with one decimal, money as Decimal."""
    if value is None:
        return None
    if kind == RATIO:
        return round(Decimal(str(value)) * 100, 1)
    if kind == DAYS:
        return round(Decimal(str(value)), 1)
    return value


def delta(kind: str, value, previous) -> Delta | None:
    if kind in (TEXT,) or value is None or previous is None:
        return None
    change = Decimal(str(value)) - Decimal(str(previous))
    if not change and not value:
        return None  # nothing then, nothing now: no «= 0 (было 0)» to read through
    if kind == RATIO:
        points = round(change * 100)
        text = f"{'+' if points > 0 else '−' if points < 0 else ''}{format_number(abs(points))}\N{NO-BREAK SPACE}" \
               + _("п. п.")
        change = Decimal(points)
    elif kind == MONEY:
        text = ("+" if change > 0 else "") + format_money(change)
    else:
        text = f"{'+' if change > 0 else '−' if change < 0 else ''}{shown(kind if kind != INT else INT, abs(change))}"
    direction = "up" if change > 0 else "down" if change < 0 else "same"
    return Delta(text, {"up": "▲", "down": "▼", "same": "="}[direction], direction, shown(kind, previous))


def cell(kind: str, value, previous=None, *, compared: bool = False, url: str = "") -> Cell:
    # A zero opens no list: an empty one says nothing the number did not.
    return Cell(exported(kind, value), shown(kind, value), url=url if value else "",
                delta=delta(kind, value, previous) if compared else None,
                previous=exported(kind, previous) if compared else None, numeric=kind != TEXT)


def sums_cell(sums: dict | None, previous: dict | None = None, *, compared: bool = False) -> Cell:
    """A sum per currency (crm.money: RUB first, the others listed apart as the tallies do): the
    change is the RUB one; the export gets the RUB number, or the text when other currencies are in."""
    sums = sums or {}
    rub = sums.get(Currency.RUB, Decimal(0))
    result = cell(MONEY, rub, (previous or {}).get(Currency.RUB, Decimal(0)) if compared else None, compared=compared)
    others = [(c, v) for c, v in sums.items() if c != Currency.RUB and v]
    if others:
        result.text = " + ".join([result.text, *(format_money(v, c) for c, v in others)])
        result.value = result.text
    return result


def _rub(sums: dict | None) -> Decimal:
    return (sums or {}).get(Currency.RUB, Decimal(0))


def _text(value) -> Cell:
    return Cell(str(value), str(value))


# --- Воронка лидов ---

def funnel(user, params: ReportParams, previous: ReportParams | None) -> Report:
    now = selectors.funnel(user, params)
    before = selectors.funnel(user, previous) if previous else None
    old = {row.state: row for row in before.rows} if before else {}
    old_junk = {reason.id: reason for reason in before.junk} if before else {}
    compared = before is not None
    labels = [row.label for row in now.rows]
    series = [(_("Дошли до статуса"), [row.reached for row in now.rows])]
    if compared:
        series.append((_("Прошлый период"), [getattr(old.get(row.state), "reached", None) for row in now.rows]))
    chart = charts.bars(_("Воронка лидов"), labels, series)
    table = Table(_("Воронка лидов: сколько лидов перешло в каждый статус и дошло до него за период"), [
        Column(_("Статус"), TEXT), Column(_("Перешли в статус")), Column(_("Дошли до статуса")),
        Column(_("Конверсия в следующий"), RATIO), Column(_("Конверсия в «Успешный»"), RATIO),
    ], testid="funnel-table", compared=compared)
    for row in now.rows:
        was = old.get(row.state)
        table.rows.append([
            _text(row.label),
            cell(INT, row.entered, getattr(was, "entered", None), compared=compared,
                 url=drilldown.funnel_url(params, drilldown.ENTERED, row.state)),
            cell(INT, row.reached, getattr(was, "reached", None), compared=compared,
                 url=drilldown.funnel_url(params, drilldown.REACHED, row.state)),
            cell(RATIO, row.to_next, getattr(was, "to_next", None), compared=compared),
            cell(RATIO, row.to_won, getattr(was, "to_won", None), compared=compared),
        ])
    junk = Table(_("Причины «Не успешный» за период"), [Column(_("Причина"), TEXT), Column(_("Лидов"))],
                 testid="junk-table", compared=compared, half=True)
    for reason in now.junk:
        junk.rows.append([_text(reason.label), cell(INT, reason.count, getattr(old_junk.get(reason.id), "count", None),
                                                     compared=compared)])
    report = Report([(_("Воронка лидов"), chart)], [table, junk])
    if now.junk:
        report.charts.append((_("Причины «Не успешный»"), charts.bars(
            _("Причины «Не успешный»"), [r.label for r in now.junk], [(_("Лидов"), [r.count for r in now.junk])])))
    return report


# --- Время в статусах ---

def _times(user, params, previous, model: str) -> tuple[Table, Table, str, str]:
    now = selectors.time_in_status(user, params, model=model)
    before = selectors.time_in_status(user, previous, model=model) if previous else None
    old = {row.state: row for row in before.rows} if before else {}
    compared = before is not None
    if model == drilldown.LEAD:
        title, first = _("Лиды: дней в статусе"), _("Статус")
    else:
        title, first = _("Сделки «%(pipeline)s»: дней на стадии") % {"pipeline": now.pipeline_name}, _("Стадия")
    caption = _("%(title)s — по пребываниям, закончившимся в периоде") % {"title": title}
    table = Table(caption, [Column(first, TEXT), Column(_("Пребываний")), Column(_("Медиана, дней"), DAYS),
                            Column(_("90-й процентиль, дней"), DAYS)], testid=f"time-{model.split('.')[0]}",
                  compared=compared, half=True)
    for row in now.rows:
        was = old.get(row.state)
        table.rows.append([_text(row.label), cell(INT, row.count, getattr(was, "count", None), compared=compared),
                           cell(DAYS, row.median_days, getattr(was, "median_days", None), compared=compared),
                           cell(DAYS, row.p90_days, getattr(was, "p90_days", None), compared=compared)])
    caption = _("%(title)s: зависли дольше 90-го процентиля (сейчас)") % {"title": title}
    if now.stuck_total > len(now.stuck):
        caption += " — " + _("всего %(total)s, показаны %(shown)s дольше всех") % {
            "total": format_number(now.stuck_total), "shown": format_number(len(now.stuck))}
    stuck = Table(caption, [
        Column(_("Запись"), TEXT), Column(first, TEXT), Column(_("Дней"), DAYS),
        Column(_("Ответственный"), TEXT)], testid=f"time-{model.split('.')[0]}-stuck")
    url = _record_url(model)
    for item in now.stuck:
        stuck.rows.append([Cell(item.title, item.title, url=url(item.object_id)), _text(item.label),
                           cell(DAYS, item.days), _text(item.owner or "")])
    chart = charts.bars(title, [row.label for row in now.rows], [
        (_("Медиана"), [row.median_days for row in now.rows]), (_("90-й процентиль"), [row.p90_days for row in now.rows])],
        days=True)
    return table, stuck, chart, title


def _record_url(model: str):
    """A record's card URL by its pk: reversed once, the pk put in its place (the stuck lists' 100
    rows reversed one by one were 3 ms of the page)."""
    sample = 987654321
    head, tail = reverse("leads:detail" if model == drilldown.LEAD else "deals:detail", args=[sample]).split(str(sample))
    return lambda pk: f"{head}{pk}{tail}"


def time_in_status(user, params, previous) -> Report:
    report = Report()
    lists = []
    for model in (drilldown.LEAD, "deals.deal"):
        table, stuck, chart, title = _times(user, params, previous, model)
        report.charts.append((title, chart))
        report.tables.append(table)
        lists.append(stuck)
    # The two narrow tables of figures side by side, then the stuck records at full width: a
    # record's title, its state, days and responsible do not fit half a desktop screen.
    report.tables += lists
    return report


# --- Менеджеры ---

# Two tables of a manager's period, each narrow enough for a laptop's width: his leads,
# then his touches, deals and what waits today (one table of eleven columns squeezed the names).
MANAGER_TABLES = [
    (gettext_lazy("Лиды менеджеров за период"), "managers-table", [
        ("taken", gettext_lazy("Взято лидов"), INT), ("moved", gettext_lazy("Переводов статуса"), INT),
        ("converted", gettext_lazy("Конвертировано"), INT), ("junked", gettext_lazy("Забраковано"), INT)]),
    (gettext_lazy("Касания, сделки и дела менеджеров"), "managers-work-table", [
        ("planned", gettext_lazy("Касаний запланировано"), INT), ("done", gettext_lazy("Касаний выполнено"), INT),
        ("overdue", gettext_lazy("Касаний просрочено"), INT), ("deals_won", gettext_lazy("Сделок выиграно"), INT),
        ("won_sum", gettext_lazy("Сумма выигранных"), MONEY),
        ("nothing_planned", gettext_lazy("Без запланированных дел сегодня"), INT)]),
]
# The counts a list filter expresses (the leads that entered that status in the period, his own).
MANAGER_LINKS = {"converted": "converted", "junked": "junk"}


def managers(user, params, previous) -> Report:
    now = selectors.managers(user, params)
    before = selectors.managers(user, previous) if previous else None
    old = {row.user_id: row for row in before} if before is not None else {}
    compared = before is not None
    tables = []
    for caption, testid, columns in MANAGER_TABLES:
        table = Table(caption, [Column(_("Менеджер"), TEXT), *(Column(str(label), kind) for _name, label, kind in columns)],
                      testid=testid, compared=compared)
        for row in now:
            was = old.get(row.user_id)
            cells = [_text(row.name)]
            for name, _label, kind in columns:
                if name == "won_sum":
                    cells.append(sums_cell({Currency.RUB: row.won_sum, **row.won_other},
                                           {Currency.RUB: was.won_sum} if was else None, compared=compared))
                    continue
                url = ""
                if name in MANAGER_LINKS:
                    url = drilldown.leads_url(_own(params, row.user_id), **{drilldown.NAME: drilldown.token(
                        drilldown.ENTERED, MANAGER_LINKS[name], params.period)})
                cells.append(cell(kind, getattr(row, name), getattr(was, name, None), compared=compared, url=url))
            table.rows.append(cells)
        tables.append(table)
    names = [row.name for row in now]
    leads_chart = charts.bars(_("Лиды менеджеров"), names, [
        (_("Взято"), [row.taken for row in now]), (_("Конвертировано"), [row.converted for row in now]),
        (_("Забраковано"), [row.junked for row in now])], colors=(charts.BLUE, charts.GREEN, charts.VERMILLION))
    # Side by side, not stacked: «запланировано» (due in the period) holds the overdue ones and most
    # of the done ones, so a stacked bar read as a sum that counts them twice.
    touches_chart = charts.bars(_("Касания менеджеров"), names, [
        (_("Запланировано"), [row.planned for row in now]), (_("Выполнено"), [row.done for row in now]),
        (_("Просрочено"), [row.overdue for row in now])], colors=(charts.BLUE, charts.GREEN, charts.VERMILLION))
    return Report([(_("Лиды менеджеров"), leads_chart), (_("Касания менеджеров"), touches_chart)], tables)


def _own(params: ReportParams, pk: int) -> ReportParams:
    return ReportParams(period=params.period, responsible=pk, source=params.source, niche=params.niche)


# --- Источники ---

def _sources_table(rows, old_rows, params, caption, first, testid, *, by: str) -> Table:
    compared = old_rows is not None
    old = {row.id: row for row in old_rows or []}
    table = Table(caption, [Column(first, TEXT), Column(_("Лидов")), Column(_("Сделок")), Column(_("Выиграно")),
                            Column(_("Оплачено"), MONEY), Column(_("Лид → сделка"), RATIO),
                            Column(_("Лид → выигрыш"), RATIO)], testid=testid, compared=compared)
    for row in rows:
        was = old.get(row.id)
        url = ""
        if row.id is not None:
            url = drilldown.created_url(ReportParams(period=params.period, responsible=params.responsible,
                                                     department=params.department,
                                                     source=row.id if by == "source" else params.source,
                                                     niche=row.id if by == "niche" else params.niche))
        table.rows.append([
            _text(row.label), cell(INT, row.leads, getattr(was, "leads", None), compared=compared, url=url),
            cell(INT, row.deals, getattr(was, "deals", None), compared=compared),
            cell(INT, row.won, getattr(was, "won", None), compared=compared),
            sums_cell({Currency.RUB: row.paid_sum, **row.paid_other},
                      {Currency.RUB: was.paid_sum} if was else None, compared=compared),
            cell(RATIO, row.conv_deal, getattr(was, "conv_deal", None), compared=compared),
            cell(RATIO, row.conv_won, getattr(was, "conv_won", None), compared=compared)])
    return table


def sources(user, params, previous) -> Report:
    report = Report()
    for by, caption, first, testid in (("source", _("Источники: лиды → сделки → выигранные → оплачено"),
                                        _("Источник"), "sources-table"),
                                       ("niche", _("Ниши: лиды → сделки → выигранные → оплачено"), _("Ниша"),
                                        "niches-table")):
        rows = selectors.sources(user, params, by=by)
        old = selectors.sources(user, previous, by=by) if previous else None
        report.tables.append(_sources_table(rows, old, params, caption, first, testid, by=by))
        title = _("Источники") if by == "source" else _("Ниши")
        report.charts.append((title, charts.bars(title, [row.label for row in rows], [
            (_("Лиды"), [row.leads for row in rows]), (_("Сделки"), [row.deals for row in rows]),
            (_("Выиграно"), [row.won for row in rows])])))
    return report


# --- Сделки ---

def deals(user, params, previous) -> Report:
    now = selectors.deals_report(user, params)
    before = selectors.deals_report(user, previous) if previous else None
    old_pipelines = {p.pipeline_id: p for p in before.pipelines} if before else {}
    compared = before is not None
    report = Report()
    for pipeline in now.pipelines:
        was = old_pipelines.get(pipeline.pipeline_id)
        stages = Table(_("Воронка «%(name)s»: сделки на стадиях сейчас") % {"name": pipeline.label},
                       [Column(_("Стадия"), TEXT), Column(_("Сделок")), Column(_("Сумма"), MONEY)],
                       testid=f"deals-stages-{pipeline.pipeline_id}", half=True)
        for stage in pipeline.stages:
            stages.rows.append([_text(stage.label), cell(INT, stage.count), sums_cell(stage.sums)])
        result = Table(_("Воронка «%(name)s»: итоги периода") % {"name": pipeline.label},
                       [Column(_("Итог"), TEXT), Column(_("Сделок")), Column(_("Сумма"), MONEY)],
                       testid=f"deals-result-{pipeline.pipeline_id}", compared=compared, half=True)
        for label, closed in ((_("Выиграно"), "won"), (_("Проиграно"), "lost")):
            now_closed, was_closed = getattr(pipeline, closed), getattr(was, closed, None)
            result.rows.append([_text(label),
                                cell(INT, now_closed.count, getattr(was_closed, "count", None), compared=compared),
                                sums_cell(now_closed.sums, getattr(was_closed, "sums", None), compared=compared)])
        forecast = Table(_("Воронка «%(name)s»: прогноз — открытые сделки с датой закрытия в периоде")
                         % {"name": pipeline.label},
                         [Column(_("Стадия"), TEXT), Column(_("Сделок")), Column(_("Сумма"), MONEY)],
                         testid=f"deals-forecast-{pipeline.pipeline_id}", half=True)
        for stage in pipeline.forecast:
            forecast.rows.append([_text(stage.label), cell(INT, stage.count), sums_cell(stage.sums)])
        reasons = Table(_("Воронка «%(name)s»: причины проигрыша за период") % {"name": pipeline.label},
                        [Column(_("Причина"), TEXT), Column(_("Сделок"))], testid=f"deals-reasons-{pipeline.pipeline_id}", half=True)
        for reason in pipeline.loss_reasons:
            reasons.rows.append([_text(reason.label), cell(INT, reason.count)])
        report.tables += [stages, result, forecast, reasons]
        title = _("«%(name)s»: сумма на стадиях и прогноз, ₽") % {"name": pipeline.label}
        forecast_sums = {stage.stage_id: _rub(stage.sums) for stage in pipeline.forecast}
        report.charts.append((title, charts.bars(title, [stage.label for stage in pipeline.stages], [
            (_("Сумма на стадии"), [_rub(stage.sums) for stage in pipeline.stages]),
            (_("Прогноз периода"), [forecast_sums.get(stage.stage_id) for stage in pipeline.stages])], money=True)))
    return report


REPORTS: dict[str, tuple[Any, Callable]] = {
    "funnel": (gettext_lazy("Воронка лидов"), funnel),
    "time": (gettext_lazy("Время в статусах"), time_in_status),
    "managers": (gettext_lazy("Менеджеры"), managers),
    "sources": (gettext_lazy("Источники"), sources),
    "deals": (gettext_lazy("Сделки"), deals),
}
