"""The leads list («Список»): filters, search, sorting, pagination, and the bulk actions on the
ticked rows. Every queryset starts at the access gate (leads.selectors.visible_leads); every
change goes through leads.services."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.formats import get_format
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from accounts.models import Action
from crm import boards, lists, phones
from crm.lists import active_users
from crm.money import format_money
from crm.redirects import safe_next

from . import services
from .filters import SORTING, LeadFilter, apply_sort
from .models import IN_PROCESS, Status
from .selectors import list_rows, visible_leads

PER_PAGE = 50
# One bulk action handles at most this many leads (a page has 50; more is a tampered request).
MAX_BULK = 500
# The result message lists at most this many leads that could not be changed.
MAX_LISTED_FAILURES = 20


STATUS_BADGES = {
    Status.NEW: "text-bg-secondary",
    Status.FIRST_CALL: "text-bg-info",
    Status.QUALIFICATION: "text-bg-primary",
    Status.RECONNAISSANCE: "crm-badge-reconnaissance",
    Status.DECISION_MAKER: "text-bg-warning",
    Status.CONVERTED: "text-bg-success",
    Status.JUNK: "text-bg-danger",
}

# (sort key or None, header, CSS classes of the header: less important columns hide on small screens)
COLUMNS = [
    ("title", gettext_lazy("Название лида"), ""),
    ("company", gettext_lazy("Компания"), ""),
    (None, gettext_lazy("Телефон"), ""),
    ("status", gettext_lazy("Статус"), ""),
    (None, gettext_lazy("Источник"), "d-none d-md-table-cell"),
    ("amount", gettext_lazy("Сумма"), "text-end"),
    ("responsible", gettext_lazy("Ответственный"), "d-none d-sm-table-cell"),
    ("created_at", gettext_lazy("Дата создания"), ""),
    ("updated_at", gettext_lazy("Дата изменения"), "d-none d-xxl-table-cell"),
]


@require_GET
def lead_list(request: HttpRequest) -> HttpResponse:
    filterset = LeadFilter(request.GET if lists.filtering(request) else None, queryset=visible_leads(request.user),
                           request=request, panel=lists.panel_asked(request))
    panel = lists.panel_context(request, filterset, [*filterset.owner_fields(), *(filterset.form[name] for name in (
        "source", "responsible", "niche", "client_type", "crm_system")), *filterset.record_filter_fields()],
        [filterset.form["created"], filterset.form["updated"]], extra="leads/_status_filter.html")
    if lists.panel_only(request):
        return render(request, "crm/_filter_panel.html", {
            **panel, "form": filterset.form, "panel_alone": True, "prefix": "lead", "list_url": reverse("leads:list")})
    sort = SORTING.parse(request.GET.get("sort"))
    page = lists.page_of_ids(request, apply_sort(filterset.qs, sort), PER_PAGE, count=filterset.tally_count(),
                             more_than=filterset.more_than())
    # The bulk bar's active users (the panel's own list when it is shown: not read twice) are the
    # rows' responsibles too; a former employee's name is read for the page (crm.lists.attach).
    bulk_users = ([value.instance for value, _label in filterset.form.fields["responsible"].choices if value]
                  if filterset.panel else list(active_users()))
    users = {**{user.pk: user for user in bulk_users}, request.user.pk: request.user}
    leads = list_rows(request.user, page, {"source": filterset.loaded("source"), "responsible": users})
    lists.add_marks(leads)  # the next touch's state (tasks), one query for the page
    # Built once for the page: a `{% url %}` and a `{% blocktranslate %}` a row were a tenth of the list's time.
    detail_head, detail_tail = boards.url_parts("leads:detail")
    select_text = _("Выбрать «%(title)s»")
    day, hour = lists.date_texts(get_format("SHORT_DATE_FORMAT")), lists.date_texts("H:i")
    # get_status_display hashes every choice per call: the labels are translated once instead.
    status_labels = {value: str(label) for value, label in Status.choices}
    for lead in leads:
        lead.status_label = status_labels.get(lead.status, lead.status)
        lead.created_day, lead.created_hour = day(lead.created_at), hour(lead.created_at)
        lead.updated_day, lead.updated_hour = day(lead.updated_at), hour(lead.updated_at)
        lead.list_url = f"{detail_head}{lead.pk}{detail_tail}"
        lead.select_label = select_text % {"title": lead.title}
        lead.phone_display = phones.display(lead.company_phone)
        lead.amount_display = format_money(lead.amount, lead.currency)
        lead.status_badge = STATUS_BADGES.get(lead.status, "text-bg-light")
    return render(request, "leads/lead_list.html", {
        **lists.list_context(filterset, page, SORTING, sort, COLUMNS, rows=leads),
        **panel,
        "leads": leads,
        "bulk_users": bulk_users,
        "bulk_statuses": [(s.value, s.label) for s in IN_PROCESS],
    })


# --- Bulk actions ---

def _ids(request: HttpRequest) -> tuple[set[int], int]:
    """The ticked ids, and how many values were not ids at all."""
    ids, bad = set(), 0
    for raw in request.POST.getlist("ids"):
        raw = raw.strip()
        if raw.isascii() and raw.isdigit() and 0 < int(raw) < 2**63:
            ids.add(int(raw))
        else:
            bad += 1
    return ids, bad


def _back(request: HttpRequest) -> HttpResponse:
    """Back to the list with the filters, sorting and page it was sent from."""
    return safe_next(request, reverse("leads:list"))


def _refuse(request: HttpRequest, text: str) -> HttpResponse:
    messages.error(request, text)
    return _back(request)


@require_POST
def lead_bulk(request: HttpRequest) -> HttpResponse:
    """Assign a responsible to, or move to a status, the ticked leads. The ids are looked up again
    through the gate for «change»: ids of leads the user may not change (or that do not exist)
    are skipped and counted, never acted on."""
    action = request.POST.get("action", "")
    if action not in ("assign", "move"):
        return _refuse(request, _("Неизвестное действие. Выберите «Назначить ответственного» или "
                                  "«Перенести в статус»."))
    ids, bad = _ids(request)
    if not ids:
        return _refuse(request, _("Не выбрано ни одного лида: отметьте лиды в списке галочками."))
    if len(ids) > MAX_BULK:
        return _refuse(request, _("За один раз можно изменить не больше %(max)s лидов.") % {"max": MAX_BULK})

    if action == "assign":
        raw = request.POST.get("responsible", "").strip()
        responsible = None
        if raw.isascii() and raw.isdigit() and int(raw) < 2**63:
            responsible = active_users().filter(pk=int(raw)).first()
        if responsible is None:
            return _refuse(request, _("Выберите ответственного из списка активных сотрудников."))
    else:
        to = request.POST.get("to", "").strip()
        if not to:
            return _refuse(request, _("Выберите статус, в который перенести лиды."))
        if to == Status.JUNK:
            return _refuse(request, _("Массово забраковать лиды нельзя: у каждого нужна причина закрытия. "
                                      "Забракуйте лид в его карточке кнопкой «Забраковать»."))
        if to == Status.CONVERTED:
            return _refuse(request, _("В статус «Успешный» лид переводится только конвертацией из его карточки."))
        if to not in IN_PROCESS:
            return _refuse(request, _("Неизвестный статус «%(to)s». Выберите статус из списка.") % {"to": to[:50]})

    leads = list(
        visible_leads(request.user, Action.CHANGE).filter(pk__in=ids).select_related("responsible").order_by("pk")
    )
    skipped = len(ids) - len(leads) + bad

    if action == "assign":
        report = services.leads_bulk_assign(leads, responsible=responsible, by=request.user)
        _report_assign(request, report, responsible, skipped)
    else:
        already = {lead.pk for lead in leads if lead.status == to}
        report = services.leads_bulk_move(leads, to=to, by=request.user)
        _report_move(request, report, Status(to), skipped, already)
    return _back(request)


def _failures(report: services.BulkReport):
    shown = report.failed[:MAX_LISTED_FAILURES]
    items = format_html_join(
        "", '<li><a href="{}" class="alert-link">{}</a> — {}</li>',
        ((reverse("leads:detail", args=[lead.pk]), lead.title, reason) for lead, reason in shown),
    )
    more = ""
    if len(report.failed) > len(shown):
        more = format_html("<li>{}</li>", _("…и ещё лидов: %(count)s.") % {"count": len(report.failed) - len(shown)})
    return format_html('<ul class="mb-0 mt-1" data-testid="bulk-failures">{}{}</ul>', items, more)


def _skipped_note(skipped: int):
    if not skipped:
        return ""
    return format_html(" {}", _("Пропущено лидов: %(count)s — их нет или у вас нет прав на их изменение.")
                       % {"count": skipped})


def _report_move(request, report: services.BulkReport, to: Status, skipped: int, already: set[int]) -> None:
    moved = [lead for lead in report.done if lead.pk not in already]
    head = _("Перенесено в статус «%(status)s» лидов: %(count)s.") % {"status": to.label, "count": len(moved)}
    if len(report.done) > len(moved):
        head += " " + _("Уже были в этом статусе: %(count)s.") % {"count": len(report.done) - len(moved)}
    if not report.failed:
        level = messages.SUCCESS if moved or not skipped else messages.WARNING
        messages.add_message(request, level, format_html("{}{}", head, _skipped_note(skipped)))
        return
    messages.add_message(
        request, messages.WARNING if report.done else messages.ERROR,
        format_html(
            '<div class="fw-semibold">{}</div><div>{}{}</div>{}', head,
            _("Некоторые лиды не удалось перенести в выбранный статус. Заполните обязательные поля и "
              "перенесите лиды снова."), _skipped_note(skipped), _failures(report),
        ),
    )


def _report_assign(request, report: services.BulkReport, responsible, skipped: int) -> None:
    head = _("Ответственный «%(user)s» назначен лидам: %(count)s.") % {"user": responsible, "count": len(report.done)}
    if not report.failed:
        level = messages.SUCCESS if report.done else messages.WARNING
        messages.add_message(request, level, format_html("{}{}", head, _skipped_note(skipped)))
        return
    messages.add_message(
        request, messages.WARNING if report.done else messages.ERROR,
        format_html('<div class="fw-semibold">{}</div><div>{}{}</div>{}', head,
                    _("Некоторым лидам не удалось назначить ответственного:"), _skipped_note(skipped),
                    _failures(report)),
    )

