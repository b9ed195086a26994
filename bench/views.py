"""The benchmarks' yardsticks: the least a Django page can do to show the 50 rows a list shows by
default. Same middleware, session and user lookups as any page; one query with the joins the
list had when issue 13 set its targets (LEAD_RELATED; deals and companies: their lists' joins,
plus, for companies, the prefetch of their phones and e-mails, which the list shows); a trivial
table rendered by Django's template engine from a string, without context processors, filters,
counts or pagination.

They read the models with no access gate: for the admin these are exactly the list's rows; for
the head of sales (who does not see the admin's own records) nearly the same rows.

- minimal_leads (/bench/minimal/): the leads list's rows (scripts/bench_leads.py);
- minimal_deals (/bench/minimal/deals/): the deals list's rows (scripts/bench_deals.py);
- minimal_companies (/bench/minimal/companies/): the companies list's rows (scripts/bench_deals.py);
- minimal_rest_leads (/bench/minimal/rest/): crm.lead.list's rows as JSON (scripts/bench_rest.py);
- minimal_rows (/bench/minimal/rows/?n=N): N rows of a bare table (scripts/bench_analytics.py's
  «× bare table» column);
- minimal_report (/bench/minimal/report/?n=N&charts=…): the yardstick of a report
  (scripts/bench_analytics.py): its N table rows and its charts, fixed figures, in the CRM's layout.
"""

import re
from functools import cache

from django.contrib.auth.decorators import login_not_required
from django.db.models import F
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import engines
from django.utils import timezone
from django.utils.safestring import mark_safe

from clients.models import Company
from clients.selectors import COMPANY_ROW_RELATED
from deals.models import Deal
from deals.selectors import ROW_RELATED as DEAL_ROW_RELATED
from leads.models import Lead

ROWS = 50

# The leads' yardstick joins what the list joined when issue 13 set its targets against «the same
# minimal 50-row view»: the list's rows no longer join these tables (leads.selectors.list_rows takes
# the source and responsible from its filter panel), but the yardstick stays what the targets were
# measured against, so that a ratio moves only when a page does.
LEAD_RELATED = ("source", "responsible", "niche", "client_type", "crm_system")

SOURCE = """<!doctype html>
<html lang="ru"><head><meta charset="utf-8"><title>Лиды</title></head><body>
<table>
<thead><tr><th>Название лида</th><th>Компания</th><th>Телефон</th><th>Статус</th><th>Источник</th><th>Сумма</th>
<th>Ответственный</th><th>Дата создания</th><th>Дата изменения</th></tr></thead>
<tbody>
{% for lead in leads %}<tr data-lead="{{ lead.pk }}"><td>{{ lead.title }}</td><td>{{ lead.company_name }}</td>
<td>{{ lead.company_phone }}</td><td>{{ lead.get_status_display }}</td><td>{{ lead.source }}</td>
<td>{{ lead.amount }} {{ lead.currency }}</td><td>{{ lead.responsible.short_name }}</td>
<td>{{ lead.created_at|date:"d.m.Y H:i" }}</td><td>{{ lead.updated_at|date:"d.m.Y H:i" }}</td></tr>
{% endfor %}</tbody>
</table>
</body></html>
"""

# The deals list's eight columns (the stage's name comes with the row, by a join).
DEALS_SOURCE = """<!doctype html>
<html lang="ru"><head><meta charset="utf-8"><title>Сделки</title></head><body>
<table>
<thead><tr><th>Название</th><th>Компания</th><th>Стадия</th><th>Сумма</th><th>Ответственный</th>
<th>Дата закрытия</th><th>Источник</th><th>Дата создания</th></tr></thead>
<tbody>
{% for deal in deals %}<tr data-deal="{{ deal.pk }}"><td>{{ deal.title }}<div>{{ deal.pipeline.name }}</div></td>
<td>{{ deal.company.name|default:"" }}</td><td>{{ deal.stage_name }}</td><td>{{ deal.amount }} {{ deal.currency }}</td>
<td>{{ deal.responsible.short_name }}</td><td>{{ deal.close_date|date:"d.m.Y" }}</td><td>{{ deal.source|default:"" }}</td>
<td>{{ deal.created_at|date:"d.m.Y" }}</td></tr>
{% endfor %}</tbody>
</table>
</body></html>
"""

# The companies list's six columns (phones and e-mails as stored, not formatted).
COMPANIES_SOURCE = """<!doctype html>
<html lang="ru"><head><meta charset="utf-8"><title>Компании</title></head><body>
<table>
<thead><tr><th>Название компании</th><th>ИНН</th><th>Телефон</th><th>E-mail</th><th>Ответственный</th>
<th>Дата создания</th></tr></thead>
<tbody>
{% for company in companies %}<tr data-company="{{ company.pk }}"><td>{{ company.name }}<div>{{ company.niche|default:"" }}
{{ company.client_type|default:"" }}</div></td><td>{{ company.inn }}</td>
<td>{% for c in company.communications.all %}{% if c.kind == "phone" %}<div>{{ c.value }}</div>{% endif %}{% endfor %}</td>
<td>{% for c in company.communications.all %}{% if c.kind == "email" %}<div>{{ c.value }}</div>{% endif %}{% endfor %}</td>
<td>{{ company.responsible.short_name }}</td><td>{{ company.created_at|date:"d.m.Y" }}</td></tr>
{% endfor %}</tbody>
</table>
</body></html>
"""


@cache
def _template(source: str = SOURCE):
    return engines["django"].from_string(source)


def minimal_leads(request: HttpRequest) -> HttpResponse:
    leads = Lead.objects.select_related(*LEAD_RELATED).order_by("-created_at", "-pk")[:ROWS]
    return HttpResponse(_template().render({"leads": leads}))


def minimal_deals(request: HttpRequest) -> HttpResponse:
    # Never select_related("stage") (deals.selectors): the stage's name is joined as a value.
    deals = (Deal.objects.select_related(*DEAL_ROW_RELATED).annotate(stage_name=F("stage__name"))
             .order_by("-created_at", "-pk")[:ROWS])
    return HttpResponse(_template(DEALS_SOURCE).render({"deals": deals}))


def minimal_companies(request: HttpRequest) -> HttpResponse:
    companies = (Company.objects.select_related(*COMPANY_ROW_RELATED).prefetch_related("communications")
                 .order_by("name", "pk")[:ROWS])
    return HttpResponse(_template(COMPANIES_SOURCE).render({"companies": companies}))


REST_MAX_ROWS = 5000


@login_not_required  # as the webhook's URL: its code is the credential, there is no session
def minimal_rest_leads(request: HttpRequest) -> JsonResponse:
    """The yardstick of crm.lead.list (scripts/bench_rest.py): `count` leads (50 by default) in
    order of id, from `start` (an OFFSET, with the total counted, as a list page answers) or
    after the id `after` (keyset, no count), as Bitrix24's answer with the ten fields the benchmark
    selects, values as strings and dates ISO 8601 in the site's zone. No webhook, no access gate,
    no parameter parsing, no field map: the least that reads and writes the same rows."""
    count = min(int(request.GET.get("count", ROWS)), REST_MAX_ROWS)
    leads = Lead.objects.order_by("pk").values_list(
        "pk", "title", "status", "source_id", "responsible_id", "amount", "currency", "company_name", "created_at",
        "updated_at")
    answer = {}
    if "after" in request.GET:
        rows = leads.filter(pk__gt=int(request.GET["after"]))[:count]
    else:
        start = int(request.GET.get("start", 0))
        rows = leads[start:start + count]
        answer["total"] = Lead.objects.count()
    zone = timezone.get_current_timezone()

    def text(value):
        return None if value is None else str(value)

    answer["result"] = [
        {"ID": str(pk), "TITLE": title, "STATUS_ID": status, "SOURCE_ID": text(source), "ASSIGNED_BY_ID": text(user),
         "OPPORTUNITY": text(amount), "CURRENCY_ID": currency, "COMPANY_TITLE": company,
         "DATE_CREATE": created.astimezone(zone).isoformat(), "DATE_MODIFY": updated.astimezone(zone).isoformat()}
        for pk, title, status, source, user, amount, currency, company, created, updated in rows]
    return JsonResponse(answer)


ROWS_SOURCE = """<!doctype html>
<html lang="ru"><head><meta charset="utf-8"><title>Отчёт</title></head><body>
<table>
<thead><tr><th>Строка</th><th>Название</th><th>Число</th></tr></thead>
<tbody>
{% for pk, title, number in rows %}<tr data-row="{{ pk }}"><td>{{ pk }}</td><td>{{ title }}</td><td>{{ number }}</td></tr>
{% endfor %}</tbody>
</table>
</body></html>
"""
MAX_REPORT_ROWS = 1000


def minimal_rows(request: HttpRequest) -> HttpResponse:
    """A report's yardstick: `n` result rows read by primary key (an index read of n rows, what a
    tiny table of the report's figures would cost) and rendered as a table."""
    n = max(0, min(int(request.GET.get("n", 10)), MAX_REPORT_ROWS))
    rows = Lead.objects.order_by("pk").values_list("pk", "title", "amount")[:n]
    return HttpResponse(_template(ROWS_SOURCE).render({"rows": rows}))


# The report's yardstick: the page a report would be if its figures were ready in a tiny table —
# the CRM's layout (menu, context processors, the logged-in user), the report's charts drawn by
# analytics.charts with the same number of charts, bars and series (fixed figures), and its
# table rows. The «Мой день» numbers are an htmx fragment: their yardstick is a fragment too.
REPORT_SOURCE = """{% extends "base.html" %}{% load static %}
{% block title %}Отчёт{% endblock %}{% block page_title %}Аналитика{% endblock %}
{% block content %}<link rel="stylesheet" href="{% static 'css/analytics.css' %}">
<div class="row g-3 mb-3 crm-report-charts">
{% for title, svg in charts %}<figure class="col-12 col-xl-6 mb-0"><div class="card h-100"><div class="card-body">
<figcaption class="fw-semibold mb-2">{{ title }}</figcaption>
{% if svg %}<div class="crm-chart">{{ svg }}</div>{% else %}<p class="text-body-secondary mb-0">Нечего показать.</p>{% endif %}
</div></div></figure>
{% endfor %}</div>
<div class="card"><div class="table-responsive"><table class="table table-sm align-middle mb-0">
<thead class="table-light"><tr><th scope="col">Строка</th><th scope="col">Название</th><th scope="col" class="text-end">Число</th></tr></thead>
<tbody>
{% for pk, title, number in rows %}<tr data-row="{{ pk }}"><th scope="row" class="fw-normal">{{ pk }}</th><td>{{ title }}</td><td class="text-end">{{ number }}</td></tr>
{% endfor %}</tbody>
</table></div></div>
{% endblock %}
"""
FRAGMENT_SOURCE = """<section class="card mb-3"><div class="card-body py-2 d-flex flex-wrap gap-2 gap-md-4">
{% for pk, title, number in rows %}<a href="/analytics/" data-row="{{ pk }}" class="text-decoration-none text-body d-flex flex-column px-1"><span class="fs-5 fw-semibold">{{ number }}</span><span class="small text-body-secondary">{{ title }}</span></a>
{% endfor %}</div></section>
"""
CHART = re.compile(r"^(\d+)x(\d+)([smde]*)$")


def _rows(n: int) -> list[tuple]:
    """n rows read by primary key from a tiny table (the sources dictionary), repeated as needed."""
    from crm.models import Source

    found = list(Source.objects.order_by("pk").values_list("pk", "name")[:n])
    if not found:
        return [(i, "—", i) for i in range(1, n + 1)]
    return [(i + 1, found[i % len(found)][1], (i + 1) * 7) for i in range(n)]


def _chart(spec: str, labels: list[str]):
    """A chart of `spec` «LxS[flags]»: L labels × S series; s stacked, m money, d days, e empty
    (the report drew nothing: no figure above zero)."""
    from analytics import charts

    count, series, flags = CHART.match(spec).groups()
    if "e" in flags:
        return mark_safe("")
    count, series = int(count), int(series)
    names = [labels[i % len(labels)] if labels else f"Строка {i + 1}" for i in range(count)]
    return charts.bars("График", names, [(f"Ряд {s + 1}", [(i + 1) * (s + 2) for i in range(count)])
                                       for s in range(series)],
                       stacked="s" in flags, money="m" in flags, days="d" in flags)


def minimal_report(request: HttpRequest) -> HttpResponse:
    """A report's yardstick: `n` table rows and the charts `charts` (comma-separated «LxS[flags]»,
    see _chart), in the base layout; `fragment=1`: the rows as an htmx fragment, no layout."""
    n = max(0, min(int(request.GET.get("n", 10)), MAX_REPORT_ROWS))
    rows = _rows(n)
    if request.GET.get("fragment"):
        return HttpResponse(_template(FRAGMENT_SOURCE).render({"rows": rows}))
    specs = [spec for spec in request.GET.get("charts", "").split(",") if spec]
    labels = [title for _pk, title, _number in rows]
    drawn = [(f"График {i + 1}", _chart(spec, labels)) for i, spec in enumerate(specs)]
    return HttpResponse(_template(REPORT_SOURCE).render({"rows": rows, "charts": drawn}, request))
