"""The leads list in a browser: the filter panel comes after the rows (htmx) and filters as
before; «Вперёд» and «Назад» walk the pages by the boundary row's key (crm.lists)."""

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from crm import tallies
from leads.models import Lead
from tests.factories import ref

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_panel_arrives_after_the_rows_and_the_pages_walk_by_key(live_server, page, login, owner):
    site, call = ref("Source", "Сайт"), ref("Source", "Холодный звонок")
    Lead.objects.bulk_create([Lead(title=f"Лид {i:03d}", source=site if i % 4 == 0 else call, responsible=owner)
                              for i in range(70)])
    start = timezone.now() - dt.timedelta(days=5)
    for i, pk in enumerate(Lead.objects.order_by("pk").values_list("pk", flat=True)):
        Lead.objects.filter(pk=pk).update(created_at=start + dt.timedelta(minutes=i // 2))  # pairs share an instant
    tallies.rebuild(Lead)
    login(owner)
    page.goto(f"{live_server.url}/leads/")
    expect(page.get_by_test_id("lead-total")).to_contain_text("Найдено лидов: 70")
    filters = page.get_by_test_id("lead-filters")
    # The placeholder gives way to the panel by itself.
    expect(filters.get_by_label("Источник")).to_be_visible()
    expect(page.get_by_test_id("lead-filter-placeholder")).to_have_count(0)
    first_row = page.locator("[data-lead]").first.get_attribute("data-lead")

    # «Вперёд» carries the last row's key; «Назад» brings back the same first page.
    page.get_by_role("link", name="Вперёд »").click()
    expect(page).to_have_url(re.compile(r"\?page=2&after=\d+_\d+$"))
    expect(page.locator("[data-lead]")).to_have_count(20)
    seen = set(page.locator("[data-lead]").evaluate_all("rows => rows.map(r => r.dataset.lead)"))
    page.get_by_role("link", name="« Назад").click()
    expect(page.locator("[data-lead]")).to_have_count(50)
    assert page.locator("[data-lead]").first.get_attribute("data-lead") == first_row
    first_page = set(page.locator("[data-lead]").evaluate_all("rows => rows.map(r => r.dataset.lead)"))
    assert not seen & first_page and len(seen | first_page) == 70

    # A filter chosen in the panel applies; the placeholder then names it until the panel is back.
    filters.get_by_label("Источник").select_option(label="Сайт")
    filters.get_by_role("button", name="Применить").click()
    expect(page.get_by_test_id("lead-total")).to_contain_text("Найдено лидов: 18")
    expect(filters.get_by_label("Источник")).to_have_value(str(site.pk))
