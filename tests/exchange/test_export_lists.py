"""What an export holds: each list's columns (the importer's, exchange.columns) and values, the
list's own filters and order, only the records the user may export, no name of a linked record he
may not see, and a constant number of queries per chunk of records."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Action, Entity, Level, Permission, Role
from clients import services as client_services
from crm.models import Product
from deals.models import DealProduct
from exchange import columns, exports
from leads.models import Status
from tests.factories import COLD, GENERAL, DealFactory, LeadFactory, UserFactory, pipeline, ref

pytestmark = pytest.mark.django_db


def export(entity: str, user, params=None) -> list[dict[str, object]]:
    headers, rows = exports.rows(entity, user, params)
    return [dict(zip(headers, row, strict=True)) for row in rows]


def company(owner, name="ООО «Ромашка»", **data):
    communications = [("phone", "work", "+78800000000", ""), ("phone", "mobile", "+79121234567", ""),
                      ("email", "work", "info@romashka.ru", "")]
    return client_services.company_create(data={"name": name, "responsible": owner, **data},
                                          communications=communications, by=owner)


def contact(owner, last_name="Лактионова", companies=()):
    made = client_services.contact_create(
        data={"first_name": "Анна", "last_name": last_name, "responsible": owner, "position": "Директор"},
        communications=[("phone", "mobile", "+79522666348", "")], by=owner)
    if companies:
        made = client_services.contact_update(made, data={}, companies=list(companies), by=None, version=made.version)
    return made


# --- Columns and values ---

def test_it_exports_leads_with_the_importers_headers_and_values(owner):
    lead = LeadFactory(title="Лид «Ромашка»", responsible=owner, company_name="ООО «Ромашка»", amount=Decimal("1500.50"),
                       company_phone="+79128598748", inn="7707083893", comment="-5% скидка")
    lead.products_to_sell.set([Product.objects.order_by("pk")[0], Product.objects.order_by("pk")[1]])
    headers, _rows = exports.rows("lead", owner)
    assert headers == [c.header for c in columns.columns("lead")]
    [row] = export("lead", owner)
    assert row["Название лида"] == "Лид «Ромашка»"
    assert row["Статус"] == "Не обработан"
    assert row["Источник"] == "Контур.Компас"
    assert row["Сумма"] == Decimal("1500.50")
    assert row["Ответственный"] == "Иванов Пётр"
    assert row["Рабочий телефон"] == "+7 (912) 859-87-48"
    assert row["ИНН"] == "7707083893"
    assert row["Комментарий"] == "-5% скидка"
    assert row["Продукты для продажи"] == ", ".join(sorted(str(p) for p in lead.products_to_sell.all()))


def test_it_exports_companies_with_a_column_per_kind_of_phone_and_email(owner):
    company(owner, inn="7707083893")
    [row] = export("company", owner)
    assert row["Название компании"] == "ООО «Ромашка»"
    assert row["Рабочий телефон"] == "+7 (880) 000-00-00"
    assert row["Мобильный телефон"] == "+7 (912) 123-45-67"
    assert row["Рабочий e-mail"] == "info@romashka.ru"
    assert row["ИНН"] == "7707083893"


def test_it_exports_contacts_with_their_companies(owner):
    romashka = company(owner)
    contact(owner, companies=[romashka])
    [row] = export("contact", owner)
    assert (row["Фамилия"], row["Имя"], row["Должность"]) == ("Лактионова", "Анна", "Директор")
    assert row["Мобильный телефон"] == "+7 (952) 266-63-48"
    assert row["Компания"] == "ООО «Ромашка»"


def test_it_exports_a_deal_with_its_stage_and_one_row_per_product(owner):
    romashka = company(owner)
    deal = DealFactory(title="Внедрение", responsible=owner, company=romashka)
    products = list(Product.objects.order_by("pk")[:2])
    for product, price in zip(products, (Decimal("100.00"), Decimal("250.50")), strict=True):
        DealProduct.objects.create(deal=deal, product=product, price=price, quantity=Decimal("2"))
    rows = export("deal", owner)
    assert [(r["Название сделки"], r["Товар"], r["Цена"]) for r in rows] == [
        ("Внедрение", str(products[0]), Decimal("100.00")), ("Внедрение", str(products[1]), Decimal("250.50"))]
    assert rows[0]["Воронка"] == COLD
    assert rows[0]["Стадия сделки"] == deal.current_stage.name
    assert rows[0]["Компания"] == "ООО «Ромашка»"


# --- The list's filters and order ---

def test_it_exports_what_the_lists_filters_select_in_the_lists_order(owner):
    LeadFactory(title="Бета", responsible=owner, company_name="ООО «Ромашка»")
    LeadFactory(title="Альфа", responsible=owner, company_name="ООО «Ромашка Плюс»")
    LeadFactory(title="Гамма", responsible=owner, company_name="ИП Лютик", status=Status.FIRST_CALL)
    titles = lambda params: [r["Название лида"] for r in export("lead", owner, params)]  # noqa: E731
    assert titles("q=ромашка&sort=title") == ["Альфа", "Бета"]
    assert titles("q=ромашка&sort=-title") == ["Бета", "Альфа"]
    assert titles({"status": ["first_call"]}) == ["Гамма"]
    assert titles("status=new&status=first_call&sort=title&page=3") == ["Альфа", "Бета", "Гамма"]


def test_it_exports_deals_by_pipeline_and_companies_by_niche(owner):
    DealFactory(title="Холодная", responsible=owner)
    DealFactory(title="Общая", responsible=owner, pipeline=pipeline(GENERAL),
                stage_id=pipeline(GENERAL).first_stage().pk)
    assert [r["Название сделки"] for r in export("deal", owner, f"pipeline={pipeline(GENERAL).pk}")] == ["Общая"]
    niche = ref("Niche")
    company(owner, name="С нишей", niche=niche)
    company(owner, name="Без ниши")
    assert [r["Название компании"] for r in export("company", owner, f"niche={niche.pk}")] == ["С нишей"]


@pytest.mark.parametrize(("entity", "query", "message"), [
    ("lead", "status=nonsense", "Статус: Выберите корректный вариант. nonsense нет среди допустимых значений."),
    ("lead", "created_after=31.02.2026", "Дата создания: Введите правильную дату."),
    ("deal", "pipeline=999999", "Воронка: Выберите корректный вариант. Вашего варианта нет среди допустимых значений."),
    ("company", "responsible=abc", "Ответственный: Выберите корректный вариант."),
    ("task", "status=never", "Статус: Выберите корректный вариант. never нет среди допустимых значений."),
])
def test_it_refuses_a_filter_the_list_refuses_with_the_lists_message(owner, entity, query, message):
    with pytest.raises(exports.ExportError) as refused:
        exports.rows(entity, owner, query)
    assert any(m.startswith(message) for m in refused.value.messages), refused.value.messages


def test_it_refuses_an_unknown_list(owner):
    with pytest.raises(exports.ExportError, match="Неизвестный список «users»"):
        exports.rows("users", owner)


# --- Scope ---

def test_a_manager_exports_only_his_own_and_the_head_his_departments(owner, teammate, outsider, head, crm_admin):
    for user in (owner, teammate, outsider):
        LeadFactory(title=f"Лид {user.last_name}", responsible=user)
    LeadFactory(title="Лид чужого отдела", responsible=UserFactory(role="Менеджер"))
    titles = lambda user: sorted(r["Название лида"] for r in export("lead", user))  # noqa: E731
    assert titles(owner) == ["Лид Иванов"]
    assert titles(head) == ["Лид Иванов", "Лид Петрова", "Лид Сидоров"]
    assert len(titles(crm_admin)) == 4
    # «Мои» on the head's list narrows his export the same way.
    assert [r["Название лида"] for r in export("lead", head, "preset=mine")] == []


def test_the_export_level_caps_what_the_view_level_shows(owner, teammate, head):
    LeadFactory(title="Лид Иванова", responsible=owner)
    LeadFactory(title="Лид головы", responsible=head)
    Permission.objects.filter(role__name="Руководитель отдела продаж", entity=Entity.LEAD, action=Action.EXPORT).update(
        level=Level.OWN)
    assert [r["Название лида"] for r in export("lead", head)] == ["Лид головы"]
    Permission.objects.filter(role__name="Менеджер", entity=Entity.LEAD, action=Action.EXPORT).update(level=Level.NONE)
    assert export("lead", owner) == []
    assert not exports.may_export(owner, "lead")


def test_a_linked_record_the_user_may_not_see_is_not_named(owner, outsider):
    # A deal in «Общая воронка» of a company the user has no rights on (rights per pipeline).
    hidden = company(outsider, name="Скрытая компания")
    hidden_contact = contact(outsider, last_name="Скрытова")
    visible_contact = contact(owner, last_name="Виднова")
    deal = DealFactory(title="Общая сделка", responsible=owner, company=hidden, pipeline=pipeline(GENERAL),
                       stage_id=pipeline(GENERAL).first_stage().pk)
    deal.contacts.set([hidden_contact, visible_contact])
    [row] = export("deal", owner)
    assert row["Компания"] == ""
    assert row["Контакты"] == "Виднова Анна"
    # A converted lead's company handed to another manager.
    LeadFactory(title="Лид", responsible=owner, company=hidden, contact=hidden_contact)
    [lead_row] = export("lead", owner)
    assert (lead_row["Компания"], lead_row["Контакт"]) == ("", "")
    # A contact's company handed to another manager.
    contact(owner, last_name="Общая", companies=[hidden, company(owner, name="Своя компания")])
    assert [r["Компания"] for r in export("contact", owner, "q=Общая")] == ["Своя компания"]


def test_a_user_with_rights_in_one_pipeline_exports_its_deals_only(owner):
    role = Role.objects.create(name="Только «Общая воронка»")
    for action in (Action.VIEW, Action.EXPORT):
        Permission.objects.create(role=role, entity=Entity.DEAL, action=action, level=Level.ALL,
                                  scope=pipeline(GENERAL).access_scope)
    user = UserFactory()
    user.roles.add(role)
    DealFactory(title="Холодная", responsible=owner, company=company(owner))
    DealFactory(title="Общая", responsible=owner, company=company(owner, name="Лютик"), pipeline=pipeline(GENERAL),
                stage_id=pipeline(GENERAL).first_stage().pk)
    assert exports.may_export(user, "deal")
    assert not exports.may_export(user, "lead")
    assert [(r["Название сделки"], r["Компания"]) for r in export("deal", user)] == [("Общая", "")]


# --- Queries ---

def _make(entity: str, owner, i: int) -> None:
    if entity == "lead":
        lead = LeadFactory(responsible=owner)
        lead.products_to_sell.set([Product.objects.order_by("pk")[0]])
    elif entity == "company":
        company(owner, name=f"Компания {i}")
    elif entity == "contact":
        contact(owner, last_name=f"Контактова {i}", companies=[company(owner, name=f"Компания {i}")])
    else:
        deal = DealFactory(responsible=owner, company=company(owner, name=f"Компания {i}"))
        deal.contacts.set([contact(owner, last_name=f"Контактова {i}")])
        DealProduct.objects.create(deal=deal, product=Product.objects.order_by("pk")[0], price=Decimal("10"))


@pytest.mark.parametrize("entity", ["lead", "company", "contact", "deal"])
def test_it_reads_records_in_chunks_with_a_constant_number_of_queries(owner, monkeypatch, entity):
    monkeypatch.setattr(exports, "CHUNK", 4)
    made = 0

    def queries(count: int) -> int:
        nonlocal made
        while made < count:
            _make(entity, owner, made)
            made += 1
        owner.refresh_from_db()
        _headers, rows = exports.rows(entity, owner)
        with CaptureQueriesContext(connection) as captured:
            assert len(list(rows)) == count
        return len(captured)

    first = queries(1)
    assert queries(3) == first  # within a chunk the rows cost nothing more
    two, three = queries(7), queries(11)
    assert three - two == two - first > 0  # each chunk costs the same few queries
