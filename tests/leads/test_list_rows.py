"""The leads list's rows are built in Python (leads.templatetags.leads_list): the markup must stay
what the template loop it replaced printed, every value escaped."""

from django.template import engines
from django.urls import reverse

from crm.lists import Mark
from leads.templatetags.leads_list import lead_rows
from tests.factories import LeadFactory, UserFactory, ref

HOSTILE = "<script>alert(\"x\")</script> & 'кавычки' «ёлки»"

# The loop of leads/lead_list.html before the rows were built in Python (whitespace between tags dropped).
OLD_ROWS = (
    '{% load i18n %}{% translate "Компания" as t_company %}{% translate "Сумма" as t_amount %}'
    '{% translate "Ответственный" as t_responsible %}{% translate "Дата создания" as t_created %}'
    '{% for lead in leads %}<tr data-lead="{{ lead.pk }}">'
    '<td class="crm-check-col"><input type="checkbox" name="ids" value="{{ lead.pk }}" '
    'class="form-check-input crm-row-check" aria-label="{{ lead.select_label }}"></td>'
    '<td class="crm-title-col"><a href="{{ lead.list_url }}" class="fw-semibold text-decoration-none">'
    '{{ lead.title }}</a>'
    '{% if lead.contact_full_name %}<div class="small text-body-secondary">{{ lead.contact_full_name }}</div>{% endif %}'
    '{% for mark in lead.marks %}<div class="small {{ mark.css }}" title="{{ mark.title }}" '
    'data-testid="{{ mark.testid }}">{{ mark.text }}</div>{% endfor %}</td>'
    '<td data-label="{{ t_company }}">{{ lead.company_name }}</td>'
    '<td class="text-nowrap">{% if lead.company_phone %}<a href="tel:{{ lead.company_phone }}" '
    'class="text-decoration-none">{{ lead.phone_display }}</a>{% endif %}</td>'
    '<td><span class="badge crm-status-badge {{ lead.status_badge }}">{{ lead.status_label }}</span></td>'
    '<td class="d-none d-md-table-cell">{{ lead.source }}</td>'
    '<td class="text-end text-nowrap" data-label="{{ t_amount }}">{{ lead.amount_display }}</td>'
    '<td class="text-nowrap" data-label="{{ t_responsible }}" title="{{ lead.responsible }}">'
    '{{ lead.responsible.short_name }}</td>'
    '<td class="text-nowrap crm-date-col" data-label="{{ t_created }}">{{ lead.created_day }}'
    '<div class="small text-body-secondary">{{ lead.created_hour }}</div></td>'
    '<td class="text-nowrap d-none d-xxl-table-cell">{{ lead.updated_day }}'
    '<div class="small text-body-secondary">{{ lead.updated_hour }}</div></td></tr>\n{% endfor %}'
)


def test_it_prints_the_rows_the_template_printed_with_hostile_text_escaped(client, owner):
    villain = UserFactory(first_name=HOSTILE, last_name="<b>Злой</b>", department=owner.department)
    LeadFactory(title=HOSTILE, company_name=HOSTILE, company_phone="+79120000001", responsible=owner,
                contact_last_name="<i>Кузнецов</i>", contact_first_name=HOSTILE,
                source=ref("Source", "Холодный звонок"))
    LeadFactory(title="Простой", company_name="", company_phone="", responsible=owner)
    client.force_login(owner)
    response = client.get(reverse("leads:list"))
    assert response.status_code == 200
    leads = response.context["leads"]
    assert len(leads) == 2
    # What the rows get from elsewhere, hostile too: a mark of a feature app, a responsible's name.
    leads[0].marks = [Mark(text=HOSTILE, css='x" onclick="y', title=HOSTILE, testid="<t>")]
    leads[1].responsible = villain

    built = lead_rows(leads)

    assert built == engines["django"].from_string(OLD_ROWS).render({"leads": leads})
    assert "<script>" not in built and "<b>" not in built and "<i>" not in built and 'x" onclick' not in built
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#x27;кавычки&#x27;" in built
    assert "+7 (912) 000-00-01" in built


def test_the_page_shows_the_built_rows(client, owner):
    lead = LeadFactory(title=HOSTILE, responsible=owner)
    client.force_login(owner)
    page = client.get(reverse("leads:list")).content.decode()
    assert f'<tr data-lead="{lead.pk}">' in page
    assert "&lt;script&gt;alert" in page and "<script>alert" not in page
