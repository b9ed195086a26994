"""An export imports back unchanged: leads, companies, contacts and deals exported (CSV and XLSX), then the
file imported with the importer (on duplicate: update) — every record comes back as it was, nothing
is created, rejected or adjusted, not even the values a spreadsheet would take for a formula."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.forms.models import model_to_dict

from clients import services as client_services
from clients.models import Company, Contact
from crm.models import ClientType, CrmSystem, Niche, Product, SalesChannel, Source, UsedProduct
from deals import services as deal_services
from deals.models import Deal, DealProduct
from exchange import exports, importers, readers, writers
from leads.models import Lead
from tests.factories import COLD, GENERAL, LeadFactory, pipeline

pytestmark = pytest.mark.django_db

FORMATS = ["csv", "xlsx"]
# Never compared: kept by the database or the services themselves.
UNCOMPARED = {"id", "updated_at", "version", "search_text", "company_key", "status_changed_at"}


def state(model) -> dict:
    records = {}
    for record in model.objects.order_by("pk"):
        values = model_to_dict(record)
        for name in list(values):
            field = model._meta.get_field(name)
            if field.many_to_many:
                values[name] = sorted(o.pk for o in values[name])
        values["created_at"] = record.created_at
        if hasattr(record, "communications"):
            values["communications"] = sorted((c.kind, c.type, c.value) for c in record.communications.all())
        records[record.pk] = {k: v for k, v in values.items() if k not in UNCOMPARED}
    return records


def round_trip(entity: str, user, tmp_path, fmt: str):
    """Export the list as `user` sees it, read the file as an import reads it, import it back."""
    export = exports.prepare(entity, user)
    path = tmp_path / f"{entity}.{fmt}"
    if fmt == "csv":
        writers.write_csv(str(path), export.headers, export.rows())
    else:
        writers.write_xlsx(str(path), export.headers, export.rows())
    table = readers.open_table(path)
    return importers.run(entity, table, by=user, options=importers.Options(on_duplicate="update"), source=path.name)


def assert_unchanged(outcome, before, after):
    assert [(line.row, line.column, line.message) for line in outcome.all_lines()
            if not (line.outcome == "skipped" and line.column == "Дата создания")] == []
    assert (outcome.created, outcome.rejected) == (0, 0)
    assert after.keys() == before.keys()
    changed = {pk: {name: (value, after[pk][name]) for name, value in values.items() if after[pk][name] != value}
               for pk, values in before.items()}
    assert {pk: fields for pk, fields in changed.items() if fields} == {}


def full_lead(user, n: int, **data) -> Lead:
    values = dict(
        title=f"Лид {n}", company_name=f"ООО «Ромашка {n}»", company_phone=f"+7912000000{n}",
        company_email=f"info{n}@romashka.ru", company_website="romashka.ru", company_address="Москва, ул. Ленина, 1",
        inn="7707083893" if n == 1 else "", kpp="773601001", legal_name="Общество «Ромашка»", amount=Decimal("15000.50"),
        comment="Перезвонить\nпосле обеда", contact_last_name="Лактионова", contact_first_name="Анна",
        contact_middle_name="Игоревна", contact_birth_date=date(1985, 3, 8), contact_position="Директор",
        contact_phone=f"+795226663{n:02d}", contact_email=f"anna{n}@romashka.ru", employees_count=120,
        niche=Niche.objects.first(), client_type=ClientType.objects.first(), crm_system=CrmSystem.objects.first(),
        sales_channel=SalesChannel.objects.first(), talked_to_decision_maker=True, training_info="Вебинары",
        next_touch="Демо")
    lead = LeadFactory(responsible=user, **{**values, **data})
    lead.products_to_sell.set(Product.objects.order_by("pk")[:2])
    lead.used_products.set(UsedProduct.objects.order_by("pk")[:1])
    return lead


@pytest.mark.parametrize("fmt", FORMATS)
def test_leads_come_back_unchanged(head, owner, tmp_path, fmt):
    full_lead(head, 1)
    full_lead(owner, 2, comment='=ГИПЕРССЫЛКА("http://x")')
    full_lead(owner, 3, contact_position="-", company_address="+ офис 5")
    before = state(Lead)
    outcome = round_trip("lead", head, tmp_path, fmt)
    assert_unchanged(outcome, before, state(Lead))


@pytest.mark.parametrize("fmt", FORMATS)
def test_companies_and_contacts_come_back_unchanged(head, owner, tmp_path, fmt):
    romashka = client_services.company_create(
        data={"name": "ООО «Ромашка»", "responsible": owner, "inn": "7707083893", "kpp": "773601001",
              "legal_name": "Общество «Ромашка»", "website": "romashka.ru", "niche": Niche.objects.first(),
              "comment": "-"},
        communications=[("phone", "work", "+78800000000", ""), ("phone", "mobile", "+79121234567", ""),
                        ("email", "work", "info@romashka.ru", "")], by=owner)
    client_services.contact_create(
        data={"first_name": "Анна", "last_name": "Лактионова", "middle_name": "Игоревна", "responsible": owner,
              "position": "=Директор", "birth_date": date(1985, 3, 8)},
        communications=[("phone", "mobile", "+79522666348", ""), ("email", "home", "anna@example.com", "")],
        companies=[romashka], by=owner)
    companies, contacts = state(Company), state(Contact)
    assert_unchanged(round_trip("company", head, tmp_path, fmt), companies, state(Company))
    assert_unchanged(round_trip("contact", head, tmp_path, fmt), contacts, state(Contact))


@pytest.mark.parametrize("fmt", FORMATS)
def test_deals_with_their_products_and_links_come_back_unchanged(head, owner, tmp_path, fmt):
    # Deals brought from Bitrix24 keep its IDs: a deal has no ИНН, phone or e-mail of its own
    # to be found again by, so its «ID» is what an update finds it by.
    romashka = client_services.company_create(data={"name": "ООО «Ромашка»", "responsible": owner}, by=owner)
    anna = client_services.contact_create(data={"first_name": "Анна", "last_name": "Лактионова", "responsible": owner},
                                          by=owner)
    products = list(Product.objects.order_by("pk")[:2])
    deal_services.deal_create(
        data={"external_id": "101", "title": "Внедрение «Битрикс24»", "responsible": owner, "company": romashka,
              "source": Source.objects.first(), "start_date": date(2026, 11, 2), "close_date": date(2026, 12, 25),
              "comment": "+2 лицензии"},
        m2m={"contacts": [anna]}, by=owner, pipeline=pipeline(COLD),
        products=[(products[0], Decimal("2"), Decimal("1500.50")), (products[1], Decimal("1.5"), Decimal("990.00"))])
    deal_services.deal_create(data={"external_id": "102", "title": "Продление", "responsible": owner,
                                    "amount": Decimal("30000")}, by=owner, pipeline=pipeline(GENERAL))
    before = state(Deal)
    products_before = sorted(DealProduct.objects.values_list("deal_id", "product_id", "price", "quantity"))
    assert_unchanged(round_trip("deal", head, tmp_path, fmt), before, state(Deal))
    assert sorted(DealProduct.objects.values_list("deal_id", "product_id", "price", "quantity")) == products_before
