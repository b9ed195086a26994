"""Company and contact duplicates for the lead, company and contact forms."""

from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from crm.duplicates import Match, Probe, register
from crm.models import Communication

from .models import Company, Contact


def _url(name: str, pk: int) -> str:
    try:
        return reverse(name, args=[pk])
    except NoReverseMatch:
        return ""


def _by_communication(model, probe: Probe) -> dict[int, list[str]]:
    reasons: dict[int, list[str]] = {}
    ct = ContentType.objects.get_for_model(model)
    condition = Q()
    if probe.phones:
        condition |= Q(kind=Communication.Kind.PHONE, value__in=probe.phones)
    if probe.emails:
        condition |= Q(kind=Communication.Kind.EMAIL, value__in=probe.emails)
    if condition:
        for object_id, kind in Communication.objects.filter(condition, content_type=ct).values_list("object_id", "kind"):
            reason = _("телефон") if kind == Communication.Kind.PHONE else _("e-mail")
            if reason not in reasons.setdefault(object_id, []):
                reasons[object_id].append(reason)
    return reasons


@register
def find_companies(probe: Probe) -> list[Match]:
    reasons = _by_communication(Company, probe)
    condition = Q(pk__in=list(reasons))
    if probe.inn:
        condition |= Q(inn=probe.inn)
    key = probe.company_key
    if len(key) >= 3:
        condition |= Q(company_key=key)
    if probe.exclude and probe.exclude[0] == "company":
        found = Company.objects.filter(condition).exclude(pk=probe.exclude[1])
    else:
        found = Company.objects.filter(condition)
    matches = []
    for company in found.select_related("responsible")[:20]:
        why = list(reasons.get(company.pk, []))
        if probe.inn and company.inn == probe.inn:
            why.append(_("ИНН"))
        if len(key) >= 3 and company.company_key == key:
            why.append(_("название компании"))
        matches.append(Match(kind=_("Компания"), title=company.name, url=_url("clients:company_detail", company.pk),
                             reasons=why, owner=str(company.responsible), record=company))
    return matches


@register
def find_contacts(probe: Probe) -> list[Match]:
    reasons = _by_communication(Contact, probe)
    found = Contact.objects.filter(pk__in=list(reasons)).select_related("responsible")
    if probe.exclude and probe.exclude[0] == "contact":
        found = found.exclude(pk=probe.exclude[1])
    return [Match(kind=_("Контакт"), title=c.full_name, url=_url("clients:contact_detail", c.pk),
                  reasons=reasons[c.pk], owner=str(c.responsible), record=c) for c in found[:20]]
