"""Deal stages' stable codes (Stage.code): Bitrix24's STAGE_ID without the pipeline's prefix."""

import pytest

from deals.models import Pipeline, Stage
from tests.factories import COLD, GENERAL, INBOUND

pytestmark = pytest.mark.django_db


def codes(pipeline_name):
    return list(Stage.objects.filter(pipeline__name=pipeline_name).order_by("sort", "pk").values_list("code", flat=True))


def test_it_gives_the_default_stages_bitrix24s_codes():
    assert codes(GENERAL) == ["NEW", "PREPARATION", "PREPAYMENT_INVOICE", "EXECUTING", "FINAL_INVOICE", "WON", "LOSE"]
    assert codes(COLD)[0] == "NEW" and codes(COLD)[-2:] == ["WON", "LOSE"]
    assert codes(INBOUND) == ["NEW", "FIRST_CONTACT", "NEEDS", "DEMO", "OFFER_SENT", "INVOICE", "WON", "LOSE"]


def test_it_names_a_stage_added_later_as_bitrix24_does_and_keeps_the_code_on_rename():
    pipeline = Pipeline.objects.get(name=GENERAL)
    stage = Stage.objects.create(pipeline=pipeline, name="Согласование", sort=45)
    assert stage.code.startswith("UC_") and len(stage.code) == 9
    code = stage.code
    stage.name = "Согласование договора"
    stage.save()
    stage.refresh_from_db()
    assert stage.code == code


def test_it_fills_the_codes_of_stages_that_had_none():
    from django.apps import apps

    from deals.defaults import fill_stage_codes

    pipeline = Pipeline.objects.create(name="Партнёры", sort=99)
    first = Stage.objects.create(pipeline=pipeline, name="Старт", sort=10, code="X")
    won = Stage.objects.create(pipeline=pipeline, name="Готово", sort=900, semantics="success", code="Y")
    other = Stage.objects.create(pipeline=pipeline, name="Переговоры", sort=20, code="Z")
    # The migration adds the column empty for all; the unique constraint comes after the filling, so
    # here each stage is emptied and filled on its own.
    filled = []
    for stage in (first, won, other):
        Stage.objects.filter(pk=stage.pk).update(code="")
        fill_stage_codes(apps)
        filled.append(Stage.objects.get(pk=stage.pk).code)
    assert filled[:2] == ["NEW", "WON"] and filled[2].startswith("UC_")
