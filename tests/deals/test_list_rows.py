"""The deals list's rows are built in Python (deals.templatetags.deals_list): the markup must stay
what the template loop it replaced printed, every value escaped."""

import datetime as dt

from django.template import engines
from django.urls import reverse

from clients.models import Company
from crm.lists import Mark
from deals.templatetags.deals_list import deal_rows
from tests.factories import DealFactory, UserFactory, ref

HOSTILE = "<script>alert(\"x\")</script> & 'кавычки' «ёлки»"

# The loop of deals/deal_list.html before the rows were built in Python (whitespace between tags dropped).
OLD_ROWS = (
    '{% load i18n %}{% translate "Компания" as t_company %}{% translate "Сумма" as t_amount %}'
    '{% translate "Ответственный" as t_responsible %}{% translate "Дата закрытия" as t_close %}'
    '{% translate "Нет доступа" as t_no_access %}'
    '{% for deal in deals %}<tr data-deal="{{ deal.pk }}">'
    '<td class="deals-title-col"><a href="{{ deal.list_url }}" class="fw-semibold text-decoration-none">'
    '{{ deal.title }}</a><div class="small text-body-secondary">{{ deal.pipeline.name }}</div>'
    '{% for mark in deal.marks %}<div class="small {{ mark.css }}" title="{{ mark.title }}" '
    'data-testid="{{ mark.testid }}">{{ mark.text }}</div>{% endfor %}</td>'
    '<td data-label="{{ t_company }}">{% if deal.company_visible %}{{ deal.company.name }}'
    '{% elif deal.company_id %}<span class="text-body-secondary small">{{ t_no_access }}</span>{% endif %}</td>'
    '<td><span class="deals-stage-badge" style="--stage-color: {{ deal.current_stage.color }}">'
    '{{ deal.current_stage.name }}</span></td>'
    '<td class="text-end text-nowrap" data-label="{{ t_amount }}">{{ deal.amount_display }}</td>'
    '<td class="text-nowrap" data-label="{{ t_responsible }}" title="{{ deal.responsible }}">'
    '{{ deal.responsible.short_name }}</td>'
    '<td data-label="{{ t_close }}" class="text-nowrap{% if deal.close_overdue %} text-danger fw-semibold{% endif %}">'
    '{{ deal.close_day }}</td>'
    '<td class="d-none d-xl-table-cell">{{ deal.source|default:"" }}</td>'
    '<td class="d-none d-lg-table-cell text-nowrap">{{ deal.created_day }}</td></tr>\n{% endfor %}'
)


def test_it_prints_the_rows_the_template_printed_with_hostile_text_escaped(client, owner):
    company = Company.objects.create(name=HOSTILE, responsible=owner)
    villain = UserFactory(first_name=HOSTILE, last_name="<b>Злой</b>", department=owner.department)
    DealFactory(title=HOSTILE, company=company, responsible=owner, source=ref("Source"),
                close_date=dt.date(2020, 1, 1))
    DealFactory(title="Без компании", responsible=owner)
    DealFactory(title="Чужая компания", company=company, responsible=owner)
    client.force_login(owner)
    response = client.get(reverse("deals:list"))
    assert response.status_code == 200
    deals = sorted(response.context["deals"], key=lambda d: d.title)
    assert len(deals) == 3
    assert any(d.close_overdue for d in deals)
    # What the rows get from elsewhere, hostile too: a mark, a responsible's name, a hidden company.
    deals[0].marks = [Mark(text=HOSTILE, css='x" onclick="y', title=HOSTILE, testid="<t>")]
    deals[1].responsible = villain
    next(d for d in deals if d.title == "Чужая компания").company_visible = False

    built = deal_rows(deals)

    assert built == engines["django"].from_string(OLD_ROWS).render({"deals": deals})
    assert "<script>" not in built and "<b>" not in built and 'x" onclick' not in built
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#x27;кавычки&#x27;" in built
    assert "Нет доступа" in built and "text-danger fw-semibold" in built
