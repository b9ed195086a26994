"""Companies and contacts: lists, cards, create/edit forms and the live duplicate check. Views
parse the request and render; every change goes through clients.services, every lookup through
the access gate (clients.selectors)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop
from django.views.decorators.http import require_GET, require_POST

from accounts import access
from accounts.models import Action
from crm import cards, lists, timeline
from crm import duplicates as dup
from crm.display import field_value
from crm.inn import is_valid as inn_is_valid
from crm.lists import active_users
from crm.timeline_views import timeline_context

from . import selectors, services
from .filters import COMPANY_SORTING, CONTACT_SORTING, CompanyFilter, ContactFilter
from .forms import (
    COMPANY_GROUPS,
    CONTACT_GROUPS,
    EMAIL,
    PHONE,
    CompanyForm,
    ContactForm,
    communication_formset,
    stored_items,
)
from .models import Company, Contact

PER_PAGE = 50

# (sort key or None, header, CSS classes of the header: less important columns hide on small screens)
COMPANY_COLUMNS = [
    ("name", gettext_lazy("Название компании"), ""),
    ("inn", gettext_lazy("ИНН"), "d-none d-md-table-cell"),
    (None, gettext_lazy("Телефон"), ""),
    (None, gettext_lazy("E-mail"), "d-none d-lg-table-cell"),
    ("responsible", gettext_lazy("Ответственный"), "d-none d-sm-table-cell"),
    ("created_at", gettext_lazy("Дата создания"), "d-none d-md-table-cell"),
]
CONTACT_COLUMNS = [
    ("name", gettext_lazy("ФИО"), ""),
    (None, gettext_lazy("Компании"), ""),
    (None, gettext_lazy("Телефон"), ""),
    (None, gettext_lazy("E-mail"), "d-none d-lg-table-cell"),
    ("responsible", gettext_lazy("Ответственный"), "d-none d-sm-table-cell"),
    ("created_at", gettext_lazy("Дата создания"), "d-none d-md-table-cell"),
]


@require_GET
def company_list(request: HttpRequest) -> HttpResponse:
    filterset = CompanyFilter(request.GET if lists.filtering(request) else None,
                              queryset=selectors.visible_companies(request.user), request=request)
    sort = COMPANY_SORTING.parse(request.GET.get("sort"))
    page = lists.page_of_ids(request, COMPANY_SORTING.apply(filterset.qs, sort), PER_PAGE)
    return render(request, "clients/company_list.html", {
        **lists.list_context(filterset, page, COMPANY_SORTING, sort, COMPANY_COLUMNS),
        "companies": selectors.company_rows(list(page.object_list)),
        "select_fields": [filterset.form[name] for name in ("responsible", "niche", "client_type")],
        "range_fields": [filterset.form["created"]],
        "can_add": access.can_add(request.user, Company),
    })


@require_GET
def contact_list(request: HttpRequest) -> HttpResponse:
    filterset = ContactFilter(request.GET if lists.filtering(request) else None,
                              queryset=selectors.visible_contacts(request.user), request=request,
                              companies=selectors.visible_companies(request.user).order_by("name"))
    sort = CONTACT_SORTING.parse(request.GET.get("sort"))
    page = lists.page_of_ids(request, CONTACT_SORTING.apply(filterset.qs, sort), PER_PAGE)
    return render(request, "clients/contact_list.html", {
        **lists.list_context(filterset, page, CONTACT_SORTING, sort, CONTACT_COLUMNS),
        "contacts": selectors.contact_rows(request.user, list(page.object_list)),
        "select_fields": [filterset.form[name] for name in ("responsible",)],
        "range_fields": [filterset.form["created"]],
        "can_add": access.can_add(request.user, Contact),
    })


# --- Cards ---

def _groups(record, groups) -> list[tuple[str, list]]:
    """The card's fields in the form's grouping, shown as every card shows them (crm.display);
    a contact's companies have a section of their own."""
    result = []
    for label, names in groups:
        rows = [field_value(record, name) for name in names if not record._meta.get_field(name).many_to_many]
        if rows:
            result.append((label, rows))
    return result


def company_detail(request: HttpRequest, pk: int) -> HttpResponse:
    company = selectors.company_for_card(request.user, pk)
    return render(request, "clients/company_detail.html", {
        **timeline_context(request, company),
        "company": company,
        "groups": _groups(company, COMPANY_GROUPS),
        "contacts": selectors.contacts_of(request.user, company),
        "panels": cards.panels_for(request.user, company),
        "can_add_contact": access.can_add(request.user, Contact),
    })


def contact_detail(request: HttpRequest, pk: int) -> HttpResponse:
    contact = selectors.contact_for_card(request.user, pk)
    selectors.mark_visible_companies(request.user, [contact])
    return render(request, "clients/contact_detail.html", {
        **timeline_context(request, contact),
        "contact": contact,
        "groups": _groups(contact, CONTACT_GROUPS),
        "panels": cards.panels_for(request.user, contact),
    })


# --- Duplicates ---

def _probe(data, formset, entity: str, pk: int | None) -> dup.Probe:
    """What the duplicates are searched by, from the values typed so far (invalid ones aside)."""
    items = formset.partial_items()
    inn = (data.get("inn") or "").strip() if entity == "company" else ""
    return dup.Probe(
        phones=tuple(value for kind, _type, value, _ext in items if kind == PHONE),
        emails=tuple(value for kind, _type, value, _ext in items if kind == EMAIL),
        inn=inn if inn_is_valid(inn) else "",
        company_name=(data.get("name") or "").strip() if entity == "company" else "",
        exclude=(entity, pk) if pk else None,
    )


def _dup_fields_changed(record, probe: dup.Probe) -> bool:
    """Whether an edit touches what duplicates are found by (warn only then, as on leads)."""
    if record is None:
        return True
    stored = {(kind, value) for kind, _type, value, _ext in stored_items(record)}
    typed = {(PHONE, p) for p in probe.phones} | {(EMAIL, e) for e in probe.emails}
    if typed - stored:
        return True
    if isinstance(record, Company):
        return (bool(probe.inn) and probe.inn != record.inn) or probe.company_key != record.company_key
    return False


@require_POST
def duplicates(request: HttpRequest) -> HttpResponse:
    """htmx: possible duplicates for the values being typed into a company or contact form — only
    for a user who may add or change such records (see crm.duplicates for what he is told)."""
    entity = request.POST.get("entity")
    if entity not in ("company", "contact"):
        entity = "company"
    if not dup.may_check(request.user, Company if entity == "company" else Contact):
        raise PermissionDenied(_("Нет прав на создание компаний.") if entity == "company"
                               else _("Нет прав на создание контактов."))
    raw_id = request.POST.get("record_id", "")
    pk = int(raw_id) if raw_id.isascii() and raw_id.isdigit() and int(raw_id) < 2**63 else None
    probe = _probe(request.POST, communication_formset(request.POST), entity, pk)
    matches = dup.find(request.user, probe)
    return render(request, "crm/_duplicates.html", {"matches": matches})


# --- Create and edit ---

def _save(request, form, formset, record, entity: str, save):
    """The create/edit flow both forms share: validate, warn about duplicates (once, unless
    «Сохранить всё равно»), save through the service, record an overridden warning in the
    timeline. Returns the saved record, or None with the errors put on the form."""
    probe = _probe(request.POST, formset, entity, record.pk if record else None)
    # Before the form is validated: a model form writes the typed values onto its instance.
    changed = _dup_fields_changed(record, probe)
    valid = all([form.is_valid(), formset.is_valid()])  # both, so that every error is shown
    matches = dup.find(request.user, probe) if changed else []
    save_anyway = bool(request.POST.get("save_anyway"))
    if not valid or (matches and not save_anyway):
        return None, matches
    try:
        with transaction.atomic():
            saved = save(formset.items())
            if matches:
                timeline.log(saved, timeline.Kind.DUPLICATE, request.user,
                             timeline.message(gettext_noop("Сохранён, несмотря на возможные дубликаты")),
                             matches=dup.as_data(matches))
    except services.ClientError as exc:
        # The ИНН taken meanwhile (a race the form's own check could not see) belongs to its field.
        taken = isinstance(exc, services.InnTaken) and "inn" in form.fields
        form.add_error("inn" if taken else None, str(exc))
        return None, []
    return saved, []


def _after_save(request, record, list_url: str, text: str):
    messages.success(request, text)
    if access.can(request.user, Action.VIEW, record):
        return redirect(record.get_absolute_url())
    # Handed over to someone whose records this user does not see: the card would be a 404.
    return redirect(list_url)


def company_create(request: HttpRequest) -> HttpResponse:
    if not access.can_add(request.user, Company):
        raise PermissionDenied(_("Нет прав на создание компаний."))
    return _company_form(request, None)


def company_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _company_form(request, selectors.company_for_card(request.user, pk, Action.CHANGE))


def _company_form(request: HttpRequest, company: Company | None) -> HttpResponse:
    post = request.POST if request.method == "POST" else None
    title = company.name if company else ""  # as stored: the form writes typed values onto its instance
    form = CompanyForm(post, instance=company, initial={"responsible": request.user} if company is None else None,
                       responsible_choices=active_users())
    formset = communication_formset(post, record=company)
    matches = []
    if post is not None:
        original = company

        def save(items):
            data = form.data_for_service()
            if original is None:
                return services.company_create(data=data, communications=items, by=request.user)
            return services.company_update(original, data=data, communications=items, by=request.user,
                                           version=form.cleaned_data.get("version") or 0)

        saved, matches = _save(request, form, formset, company, "company", save)
        if saved is not None:
            if company is None:
                text = _("Компания «%(name)s» создана.") % {"name": saved.name}
            else:
                text = _("Изменения сохранены.")
            return _after_save(request, saved, "clients:company_list", text)
    return render(request, "clients/company_form.html", {
        "form": form, "formset": formset, "matches": matches, "company": company, "entity": "company", "title": title,
        "confirm": bool(matches) and form.is_bound and not form.errors and not any(formset.errors),
    })


def contact_create(request: HttpRequest) -> HttpResponse:
    if not access.can_add(request.user, Contact):
        raise PermissionDenied(_("Нет прав на создание контактов."))
    return _contact_form(request, None)


def contact_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _contact_form(request, selectors.contact_for_card(request.user, pk, Action.CHANGE))


def _contact_form(request: HttpRequest, contact: Contact | None) -> HttpResponse:
    post = request.POST if request.method == "POST" else None
    title = contact.full_name if contact else ""
    companies = selectors.visible_companies(request.user)
    initial = None
    if contact is None:
        initial = {"responsible": request.user}
        raw = request.GET.get("company", "")
        if raw.isascii() and raw.isdigit() and int(raw) < 2**63:
            # «Добавить контакт» on a company card: the new contact belongs to it.
            initial["companies"] = list(companies.filter(pk=int(raw)).values_list("pk", flat=True))
    form = ContactForm(post, instance=contact, initial=initial, responsible_choices=active_users(), companies=companies)
    formset = communication_formset(post, record=contact)
    matches = []
    if post is not None:
        original = contact

        def save(items):
            data = form.data_for_service()
            chosen = list(form.cleaned_data.get("companies") or [])
            if original is None:
                return services.contact_create(data=data, communications=items, companies=chosen, by=request.user)
            # The service keeps the links to companies this user may not see (the form never shows them).
            return services.contact_update(original, data=data, communications=items, companies=chosen,
                                           by=request.user, version=form.cleaned_data.get("version") or 0)

        saved, matches = _save(request, form, formset, contact, "contact", save)
        if saved is not None:
            if contact is None:
                text = _("Контакт «%(name)s» создан.") % {"name": saved.full_name}
            else:
                text = _("Изменения сохранены.")
            return _after_save(request, saved, "clients:contact_list", text)
    return render(request, "clients/contact_form.html", {
        "form": form, "formset": formset, "matches": matches, "contact": contact, "entity": "contact", "title": title,
        "confirm": bool(matches) and form.is_bound and not form.errors and not any(formset.errors),
    })
