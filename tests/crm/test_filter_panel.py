"""The leads' and deals' filter panel, loaded after the rows (crm.lists.panel_context): the page
shows a placeholder with the filters set, htmx loads the panel from the list's URL with ?panel=1,
validated by the same filter set; without JS that link opens the list with the panel in place."""

from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import COLD, DealFactory, LeadFactory, pipeline, ref, stage

LEADS, DEALS = reverse("leads:list"), reverse("deals:list")
HTMX = {"HX-Request": "true"}


def text(response) -> str:
    assert response.status_code == 200
    return unescape(response.content.decode()).replace("\xa0", " ")


def queries(client, url, params=None, headers=None) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params or {}, headers=headers or {})
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_the_page_shows_the_filters_set_and_loads_the_panel_after_the_rows(client, owner):
    LeadFactory(title="Холодный лид", responsible=owner, source=ref("Source", "Холодный звонок"))
    client.force_login(owner)
    source = ref("Source", "Холодный звонок")
    page = text(client.get(LEADS, {"status": ["new", "first_call"], "source": source.pk,
                                   "created_after": "2026-02-01"}))
    assert "Холодный лид" in page
    assert 'data-testid="lead-filter-placeholder"' in page
    assert f'hx-get="/leads/?status=new&status=first_call&source={source.pk}&created_after=2026-02-01&panel=1"' in page
    assert "Статус: Не обработан, Первый звонок" in page
    assert "Источник: Холодный звонок" in page and "Дата создания: с 01.02.2026" in page
    assert 'name="source"' not in page and 'name="status"' not in page  # the panel itself is not in the page
    assert 'name="responsible"' in page  # the bulk bar stays
    assert page.count('class="crm-filter-cell"') == 8  # the panel's place kept: a cell per select, per date range
    assert "{#" not in page

    panel = text(client.get(LEADS, {"status": "new", "source": source.pk, "panel": "1"}, headers=HTMX))
    assert "<html" not in panel and "Холодный лид" not in panel  # the panel alone, no rows
    assert f'<option value="{source.pk}" selected>Холодный звонок</option>' in panel
    assert '<input type="checkbox" name="status" value="new" class="btn-check" id="id_status_0" checked>' in panel
    assert 'data-testid="lead-filter-reset"' in panel and "Применить" in panel


def test_without_js_the_placeholders_link_opens_the_list_with_its_panel(client, owner):
    LeadFactory(title="Холодный лид", responsible=owner)
    DealFactory(title="Сделка", responsible=owner)
    client.force_login(owner)
    page = text(client.get(LEADS, {"status": "new", "panel": "1"}))
    assert "Холодный лид" in page and 'name="source"' in page and "lead-filter-placeholder" not in page
    assert '<input type="hidden" name="panel" value="1">' in page  # «Применить» keeps it open
    assert "По этим условиям" not in page
    page = text(client.get(DEALS, {"panel": "1"}))
    assert "Сделка" in page and 'name="stage"' in page and "Сделок пока нет" not in page


@pytest.mark.parametrize(("url", "params", "message"), [
    (LEADS, {"source": "abc"}, "Источник: Выберите корректный вариант"),
    (LEADS, {"status": "nonsense"}, "Статус: Выберите корректный вариант"),
    (LEADS, {"created_after": "32.13.2026"}, "Дата создания: Введите правильную дату"),
    (DEALS, {"stage": "999999"}, "Стадия: Выберите корректный вариант"),
    (DEALS, {"pipeline": "x", "responsible": "-1"}, "Ответственный: Выберите корректный вариант"),
])
def test_a_bad_parameter_gets_a_russian_message_in_the_panel_and_on_the_page(client, owner, url, params, message):
    client.force_login(owner)
    panel = text(client.get(url, {**params, "panel": "1"}, headers=HTMX))
    assert message in panel and "is-invalid" in panel
    page = text(client.get(url, params))
    assert message in page and "Некоторые условия не применены" in page


def test_the_panel_shows_the_stages_of_the_chosen_pipeline(client, owner):
    client.force_login(owner)
    panel = text(client.get(DEALS, {"pipeline": pipeline(COLD).pk, "panel": "1"}, headers=HTMX))
    assert f'<option value="{stage(COLD, "Презентация").pk}">Презентация</option>' in panel


@pytest.mark.parametrize("persona", ["owner", "head"])
def test_the_page_and_the_panel_cost_the_same_queries_at_3_and_60_records(client, personas, persona,
                                                                          django_assert_max_num_queries):
    owner, teammate = personas["owner"], personas["teammate"]
    client.force_login(personas[persona])

    def make(n):
        for i in range(n):
            user = (owner, teammate)[i % 2]
            LeadFactory(responsible=user, source=ref("Source", "Холодный звонок"))
            DealFactory(responsible=user, source=ref("Source"))

    def counts():
        return {(url, str(params)): queries(client, url, params, headers)
                for url in (LEADS, DEALS) for params, headers in (
                    ({}, None), ({"sort": "title", "page": "2"}, None), ({"panel": "1"}, HTMX),
                    ({"source": ref("Source").pk}, None))}

    make(3)
    counts()  # warm the caches that are not per page (content types, …)
    few = counts()
    make(57)
    assert counts() == few
    # The panel: the session, the user, the owner levels, the department tree, its selects' choices.
    for url in (LEADS, DEALS):
        with django_assert_max_num_queries(10):
            assert client.get(url, {"panel": "1"}, headers=HTMX).status_code == 200
