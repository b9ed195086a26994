"""A list too long to count (issue 13), in a browser: «более …», the page links offer only the
pages counted and «…», «Вперёд» walks past them, and the board's columns come filled."""

import pytest
from playwright.sync_api import expect

from crm import lists, tallies
from leads import views_list
from leads.models import Lead, Status
from tests.factories import LeadFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_manager_pages_through_a_list_counted_only_so_far(live_server, page, login, owner, monkeypatch):
    # A cap of 4 and pages of 2 stand for 10 000 and 50: the live server runs in this process.
    monkeypatch.setattr(lists, "COUNT_CAP", 4)
    monkeypatch.setattr(views_list, "PER_PAGE", 2)
    for i in range(9):
        LeadFactory(title=f"Лид №{i + 1}", responsible=owner)
    login(owner)
    # A date filter: the record counters cannot answer it, so the list counts — up to the cap.
    # (A search would not do: a narrow one is counted exactly by its probe.)
    page.goto(f"{live_server.url}/leads/?created_after=2000-01-01")
    expect(page.get_by_test_id("lead-total")).to_contain_text("Найдено лидов: более 4")
    pages = page.get_by_test_id("lead-pages")
    expect(pages).to_contain_text("…")
    expect(pages.get_by_role("link", name="3", exact=True)).to_be_visible()

    seen = []
    for number in range(1, 6):
        expect(pages.locator(".active")).to_have_text(str(number))
        seen += page.get_by_test_id("lead-table").locator("tbody a.fw-semibold").all_inner_texts()
        if number < 5:
            pages.get_by_role("link", name="Вперёд »").click()
    # The whole list, newest first, without a lead shown twice or missed; the end is known now.
    assert seen == [f"Лид №{i}" for i in range(9, 0, -1)]
    expect(page.get_by_test_id("lead-total")).to_contain_text("Найдено лидов: 9")
    expect(pages).not_to_contain_text("…")


def test_the_board_shows_every_open_column_filled_at_once(live_server, page, login, owner):
    for status in (Status.NEW, Status.FIRST_CALL, Status.QUALIFICATION):
        for i in range(3):
            lead = LeadFactory(title=f"{status.label} {i + 1}", responsible=owner)
            Lead.objects.filter(pk=lead.pk).update(status=status)
    tallies.rebuild(Lead)  # the statuses were set behind the record counters' back
    login(owner)
    page.goto(f"{live_server.url}/leads/kanban/")
    for status in (Status.NEW, Status.FIRST_CALL, Status.QUALIFICATION):
        column = page.locator(f'[data-testid="kanban-card"][data-status="{status.value}"]')
        expect(column).to_have_count(3)
        expect(column.first).to_contain_text(f"{status.label} 3")  # newest first
