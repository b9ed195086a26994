"""The search column behind the list's and the board's search box."""

import pytest
from django.urls import reverse

from leads import services
from leads.models import Lead
from tests.factories import LeadFactory, ref

pytestmark = pytest.mark.django_db


def found(client, q):
    return [lead.title for lead in client.get(reverse("leads:list"), {"q": q}).context["leads"]]


def test_the_search_column_follows_every_save_path(owner):
    lead = LeadFactory(responsible=owner, title="Ёлки", company_phone="+78800000000")
    assert lead.search_text.startswith("елки") and "78800000000" in lead.search_text
    lead = services.lead_update(lead, data={"contact_last_name": "Лактионова"}, by=owner, version=lead.version)
    assert "лактионова" in lead.search_text
    Lead.objects.bulk_create([Lead(title="Импорт", source=ref("Source"), company_name="ООО «Пример»", responsible=owner,
                                   inn="7707083893")])
    assert "7707083893" in Lead.objects.get(title="Импорт").search_text


@pytest.mark.parametrize(("query", "expected"), [
    ("елки", ["Ёлки-палки"]), ("ЁЛКИ", ["Ёлки-палки"]), ("лактионова анна", ["Ёлки-палки"]),
    ("+7 880 000-00-00", ["Ёлки-палки"]), ("8 (880) 000", ["Ёлки-палки"]), ("PROSHENIA", ["Ёлки-палки"]),
    ("анна ромашка", []),
])
def test_it_finds_in_any_case_with_e_for_yo_and_phones_in_any_format(client, owner, query, expected):
    LeadFactory(responsible=owner, title="Ёлки-палки", company_phone="+78800000000", contact_last_name="Лактионова",
                contact_first_name="Анна", company_email="proshenia.hr@yandex.ru")
    LeadFactory(responsible=owner, title="Другой", company_name="ООО «Ромашка»")
    client.force_login(owner)
    assert found(client, query) == expected


def test_the_board_uses_the_same_search(client, owner):
    LeadFactory(responsible=owner, title="Ёлки-палки", contact_last_name="Лактионова")
    client.force_login(owner)
    page = client.get(reverse("leads:kanban"), {"q": "лактионова"}).content.decode()
    assert "Ёлки-палки" in page
