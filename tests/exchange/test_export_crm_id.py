"""«ID в CRM»: a deal's export carries our own ID, and the deals' importer finds a deal by it first —
a deal made here has no Bitrix24 ID, ИНН, phone or e-mail, so without it an export imported back
would make every deal again. Only a deal the user may change is found by it."""

from __future__ import annotations

from decimal import Decimal

import pytest

from accounts.models import Action, Entity, Level, Permission
from crm.models import Product
from deals import services as deal_services
from deals.models import Deal, DealProduct
from exchange import columns, importers
from tests.exchange.test_export_roundtrip import FORMATS, assert_unchanged, round_trip, state
from tests.factories import COLD, GENERAL, pipeline

pytestmark = pytest.mark.django_db


def made_here(owner, title: str, products=()) -> Deal:
    return deal_services.deal_create(data={"title": title, "responsible": owner}, by=owner, pipeline=pipeline(COLD),
                                     products=list(products))


@pytest.mark.parametrize("fmt", FORMATS)
def test_it_imports_an_export_of_deals_made_here_back_onto_them(head, owner, tmp_path, fmt):
    products = list(Product.objects.order_by("pk")[:2])
    made_here(owner, "Внедрение", [(products[0], Decimal("2"), Decimal("1500.50")),
                                   (products[1], Decimal("1"), Decimal("990.00"))])
    made_here(owner, "Внедрение")  # the same title: only the ID tells them apart
    before = state(Deal)
    products_before = sorted(DealProduct.objects.values_list("deal_id", "product_id", "price", "quantity"))
    assert_unchanged(round_trip("deal", head, tmp_path, fmt), before, state(Deal))
    assert sorted(DealProduct.objects.values_list("deal_id", "product_id", "price", "quantity")) == products_before


def test_it_exports_our_id_first_in_a_deals_file(owner):
    deal = made_here(owner, "Внедрение")
    cols = columns.columns("deal")
    assert cols[0].header == "ID в CRM"
    assert columns.export_value("deal", cols[0], deal) == deal.pk


def test_an_id_of_a_deal_the_user_may_not_change_finds_nothing(head, outsider):
    others = deal_services.deal_create(data={"title": "Чужая", "responsible": outsider}, by=outsider,
                                       pipeline=pipeline(COLD))
    Permission.objects.filter(role__name="Руководитель отдела продаж", entity=Entity.DEAL,
                              action=Action.CHANGE).update(level=Level.OWN)
    text = f"ID в CRM;Название сделки;Воронка\r\n{others.pk};Своя;{GENERAL}\r\n"
    outcome = importers.run("deal", importers.table_from_csv(text), by=head,
                            options=importers.Options(on_duplicate="update"), source="deals.csv")
    assert (outcome.created, outcome.updated) == (1, 0)
    assert Deal.objects.get(pk=others.pk).title == "Чужая"
    assert Deal.objects.filter(title="Своя", responsible=head).exists()
