"""The deals' part of «Мой день» (crm.day): deals in work that nobody plans to call, read through
this app's selectors."""

from urllib.parse import urlencode

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from crm import day

from .models import Deal, Stage
from .selectors import visible_deals

# The lists' filter «Дела: без запланированных дел» (registered by tasks_app.marks into crm.lists).
UNPLANNED = {"touches": "none"}


def _list_url(responsible: int, *, new: bool = False) -> str:
    # The count is of deals in work: the list the link opens is the same deals (closed ones have no touches to plan).
    params = {"responsible": responsible, "semantics": Stage.Semantics.IN_PROCESS, **UNPLANNED}
    return f"{reverse('deals:list')}?{urlencode(params)}"


day.register(day.Source(
    model=Deal, label=_("Сделки"), order=20,
    in_work=lambda user: visible_deals(user).filter(stage__semantics=Stage.Semantics.IN_PROCESS),
    list_url=_list_url,
))
