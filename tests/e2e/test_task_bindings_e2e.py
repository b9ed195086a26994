"""«Привязки» in a real browser: the head binds the task he set to a company found by part of its
name and unbinds it from the card; in the create dialog he binds a new task to two records."""

import pytest
from playwright.sync_api import expect

from clients import services as client_services
from tasks_app import services
from tasks_app.models import Binding, Task
from tests.factories import LeadFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_head_binds_a_task_from_its_card_and_two_records_in_the_create_dialog(live_server, page, login,
                                                                                  owner, head):
    problems = []
    page.on("console", lambda msg: msg.type == "error" and problems.append(msg.text))
    firm = client_services.company_create(data={"name": "ООО «Ромашка Плюс»", "responsible": owner}, by=None)
    lead = LeadFactory(title="Ромашка: внедрение CRM", responsible=owner)
    task = services.task_create(data={"title": "Подготовить КП", "responsible": owner}, by=head)
    login(head)

    # The card: «+ Привязать», part of the company's name, a click on the match.
    page.goto(f"{live_server.url}/tasks/{task.pk}/")
    bindings = page.get_by_test_id("task-bindings")
    expect(bindings).to_contain_text("Задача не привязана к записям CRM.")
    page.get_by_test_id("task-bind-open").click()
    page.get_by_test_id("task-bind-q").fill("омашка пл")
    match = page.get_by_test_id("bind-match").filter(has_text="Ромашка Плюс")
    expect(match).to_have_count(1)
    match.click()
    bound = bindings.get_by_test_id("task-binding")
    expect(bound).to_have_count(1)
    expect(bound).to_contain_text("Компания")
    expect(bound.get_by_role("link", name="ООО «Ромашка Плюс»")).to_have_attribute("href", firm.get_absolute_url())
    expect(page.get_by_test_id("bind-match").filter(has_text="Ромашка Плюс")).to_have_count(0)
    assert Binding.objects.filter(task=task, object_id=firm.pk).exists()

    # …and removes it.
    bound.get_by_test_id("task-unbind").click()
    expect(bindings.get_by_test_id("task-binding")).to_have_count(0)
    expect(bindings).to_contain_text("Задача не привязана к записям CRM.")
    assert not Binding.objects.filter(task=task).exists()

    # The create dialog: two records found and chosen, one removed and chosen again.
    page.goto(f"{live_server.url}/tasks/")
    page.get_by_test_id("task-create").click()
    dialog = page.get_by_test_id("task-dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Название").fill("Встреча в «Ромашке»")
    dialog.get_by_label("Ответственный").select_option(label=str(owner))
    search = dialog.get_by_test_id("task-bind-q")
    search.fill("ромашка")
    dialog.get_by_test_id("bind-match").filter(has_text="Ромашка Плюс").click()
    chips = dialog.get_by_test_id("bind-chip")
    expect(chips).to_have_count(1)
    dialog.get_by_test_id("bind-match").filter(has_text="внедрение CRM").click()
    expect(chips).to_have_count(2)
    expect(dialog.get_by_test_id("bind-match")).to_have_count(0)  # both chosen: none left to offer
    chips.filter(has_text="внедрение CRM").get_by_test_id("bind-chip-remove").click()
    expect(chips).to_have_count(1)
    dialog.get_by_test_id("bind-match").filter(has_text="внедрение CRM").click()
    expect(chips).to_have_count(2)
    search.press("Enter")  # the search box sends no task
    expect(dialog).to_be_visible()
    assert not Task.objects.filter(title="Встреча в «Ромашке»").exists()
    page.get_by_test_id("task-save").click()

    expect(page.get_by_test_id("task-binding")).to_have_count(2)
    created = Task.objects.get(title="Встреча в «Ромашке»")
    assert {(b.content_type.model, b.object_id) for b in Binding.objects.filter(task=created)} == {
        ("company", firm.pk), ("lead", lead.pk)}
    assert not problems, problems
