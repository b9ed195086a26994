"""The leads' export reads tuples (exchange.fast_rows) instead of model instances: the cells must
be exactly what `columns.export_value` gives for the instance — every kind of column, linked
records hidden or not, odd phones — and the CSV byte for byte the same."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest

from clients import services as client_services
from crm import timeline
from crm.models import Product, UsedProduct
from exchange import columns, exports, writers
from exchange.fast_rows import phone_display
from leads.models import Lead, Status
from tests.factories import LeadFactory, ref

pytestmark = pytest.mark.django_db


def instance_rows(user) -> list[list]:
    """The rows as the export made them before: a model instance per lead through export_value."""
    cols = columns.columns("lead")
    pks = list(exports.prepare("lead", user).queryset.values_list("pk", flat=True))
    found = Lead.objects.select_related("source", "responsible", "company", "contact").in_bulk(pks)
    leads = [found[pk] for pk in pks]
    timeline.preload_pinned(leads)
    rows = []
    for lead in leads:
        exports._forget_hidden(user, lead, ("company", "contact"))
        rows += list(columns.export_rows("lead", cols, lead))
    return rows


def csv_bytes(headers, rows) -> bytes:
    out = io.BytesIO()
    writers.write_csv(out, headers, rows)
    return out.getvalue()


def varied_leads(owner, outsider) -> None:
    hidden = client_services.company_create(data={"name": "Скрытая компания", "responsible": outsider},
                                            communications=[], by=outsider)
    visible = client_services.company_create(data={"name": "Своя компания", "responsible": owner, "external_id": "C7"},
                                             communications=[], by=owner)
    contact = client_services.contact_create(data={"first_name": "Анна", "last_name": "Лактионова",
                                                   "responsible": owner}, communications=[], by=owner)
    LeadFactory(title="Пустой", responsible=owner, company_phone="")
    LeadFactory(title="=HYPERLINK(1)", responsible=owner, status=Status.JUNK, junk_reason=ref("JunkReason"),
                company_phone="+70123456789", contact_phone="+375291234567", amount=Decimal("1500.50"),
                currency="USD", contact_phone_type="mobile", talked_to_decision_maker=True,
                contact_birth_date=date(1980, 2, 29), employees_count=0, comment="строка\nвторая; «кавычки»",
                company=hidden, contact=contact, external_id="L1", niche=ref("Niche"), client_type=ref("ClientType"),
                crm_system=ref("CrmSystem"), sales_channel=ref("SalesChannel"), next_touch_date=date(2026, 12, 1))
    converted = LeadFactory(title="Успешный", responsible=owner, status=Status.CONVERTED, company=visible,
                            contact_phone="+79522666348", amount=Decimal("0.00"), currency="EUR",
                            usp_acknowledged=True, employees_count=250)
    converted.products_to_sell.set(Product.objects.order_by("-pk")[:3])
    converted.used_products.set(UsedProduct.objects.order_by("pk")[:2])
    entry = timeline.log(converted, "comment", owner, "Итоги разведки: ЛПР — директор")
    timeline.set_pinned(entry, True)
    timeline.log(converted, "comment", owner, "Не закреплён")


def test_it_writes_the_same_cells_and_bytes_as_the_instance_export(owner, outsider):
    varied_leads(owner, outsider)
    headers, rows = exports.rows("lead", owner)
    rows = list(rows)
    expected = instance_rows(owner)
    assert len(rows) == 3
    assert [[(type(v), v) for v in row] for row in rows] == [[(type(v), v) for v in row] for row in expected]
    assert csv_bytes(headers, rows) == csv_bytes(headers, expected)
    by_title = {row[1]: dict(zip(headers, row, strict=True)) for row in rows}
    # What the comparison relies on actually varies: a hidden company, a pinned comment, M2M names.
    assert by_title["=HYPERLINK(1)"]["Компания"] == ""
    assert by_title["=HYPERLINK(1)"]["Контакт"] == "Лактионова Анна"
    assert by_title["Успешный"]["Компания"] == "C7"
    assert by_title["Успешный"]["Закреплённый комментарий"] == "Итоги разведки: ЛПР — директор"
    assert by_title["Успешный"]["Продукты для продажи"].count(", ") == 2
    assert by_title["=HYPERLINK(1)"]["Статус"] == "Не успешный"


@pytest.mark.parametrize("e164", ["+79128598748", "+77012345678", "+70123456789", "+375291234567", "+7912", "12345"])
def test_it_shows_a_phone_as_phonenumbers_does(e164):
    from crm import phones

    assert phone_display(e164) == phones.display(e164)
