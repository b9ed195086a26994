"""The leads' part of «Мой день» (crm.day): new leads waiting for their first call and leads in
work that nobody plans to call, read through this app's selectors."""

from urllib.parse import urlencode

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from crm import day

from .models import IN_PROCESS, Lead, Status
from .selectors import visible_leads

# The lists' filter «Дела: без запланированных дел» (registered by tasks_app.marks into crm.lists).
UNPLANNED = {"touches": "none"}


def _list_url(responsible: int, *, new: bool = False) -> str:
    params = [("responsible", responsible)]
    if new:
        params.append(("status", Status.NEW))
    else:
        params += [("status", s) for s in IN_PROCESS] + list(UNPLANNED.items())
    return f"{reverse('leads:list')}?{urlencode(params)}"


day.register(day.Source(
    model=Lead, label=_("Лиды"), order=10,
    in_work=lambda user: visible_leads(user).filter(status__in=IN_PROCESS),
    new=lambda user: visible_leads(user).filter(status=Status.NEW),
    list_url=_list_url,
))
