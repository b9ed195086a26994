"""The exports read tuples (exchange.fast_rows) instead of model instances: the cells must be
exactly what `columns.export_value` gives for the instance (for tasks, what the task instance
says) — every kind of column, linked records hidden or not, odd phones, a deal's product rows —
and the CSV byte for byte the same. The instance path is kept here, as the reference."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db.models import Prefetch
from django.utils import timezone

from accounts import access
from accounts.models import Action
from clients import services as client_services
from clients.models import Company, Contact
from clients.selectors import communications_prefetch, visible_companies, visible_contacts
from crm import timeline
from crm.models import Product, UsedProduct
from deals.models import Deal, DealProduct
from exchange import columns, exports, writers
from exchange.fast_rows import phone_display
from leads.models import Lead, Status
from tasks_app import selectors as task_selectors
from tasks_app import services as task_services
from tasks_app.models import Task
from tests.factories import GENERAL, DealFactory, LeadFactory, UserFactory, pipeline, ref

pytestmark = pytest.mark.django_db


def _forget_hidden(user, record, links: tuple[str, ...]) -> None:
    # As on the card: a linked record the user may not see is not named.
    for name in links:
        linked = getattr(record, name)
        if linked is not None and not access.can(user, Action.VIEW, linked):
            setattr(record, name, None)


def _instances(entity: str, user) -> list:
    """The export's records, in its order, as model instances with what export_value reads."""
    pks = list(exports.prepare(entity, user).queryset.values_list("pk", flat=True))
    if entity == "lead":
        queryset = Lead.objects.select_related("source", "responsible", "company", "contact")
    elif entity == "company":
        queryset = Company.objects.select_related("responsible").prefetch_related(communications_prefetch())
    elif entity == "contact":
        queryset = Contact.objects.select_related("responsible").prefetch_related(
            communications_prefetch(), Prefetch("companies", queryset=visible_companies(user).order_by("name", "pk")))
    elif entity == "deal":
        queryset = Deal.objects.select_related("pipeline", "company", "source", "responsible", "lead").prefetch_related(
            Prefetch("contacts", queryset=visible_contacts(user).order_by("last_name", "first_name", "pk")),
            Prefetch("products", queryset=DealProduct.objects.select_related("product").order_by("pk")))
    else:
        users = UserFactory._meta.model.objects.order_by("last_name", "first_name", "pk")
        queryset = Task.objects.select_related("responsible", "creator").prefetch_related(
            Prefetch("coexecutors", queryset=users), Prefetch("observers", queryset=users))
    found = queryset.in_bulk(pks)
    return [found[pk] for pk in pks]


def instance_rows(user, entity: str = "lead") -> list[list]:
    """The rows as the export made them before fast_rows: a model instance per record through
    export_value (tasks: the task's own attributes)."""
    records = _instances(entity, user)
    if entity == "task":
        bound = task_selectors.visible_bindings(user, [t.pk for t in records])
        return [[t.pk, t.get_kind_display(), t.title, t.description, t.get_status_display(), t.is_important,
                 str(t.creator) if t.creator_id else None, str(t.responsible),
                 ", ".join(str(u) for u in t.coexecutors.all()), ", ".join(str(u) for u in t.observers.all()),
                 t.deadline, t.created_at, t.completed_at, t.result,
                 "; ".join(f"{r._meta.verbose_name}: {r}" for r in bound.get(t.pk, []))] for t in records]
    if entity == "lead":
        timeline.preload_pinned(records)
    cols = columns.columns(entity)
    rows = []
    for record in records:
        _forget_hidden(user, record, {"lead": ("company", "contact"), "deal": ("company", "lead")}.get(entity, ()))
        rows += list(columns.export_rows(entity, cols, record))
    return rows


def assert_same_as_the_instance_path(entity: str, user) -> list[dict]:
    headers, rows = exports.rows(entity, user)
    rows = list(rows)
    expected = instance_rows(user, entity)
    assert [[(type(v), v) for v in row] for row in rows] == [[(type(v), v) for v in row] for row in expected]
    assert csv_bytes(headers, rows) == csv_bytes(headers, expected)
    return [dict(zip(headers, row, strict=True)) for row in rows]


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
    rows = assert_same_as_the_instance_path("lead", owner)
    assert len(rows) == 3
    by_title = {row["Название лида"]: row for row in rows}
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


def clients_of(owner, outsider) -> tuple:
    hidden = client_services.company_create(
        data={"name": "Скрытая компания", "responsible": outsider, "external_id": "H1"},
        communications=[("phone", "work", "+78800000001", "")], by=outsider)
    mine = client_services.company_create(
        data={"name": "=Своя компания", "responsible": owner, "inn": "7707083893", "website": "romashka.ru",
              "niche": ref("Niche"), "client_type": ref("ClientType"), "comment": "две\nстроки"},
        communications=[("phone", "work", "+78800000000", "12"), ("phone", "work", "+375291234567", ""),
                        ("phone", "mobile", "+79121234567", ""), ("email", "work", "info@romashka.ru", ""),
                        ("email", "home", "anna@mail.ru", ""), ("phone", "other", "+74951234567", "")], by=owner)
    other = client_services.company_create(data={"name": "Астра", "responsible": owner, "external_id": "C9"},
                                           communications=[], by=owner)
    anna = client_services.contact_create(
        data={"first_name": "Анна", "last_name": "Лактионова", "responsible": owner, "position": "Директор",
              "birth_date": date(1980, 2, 29)},
        communications=[("phone", "mobile", "+79522666348", ""), ("email", "work", "anna@romashka.ru", "")],
        by=owner)
    anna = client_services.contact_update(anna, data={}, companies=[mine, other], by=None, version=anna.version)
    shared = client_services.contact_create(data={"first_name": "Пётр", "last_name": "Общий", "responsible": owner},
                                            communications=[], by=owner)
    shared = client_services.contact_update(shared, data={}, companies=[hidden, mine], by=None, version=shared.version)
    client_services.contact_create(data={"first_name": "Олег", "last_name": "Безкомпаниев", "responsible": owner},
                                   communications=[], by=owner)
    foreign = client_services.contact_create(data={"first_name": "Ирина", "last_name": "Чужая",
                                                   "responsible": outsider}, communications=[], by=outsider)
    return hidden, mine, other, anna, shared, foreign


def test_companies_and_contacts_have_the_same_cells_as_the_instance_export(owner, outsider):
    clients_of(owner, outsider)
    companies = {r["Название компании"]: r for r in assert_same_as_the_instance_path("company", owner)}
    assert companies["=Своя компания"]["Рабочий телефон"] == "+7 (880) 000-00-00, +375 29 123-45-67"
    assert companies["=Своя компания"]["Частный e-mail"] == "anna@mail.ru"
    contacts = {r["Фамилия"]: r for r in assert_same_as_the_instance_path("contact", owner)}
    assert contacts["Лактионова"]["Компания"] == "=Своя компания, C9"  # by name («Астра» is C9), an ID if it has one
    assert contacts["Общий"]["Компания"] == "=Своя компания"  # the hidden one not named
    assert contacts["Безкомпаниев"]["Компания"] == ""


def test_deals_have_the_same_cells_and_product_rows_as_the_instance_export(owner, outsider):
    hidden, mine, _other, anna, shared, foreign = clients_of(owner, outsider)
    products = list(Product.objects.order_by("pk")[:2])
    hidden_lead = LeadFactory(title="Чужой лид", responsible=outsider, external_id="L5")
    own_lead = LeadFactory(title="Свой лид", responsible=owner)
    general = pipeline(GENERAL)
    rich = DealFactory(title="С товарами", responsible=owner, company=mine, lead=own_lead, amount=Decimal("1500.50"),
                       currency="USD", source=ref("Source"), start_date=date(2026, 11, 1), external_id="D1",
                       pipeline=general, stage_id=general.first_stage().pk, comment="=1+2")
    rich.contacts.set([anna, shared, foreign])
    DealProduct.objects.create(deal=rich, product=products[0], price=Decimal("100.00"), quantity=Decimal("2"))
    DealProduct.objects.create(deal=rich, product=products[1], price=Decimal("0.50"), quantity=Decimal("1.25"))
    single = DealFactory(title="Один товар", responsible=owner, company=hidden, lead=hidden_lead)
    DealProduct.objects.create(deal=single, product=products[1], price=Decimal("7"), quantity=Decimal("1"))
    DealFactory(title="Пустая", responsible=owner)
    rows = assert_same_as_the_instance_path("deal", owner)
    assert [r["Название сделки"] for r in rows].count("С товарами") == 2  # a file row per product row
    by_title = {r["Название сделки"]: r for r in rows}
    assert by_title["С товарами"]["Контакты"] == "Лактионова Анна, Общий Пётр"  # not the foreign one
    assert by_title["Один товар"]["Компания"] == "" and by_title["Один товар"]["Лид"] == ""
    assert by_title["Пустая"]["Товар"] is None


def test_tasks_have_the_same_cells_as_the_instance_export(owner, teammate, outsider, head, crm_admin):
    hidden_lead = LeadFactory(title="Чужой лид", responsible=outsider)
    own_lead = LeadFactory(title="Свой лид", responsible=owner)
    deadline = timezone.make_aware(datetime(2026, 12, 1, 15, 30))
    task_services.task_create(data={"title": "Позвонить", "responsible": owner, "deadline": deadline,
                                    "is_important": True, "description": "=опасно"}, by=crm_admin,
                              coexecutors=[teammate, head], observers=[head], records=[own_lead, hidden_lead])
    task_services.task_create(data={"title": "Без всего", "responsible": owner,
                                    "deadline": deadline + timedelta(days=1)}, by=head)
    rows = {r["Название"]: r for r in assert_same_as_the_instance_path("task", owner)}
    assert "Свой лид" in rows["Позвонить"]["Элементы CRM"] and "Чужой" not in rows["Позвонить"]["Элементы CRM"]
    assert rows["Позвонить"]["Важная задача"] is True
    assert rows["Без всего"]["Соисполнители"] == ""


def test_it_filters_a_chunk_of_ids_with_one_array_as_an_in_list_would(owner):
    from django.db import connection
    from django.db.models import F
    from django.test.utils import CaptureQueriesContext

    from crm.lookups import AnyOf

    leads = [LeadFactory(responsible=owner) for _ in range(3)]
    ids = [leads[0].pk, leads[2].pk]
    with CaptureQueriesContext(connection) as captured:
        assert sorted(Lead.objects.filter(AnyOf(F("pk"), ids)).values_list("pk", flat=True)) == sorted(ids)
    assert not Lead.objects.filter(AnyOf(F("pk"), [])).exists()
    if connection.vendor == "postgresql":  # one parameter, not one per id
        assert "= ANY(" in captured[0]["sql"]
