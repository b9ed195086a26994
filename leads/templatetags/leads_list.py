"""The leads list's rows as HTML, built in Python.

Why not a template loop: fifty rows of ten cells each are ~800 variable lookups, escapes and tag
renders in Django's template engine — at a million leads a quarter of the list's time, when the
list's own SQL is a few milliseconds (BENCHMARKS.md, issue 13, «Stop 11»). The same markup joined
here from escaped values costs a few microseconds a row (as the deal board's cards:
deals.templatetags.deals_board). The values are those leads.views_list.lead_list prepared and
the next touch's marks (crm.lists.add_marks); tests/leads/test_list_rows.py keeps the markup equal
to the template loop it replaced."""

from django import template
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

from crm.templatetags.crm_tags import esc, marks_html

register = template.Library()


@register.filter
def lead_rows(leads) -> SafeString:
    """The table rows of a page of leads (decorated by leads.views_list.lead_list), in order."""
    texts = {"company": esc(gettext("Компания")), "amount": esc(gettext("Сумма")),
             "responsible": esc(gettext("Ответственный")), "created": esc(gettext("Дата создания"))}
    return mark_safe("".join(_row(lead, texts) for lead in leads))  # every value below is escaped


def _row(lead, t: dict[str, str]) -> str:
    contact = lead.contact_full_name
    phone = lead.company_phone
    responsible = lead.responsible
    return (
        f'<tr data-lead="{lead.pk}">'
        f'<td class="crm-check-col"><input type="checkbox" name="ids" value="{lead.pk}" '
        f'class="form-check-input crm-row-check" aria-label="{esc(lead.select_label)}"></td>'
        f'<td class="crm-title-col"><a href="{esc(lead.list_url)}" class="fw-semibold text-decoration-none">'
        f'{esc(lead.title)}</a>'
        + (f'<div class="small text-body-secondary">{esc(contact)}</div>' if contact else "")
        + marks_html(lead)
        + f'</td><td data-label="{t["company"]}">{esc(lead.company_name)}</td>'
        f'<td class="text-nowrap">'
        + (f'<a href="tel:{esc(phone)}" class="text-decoration-none">{esc(lead.phone_display)}</a>' if phone else "")
        + f'</td><td><span class="badge crm-status-badge {esc(lead.status_badge)}">{esc(lead.status_label)}</span></td>'
        f'<td class="d-none d-md-table-cell">{esc(lead.source)}</td>'
        f'<td class="text-end text-nowrap" data-label="{t["amount"]}">{esc(lead.amount_display)}</td>'
        f'<td class="text-nowrap" data-label="{t["responsible"]}" title="{esc(responsible)}">'
        f'{esc(responsible.short_name)}</td>'
        f'<td class="text-nowrap crm-date-col" data-label="{t["created"]}">{esc(lead.created_day)}'
        f'<div class="small text-body-secondary">{esc(lead.created_hour)}</div></td>'
        f'<td class="text-nowrap d-none d-xxl-table-cell">{esc(lead.updated_day)}'
        f'<div class="small text-body-secondary">{esc(lead.updated_hour)}</div></td>'
        "</tr>\n"
    )
