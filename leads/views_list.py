# Replaced by the list page (filters, search, sorting, pagination, bulk actions).
from django.shortcuts import render

from .selectors import visible_leads


def lead_list(request):
    return render(request, "leads/lead_list.html", {"leads": visible_leads(request.user)[:50]})


def lead_bulk(request):
    raise NotImplementedError
