"""What exchange.columns writes for a record imports back to the same record: the cells an export
writes are the cells the importer reads (the export's own round trip is tested with its files)."""

from datetime import date
from decimal import Decimal

import pytest

from clients import services as clients
from clients.models import Company, Contact
from crm.models import ClientType, Niche, Product, UsedProduct
from deals import services as deals
from deals.models import Deal
from exchange import columns, importers
from leads import services as leads
from leads.models import Lead
from tests.factories import COLD, pipeline, ref, stage


def exported(entity: str, records) -> list[list[str]]:
    cols = [c for c in columns.columns(entity)]
    rows = [[c.header for c in cols]]
    for record in records:
        for values in columns.export_rows(entity, cols, record):
            rows.append([_cell(v) for v in values])
    return rows


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.strftime("%d.%m.%Y")
    return str(value)


def reimport(entity: str, rows, by, model):
    model.objects.all().delete()
    text = "\n".join(";".join(cell.replace(";", ",") for cell in row) for row in rows)
    outcome = importers.run(entity, importers.table_from_csv(text), by=by, options=importers.Options(), source="x.csv")
    assert outcome.rejected == 0, list(outcome.all_lines())
    return outcome


def snapshot(record, names):
    return {name: getattr(record, name) for name in names}


@pytest.mark.django_db
def test_a_lead_exported_imports_back_unchanged(head, owner):
    lead = leads.lead_create(by=head, data=dict(
        title="Тренинги для Ромашки", source=ref("Source", "Сайт"), amount=Decimal("15000.50"), currency="USD",
        responsible=owner, comment="Звонить после 11", company_name="ООО «Ромашка»", company_phone="+79120000001",
        company_email="info@romashka.ru", company_website="romashka.ru", inn="7707083893", kpp="773601001",
        contact_last_name="Иванова", contact_first_name="Анна", contact_middle_name="Петровна",
        contact_birth_date=date(1990, 5, 17), contact_position="Директор", contact_phone="+79121234567",
        contact_phone_type="mobile", contact_phone_ext="123", contact_email="anna@romashka.ru",
        niche=Niche.objects.get(name="Образование"), employees_count=40, talked_to_decision_maker=True,
        next_touch="Позвонить", next_touch_date=date(2031, 1, 15), external_id="77",
    ), m2m={"products_to_sell": list(Product.objects.order_by("pk")[:2]),
            "used_products": [UsedProduct.objects.order_by("pk").first()]})
    names = ["title", "source", "amount", "currency", "responsible", "comment", "company_name", "company_phone",
             "company_email", "company_website", "inn", "kpp", "contact_last_name", "contact_first_name",
             "contact_middle_name", "contact_birth_date", "contact_position", "contact_phone", "contact_phone_type",
             "contact_phone_ext", "contact_email", "niche", "employees_count", "talked_to_decision_maker",
             "next_touch", "next_touch_date", "external_id", "status"]
    before = snapshot(lead, names)
    m2m = {n: set(getattr(lead, n).all()) for n in ("products_to_sell", "used_products")}
    rows = exported("lead", [lead])

    reimport("lead", rows, head, Lead)

    again = Lead.objects.get()
    assert snapshot(again, names) == before
    assert {n: set(getattr(again, n).all()) for n in m2m} == m2m


@pytest.mark.django_db
def test_companies_and_contacts_exported_import_back_unchanged(head):
    company = clients.company_create(by=head, data=dict(
        name="ПАО Сбербанк", inn="7707083893", responsible=head, website="sberbank.ru", address="Москва",
        niche=Niche.objects.get(name="Финансы и страхование"), client_type=ClientType.objects.first(),
        external_id="10"), communications=[("phone", "work", "88005555550", ""), ("phone", "mobile", "89121111111", ""),
                                           ("email", "work", "info@sber.ru", ""), ("phone", "work", "84955005550", "")])
    contact = clients.contact_create(by=head, data=dict(last_name="Грефов", first_name="Герман", position="Директор",
                                                        birth_date=date(1964, 2, 8), responsible=head),
                                     communications=[("phone", "mobile", "89122222222", "")], companies=[company])
    names = ["name", "inn", "responsible", "website", "address", "niche", "client_type", "external_id"]
    before = snapshot(company, names)
    comms = sorted((c.kind, c.type, c.value) for c in company.communications.all())
    company_rows, contact_rows = exported("company", [company]), exported("contact", [contact])

    Contact.objects.all().delete()
    reimport("company", company_rows, head, Company)
    reimport("contact", contact_rows, head, Contact)

    again = Company.objects.get()
    assert snapshot(again, names) == before
    assert sorted((c.kind, c.type, c.value) for c in again.communications.all()) == comms
    person = Contact.objects.get()
    assert (person.full_name, person.birth_date, list(person.companies.all())) == ("Грефов Герман", date(1964, 2, 8),
                                                                                   [again])


@pytest.mark.django_db
def test_a_deal_with_product_rows_exported_imports_back_unchanged(head):
    deal = deals.deal_create(by=head, pipeline=pipeline(COLD), data=dict(
        title="Внедрение", currency="RUB", responsible=head, start_date=date(2026, 11, 1), close_date=date(2031, 1, 1),
        source=ref("Source", "Сайт"), comment="Важно"),
        products=[(Product.objects.get(name="Тренинги"), Decimal("2"), Decimal("10000")),
                  (Product.objects.get(name="Консультации"), Decimal("1.5"), Decimal("5000"))])
    deal = deals.deal_move(deal, to=stage(COLD, "Презентация"), by=head)
    names = ["title", "amount", "currency", "responsible", "start_date", "close_date", "source", "comment", "pipeline",
             "stage_id"]
    before = snapshot(deal, names)
    products = sorted((str(r.product), r.quantity, r.price) for r in deal.products.all())
    rows = exported("deal", [deal])
    assert len(rows) == 3  # a header and one row per product, as Bitrix24 writes them

    reimport("deal", rows, head, Deal)

    again = Deal.objects.get()
    assert snapshot(again, names) == before
    assert sorted((str(r.product), r.quantity, r.price) for r in again.products.all()) == products
