"""The dictionaries through the API: crm.status.list (lead statuses, sources, each pipeline's
stages), crm.status.entity.types, crm.category.list, crm.dealcategory.list / stage.list / default.get."""

import pytest

from deals.models import Stage
from tests.factories import COLD, GENERAL, INBOUND, pipeline, ref, stage
from tests.rest.rest_client import Rest

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(owner):
    return Rest(owner)


def category(name):
    return 0 if name == GENERAL else pipeline(name).pk


def test_it_lists_our_lead_statuses_with_stable_codes_and_semantics(api):
    rows = api.ok("crm.status.list", {"filter": {"ENTITY_ID": "STATUS"}, "order": {"SORT": "ASC"}})
    assert [(r["STATUS_ID"], r["NAME"], r["SEMANTICS"]) for r in rows] == [
        ("NEW", "Не обработан", None), ("FIRST_CALL", "Первый звонок", None), ("QUALIFICATION", "Квалификация", None),
        ("RECONNAISSANCE", "Разведка", None), ("DECISION_MAKER", "Выход на ЛПР", None),
        ("CONVERTED", "Успешный", "S"), ("JUNK", "Не успешный", "F")]
    assert rows[0]["EXTRA"] == {"SEMANTICS": "process", "COLOR": rows[0]["COLOR"]} and rows[0]["ENTITY_ID"] == "STATUS"
    assert len({r["ID"] for r in rows}) == 7 and all(r["ID"].isdigit() for r in rows)


def test_it_lists_sources_by_id_and_takes_bitrix24s_codes_for_them(api, owner):
    rows = api.ok("crm.status.list", {"filter": {"ENTITY_ID": "SOURCE"}})
    assert {"STATUS_ID": str(ref("Source", "Сайт").pk), "NAME": "Сайт"}.items() <= next(
        r for r in rows if r["NAME"] == "Сайт").items()
    assert api.ok("crm.status.list", {"filter": {"ENTITY_ID": "SOURCE", "STATUS_ID": str(ref("Source", "Сайт").pk)}})[0][
        "NAME"] == "Сайт"


def test_it_lists_each_pipelines_stages_as_bitrix24_names_them(api):
    general = api.ok("crm.status.list", {"filter": {"ENTITY_ID": "DEAL_STAGE"}})
    assert [r["STATUS_ID"] for r in general] == ["NEW", "PREPARATION", "PREPAYMENT_INVOICE", "EXECUTING",
                                                 "FINAL_INVOICE", "WON", "LOSE"]
    assert general[0]["CATEGORY_ID"] is None and general[-2]["SEMANTICS"] == "S" and general[-1]["SEMANTICS"] == "F"
    cold = category(COLD)
    rows = api.ok("crm.status.list", {"filter": {"ENTITY_ID": f"DEAL_STAGE_{cold}"}})
    assert rows[0]["STATUS_ID"] == f"C{cold}:NEW" and rows[0]["CATEGORY_ID"] == str(cold)
    assert rows[0]["NAME"] == "Новая" and rows[0]["ID"] == str(stage(COLD, "Новая").pk)
    assert api.ok("crm.dealcategory.stage.list", {"id": cold}) == rows
    assert api.ok("crm.dealcategory.stage.list", {"id": 0}) == general
    everything = api.ok("crm.status.list")
    assert {r["ENTITY_ID"] for r in everything} >= {"STATUS", "SOURCE", "DEAL_STAGE", f"DEAL_STAGE_{cold}"}


def test_it_names_a_stage_added_later_and_follows_a_rename(api):
    added = Stage.objects.create(pipeline=pipeline(INBOUND), name="Переговоры", sort=35)
    inbound = category(INBOUND)
    rows = api.ok("crm.status.list", {"filter": {"ENTITY_ID": f"DEAL_STAGE_{inbound}"}})
    assert f"C{inbound}:{added.code}" in [r["STATUS_ID"] for r in rows]
    renamed = stage(INBOUND, "Демонстрация")
    renamed.name = "Демо"
    renamed.save()
    rows = api.ok("crm.status.list", {"filter": {"ENTITY_ID": f"DEAL_STAGE_{inbound}", "STATUS_ID": f"C{inbound}:DEMO"}})
    assert [r["NAME"] for r in rows] == ["Демо"]


def test_it_answers_the_entity_types_and_categories(api):
    types = {t["ID"]: t for t in api.ok("crm.status.entity.types")}
    cold = category(COLD)
    assert types["STATUS"]["SEMANTIC_INFO"] == {"START_FIELD": "NEW", "FINAL_SUCCESS_FIELD": "CONVERTED",
                                                "FINAL_UNSUCCESS_FIELD": "JUNK", "FINAL_SORT": 0}
    assert types["DEAL_STAGE"]["CATEGORY_ID"] == 0 and types["DEAL_STAGE"]["SEMANTIC_INFO"]["FINAL_SUCCESS_FIELD"] == "WON"
    assert types[f"DEAL_STAGE_{cold}"]["PREFIX"] == f"C{cold}" and types[f"DEAL_STAGE_{cold}"]["PARENT_ID"] == "DEAL_STAGE"
    assert "SOURCE" in types
    categories = api.ok("crm.category.list", {"entityTypeId": 2})["categories"]
    assert [(c["id"], c["name"], c["isDefault"]) for c in categories] == [
        (0, GENERAL, "Y"), (cold, COLD, "N"), (category(INBOUND), INBOUND, "N")]
    old = api.ok("crm.dealcategory.list")
    assert [r["ID"] for r in old] == [str(cold), str(category(INBOUND))]
    assert api.ok("crm.dealcategory.default.get") == {"ID": 0, "NAME": GENERAL}


@pytest.mark.parametrize("method, params", [
    ("crm.category.list", {"entityTypeId": 1}),
    ("crm.category.list", {}),
    ("crm.dealcategory.stage.list", {"id": 99999}),
    ("crm.dealcategory.stage.list", {"id": "abc"}),
    ("crm.status.list", {"filter": {"NO_SUCH": 1}}),
    ("crm.status.list", {"filter": "ENTITY_ID"}),
])
def test_it_answers_bad_parameters_with_an_error_never_a_500(api, method, params):
    assert api.error(method, params)


def test_it_pages_the_status_list_by_50_as_bitrix24(api):
    from crm.models import Source

    for i in range(60):
        Source.objects.create(name=f"Источник {i:02}", sort=1000 + i)
    status, first = api.call("crm.status.list", {"filter": {"ENTITY_ID": "SOURCE"}})
    assert status == 200 and len(first["result"]) == 50 and first["next"] == 50 and first["total"] > 60
    status, second = api.call("crm.status.list", {"filter": {"ENTITY_ID": "SOURCE"}, "start": 50})
    assert "next" not in second and len(second["result"]) == first["total"] - 50
