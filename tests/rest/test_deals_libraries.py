"""crm.deal.* through both client libraries, unchanged, against the real TLS server: fast-bitrix24's
get_all and batched call, b24pysdk's list().as_list(), add, update (the stage gate) and product rows."""

import pytest

from deals.models import Deal
from tests.factories import COLD, GENERAL, DealFactory, pipeline, ref
from tests.rest.conftest import b24_client, fast_bitrix

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_walks_and_writes_deals_with_fast_bitrix24(webhook_url, owner, outsider):
    from fast_bitrix24.server_response import ErrorInServerResponseException

    cold = pipeline(COLD)
    mine = Deal.objects.bulk_create(DealFactory.build_batch(120, responsible=owner, pipeline=cold,
                                                            stage_id=cold.first_stage().pk))
    DealFactory(responsible=outsider)
    bitrix = fast_bitrix(webhook_url(owner))
    rows = bitrix.get_all("crm.deal.list", {"filter": {"CATEGORY_ID": cold.pk}, "select": ["ID", "STAGE_ID"]})
    assert sorted(int(r["ID"]) for r in rows) == sorted(d.pk for d in mine)
    assert {r["STAGE_ID"] for r in rows} == {f"C{cold.pk}:NEW"}
    pk = bitrix.call("crm.deal.add", {"fields": {"TITLE": "Из скрипта", "CATEGORY_ID": cold.pk, "OPPORTUNITY": 900}})
    deal = Deal.objects.get(pk=pk)
    assert deal.pipeline == cold and deal.amount == 900 and deal.responsible == owner
    with pytest.raises(ErrorInServerResponseException):
        bitrix.call("crm.deal.update", {"id": pk, "fields": {"STAGE_ID": f"C{cold.pk}:WON"}})
    deal.refresh_from_db()
    assert deal.current_stage == cold.first_stage()


def test_it_moves_deals_and_sets_products_through_b24pysdk(webhook_url, owner, teammate):
    from b24pysdk.errors import BitrixAPIBadRequest

    client = b24_client(webhook_url(owner))
    general = pipeline(GENERAL)
    pk = client.crm.deal.add(fields={"TITLE": "Сделка", "STAGE_ID": "PREPARATION"}).result
    deal = Deal.objects.get(pk=pk)
    assert deal.pipeline == general and deal.current_stage.code == "PREPARATION"
    with pytest.raises(BitrixAPIBadRequest) as error:
        _ = client.crm.deal.update(bitrix_id=pk, fields={"STAGE_ID": "FINAL_INVOICE"}).result
    assert "Сумма" in error.value.error_description
    assert client.crm.deal.productrows.set(bitrix_id=pk, rows=[{"PRODUCT_ID": ref("Product").pk, "PRICE": 7000,
                                                                 "QUANTITY": 1}]).result is True
    assert client.crm.deal.update(bitrix_id=pk, fields={"STAGE_ID": "FINAL_INVOICE"}).result is True
    got = client.crm.deal.get(bitrix_id=pk).result
    assert (got["STAGE_ID"], got["OPPORTUNITY"], got["CATEGORY_ID"]) == ("FINAL_INVOICE", "7000.00", "0")
    DealFactory(responsible=teammate)
    listed = list(client.crm.deal.list(select=["ID"]).as_list().result)
    assert [r["ID"] for r in listed] == [str(pk)]
    rows = client.crm.deal.productrows.get(bitrix_id=pk).result
    assert [(r["PRODUCT_ID"], r["PRICE"]) for r in rows] == [(ref("Product").pk, 7000.0)]
