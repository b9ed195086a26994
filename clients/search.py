"""Companies and contacts in the CRM-wide search (crm.search: «Привязать к записи» on a task),
searched as their lists search (the search column: name, ИНН, phones, e-mails), through this
app's selectors."""

from crm import lists, search
from crm.lists import search_condition

from .models import Company, Contact
from .selectors import visible_companies, visible_contacts


def _finder(visible, *order):
    def find(user, query: str):
        records = visible(user)
        condition = lists.search(records, search_condition(query))
        return (records.none() if condition is None else records.filter(condition)).order_by(*order)
    return find


search.register(search.Finder(model=Company, find=_finder(visible_companies, "name", "pk"), order=30))
search.register(search.Finder(model=Contact, find=_finder(visible_contacts, "last_name", "first_name", "pk"),
                              order=40))
