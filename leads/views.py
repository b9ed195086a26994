"""The lead card, its forms and dialogs. Views parse the request and render; every change goes
through leads.services, every lookup through the access gate (leads.selectors)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts import access
from accounts.models import Action
from crm import cards, dialogs, phones
from crm import duplicates as dup
from crm.display import field_value
from crm.lists import active_users
from crm.timeline_views import timeline_context

from . import services
from .forms import (
    GROUPS,
    TOUCH_DATE,
    ConvertForm,
    DuplicatesForm,
    JunkForm,
    LeadForm,
    group_by_slug,
    requirements_form_class,
)
from .models import CLOSED, IN_PROCESS, ORDER, Lead, Status
from .requirements import checklist, missing_for
from .selectors import lead_for_card, linked_records


def _probe(form, exclude=None) -> dup.Probe:
    data = form.cleaned_data if hasattr(form, "cleaned_data") else {}
    return dup.Probe(
        phones=tuple(p for p in (data.get("company_phone"), data.get("contact_phone")) if p),
        emails=tuple(e.lower() for e in (data.get("company_email"), data.get("contact_email")) if e),
        inn=data.get("inn") or "",
        company_name=data.get("company_name") or "",
        exclude=exclude,
    )


def lead_create(request):
    if not access.can_add(request.user, Lead):
        raise PermissionDenied(_("Нет прав на создание лидов."))
    form = LeadForm(request.POST or None, initial={"responsible": request.user, "source": None},
                    responsible_choices=active_users())
    matches = []
    if request.method == "POST" and form.is_valid():
        matches = dup.find(request.user, _probe(form))
        if not matches or form.cleaned_data["save_anyway"]:
            data, m2m = form.split()
            try:
                lead = services.lead_create(data=data, m2m=m2m, by=request.user, duplicates=matches)
            except services.MissingFields as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("Лид «%(title)s» создан.") % {"title": lead.title})
                return redirect("leads:detail", pk=lead.pk)
    return render(request, "leads/lead_form.html", {"form": form, "matches": matches, "lead": None})


def lead_edit(request, pk):
    lead = lead_for_card(request.user, pk, Action.CHANGE)
    form = LeadForm(request.POST or None, instance=lead, responsible_choices=active_users())
    matches = []
    if request.method == "POST" and form.is_valid():
        saved, matches = _save_edit(request, lead, form)
        if saved:
            messages.success(request, _("Изменения сохранены."))
            if _touch_date_kept(form, saved):
                messages.warning(request, TOUCH_DATE_KEPT)
            return redirect("leads:detail", pk=lead.pk)
    return render(request, "leads/lead_form.html", {"form": form, "matches": matches, "lead": lead})


TOUCH_DATE_KEPT = gettext_lazy("«Дата следующего касания» не очищена: на неё запланировано дело. Завершите или "
                               "перенесите его в панели «Дела» — дата последует за ним.")


def _touch_date_kept(form, saved: Lead) -> bool:
    """The date was cleared while a touch is planned: the touch stays and the date with it
    (tasks_app.touches), and the user is told why."""
    return TOUCH_DATE in form.changed_data and form.cleaned_data.get(TOUCH_DATE) is None and saved.next_touch_date is not None


def _save_edit(request, lead: Lead, form: LeadForm) -> tuple[Lead | None, list]:
    """Save a valid edit form — the whole lead's or one card group's — with the edit page's rules:
    a duplicate warning when the contact fields changed into a match (until «Сохранить всё
    равно»), the version check, the current status's requirements. Returns the saved lead, or None
    and the matches to warn about; a refusal is put on the form."""
    # Searched only when it can matter: an edit of the fields duplicates are found by (a warning),
    # or «Сохранить всё равно» (the history records what was seen).
    save_anyway = form.cleaned_data["save_anyway"]
    matches = (dup.find(request.user, _probe(form, exclude=("lead", lead.pk)))
               if save_anyway or _duplicates_changed(form) else [])
    if matches and not save_anyway:
        return None, matches
    data, m2m = form.split()
    try:
        saved = services.lead_update(lead, data=data, m2m=m2m, by=request.user,
                                     version=form.cleaned_data.get("version") or 0,
                                     duplicates=matches if save_anyway else ())
    except (services.StaleEdit, services.MissingFields) as exc:
        form.add_error(None, str(exc))
        return None, []
    return saved, []


def _duplicates_changed(form) -> bool:
    fields = ("company_phone", "contact_phone", "company_email", "contact_email", "inn", "company_name")
    return any(name in form.changed_data for name in fields)


@require_POST
def duplicates(request):
    """htmx: possible duplicates for the values being typed into the create/edit form — only for a
    user who may add or change leads (see crm.duplicates for what he is told)."""
    if not dup.may_check(request.user, Lead):
        raise PermissionDenied(_("Нет прав на создание лидов."))
    form = LeadForm(request.POST)
    form.is_valid()  # partial data is fine: only the cleaned contact fields are used
    lead_id = DuplicatesForm(request.POST)
    exclude = ("lead", lead_id.cleaned_data["lead_id"]) if lead_id.is_valid() and lead_id.cleaned_data["lead_id"] else None
    matches = dup.find(request.user, _probe(form, exclude=exclude))
    return render(request, "crm/_duplicates.html", {"matches": matches})


def status_bar(lead: Lead, user) -> list[dict]:
    current = ORDER.index(lead.status)
    can_change = access.can(user, Action.CHANGE, lead)
    steps = []
    for i, status in enumerate(ORDER):
        if status == Status.CONVERTED:
            # «Успешный» opens the conversion dialog (contact/company/deal), from «Выход на ЛПР» only.
            clickable = can_change and lead.status == Status.DECISION_MAKER
        elif status == Status.JUNK:
            clickable = can_change and lead.status in IN_PROCESS
        elif lead.status in CLOSED:
            clickable = can_change and services.is_supervisor(user)
        else:
            clickable = can_change and status != lead.status
        steps.append({"status": status, "label": status.label, "clickable": clickable,
                      "state": "current" if i == current else ("done" if i < current and status in IN_PROCESS
                                                               and lead.status in IN_PROCESS else "todo")})
    return steps


def _group_view(lead: Lead, slug: str, label, names) -> dict:
    # The group showing «Дата следующего касания» reloads itself when a touch is planned or
    # completed on the card (the «Дела» panel's touchesChanged).
    return {"slug": slug, "label": label, "rows": [field_value(lead, name) for name in names],
            "follows_touches": TOUCH_DATE in names}


def _card_context(request, lead: Lead) -> dict:
    return {
        **timeline_context(request, lead),
        "lead": lead,
        "groups": [_group_view(lead, *entry) for entry in GROUPS],
        "steps": status_bar(lead, request.user),
        "checklist": checklist(lead),
        "linked": linked_records(request.user, lead),
        "panels": cards.panels_for(request.user, lead),  # what other apps show (tasks: «Дела»)
    }


def lead_detail(request, pk):
    lead = lead_for_card(request.user, pk)
    return render(request, "leads/lead_detail.html", _card_context(request, lead))


def lead_group(request, pk, slug):
    """htmx: one group of the card in view mode («Отмена» of its in-place form)."""
    lead = lead_for_card(request.user, pk, Action.CHANGE)
    entry = group_by_slug(slug)
    if not request.htmx:
        return redirect("leads:detail", pk=lead.pk)
    return render(request, "leads/_group.html", {"lead": lead, "group": _group_view(lead, *entry), "can_change": True})


def lead_group_edit(request, pk, slug):
    """One group of the card edited in place (htmx): opening it reads the current lead, so its
    version is fresh; saving goes through the edit page's rules (_save_edit) and answers with the
    group in view mode plus the header, checklist and timeline swapped out of band. Without
    JavaScript the card links to the edit page instead; a plain POST still works."""
    lead = lead_for_card(request.user, pk, Action.CHANGE)
    entry = group_by_slug(slug)
    if request.method != "POST" and not request.htmx:
        return redirect(reverse("leads:edit", args=[lead.pk]) + f"#group-{slug}")
    form = LeadForm(request.POST if request.method == "POST" else None, instance=lead,
                    responsible_choices=active_users(), group=entry)
    matches = []
    if form.is_bound and form.is_valid():
        saved, matches = _save_edit(request, lead, form)
        if saved:
            notice = TOUCH_DATE_KEPT if _touch_date_kept(form, saved) else ""
            if not request.htmx:
                messages.success(request, _("Изменения сохранены."))
                if notice:
                    messages.warning(request, notice)
                return redirect("leads:detail", pk=lead.pk)
            lead = lead_for_card(request.user, pk)
            return render(request, "leads/_group_saved.html", {
                **timeline_context(request, lead), "lead": lead, "group": _group_view(lead, *entry),
                "checklist": checklist(lead), "oob": True, "notice": notice})
    context = {"lead": lead, "form": form, "matches": matches, "group": {"slug": slug, "label": entry[1]}}
    if not request.htmx:
        return render(request, "leads/lead_group_page.html", context)
    return render(request, "leads/_group_form.html", context)


def _moved(request, lead: Lead, source: str):
    text = _("Лид «%(title)s» переведён в статус «%(status)s».") % {"title": lead.title, "status": lead.get_status_display()}
    return dialogs.moved(request, lead, event="lead-moved", source=source, to=lead.status, message=text)


def _dialog(request, template: str, context: dict):
    return dialogs.dialog(request, template, context, record=context["lead"])


def _refused(request, lead: Lead, message: str):
    return dialogs.refused(request, lead, message, title=_("Статус не изменён"), context={"lead": lead})


def lead_move(request, pk):
    """Move to `to`. When the target's rules are not met the lead stays and the answer is the
    «Для изменения статуса лида заполните обязательные поля» dialog with exactly the missing
    fields; submitting it valid saves them and moves the lead in one transaction."""
    lead = lead_for_card(request.user, pk, Action.CHANGE)
    to = request.POST.get("to") or request.GET.get("to") or ""
    if to not in Status.values:
        return _refused(request, lead, _("Неизвестный статус «%(to)s».") % {"to": to[:50]})
    if to == Status.JUNK:
        return lead_junk(request, pk)
    if to == Status.CONVERTED:
        return lead_convert(request, pk)
    source = lead.status
    missing = missing_for(lead, to) if lead.status in IN_PROCESS else []
    form_class = requirements_form_class(missing)
    if request.method == "POST" and request.POST.get("dialog") and missing:
        form = form_class(request.POST, instance=lead)
        if form.is_valid():
            data, m2m = form.split()
            return _try_move(request, lead, source, to, form, data=data, m2m=m2m,
                             pinned_comment=form.cleaned_data.get("pinned_comment", ""))
    elif request.method == "POST" and not missing:
        return _try_move(request, lead, source, to, None)
    else:
        form = form_class(instance=lead, initial={"to": to})
    return _dialog(request, "leads/_missing_fields.html",
                   {"lead": lead, "form": form, "to": Status(to), "missing": missing})


def _try_move(request, lead, source, to, form, **kwargs):
    try:
        lead = services.lead_move(lead, to=to, by=request.user, **kwargs)
    except services.MissingFields as exc:
        # The rules changed between the dialog and the save: ask again for what is missing now.
        form = requirements_form_class(exc.requirements)(request.POST if form else None, instance=lead,
                                                         initial={"to": to})
        return _dialog(request, "leads/_missing_fields.html",
                       {"lead": lead, "form": form, "to": Status(to), "missing": exc.requirements})
    except (services.LeadError, PermissionDenied) as exc:
        return _refused(request, lead, str(exc))
    return _moved(request, lead, source)


def lead_junk(request, pk):
    """«Забраковать»: close the lead as «Не успешный» with a reason."""
    lead = lead_for_card(request.user, pk, Action.CHANGE)
    form = JunkForm(request.POST if request.method == "POST" and request.POST.get("dialog") else None)
    if form.is_bound and form.is_valid():
        source = lead.status
        try:
            lead = services.lead_junk(lead, reason=form.cleaned_data["junk_reason"], by=request.user,
                                      comment=form.cleaned_data["comment"])
        except (services.LeadError, PermissionDenied) as exc:
            return _refused(request, lead, str(exc))
        return _moved(request, lead, source)
    return _dialog(request, "leads/_junk.html", {"lead": lead, "form": form})


def lead_convert(request, pk):
    """«Успешный»: choose what to create (contact, company, deal and its pipeline) with a preview
    of the values each gets and of the existing records that will be reused; one transaction."""
    lead = lead_for_card(request.user, pk, Action.CHANGE)
    if lead.status != Status.DECISION_MAKER:
        return _refused(request, lead, _("Лид становится «Успешным» только из статуса «Выход на ЛПР»."))
    bound = request.method == "POST" and request.POST.get("dialog")
    form = ConvertForm(request.POST if bound else None, user=request.user, lead=lead)
    if bound and form.is_valid():
        source = lead.status
        try:
            result = services.lead_convert(lead, by=request.user, **form.conversion())
        except (services.LeadError, PermissionDenied) as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Лид сконвертирован."))
            if result.deal is not None and not request.htmx:
                return redirect(result.deal.get_absolute_url())
            return _moved(request, result.lead, source)
    return _dialog(request, "leads/_convert.html", {"lead": lead, "form": form,
                                                     "preview": conversion_preview(lead, request.user)})


def _existing_view(user, existing, model) -> dict:
    """What the dialog says about the record conversion would find — the same answer the service
    acts on (clients.selectors): reused, or a new one with the match flagged. A match the user may
    not see is told as the duplicate warnings tell it, and only to a user who may add such records."""
    if existing.record is not None:
        return {"reused": existing.record}
    visible = [r for r in existing.others if access.can(user, Action.VIEW, r)]
    if visible:
        return {"not_changeable": visible[0]}
    if existing.others and access.can_add(user, model):
        return {"hidden": dup.hidden_notice(existing.others[0])}
    return {}


def conversion_preview(lead: Lead, user) -> dict:
    """What each record would get, and the existing company/contact conversion would reuse."""
    from clients import selectors as clients
    from clients.models import Company, Contact

    company = clients.conversion_company(user, inn=lead.inn, name=lead.company_name, phones_e164=[lead.company_phone])
    contact = clients.conversion_contact(user, phones_e164=[lead.contact_phone], emails=[lead.contact_email])
    return {
        "existing_company": _existing_view(user, company, Company),
        "existing_contact": _existing_view(user, contact, Contact),
        "company": [(_("Название компании"), lead.company_name or lead.title), (_("ИНН"), lead.inn),
                    (_("Телефон"), phones.display(lead.company_phone)), (_("E-mail"), lead.company_email),
                    (_("Ниша компании"), lead.niche), (_("Тип клиента"), lead.client_type)],
        "contact": [(_("ФИО"), lead.contact_full_name), (_("Должность"), lead.contact_position),
                    (_("Телефон"), phones.display(lead.contact_phone)), (_("E-mail"), lead.contact_email)],
        # The deal's amount is not here: the dialog's «Сумма» field shows it, prefilled from the lead.
        "deal": [(_("Название"), lead.title), (_("Источник"), lead.source),
                 (_("Товары/услуги"), ", ".join(str(p) for p in lead.products_to_sell.all()))],
    }
