"""The boards' filter bar in a real browser: the head narrows the deals board with a preset and a
responsible, and «Показать ещё» keeps the filter; both boards' bars at a laptop's and a phone's size."""

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Action, Entity, Level, Permission
from deals.models import Deal
from tests.factories import COLD, DealFactory, LeadFactory, UserFactory, pipeline

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _deals(n, responsible, title, days_ago):
    start = timezone.now() - dt.timedelta(days=days_ago)
    for i, deal in enumerate(DealFactory.create_batch(n, responsible=responsible, pipeline=pipeline(COLD))):
        Deal.objects.filter(pk=deal.pk).update(title=f"{title} {i + 1}", created_at=start + dt.timedelta(minutes=i))


def test_the_head_picks_my_department_then_a_manager_and_more_cards_keep_the_filter(live_server, page, login, personas):
    problems = []
    page.on("console", lambda msg: msg.type == "error" and problems.append(msg.text))
    head, teammate = personas["head"], personas["teammate"]
    # A head of sales who sees every deal of the company and works with his own department.
    Permission.objects.filter(role__in=head.roles.all(), entity=Entity.DEAL, action=Action.VIEW).update(level=Level.ALL)
    _deals(12, teammate, "Сделка Петровой", days_ago=10)
    _deals(2, personas["owner"], "Сделка Иванова", days_ago=2)  # the newest: on the first page
    _deals(1, UserFactory(last_name="Внешний"), "Сделка вне отдела", days_ago=1)
    login(head)
    page.goto(f"{live_server.url}/deals/?pipeline={pipeline(COLD).pk}")
    new = page.get_by_test_id("deals-board").locator("[data-testid^=board-cards-]").first
    expect(new.get_by_test_id("board-card").filter(has_text="Сделка вне отдела")).to_have_count(1)

    page.get_by_test_id("board-presets").get_by_role("link", name="Мой отдел").click()
    expect(page.get_by_test_id("board-presets").locator(".active")).to_have_text("Мой отдел")
    expect(new.get_by_test_id("board-card").filter(has_text="Сделка вне отдела")).to_have_count(0)
    expect(new.get_by_test_id("board-card").filter(has_text="Сделка Иванова")).to_have_count(2)

    page.get_by_label("Ответственный").select_option(label=str(teammate))  # applies at once
    expect(page.get_by_label("Ответственный")).to_have_value(str(teammate.pk))
    expect(new.get_by_test_id("board-card").filter(has_text="Сделка Иванова")).to_have_count(0)
    expect(new.get_by_test_id("board-card")).to_have_count(10)
    first_count = page.locator("[data-testid^=board-count-]").first
    expect(first_count).to_have_text("12")

    new.get_by_test_id("board-more").click()
    expect(new.get_by_test_id("board-card")).to_have_count(12)
    expect(new.get_by_test_id("board-card").filter(has_text="Сделка Иванова")).to_have_count(0)
    expect(page.get_by_test_id("board-presets").locator(".active")).to_have_text("Мой отдел")
    assert problems == []


@pytest.mark.parametrize(("width", "height"), [(1440, 900), (390, 844)])
def test_the_filter_bars_at_both_sizes(live_server, page, login, personas, width, height):
    page.set_viewport_size({"width": width, "height": height})
    head = personas["head"]
    for user in ("owner", "teammate", "outsider"):
        LeadFactory(responsible=personas[user], title=f"Лид {personas[user].last_name}")
        DealFactory(responsible=personas[user], title=f"Сделка {personas[user].last_name}", pipeline=pipeline(COLD))
    login(head)
    for url, prefix, name in ((f"/leads/kanban/?responsible={personas['owner'].pk}", "kanban", "leads"),
                              (f"/deals/?pipeline={pipeline(COLD).pk}&preset=mine", "board", "deals")):
        page.goto(live_server.url + url)
        bar = page.get_by_test_id(f"{prefix}-filters")
        expect(bar.get_by_test_id(f"{prefix}-presets")).to_be_visible()
        search = bar.get_by_role("searchbox")
        expect(search).to_be_visible()
        panel = page.locator(f"#{prefix}-filter-panel")
        if width < 992:
            # Folded on a phone behind «Фильтры»; the bar fits the screen.
            expect(panel).to_be_hidden()
            bar.get_by_role("button", name="Фильтры").click()
            expect(panel).to_have_class(re.compile(r"\bshow\b"))  # unfolded, not still unfolding
        expect(panel.get_by_label("Источник")).to_be_visible()
        expect(panel.get_by_label("Дата создания: с")).to_be_visible()
        for element in (bar, *panel.locator("input, select, button").all()):
            box = element.bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= width + 1, (element, box)
        page.screenshot(path=f"screenshots/board-filters-{name}-{width}x{height}.png")
    # The lists offer the same presets and the department in their filter panel.
    for url, prefix, name in (("/leads/", "lead", "lead-list"), ("/deals/list/", "deal", "deal-list")):
        page.goto(live_server.url + url)
        panel = page.locator(f"#{prefix}-filter-panel")
        if width < 992:
            page.get_by_test_id(f"{prefix}-filters").get_by_role("button", name="Фильтры").click()
            expect(panel).to_have_class(re.compile(r"\bshow\b"))
        panel.get_by_label("Чьи").select_option(label="Мои")
        panel.get_by_role("button", name="Применить").click()
        expect(page.get_by_label("Чьи")).to_have_value("mine")
        page.screenshot(path=f"screenshots/board-filters-{name}-{width}x{height}.png")

