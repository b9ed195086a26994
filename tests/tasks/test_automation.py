"""Automation rules: a lead entering a status or a deal entering a stage plans a task for its
responsible, from every path that moves it (the card, the kanban, bulk moves, the admin action,
creation, a pipeline change), inside the move's transaction."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from crm import timeline
from deals import services as deals
from leads import services as leads
from leads.models import Lead, Status
from tasks_app import automation, selectors
from tasks_app.models import AutomationRule, Kind, Task
from tests.factories import COLD, INBOUND, DealFactory, LeadFactory, pipeline, ref, stage
from tests.leads.conftest import decision_maker_data, decision_maker_m2m, qualification_data

pytestmark = pytest.mark.django_db

MSK = ZoneInfo("Europe/Moscow")


def lead_rule(state=Status.FIRST_CALL, **fields):
    values = dict(name="Первый звонок — позвонить", entity="leads.lead", state=state, kind=Kind.CALL,
                  title="Позвонить ЛПР", description="Узнать, кто принимает решение", deadline_days=1)
    return AutomationRule.objects.create(**{**values, **fields})


def deal_rule(stage_obj, **fields):
    values = dict(name="Презентация — встреча", entity="deals.deal", state=str(stage_obj.pk), kind=Kind.MEETING,
                  title="Провести презентацию", deadline_days=2)
    return AutomationRule.objects.create(**{**values, **fields})


def planned(record) -> list[Task]:
    return list(selectors.record_tasks_unscoped(record).order_by("pk"))


def lead_data(owner, **extra):
    return dict(title="Новый лид", source=ref("Source", "Контур.Компас"), company_name="ООО «Альфа»",
                company_phone="+78800000001", responsible=owner, **extra)


# --- the deadline: +N working days, by the end of the day ---

@pytest.mark.parametrize("now, days, expected", [
    (dt.datetime(2026, 12, 7, 10, 0, tzinfo=MSK), 0, dt.date(2026, 12, 7)),   # Monday morning: today
    (dt.datetime(2026, 12, 7, 19, 0, tzinfo=MSK), 0, dt.date(2026, 12, 8)),   # after hours: tomorrow
    (dt.datetime(2026, 12, 7, 10, 0, tzinfo=MSK), 1, dt.date(2026, 12, 8)),
    (dt.datetime(2026, 12, 10, 10, 0, tzinfo=MSK), 2, dt.date(2026, 12, 14)),  # Thursday +2: Monday
    (dt.datetime(2026, 12, 11, 19, 0, tzinfo=MSK), 1, dt.date(2026, 12, 14)),  # Friday evening +1: Monday
    (dt.datetime(2026, 12, 12, 12, 0, tzinfo=MSK), 0, dt.date(2026, 12, 14)),  # Saturday: Monday
    (dt.datetime(2026, 12, 12, 12, 0, tzinfo=MSK), 1, dt.date(2026, 12, 14)),
    (dt.datetime(2026, 12, 13, 12, 0, tzinfo=MSK), 2, dt.date(2026, 12, 15)),  # Sunday +2: Tuesday
    (dt.datetime(2026, 12, 7, 10, 0, tzinfo=MSK), 5, dt.date(2026, 12, 14)),   # a working week
])
def test_it_counts_working_days_to_the_end_of_the_day(now, days, expected):
    deadline = automation.rule_deadline(days, now=now)
    assert deadline.astimezone(MSK).date() == expected and deadline.astimezone(MSK).time() == dt.time(18, 0)
    assert deadline > now


def test_the_deadline_is_the_sites_end_of_day_whatever_time_zone_is_active():
    now = dt.datetime(2026, 12, 7, 6, 0, tzinfo=dt.UTC)  # 09:00 in Moscow
    with timezone.override("Asia/Vladivostok"):
        deadline = automation.rule_deadline(0, now=now)
    assert deadline == dt.datetime(2026, 12, 7, 18, 0, tzinfo=MSK)


# --- the runner ---

def test_a_lead_entering_the_status_gets_the_rules_task_for_its_responsible(owner):
    rule = lead_rule(is_important=True)
    lead = LeadFactory(responsible=owner)
    before = timezone.now()
    leads.lead_move(lead, to=Status.FIRST_CALL, by=owner)
    [task] = planned(lead)
    assert (task.kind, task.title, task.description, task.is_important) == (
        Kind.CALL, "Позвонить ЛПР", "Узнать, кто принимает решение", True)
    # His own plan: he is the creator too, so he may move its deadline or complete it.
    assert task.responsible == owner and task.creator == owner and task.is_active
    assert task.deadline == automation.rule_deadline(rule.deadline_days, now=before)
    # The lead's «Дата следующего касания» is the touch's day, and the history says what was planned.
    lead.refresh_from_db()
    assert lead.next_touch_date == timezone.localtime(task.deadline).date()
    entry = timeline.entries(lead).filter(kind="system").first()
    assert entry.author is None and "Запланировано: звонок «Позвонить ЛПР»" in entry.text


def test_only_active_rules_of_that_entity_and_state_fire(owner):
    lead_rule(state=Status.QUALIFICATION)
    lead_rule(is_active=False)
    AutomationRule.objects.create(name="Сделка", entity="deals.deal", state=Status.FIRST_CALL, title="Не то")
    lead = LeadFactory(responsible=owner)
    leads.lead_move(lead, to=Status.FIRST_CALL, by=owner)
    assert planned(lead) == []


def test_several_rules_for_one_state_each_plan_their_task(owner):
    lead_rule(title="Позвонить")
    lead_rule(title="Отправить письмо", kind=Kind.TASK, deadline_days=0)
    lead = LeadFactory(responsible=owner)
    leads.lead_move(lead, to=Status.FIRST_CALL, by=owner)
    assert [(t.kind, t.title) for t in planned(lead)] == [(Kind.CALL, "Позвонить"), (Kind.TASK, "Отправить письмо")]


def test_the_rule_plans_for_the_responsible_whoever_moves_the_lead(owner, head):
    lead_rule()
    lead = LeadFactory(responsible=owner)
    leads.lead_move(lead, to=Status.FIRST_CALL, by=head)
    [task] = planned(lead)
    assert task.responsible == owner and task.creator == owner


def test_moving_back_and_forth_plans_each_time_but_a_repeated_move_does_not(client, owner):
    lead_rule()
    lead = LeadFactory(responsible=owner)
    client.force_login(owner)
    for _ in range(2):  # a double click, or the browser retrying the request
        client.post(reverse("leads:move", args=[lead.pk]), {"to": Status.FIRST_CALL})
    assert len(planned(lead)) == 1
    leads.lead_move(lead, to=Status.NEW, by=owner)
    leads.lead_move(lead, to=Status.FIRST_CALL, by=owner)
    assert len(planned(lead)) == 2  # it entered the status twice, as Bitrix24's robots count


def test_a_failing_rule_rolls_the_move_back(owner, monkeypatch):
    """Intended: the rule runs inside the move's transaction, so a move whose rule cannot run is
    refused as a whole rather than leaving a lead whose follow-up silently never got planned."""
    lead_rule()
    lead = LeadFactory(responsible=owner)

    def broken(**kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(automation.services, "task_create", broken)
    with pytest.raises(RuntimeError):
        leads.lead_move(lead, to=Status.FIRST_CALL, by=owner)
    assert Lead.objects.get(pk=lead.pk).status == Status.NEW
    assert not timeline.entries(lead).filter(kind="status").exists()


def test_a_dismissed_responsible_does_not_block_the_move_and_the_history_says_why(owner, head):
    lead_rule()
    lead = LeadFactory(responsible=owner)
    owner.is_active = False
    owner.save()
    leads.lead_move(lead, to=Status.FIRST_CALL, by=head)
    assert Lead.objects.get(pk=lead.pk).status == Status.FIRST_CALL
    assert planned(lead) == []
    texts = [e.text for e in timeline.entries(lead).filter(kind="system")]
    assert "Правило «Первый звонок — позвонить» не сработало: ответственный отключён" in texts


# --- every path that moves a lead ---

def test_it_fires_from_the_card(client, owner):
    lead_rule()
    lead = LeadFactory(responsible=owner)
    client.force_login(owner)
    response = client.post(reverse("leads:move", args=[lead.pk]), {"to": Status.FIRST_CALL})
    assert response.status_code == 302
    assert [t.title for t in planned(lead)] == ["Позвонить ЛПР"]


def test_it_fires_from_the_kanban(client, owner):
    lead_rule()
    lead = LeadFactory(responsible=owner)
    client.force_login(owner)
    response = client.post(reverse("leads:move", args=[lead.pk]), {"to": Status.FIRST_CALL}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "lead-moved" in response["HX-Trigger"]
    assert [t.title for t in planned(lead)] == ["Позвонить ЛПР"]


def test_it_fires_for_each_lead_of_a_bulk_move(client, owner, teammate, head):
    lead_rule()
    mine, theirs = LeadFactory(responsible=owner), LeadFactory(responsible=teammate)
    client.force_login(head)
    response = client.post(reverse("leads:bulk"), {"action": "move", "to": Status.FIRST_CALL, "ids": [mine.pk, theirs.pk]})
    assert response.status_code == 302
    assert [t.responsible for t in planned(mine)] == [owner]
    assert [t.responsible for t in planned(theirs)] == [teammate]


def test_it_fires_from_the_admin_action(client, head, owner):
    from accounts.demo import grant_supervisors

    grant_supervisors({"head": head})
    lead_rule()
    lead = LeadFactory(responsible=owner)
    client.force_login(head)
    response = client.post(reverse("admin:leads_lead_changelist"),
                           {"action": "move_to_first_call", "_selected_action": [lead.pk]}, follow=True)
    assert "Переведено лидов: 1" in response.content.decode()
    assert [t.title for t in planned(lead)] == ["Позвонить ЛПР"]


def test_a_new_lead_enters_its_first_status_and_its_rules_fire(client, owner):
    lead_rule(state=Status.NEW, title="Первый звонок новому лиду", deadline_days=0)
    lead = leads.lead_create(data=lead_data(owner), by=owner)
    [task] = planned(lead)
    assert task.title == "Первый звонок новому лиду" and task.responsible == owner


def test_a_new_lead_with_a_touch_date_gets_both_the_touch_and_the_rules_task(owner):
    lead_rule(state=Status.NEW, title="Квалифицировать")
    day = timezone.localdate() + dt.timedelta(days=20)
    lead = leads.lead_create(data=lead_data(owner, next_touch_date=day), by=owner)
    assert sorted(t.title for t in planned(lead)) == ["Квалифицировать", "Следующее касание"]
    lead.refresh_from_db()
    # The date stays the earliest planned touch: the rule's, due within a working day or two.
    assert lead.next_touch_date == min(timezone.localtime(t.deadline).date() for t in planned(lead))


def test_a_refused_creation_plans_nothing(owner):
    lead_rule(state=Status.NEW)
    with pytest.raises(leads.MissingFields):
        leads.lead_create(data={**lead_data(owner), "company_phone": ""}, by=owner)
    assert not Task.objects.exists()


# --- deals ---

def test_it_fires_when_a_deal_enters_a_stage_from_the_board(client, owner):
    target = stage(COLD, "Презентация")
    deal_rule(target)
    deal = DealFactory(responsible=owner)
    client.force_login(owner)
    response = client.post(reverse("deals:move", args=[deal.pk]), {"to": target.pk}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    [task] = planned(deal)
    assert (task.kind, task.title, task.responsible) == (Kind.MEETING, "Провести презентацию", owner)
    assert task.deadline == automation.rule_deadline(2)


def test_it_fires_from_deal_move_but_not_for_a_stage_of_another_pipeline(owner):
    deal_rule(stage(INBOUND, "Новая заявка"))
    deal = DealFactory(responsible=owner)
    deals.deal_move(deal, to=stage(COLD, "Презентация"), by=owner)
    assert planned(deal) == []


def test_a_pipeline_change_enters_the_new_pipelines_first_stage(client, owner):
    deal_rule(stage(INBOUND, "Новая заявка"), title="Перезвонить по заявке")
    deal = DealFactory(responsible=owner)
    client.force_login(owner)
    client.post(reverse("deals:change_pipeline", args=[deal.pk]), {"pipeline": pipeline(INBOUND).pk})
    assert [t.title for t in planned(deal)] == ["Перезвонить по заявке"]


def test_a_new_deal_enters_its_first_stage(owner):
    deal_rule(stage(COLD, "Новая"), title="Связаться")
    deal = deals.deal_create(data={"title": "Внедрение", "responsible": owner}, by=owner, pipeline=pipeline(COLD))
    assert [t.title for t in planned(deal)] == ["Связаться"]


def test_a_converted_lead_plans_its_deals_first_step(owner):
    first = pipeline(COLD).first_stage()
    deal_rule(first, title="Первая встреча по сделке")
    lead = LeadFactory(responsible=owner)
    lead = leads.lead_update(lead, data={**qualification_data(), **decision_maker_data()}, m2m=decision_maker_m2m(),
                             by=owner, version=lead.version)
    timeline.add_comment(lead, owner, "Разведка: 12 магазинов", pin_it=True)
    lead = leads.lead_move(lead, to=Status.DECISION_MAKER, by=owner)
    result = leads.lead_convert(lead, contact=False, company=False, deal=True, by=owner, pipeline=pipeline(COLD))
    assert [t.title for t in planned(result.deal)] == ["Первая встреча по сделке"]



@pytest.mark.django_db(transaction=True)
def test_the_same_move_sent_twice_at_once_plans_once(seeded_defaults, owner):
    """A double click reaching two workers: the move locks the lead, the second finds it moved
    already and does nothing, so the rule runs once."""
    import threading

    from django.db import connection, connections

    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL; SQLite serialises writers anyway")
    lead_rule()
    lead = LeadFactory(responsible=owner)
    barrier, errors = threading.Barrier(2), []

    def move():
        try:
            barrier.wait()
            leads.lead_move(Lead.objects.get(pk=lead.pk), to=Status.FIRST_CALL, by=owner)
        except Exception as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=move) for _ in range(2)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert errors == []
    assert len(planned(lead)) == 1
    assert timeline.entries(lead).filter(kind="status").count() == 1
