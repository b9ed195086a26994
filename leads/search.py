"""Leads in the CRM-wide search (crm.search: «Привязать к записи» on a task), searched as the
leads list searches (the search column, every word), through this app's selectors."""

from crm import lists, search
from crm.lists import search_condition

from .models import Lead
from .selectors import visible_leads


def find(user, query: str):
    leads = visible_leads(user)
    condition = lists.search(leads, search_condition(query), lists.email_condition(query, Lead.EMAIL_FIELDS))
    return (leads.none() if condition is None else leads.filter(condition)).order_by("-created_at", "-pk")


search.register(search.Finder(model=Lead, find=find, order=10))
