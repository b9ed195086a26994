"""The section «Аналитика»: an index of the five reports and a page each — the filter bar
(analytics.forms.ReportForm), the tabs of the reports, then each report's charts and tables
(analytics.reports), `?format=csv|xlsx` for its file (analytics.export).

Who: whoever `selectors.can_view_reports` lets in — a level on leads or deals covering more than
his own records — sees all five. A manager with «Свои» opens «Менеджеры», where the selectors
show him himself (selectors.reports_for); the other reports get a Russian 403 page."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from . import export, reports, selectors
from .forms import CUSTOM, PRESETS, ReportForm, preset_period, today


def _forbidden(request: HttpRequest) -> HttpResponse:
    return render(request, "analytics/forbidden.html", status=403)


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    allowed = selectors.reports_for(request.user)
    if allowed == ():
        return _forbidden(request)
    if allowed is not None:  # a manager: his one report
        return redirect(f"analytics:{allowed[0]}")
    # The index takes no parameters: each report's page checks its own.
    return render(request, "analytics/index.html", {"tabs": _tabs("", "", None), "errors": []})


@require_GET
def report(request: HttpRequest, name: str) -> HttpResponse:
    allowed = selectors.reports_for(request.user)
    if allowed is not None and name not in allowed:
        return _forbidden(request)
    title, build = reports.REPORTS[name]
    form = ReportForm(request.GET or None, user=request.user)
    if form.is_bound:
        form.is_valid()  # the refused values are dropped below, with a message each
    params = form.params()
    previous = None
    if form.comparing:
        previous = type(params)(**{**params.__dict__, "period": params.period.previous()})
    built = build(request.user, params, previous)
    if form.export_format:
        return export.respond(built, str(title), form.export_format)
    kept = form.kept()
    return render(request, "analytics/report.html", {
        "name": name, "title": title, "form": form, "report": built, "period": params.period,
        "previous": previous.period if previous else None, "errors": form.messages(),
        "tabs": _tabs(_query(kept), name, allowed),
        "presets": _presets(request.path, kept, form.preset),
        "shift_links": _shift_links(request.path, kept, form),
        "export_links": [(label, f"{request.path}?{urlencode({**kept, 'format': fmt})}")
                         for fmt, label in (("xlsx", "Excel (XLSX)"), ("csv", "CSV"))],
        "kept_shift": kept.get("shift", "") if kept.get("period") == form.preset else "",
        # The pipeline matters to the deals' reports only.
        "filter_names": ["responsible", "department", "source", "niche", *(["pipeline"] if name in ("deals", "time") else [])],
    })


def _query(kept: dict) -> str:
    return f"?{urlencode(kept)}" if kept else ""


def _tabs(query: str, current: str, allowed: tuple[str, ...] | None) -> list[dict]:
    return [{"name": key, "label": label, "url": reverse(f"analytics:{key}") + query, "active": key == current}
            for key, (label, _build) in reports.REPORTS.items() if allowed is None or key in allowed]


def _presets(path: str, kept: dict, current: str) -> list[dict]:
    """The preset buttons: each keeps the filters and drops the shift and the dates."""
    links = []
    for value, label in PRESETS:
        if value == CUSTOM:
            continue
        query = {k: v for k, v in kept.items() if k not in ("period", "shift", "start", "end")}
        links.append({"value": value, "label": label, "active": value == current,
                      "url": f"{path}?{urlencode({**query, 'period': value})}"})
    return links


def _shift_links(path: str, kept: dict, form: ReportForm) -> dict | None:
    """«‹» and «›»: the same preset a unit back or ahead (none for «произвольный»; none ahead past today)."""
    preset = form.preset
    if preset == CUSTOM:
        return None
    shift = (form.value("shift") or 0) if form.value("period") == preset else 0
    base = {**kept, "period": preset}

    def url(to: int) -> str:
        query = {**base, "shift": to} if to else {k: v for k, v in base.items() if k != "shift"}
        return f"{path}?{urlencode(query)}"

    later = preset_period(preset, shift + 1)
    return {"back": url(shift - 1), "ahead": url(shift + 1) if later.start <= today() else "",
            "back_label": _("Предыдущий период"), "ahead_label": _("Следующий период")}
