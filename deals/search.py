"""Deals in the CRM-wide search (crm.search: «Привязать к записи» on a task), searched as the
deals list searches (title, and the name of a company the user may see), through this app's
selectors."""

from crm import lists, search

from .filters import search_condition
from .models import Deal
from .selectors import visible_deals


def find(user, query: str):
    deals = visible_deals(user)
    condition = lists.search(deals, search_condition(query, user))
    return (deals.none() if condition is None else deals.filter(condition)).order_by("-created_at", "-pk")


search.register(search.Finder(model=Deal, find=find, order=20))
