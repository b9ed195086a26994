"""crm.lead.* through the API, in-process: fields as Bitrix24 names them, the access of each persona,
the status gate, bad input answered as Bitrix24 does, nothing half-saved."""

import pytest

from crm.models import TimelineEntry
from leads import services
from leads.models import Lead, Status
from tests.factories import LeadFactory, ref
from tests.rest.rest_client import Rest

pytestmark = pytest.mark.django_db

NEW_LEAD = {"TITLE": "Заявка с сайта", "SOURCE_ID": "WEB", "COMPANY_TITLE": "ООО «Ромашка»",
            "PHONE": [{"VALUE": "8 (912) 859-87-48", "VALUE_TYPE": "WORK"}]}


@pytest.fixture
def api(owner):
    return Rest(owner)


def test_it_adds_a_lead_as_bitrix24_names_its_fields_and_reads_it_back(api, owner):
    pk = api.ok("crm.lead.add", {"fields": {
        **NEW_LEAD, "NAME": "Анна", "LAST_NAME": "Смирнова", "POST": "Директор", "OPPORTUNITY": "15000.50",
        "CURRENCY_ID": "usd", "COMMENTS": "Просит перезвонить", "EMAIL": [{"VALUE": "Info@Romashka.ru"}],
        "WEB": [{"VALUE": "romashka.ru", "VALUE_TYPE": "WORK"}], "UF_CRM_INN": "7707083893",
        "UF_CRM_NICHE": ref("Niche").pk}})
    lead = Lead.objects.get(pk=pk)
    assert (lead.title, lead.source.name, lead.company_phone, lead.contact_first_name, lead.currency) == (
        "Заявка с сайта", "Сайт", "+79128598748", "Анна", "USD")
    assert lead.responsible == owner and lead.created_by == owner and lead.company_email == "info@romashka.ru"
    got = api.ok("crm.lead.get", {"id": pk})
    assert got["ID"] == str(pk) and got["TITLE"] == "Заявка с сайта" and got["STATUS_ID"] == "NEW"
    assert got["STATUS_SEMANTIC_ID"] == "P" and got["SOURCE_ID"] == str(lead.source_id)
    assert got["OPPORTUNITY"] == "15000.50" and got["CURRENCY_ID"] == "USD" and got["ASSIGNED_BY_ID"] == str(owner.pk)
    assert got["PHONE"] == [{"ID": "1", "VALUE_TYPE": "WORK", "VALUE": "+79128598748", "TYPE_ID": "PHONE"}]
    assert got["EMAIL"][0]["VALUE"] == "info@romashka.ru" and got["WEB"][0]["VALUE"] == "romashka.ru"
    assert got["UF_CRM_INN"] == "7707083893" and got["UF_CRM_NICHE"] == str(ref("Niche").pk)
    assert got["DATE_CREATE"].startswith(str(lead.created_at.year)) and "+03:00" in got["DATE_CREATE"]
    assert got["COMPANY_ID"] is None and got["HAS_PHONE"] == "Y"


def test_it_refuses_a_new_lead_without_what_the_first_status_requires_and_saves_nothing(api):
    description = api.error("crm.lead.add", {"fields": {"TITLE": "Без телефона", "SOURCE_ID": "WEB"}})
    assert "Название компании" in description and "Телефон" in description
    assert "COMPANY_TITLE" in description and "PHONE" in description
    assert not Lead.objects.exists()


def test_it_names_every_field_with_its_title_in_crm_lead_fields(api):
    fields = api.ok("crm.lead.fields")
    assert fields["TITLE"]["isRequired"] is True and fields["SOURCE_ID"]["statusType"] == "SOURCE"
    assert fields["STATUS_ID"] == {**fields["STATUS_ID"], "type": "crm_status", "statusType": "STATUS"}
    assert fields["UF_CRM_INN"]["title"] == "ИНН" and fields["UF_CRM_INN"]["isDynamic"] is True
    assert {"ID": str(ref("Niche").pk), "VALUE": ref("Niche").name} in fields["UF_CRM_NICHE"]["items"]
    assert fields["PHONE"]["type"] == "crm_multifield" and fields["ID"]["isReadOnly"] is True


def test_it_moves_the_status_through_the_gate_and_names_the_missing_fields(api, owner):
    lead = LeadFactory(responsible=owner)
    description = api.error("crm.lead.update", {"id": lead.pk, "fields": {"STATUS_ID": "QUALIFICATION"}})
    assert description.startswith("Для изменения статуса лида заполните обязательные поля")
    assert "Ниша компании" in description and "UF_CRM_NICHE" in description
    lead.refresh_from_db()
    assert lead.status == Status.NEW
    assert api.ok("crm.lead.update", {"id": lead.pk, "fields": {
        "STATUS_ID": "QUALIFICATION", "UF_CRM_NICHE": ref("Niche").pk, "UF_CRM_CRM_SYSTEM": ref("CrmSystem").name,
        "UF_CRM_CLIENT_TYPE": ref("ClientType").pk}}) is True
    lead.refresh_from_db()
    assert lead.status == Status.QUALIFICATION and lead.niche == ref("Niche")
    move = TimelineEntry.objects.filter(object_id=lead.pk, kind="status").get()
    assert move.author == owner and move.data["to"] == Status.QUALIFICATION and move.data.get("via") == "rest"


def test_it_refuses_conversion_through_the_status_and_closes_with_a_reason(api, owner):
    lead = LeadFactory(responsible=owner)
    assert "конвертации" in api.error("crm.lead.update", {"id": lead.pk, "fields": {"STATUS_ID": "CONVERTED"}})
    assert "Причина закрытия" in api.error("crm.lead.update", {"id": lead.pk, "fields": {"STATUS_ID": "JUNK"}})
    api.ok("crm.lead.update", {"id": lead.pk, "fields": {"STATUS_ID": "JUNK", "UF_CRM_JUNK_REASON": ref("JunkReason").pk}})
    lead.refresh_from_db()
    assert lead.status == Status.JUNK and lead.junk_reason == ref("JunkReason")
    assert api.ok("crm.lead.get", {"id": lead.pk})["STATUS_SEMANTIC_ID"] == "F"


def test_it_updates_deletes_and_appends_multifield_values_as_bitrix24_does(api, owner):
    lead = LeadFactory(responsible=owner, contact_phone="")
    api.ok("crm.lead.update", {"id": lead.pk, "fields": {"PHONE": [{"VALUE": "+7 912 000-11-22", "VALUE_TYPE": "MOBILE"}]}})
    lead.refresh_from_db()
    assert lead.contact_phone == "+79120001122" and lead.contact_phone_type == "mobile"
    api.ok("crm.lead.update", {"id": lead.pk, "fields": {"PHONE": [{"ID": "2", "VALUE": ""}]}})
    lead.refresh_from_db()
    assert lead.contact_phone == "" and lead.company_phone
    api.ok("crm.lead.update", {"id": lead.pk, "fields": {"PHONE": [{"ID": 1, "VALUE": "+7 912 333-44-55"}]}})
    lead.refresh_from_db()
    assert lead.company_phone == "+79123334455"
    # The company phone is required from «Не обработан» on: deleting it is refused, nothing saved.
    assert "Телефон" in api.error("crm.lead.update", {"id": lead.pk, "fields": {"PHONE": [{"ID": 1, "DELETE": "Y"}],
                                                                                "TITLE": "Новое"}})
    lead.refresh_from_db()
    assert lead.company_phone == "+79123334455" and lead.title != "Новое"
    many = [{"VALUE": "+7 912 000-00-01"}, {"VALUE": "+7 912 000-00-02"}]
    assert "PHONE" in api.error("crm.lead.update", {"id": lead.pk, "fields": {"PHONE": many}})


@pytest.mark.parametrize("fields, words", [
    ({"STATUS_ID": "IN_PROCESS"}, "Неизвестный статус"),
    ({"SOURCE_ID": "NO_SUCH"}, "Неизвестный источник"),
    ({"OPPORTUNITY": "много"}, "OPPORTUNITY"),
    ({"OPPORTUNITY": "-5"}, "Сумма"),
    ({"CURRENCY_ID": "XYZ"}, "валюта"),
    ({"ASSIGNED_BY_ID": "999999"}, "ASSIGNED_BY_ID"),
    ({"UF_CRM_NICHE": "нет такой"}, "Ниша"),
    ({"UF_CRM_INN": "1234567890"}, "ИНН"),
    ({"PHONE": [{"VALUE": "позвоните"}]}, "Телефон"),
    ({"PHONE": [{"VALUE": "+79120001122", "VALUE_TYPE": "SATELLITE"}]}, "VALUE_TYPE"),
    ({"BIRTHDATE": "вчера"}, "BIRTHDATE"),
    ({"PHONE": [{"ID": 7, "VALUE": "+79120001122"}]}, "ID 7"),
    ({"STATUS_ID": "QUALIFICATION"}, "Ниша компании"),  # the title was saved first, then rolled back
])
def test_it_answers_bad_values_with_bitrix24s_error_and_changes_nothing(api, owner, fields, words):
    lead = LeadFactory(responsible=owner, title="Как было")
    description = api.error("crm.lead.update", {"id": lead.pk, "fields": {"TITLE": "Изменено", **fields}})
    assert words.lower() in description.lower()
    lead.refresh_from_db()
    assert lead.title == "Как было" and lead.version == 1


def test_it_drops_unknown_and_read_only_fields_as_bitrix24_does(api, owner):
    lead = LeadFactory(responsible=owner)
    api.ok("crm.lead.update", {"id": lead.pk, "fields": {"TITLE": "Новое", "NO_SUCH_FIELD": "x", "ID": 999,
                                                          "DATE_CREATE": "2020-01-01T00:00:00+03:00", "COMPANY_ID": 5}})
    lead.refresh_from_db()
    assert lead.title == "Новое" and lead.pk != 999 and lead.company_id is None


def test_it_lets_each_persona_reach_the_leads_the_browser_does(personas, owner):
    lead = LeadFactory(responsible=owner)
    reach = {}
    for name, user in personas.items():
        api = Rest(user)
        status, answer = api.call("crm.lead.get", {"id": lead.pk})
        updated = api.call("crm.lead.update", {"id": lead.pk, "fields": {"COMMENTS": f"от {name}"}})[0] == 200
        listed = [row["ID"] for row in api.ok("crm.lead.list", {"select": ["ID"]})]
        reach[name] = (status == 200, updated, listed == [str(lead.pk)])
        if status != 200:
            assert answer == {"error": "", "error_description": "Not found"}
    assert reach == {"owner": (True, True, True), "teammate": (False, False, False),
                     "outsider": (False, False, False), "head": (True, True, True), "crm_admin": (True, True, True)}


def test_it_deletes_a_lead_for_whom_may_and_refuses_the_others(owner, outsider, crm_admin):
    lead = LeadFactory(responsible=owner)
    assert Rest(outsider).error("crm.lead.delete", {"id": lead.pk}) == "Not found"
    assert Rest(crm_admin).ok("crm.lead.delete", {"id": lead.pk}) is True
    assert not Lead.objects.filter(pk=lead.pk).exists()
    assert Rest(crm_admin).error("crm.lead.delete", {"id": lead.pk}) == "Not found"
    assert Rest(crm_admin).error("crm.lead.get", {"id": "abc"}) == "ID is not defined or invalid."


def test_it_lists_with_bitrix24s_filters_order_and_select(api, owner):
    leads = [LeadFactory(responsible=owner, amount=amount, title=f"Лид {amount}") for amount in (100, 500, 1000)]
    services.lead_junk(leads[0], reason=ref("JunkReason"), by=owner)
    rows = api.ok("crm.lead.list", {"filter": {">=OPPORTUNITY": 500, "STATUS_ID": "NEW"}, "order": {"OPPORTUNITY": "DESC"},
                                    "select": ["ID", "TITLE", "PHONE"]})
    assert [r["TITLE"] for r in rows] == ["Лид 1000", "Лид 500"]
    assert set(rows[0]) == {"ID", "TITLE", "PHONE"} and rows[0]["PHONE"][0]["ID"] == "1"
    junk = api.ok("crm.lead.list", {"filter": {"STATUS_SEMANTIC_ID": "F"}})
    assert [r["ID"] for r in junk] == [str(leads[0].pk)] and "PHONE" not in junk[0] and "UF_CRM_INN" not in junk[0]
    assert api.ok("crm.lead.list", {"filter": {"PHONE": leads[1].company_phone}})[0]["ID"] == str(leads[1].pk)
    assert "NO_SUCH" in api.error("crm.lead.list", {"filter": {"NO_SUCH": 1}})
    assert "BOGUS" in api.error("crm.lead.list", {"filter": {"STATUS_ID": "BOGUS"}})


def test_a_list_with_a_select_of_columns_reads_only_those(api, owner):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    lead = LeadFactory(responsible=owner, comment="Длинный комментарий", title="Лид с комментарием")
    with CaptureQueriesContext(connection) as queries:
        rows = api.ok("crm.lead.list", {"select": ["ID", "TITLE", "OPPORTUNITY", "ASSIGNED_BY_ID"], "order": {"ID": "ASC"}})
    assert rows == [{"ID": str(lead.pk), "TITLE": "Лид с комментарием", "OPPORTUNITY": rows[0]["OPPORTUNITY"],
                     "ASSIGNED_BY_ID": str(owner.pk)}]
    page = [q["sql"] for q in queries.captured_queries if '"leads_lead"."title"' in q["sql"]]
    assert page and '"leads_lead"."comment"' not in page[0]
    # A computed field (the phones) reads the columns it declares.
    with CaptureQueriesContext(connection) as queries:
        row = api.ok("crm.lead.list", {"select": ["ID", "PHONE", "COMMENTS"]})[0]
    assert row["COMMENTS"] == "Длинный комментарий" and row["PHONE"][0]["VALUE"] == lead.company_phone
    page = [q["sql"] for q in queries.captured_queries if '"leads_lead"."comment"' in q["sql"]]
    assert page and '"leads_lead"."title"' not in page[0] and '"leads_lead"."contact_phone_type"' in page[0]


def test_a_page_read_as_columns_answers_what_the_card_shows(api, owner):
    """The list renders its rows from tuples of columns; crm.lead.get from the record the card
    selector reads: the same lead must read the same."""
    import datetime as dt
    from decimal import Decimal

    from django.utils import timezone

    from leads import selectors

    LeadFactory(responsible=owner, amount=Decimal("15000.5"), currency="USD", contact_first_name="Анна",
                contact_birth_date=dt.date(1990, 12, 17), niche=ref("Niche"), comment="Перезвонить")
    LeadFactory(responsible=owner, amount=0, contact_first_name="", company_email="info@vector.ru",
                contact_phone="+79120000002", contact_phone_type="mobile", company_website="vector.ru")
    everything = api.ok("crm.lead.list", {"select": ["*", "PHONE", "EMAIL", "WEB"], "order": {"ID": "ASC"}})
    for row in everything:  # every field but UF_*, the multifields too, as the card's record reads them
        got = api.ok("crm.lead.get", {"id": row["ID"]})
        assert row == {name: got[name] for name in row} and "HAS_EMAIL" in row and "UF_CRM_INN" not in row
    assert [(item["ID"], item["VALUE_TYPE"]) for item in everything[1]["PHONE"]] == [("1", "WORK"), ("2", "MOBILE")]
    assert (everything[0]["HAS_EMAIL"], everything[1]["HAS_EMAIL"], everything[0]["WEB"]) == ("N", "Y", [])
    select = ["TITLE", "STATUS_ID", "STATUS_SEMANTIC_ID", "SOURCE_ID", "ASSIGNED_BY_ID", "OPPORTUNITY", "CURRENCY_ID",
              "NAME", "BIRTHDATE", "COMMENTS", "DATE_CREATE", "MOVED_TIME", "COMPANY_ID", "UF_CRM_NICHE",
              "UF_CRM_DM_TALKED", "UF_CRM_EMPLOYEES"]
    rows = api.ok("crm.lead.list", {"select": select, "order": {"ID": "ASC"}})
    assert len(rows) == 2
    for row in rows:
        lead = selectors.lead_for_card(owner, int(row["ID"]))
        assert (row["TITLE"], row["ASSIGNED_BY_ID"], row["SOURCE_ID"], row["CURRENCY_ID"], row["NAME"]) == (
            lead.title, str(lead.responsible.pk), str(lead.source.pk), lead.currency, lead.contact_first_name)
        assert row["OPPORTUNITY"] == f"{lead.amount:.2f}" and row["COMPANY_ID"] is None
        assert row["DATE_CREATE"] == timezone.localtime(lead.created_at).isoformat(timespec="seconds")
        got = api.ok("crm.lead.get", {"id": lead.pk})
        assert row == {name: got[name] for name in row}
    assert (rows[0]["OPPORTUNITY"], rows[0]["BIRTHDATE"], rows[0]["UF_CRM_NICHE"], rows[0]["UF_CRM_DM_TALKED"]) == (
        "15000.50", "1990-12-17T00:00:00+03:00", str(ref("Niche").pk), "0")
    assert (rows[1]["OPPORTUNITY"], rows[1]["NAME"], rows[1]["BIRTHDATE"], rows[1]["UF_CRM_NICHE"]) == (
        "0.00", "", None, None)


def test_it_keeps_a_leads_products_as_product_rows(api, owner):
    lead = LeadFactory(responsible=owner)
    products = [ref("Product"), ref("Product", "Тренинги")]
    api.ok("crm.lead.productrows.set", {"id": lead.pk, "rows": [{"PRODUCT_ID": products[0].pk, "PRICE": 100, "QUANTITY": 2},
                                                                 {"PRODUCT_NAME": "Тренинги"}]})
    assert set(lead.products_to_sell.all()) == set(products)
    rows = api.ok("crm.lead.productrows.get", {"id": lead.pk})
    assert {r["PRODUCT_ID"] for r in rows} == {p.pk for p in products} and rows[0]["OWNER_TYPE"] == "L"
    assert "товара" in api.error("crm.lead.productrows.set", {"id": lead.pk, "rows": [{"PRODUCT_ID": 99999}]})
    assert set(lead.products_to_sell.all()) == set(products)
    api.ok("crm.lead.productrows.set", {"id": lead.pk, "rows": []})
    assert not lead.products_to_sell.exists()


def test_it_takes_a_sites_form_posted_to_a_crm_only_webhook(owner):
    """«Входящие заявки»: a site's form posts PHP-nested fields to crm.lead.add with a webhook that has
    only the crm scope; fast-bitrix24's str() values («None», «True») are read as it means them."""
    api = Rest(owner, scopes=("crm",))
    status, answer = api.form("crm.lead.add", "fields[TITLE]=Заявка+с+сайта&fields[SOURCE_ID]=WEBFORM"
                                              "&fields[COMPANY_TITLE]=ИП+Петров&fields[PHONE][0][VALUE]=%2B79128598748"
                                              "&fields[PHONE][0][VALUE_TYPE]=WORK&fields[BIRTHDATE]=None"
                                              "&fields[UF_CRM_DM_TALKED]=True&fields[COMMENTS]=Хочу+демо")
    assert status == 200, answer
    lead = Lead.objects.get(pk=answer["result"])
    assert (lead.source.name, lead.company_phone, lead.contact_birth_date, lead.talked_to_decision_maker) == (
        "Веб-форма", "+79128598748", None, True)
    assert Rest(owner, scopes=("user",)).call("crm.lead.list")[1]["error"] == "insufficient_scope"


def test_it_adds_in_a_batch_and_reads_back_by_a_result_reference(api, owner):
    status, answer = api.call("batch", {"halt": 1, "cmd": {
        "lead": "crm.lead.add?fields[TITLE]=Пакет&fields[SOURCE_ID]=CALL&fields[COMPANY_TITLE]=ООО+П"
                "&fields[PHONE][0][VALUE]=%2B79120000001",
        "got": "crm.lead.get?id=$result[lead]",
        "bad": "crm.lead.add?fields[TITLE]=Без+телефона&fields[SOURCE_ID]=CALL",
        "never": "crm.lead.add?fields[TITLE]=После+ошибки"}})
    assert status == 200
    result = answer["result"]
    assert result["result"]["got"]["TITLE"] == "Пакет" and "Телефон" in result["result_error"]["bad"]["error_description"]
    assert "never" not in result["result"] and list(Lead.objects.values_list("title", flat=True)) == ["Пакет"]


def test_it_reads_a_page_of_leads_in_a_fixed_number_of_queries(api, owner, django_assert_max_num_queries):
    for _ in range(3):
        LeadFactory(responsible=owner)
    lead = Lead.objects.first()
    lead.products_to_sell.set([ref("Product")])

    def page():
        status, answer = api.call("crm.lead.list", {"select": ["*", "UF_*", "PHONE", "EMAIL", "WEB"]})
        assert status == 200 and len(answer["result"]) == Lead.objects.count()
        return answer

    # The webhook, its bucket, the levels, the counters' total, the rows and their two lists, and
    # the test's own count: whatever the number of leads.
    with django_assert_max_num_queries(13) as few:
        page()
    for _ in range(40):
        LeadFactory(responsible=owner)
    with django_assert_max_num_queries(len(few.captured_queries)):
        rows = page()["result"]
    assert next(r for r in rows if r["ID"] == str(lead.pk))["UF_CRM_PRODUCTS"] == [str(ref("Product").pk)]


def test_it_adds_a_lead_straight_into_a_later_status_only_through_the_gate(api):
    description = api.error("crm.lead.add", {"fields": {**NEW_LEAD, "STATUS_ID": "QUALIFICATION"}})
    assert "Ниша компании" in description and not Lead.objects.exists()  # created, refused, rolled back
    pk = api.ok("crm.lead.add", {"fields": {**NEW_LEAD, "STATUS_ID": "JUNK", "UF_CRM_JUNK_REASON": "Дубликат"}})
    lead = Lead.objects.get(pk=pk)
    assert lead.status == Status.JUNK and lead.junk_reason.name == "Дубликат"
    # As «Забраковать» on the card: the reason is a change, then the move.
    assert list(TimelineEntry.objects.filter(object_id=pk).order_by("pk").values_list("kind", flat=True)) == [
        "created", "change", "status"]


def test_it_names_our_own_fields_as_bitrix24_allows_user_fields():
    """UF_CRM_ and at most 13 more characters (Bitrix24's limit of 20): integrations that create or
    check user fields by name meet no name Bitrix24 could not have."""
    from rest.methods.crm_deals import DEALS
    from rest.methods.crm_leads import LEADS

    names = [n for fields in (LEADS, DEALS) for n in fields.by_name if n.startswith("UF_")]
    assert names and all(n.startswith("UF_CRM_") and len(n) <= 20 and n.isupper() for n in names), names


def test_it_lets_only_a_supervisor_return_a_closed_lead_to_work(owner, head):
    lead = LeadFactory(responsible=owner)
    services.lead_junk(lead, reason=ref("JunkReason"), by=owner)
    description = Rest(owner).error("crm.lead.update", {"id": lead.pk, "fields": {"STATUS_ID": "NEW"}})
    assert description == "Access denied. Вернуть закрытый лид в работу может только руководитель."
    assert Rest(head).ok("crm.lead.update", {"id": lead.pk, "fields": {"STATUS_ID": "FIRST_CALL"}}) is True
    lead.refresh_from_db()
    assert lead.status == Status.FIRST_CALL and lead.junk_reason is None


def test_it_answers_access_denied_for_a_lead_seen_but_not_to_be_changed(owner, head):
    from accounts.models import Action, Entity, Level, Permission

    Permission.objects.filter(role__name="Руководитель отдела продаж", entity=Entity.LEAD,
                              action__in=[Action.CHANGE, Action.DELETE]).update(level=Level.OWN)
    lead = LeadFactory(responsible=owner, title="Как было")
    api = Rest(head)
    assert api.ok("crm.lead.get", {"id": lead.pk})["TITLE"] == "Как было"
    assert api.error("crm.lead.update", {"id": lead.pk, "fields": {"TITLE": "Руководитель"}}) == "Access denied."
    assert api.error("crm.lead.delete", {"id": lead.pk}) == "Access denied."
    lead.refresh_from_db()
    assert lead.title == "Как было"


def test_it_takes_multifield_items_keyed_n0_as_bitrix24s_own_examples_send_them(api, owner):
    lead = LeadFactory(responsible=owner, contact_phone="")
    api.ok("crm.lead.update", {"id": lead.pk, "fields": {"PHONE": {"n0": {"VALUE": "+7 912 555-66-77", "VALUE_TYPE": "HOME"}}}})
    lead.refresh_from_db()
    assert (lead.contact_phone, lead.contact_phone_type) == ("+79125556677", "home")
