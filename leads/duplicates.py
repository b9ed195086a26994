"""Lead duplicates: same phone (normalised), e-mail, ИНН or a very similar company name."""

from difflib import SequenceMatcher

from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext as _

from crm.duplicates import Match, Probe, register

from .models import Lead

SIMILAR = 0.85


def _similar(a: str, b: str) -> bool:
    return a == b or SequenceMatcher(None, a, b).ratio() >= SIMILAR


@register
def find_leads(probe: Probe) -> list[Match]:
    condition = Q()
    if probe.phones:
        condition |= Q(company_phone__in=probe.phones) | Q(contact_phone__in=probe.phones)
    if probe.emails:
        for email in probe.emails:
            condition |= Q(company_email__iexact=email) | Q(contact_email__iexact=email)
    if probe.inn:
        condition |= Q(inn=probe.inn)
    key = probe.company_key
    if len(key) >= 3:
        # Candidates share the first word; the similarity check below decides.
        condition |= Q(company_key__startswith=key.split()[0])
    if not condition:
        return []
    candidates = Lead.objects.filter(condition).select_related("responsible").order_by("-created_at")
    if probe.exclude and probe.exclude[0] == "lead":
        candidates = candidates.exclude(pk=probe.exclude[1])
    matches = []
    for lead in candidates[:50]:
        reasons = []
        if probe.phones and {lead.company_phone, lead.contact_phone} & set(probe.phones):
            reasons.append(_("телефон"))
        if probe.emails and {lead.company_email.lower(), lead.contact_email.lower()} & set(probe.emails):
            reasons.append(_("e-mail"))
        if probe.inn and lead.inn == probe.inn:
            reasons.append(_("ИНН"))
        if len(key) >= 3 and _similar(key, lead.company_key):
            reasons.append(_("название компании"))
        if reasons:
            matches.append(Match(
                kind=_("Лид"), title=f"{lead.title} ({lead.company_name})",
                url=reverse("leads:detail", args=[lead.pk]), reasons=reasons,
                owner=str(lead.responsible), record=lead,
            ))
    return matches
