"""The reports' charts: SVG drawn on the server by pygal and put inline in the page.

No script and no network: pygal's interactive tooltips need its JavaScript from a CDN
(`js=[…]` defaults to a URL on kozea.github.io) and an inline config script, which the CSP
(script-src 'self') would refuse anyway. `js=[]` drops the external script; `_without_scripts`
removes the inline one and pygal's comments (URLs of its site). What a tooltip would say is
printed on the bars (`print_values`) and listed in the table under each chart.

Colours: the Okabe–Ito palette, told apart by people with any common colour blindness; the
series are also named in the legend and the table, so nothing relies on colour alone.

Size: `explicit_size=False` gives the SVG a viewBox and no width, so CSS (.crm-chart svg
{width: 100%}) scales it to its column; the drawing is 560 units wide with large fonts so that
its text stays readable (about 11 px) when a phone (390 px) shrinks it to about 330."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal

import pygal
from django.utils.safestring import SafeString, mark_safe
from pygal.style import Style

from crm.money import format_amount, format_number

# Okabe & Ito (2008), «Color Universal Design».
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
BLUE, GREEN, VERMILLION = PALETTE[0], PALETTE[2], PALETTE[5]
WIDTH = 560
ROW_HEIGHT = 40  # per bar of a horizontal chart: its label must fit

STYLE_ARGS = dict(
    background="transparent",
    plot_background="transparent",
    foreground="#212529",
    foreground_strong="#212529",
    foreground_subtle="#6c757d",
    font_family="system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif",
    label_font_size=18,
    major_label_font_size=18,
    value_font_size=17,
    legend_font_size=17,
    title_font_size=20,
    opacity=".95",
    opacity_hover="1",
)
STYLE = Style(colors=PALETTE, **STYLE_ARGS)


def _without_scripts(tree):
    """pygal's xml_filter: drop the inline config script and the comments naming pygal's site."""
    for parent in tree.iter():
        for child in list(parent):
            tag = child.tag if isinstance(child.tag, str) else ""
            if tag.endswith("script") or not isinstance(child.tag, str):
                parent.remove(child)
    return tree


def _config(rows: int, series: int, colors: Sequence[str] | None = None, **extra) -> dict:
    height = max(220, 90 + rows * max(series, 1) * ROW_HEIGHT)
    return {
        "js": [],
        "style": Style(colors=tuple(colors), **STYLE_ARGS) if colors else STYLE,
        "width": WIDTH,
        "height": height,
        "explicit_size": False,
        "disable_xml_declaration": True,
        "print_values": True,
        "print_values_position": "top",
        "print_zeroes": False,
        # The values are printed on the bars: no value axis, no guides to read them off.
        # (A horizontal chart's value axis is pygal's x axis.)
        "show_y_guides": False,
        "show_x_guides": False,
        "show_x_labels": False,
        "legend_at_bottom": True,
        "legend_at_bottom_columns": 1,
        "truncate_label": 22,
        "truncate_legend": 30,
        "margin": 8,
        **extra,
    }


def _render(chart, title: str) -> SafeString:
    chart.add_xml_filter(_without_scripts)
    svg = chart.render(is_unicode=True)
    # The chart is described by its table right after it: the image gets a name, not a second reading.
    svg = svg.replace("<svg ", f'<svg role="img" aria-label="{_attr(title)}" ', 1)
    return mark_safe(svg)  # built by pygal from our numbers, the labels escaped by its XML writer


def _attr(text: str) -> str:
    return str(text).replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


def _number(value) -> str:
    return "" if value is None else format_number(Decimal(str(value)))


def _days(value) -> str:
    return "" if value is None else format_number(Decimal(str(round(value, 1))))


def bars(title: str, labels: Sequence[str], series: Sequence[tuple[str, Sequence]], *,
         money: bool = False, days: bool = False, stacked: bool = False,
         colors: Sequence[str] | None = None) -> SafeString:
    """Horizontal bars, one group per label, one bar per series (the period, the previous one);
    `stacked`: the series stacked in one bar per label; `colors`: the series' colours where they
    mean something (done green, overdue vermillion), else the palette's order. Values printed on
    the bars. "" when there
    is nothing above zero to draw (pygal would draw an axis of noise): the page says so instead."""
    if not any(v for _name, values in series for v in values if v is not None):
        return mark_safe("")
    chart_class = pygal.HorizontalStackedBar if stacked else pygal.HorizontalBar
    formatter: Callable = format_amount if money else _days if days else _number
    groups = 1 if stacked else len(series)
    values = [[float(v or 0) for v in vs] for _name, vs in series]
    top = max(map(sum, zip(*values, strict=True))) if stacked else max(max(vs, default=0) for vs in values)
    chart = chart_class(**_config(len(labels), groups, colors, value_formatter=formatter,
                                  range=(0, top * 1.3),  # room for the value printed after the longest bar
                                  show_legend=len(series) > 1 or stacked,
                                  print_values_position="center" if stacked else "top"))
    chart.title = None
    # pygal draws the first label at the bottom: reversed, the chart reads top-down as the table.
    chart.x_labels = [str(label) for label in reversed(labels)]
    for name, numbers in series:
        chart.add(str(name), [None if v is None else float(v) for v in reversed(list(numbers))])
    return _render(chart, title)


def funnel(title: str, labels: Sequence[str], series: Sequence[tuple[str, Sequence[int]]]) -> SafeString:
    """The funnel as horizontal bars (pygal's Funnel prints no values readably)."""
    return bars(title, labels, series)
