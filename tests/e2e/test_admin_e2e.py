"""The head of sales in the admin, in a browser: he sees his department's leads only, deletes one
with the bulk action through the confirmation page, and finds it in «Удалённые записи»."""

import pytest
from playwright.sync_api import expect

from accounts.demo import grant_supervisors
from leads.models import Lead
from tests.factories import DepartmentFactory, LeadFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_head_deletes_a_lead_of_his_department_and_finds_the_deletion(live_server, page, login, head, owner):
    grant_supervisors({"head": head})
    stranger = UserFactory(username="stranger", department=DepartmentFactory(name="Филиал"), role="Менеджер")
    LeadFactory(responsible=stranger, title="СЕКРЕТ-лид филиала")
    doomed = LeadFactory(responsible=owner, title="Лид на удаление")
    LeadFactory(responsible=owner, title="Лид остаётся")
    login(head)

    page.goto(f"{live_server.url}/admin/leads/lead/")
    results = page.locator("#result_list")
    expect(results).to_contain_text("Лид остаётся")
    expect(results).not_to_contain_text("СЕКРЕТ")
    page.locator(f"input[name=_selected_action][value='{doomed.pk}']").check()
    page.locator("select[name=action]").select_option("delete_selected")
    page.locator("button[name=index]").click()
    expect(page.locator("#content")).to_contain_text("Лид на удаление")
    page.locator("input[type=submit]").click()

    expect(page.locator(".messagelist")).to_contain_text("Удалено записей: 1.")
    assert not Lead.objects.filter(pk=doomed.pk).exists()
    page.goto(f"{live_server.url}/admin/crm/deletionrecord/")
    expect(page.locator("#result_list")).to_contain_text("Лид на удаление")
    page.screenshot(path="screenshots/admin-deletions.png", full_page=True)
