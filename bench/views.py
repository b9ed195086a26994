"""The benchmark's yardstick: the least a Django page can do to show the 50 rows the leads list
shows by default. Same middleware, session and user lookups as any page; one query with the same
joins as the list (leads.selectors.ROW_RELATED); a trivial table rendered by Django's template
engine from a string, without context processors, filters, counts or pagination.

It reads Lead.objects with no access gate: for the admin these are exactly the list's rows; for
the head of sales (who does not see the admin's own leads) nearly the same rows."""

from functools import cache

from django.http import HttpRequest, HttpResponse
from django.template import engines

from leads.models import Lead
from leads.selectors import ROW_RELATED

ROWS = 50

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


@cache
def _template():
    return engines["django"].from_string(SOURCE)


def minimal_leads(request: HttpRequest) -> HttpResponse:
    leads = Lead.objects.select_related(*ROW_RELATED).order_by("-created_at", "-pk")[:ROWS]
    return HttpResponse(_template().render({"leads": leads}))
