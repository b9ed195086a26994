"""The automation rules' admin: the head of sales (the supervisors' group of accounts.demo) writes
«when a lead enters status X / a deal enters stage Y, plan …» with one validated select; the list
names the states; a manager has no access."""

import pytest
from django.urls import reverse

from accounts.demo import grant_supervisors
from leads import services as leads
from leads.models import Status
from tasks_app import selectors
from tasks_app.models import AutomationRule, Kind
from tests.factories import COLD, LeadFactory, stage

pytestmark = pytest.mark.django_db

ADD = reverse("admin:tasks_app_automationrule_add")
LIST = reverse("admin:tasks_app_automationrule_changelist")


@pytest.fixture
def supervisor(head):
    grant_supervisors({"head": head})
    return head


def form(**fields):
    return {"name": "Квалификация — звонок", "is_active": "on", "trigger": "leads.lead:qualification",
            "kind": Kind.CALL, "title": "Уточнить потребность", "description": "", "deadline_days": "1", **fields}


def test_the_head_defines_a_rule_that_then_fires(client, supervisor, owner):
    client.force_login(supervisor)
    response = client.post(ADD, form(is_important="on"))
    assert response.status_code == 302, response.content.decode()
    rule = AutomationRule.objects.get(name="Квалификация — звонок")
    assert (rule.entity, rule.state, rule.kind, rule.deadline_days, rule.is_important) == (
        "leads.lead", Status.QUALIFICATION, Kind.CALL, 1, True)

    from tests.leads.conftest import qualification_data
    lead = LeadFactory(responsible=owner, **qualification_data())
    leads.lead_move(lead, to=Status.QUALIFICATION, by=owner)
    assert [t.title for t in selectors.record_tasks(owner, lead)] == ["Уточнить потребность"]


def test_the_form_offers_lead_statuses_and_deal_stages_by_name(client, supervisor):
    client.force_login(supervisor)
    page = client.get(ADD).content.decode()
    assert '<optgroup label="Лид">' in page and '<optgroup label="Сделка">' in page
    assert '<option value="leads.lead:first_call">Первый звонок</option>' in page
    presentation = stage(COLD, "Презентация")
    assert (f'<option value="deals.deal:{presentation.pk}">Холодное подключение «Битрикс 24»: Презентация</option>'
            in page.replace("&laquo;", "«").replace("&raquo;", "»").replace("&#x27;", "'"))
    assert "Создать" in page and "Крайний срок, рабочих дней" in page and "Звонок" in page


def test_a_deal_stage_rule_is_saved_as_the_stage_id(client, supervisor):
    client.force_login(supervisor)
    presentation = stage(COLD, "Презентация")
    response = client.post(ADD, form(trigger=f"deals.deal:{presentation.pk}", kind=Kind.MEETING))
    assert response.status_code == 302
    rule = AutomationRule.objects.get(name="Квалификация — звонок")
    assert (rule.entity, rule.state, rule.kind) == ("deals.deal", str(presentation.pk), Kind.MEETING)


@pytest.mark.parametrize("fields, message", [
    ({"trigger": "leads.lead:nonsense"}, "Выберите корректный вариант"),
    ({"trigger": "deals.deal:999999"}, "Выберите корректный вариант"),
    ({"trigger": "clients.company:1"}, "Выберите корректный вариант"),
    ({"trigger": ""}, "Обязательное поле"),
    ({"deadline_days": "61"}, "Срок — от 0 до 60 рабочих дней"),
    ({"deadline_days": "-1"}, "Срок — от 0 до 60 рабочих дней"),
    ({"deadline_days": "abc"}, "Введите целое число"),
    ({"kind": "robot"}, "Выберите корректный вариант"),
    ({"title": ""}, "Обязательное поле"),
])
def test_bad_input_is_refused_with_a_message_and_saves_nothing(client, supervisor, fields, message):
    client.force_login(supervisor)
    response = client.post(ADD, form(**fields))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not AutomationRule.objects.filter(name="Квалификация — звонок").exists()


def test_the_list_names_the_states_and_the_deadline(client, supervisor, django_assert_max_num_queries):
    presentation = stage(COLD, "Презентация")
    AutomationRule.objects.create(name="Новый лид", entity="leads.lead", state=Status.NEW, title="Позвонить",
                                  deadline_days=0, is_important=True)
    AutomationRule.objects.create(name="Презентация", entity="deals.deal", state=str(presentation.pk),
                                  kind=Kind.MEETING, title="Встреча", deadline_days=3)
    AutomationRule.objects.create(name="Старое", entity="deals.deal", state="999999", title="Забытое")
    client.force_login(supervisor)
    with django_assert_max_num_queries(12):
        response = client.get(LIST)
    assert response.status_code == 200
    page = response.content.decode().replace("&laquo;", "«").replace("&raquo;", "»")
    assert "Лид → Не обработан" in page and "Сделка → Холодное подключение «Битрикс 24»: Презентация" in page
    assert "Удалённый статус или стадия (999999)" in page and "Звонок: Позвонить · важная" in page
    assert "сегодня" in page and "+3 раб. дн." in page and "Встреча: Встреча" in page and "Звонок: Позвонить" in page
    assert "leads.lead" not in page


def test_the_list_costs_the_same_with_many_rules(client, supervisor, django_assert_max_num_queries):
    for n in range(30):
        AutomationRule.objects.create(name=f"Правило {n}", entity="deals.deal", state=str(stage(COLD, "Новая").pk),
                                      title="Позвонить")
    client.force_login(supervisor)
    with django_assert_max_num_queries(12):
        assert client.get(LIST).status_code == 200


def test_editing_shows_the_rules_trigger_selected(client, supervisor):
    rule = AutomationRule.objects.create(name="Разведка", entity="leads.lead", state=Status.RECONNAISSANCE, title="Звонок")
    client.force_login(supervisor)
    page = client.get(reverse("admin:tasks_app_automationrule_change", args=[rule.pk])).content.decode()
    assert '<option value="leads.lead:reconnaissance" selected>Разведка</option>' in page


@pytest.mark.parametrize("persona", ["owner", "outsider", "crm_admin"])
def test_who_is_not_a_supervisor_has_no_rules_admin(client, personas, persona):
    client.force_login(personas[persona])
    assert client.get(LIST).status_code in (302, 403)
    assert client.post(ADD, form()).status_code in (302, 403)
    assert not AutomationRule.objects.filter(name="Квалификация — звонок").exists()


def test_the_supervisors_group_has_the_rules_permissions(supervisor):
    for action in ("view", "add", "change", "delete"):
        assert supervisor.has_perm(f"tasks_app.{action}_automationrule")


def test_a_fresh_crm_has_one_example_rule_switched_off(client, supervisor, owner):
    [example] = AutomationRule.objects.all()
    assert (example.entity, example.state, example.kind, example.is_active) == ("leads.lead", "new", Kind.CALL, False)
    lead = leads.lead_create(data=dict(title="Лид", source=LeadFactory.build().source, company_name="ООО «Альфа»",
                                       company_phone="+78800000001", responsible=owner), by=owner)
    assert not selectors.record_tasks(owner, lead).exists()
    client.force_login(supervisor)
    page = client.get(LIST).content.decode()
    assert "Новый лид — первый звонок сегодня" in page and "Лид → Не обработан" in page
