"""«Мой день»: the home page of a manager (his overdue and today's tasks and touches, meetings,
new leads, records with nothing planned) and of a head of sales (the same per manager)."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from deals import day as deals_day
from deals.models import Stage
from leads.models import Status
from tasks_app import selectors, selectors_day, services
from tasks_app.models import Kind, Task
from tests.factories import DealFactory, LeadFactory, UserFactory


def plan(responsible, title, deadline, *, kind=Kind.CALL, records=(), creator=None):
    return services.task_create(data={"kind": kind, "title": title, "responsible": responsible,
                                      "deadline": deadline}, by=creator or responsible, records=records)


def awaiting(creator, responsible, title):
    """A task `creator` set with «Принять работу после завершения», completed by `responsible`."""
    task = services.task_create(data={"title": title, "responsible": responsible, "needs_acceptance": True}, by=creator)
    return services.task_transition(task, "complete", by=responsible)


def later_today():
    """A moment later today (half-way to midnight), so the test holds at any hour."""
    now = timezone.now()
    _start, tomorrow = selectors.day_bounds(now)
    return now + (tomorrow - now) / 2


def an_hour_ago():
    return timezone.now() - timedelta(hours=1)


def day_page(client, user, **params):
    client.force_login(user)
    return client.get(reverse("tasks:day"), params)


def section(page: str, testid: str) -> str:
    start = page.index(f'data-testid="{testid}"')
    end = page.find("</section>", start)
    return page[start:end]


@pytest.fixture
def lead(owner):
    return LeadFactory(responsible=owner, title="Лид «Ромашка»")


class TestHome:
    def test_it_opens_my_day_after_login(self, client, owner):
        client.force_login(owner)
        response = client.get(reverse("home"))
        assert response.status_code == 302 and response.url == reverse("tasks:day")

    def test_it_sends_a_user_who_may_see_nothing_to_his_profile(self, client, org):
        client.force_login(UserFactory(department=org["group1"]))  # no role at all
        response = client.get(reverse("home"))
        assert response.status_code == 302 and response.url == reverse("profile")


class TestMyDay:
    def test_it_shows_overdue_and_todays_touches_with_their_record(self, client, owner, lead):
        plan(owner, "Позвонить вчерашнему", an_hour_ago(), records=[lead])
        plan(owner, "Перезвонить ЛПР", later_today(), records=[lead])
        plan(owner, "На завтра", timezone.now() + timedelta(days=2))
        page = day_page(client, owner).content.decode()
        overdue, today = section(page, "day-overdue"), section(page, "day-today")
        assert "Позвонить вчерашнему" in overdue and "Перезвонить ЛПР" not in overdue
        assert "Перезвонить ЛПР" in today and "Позвонить вчерашнему" not in today
        assert "На завтра" not in page
        assert reverse("leads:detail", args=[lead.pk]) in today and "Звонок" in today

    def test_it_shows_only_my_active_tasks(self, client, owner, teammate, lead):
        done = plan(owner, "Уже сделано", an_hour_ago())
        services.task_transition(done, "complete", by=owner)
        plan(teammate, "Чужой звонок", an_hour_ago())
        page = day_page(client, owner).content.decode()
        assert "Уже сделано" not in page and "Чужой звонок" not in page
        assert "Просроченных дел нет" in page and "На сегодня дел нет" in page

    def test_it_lists_todays_meetings(self, client, owner, lead):
        deal = DealFactory(responsible=owner, title="Сделка «Ромашка»")
        plan(owner, "Встреча в офисе клиента", later_today(), kind=Kind.MEETING, records=[deal])
        page = day_page(client, owner).content.decode()
        # Listed twice (a meeting is due today too), opening its deal from both.
        for testid in ("day-meetings", "day-today"):
            assert "Встреча в офисе клиента" in section(page, testid)
            assert reverse("deals:detail", args=[deal.pk]) in section(page, testid), testid

    def test_it_says_when_there_are_no_meetings(self, client, owner):
        assert "Встреч сегодня нет" in section(day_page(client, owner).content.decode(), "day-meetings")

    def test_it_lists_my_new_leads_newest_first(self, client, owner, teammate):
        LeadFactory(responsible=owner, title="Старый новый лид")
        LeadFactory(responsible=owner, title="Свежий лид")
        LeadFactory(responsible=teammate, title="Лид коллеги")
        new = section(day_page(client, owner).content.decode(), "day-new")
        assert new.index("Свежий лид") < new.index("Старый новый лид")
        assert "Лид коллеги" not in new

    def test_it_lists_my_records_in_work_with_nothing_planned(self, client, owner, lead):
        planned = LeadFactory(responsible=owner, title="Лид с планом")
        plan(owner, "Звонок", later_today(), records=[planned])
        deal = DealFactory(responsible=owner, title="Сделка без дел")
        lost = deal.pipeline.stages.exclude(semantics=Stage.Semantics.IN_PROCESS).first()
        DealFactory(responsible=owner, title="Закрытая сделка", stage_id=lost.pk)
        unplanned = section(day_page(client, owner).content.decode(), "day-unplanned")
        assert "Лид «Ромашка»" in unplanned and "Сделка без дел" in unplanned
        assert "Лид с планом" not in unplanned and "Закрытая сделка" not in unplanned
        assert reverse("deals:detail", args=[deal.pk]) in unplanned

    def test_the_deals_link_lists_the_same_deals_as_the_count(self, client, owner):
        deal = DealFactory(responsible=owner, title="Сделка без дел")
        lost = deal.pipeline.stages.exclude(semantics=Stage.Semantics.IN_PROCESS).first()
        DealFactory(responsible=owner, title="Закрытая сделка", stage_id=lost.pk)
        client.force_login(owner)
        listed = client.get(deals_day._list_url(owner.pk))
        assert listed.status_code == 200
        text = listed.content.decode()
        assert "Сделка без дел" in text and "Закрытая сделка" not in text

    def test_records_with_nothing_planned_are_counted_up_to_a_cap(self, client, owner, monkeypatch):
        monkeypatch.setattr(selectors_day, "COUNT_CAP", 3)
        for _ in range(4):
            LeadFactory(responsible=owner)
        unplanned = section(day_page(client, owner).content.decode(), "day-unplanned")
        assert "(3+)" in unplanned and "Все — в списке" in unplanned
        assert f"?responsible={owner.pk}&amp;status=new" in unplanned

    def test_a_junk_lead_is_not_waiting_for_a_plan(self, client, owner, lead):
        type(lead).objects.filter(pk=lead.pk).update(status=Status.JUNK)
        page = day_page(client, owner).content.decode()
        assert "Лид «Ромашка»" not in section(page, "day-unplanned")

    def test_a_bound_record_i_may_not_see_is_not_linked(self, client, owner, outsider):
        hidden = LeadFactory(responsible=outsider, title="Чужой лид")
        task = plan(owner, "Звонок по чужому лиду", later_today())
        # Bound by the system (an automation rule): the owner may not open that lead.
        services.task_bind(task, [hidden], by=None)
        page = day_page(client, owner).content.decode()
        assert "Звонок по чужому лиду" in page and "Чужой лид" not in page
        assert reverse("leads:detail", args=[hidden.pk]) not in page

    def test_it_costs_a_fixed_number_of_queries(self, client, owner, django_assert_max_num_queries):
        def fill(n):
            for i in range(n):
                lead = LeadFactory(responsible=owner)
                plan(owner, f"Просрочено {i}", an_hour_ago(), records=[lead])
                plan(owner, f"Сегодня {i}", later_today(), kind=Kind.MEETING, records=[lead])
                LeadFactory(responsible=owner)
                DealFactory(responsible=owner)

        fill(2)
        client.force_login(owner)
        with django_assert_max_num_queries(22) as few:
            assert client.get(reverse("tasks:day")).status_code == 200
        fill(20)
        with django_assert_max_num_queries(len(few.captured_queries)):
            assert client.get(reverse("tasks:day")).status_code == 200


class TestCompleteFromMyDay:
    def test_a_task_is_completed_by_its_button(self, client, owner):
        task = plan(owner, "Подготовить КП", an_hour_ago(), kind=Kind.TASK)
        client.force_login(owner)
        response = client.post(reverse("tasks:day_complete", args=[task.pk]))
        assert response.status_code == 302 and response.url == reverse("tasks:day")
        task.refresh_from_db()
        assert task.status == "completed"
        page = client.get(reverse("tasks:day")).content.decode()
        assert "Задача «Подготовить КП» завершена." in page
        assert "Подготовить КП" not in section(page, "day-overdue")

    def test_with_htmx_it_asks_the_sections_to_refresh(self, client, owner):
        task = plan(owner, "Подготовить КП", an_hour_ago(), kind=Kind.TASK)
        client.force_login(owner)
        response = client.post(reverse("tasks:day_complete", args=[task.pk]), headers={"HX-Request": "true"})
        assert response.status_code == 204 and response["HX-Trigger"] == "touchesChanged"

    def test_the_sections_reload_on_their_own(self, client, owner):
        plan(owner, "Подготовить КП", an_hour_ago(), kind=Kind.TASK)
        client.force_login(owner)
        response = client.get(reverse("tasks:day"), headers={"HX-Request": "true", "HX-Target": "day-sections"})
        page = response.content.decode()
        assert response.status_code == 200 and "<html" not in page and "Подготовить КП" in page
        assert 'hx-trigger="touchesChanged from:body"' in page

    def test_a_task_already_completed_is_explained(self, client, owner):
        task = plan(owner, "Подготовить КП", an_hour_ago(), kind=Kind.TASK)
        services.task_transition(task, "complete", by=owner)
        client.force_login(owner)
        response = client.post(reverse("tasks:day_complete", args=[task.pk]), follow=True)
        assert "Нельзя «Завершить»: задача в статусе «Завершена»." in response.content.decode()

    def test_an_observer_may_not_complete(self, client, owner, teammate):
        task = services.task_create(data={"title": "Чужая задача", "responsible": teammate, "deadline": an_hour_ago()},
                                    by=teammate, observers=[owner])
        client.force_login(owner)
        response = client.post(reverse("tasks:day_complete", args=[task.pk]), headers={"HX-Request": "true"})
        assert response.status_code == 200 and "«Завершить» в этой задаче вам недоступно." in response.content.decode()
        assert Task.objects.get(pk=task.pk).status == "pending"

    def test_someone_elses_task_is_not_found(self, client, owner, outsider):
        task = plan(outsider, "Чужая", an_hour_ago(), kind=Kind.TASK)
        client.force_login(owner)
        assert client.post(reverse("tasks:day_complete", args=[task.pk])).status_code == 404
        assert Task.objects.get(pk=task.pk).status == "pending"

    def test_it_takes_only_a_post(self, client, owner):
        task = plan(owner, "Подготовить КП", an_hour_ago(), kind=Kind.TASK)
        client.force_login(owner)
        assert client.get(reverse("tasks:day_complete", args=[task.pk])).status_code == 405


class TestHeadOfSales:
    def test_a_manager_has_no_department_toggle(self, client, owner):
        page = day_page(client, owner).content.decode()
        assert 'data-testid="day-toggle"' not in page

    def test_a_manager_asking_for_the_department_is_told_why_not(self, client, owner):
        response = day_page(client, owner, view="team")
        page = response.content.decode()
        assert response.status_code == 200 and "Сводка по отделу доступна руководителю отдела." in page
        assert 'data-testid="day-overdue"' in page

    def test_the_department_shows_each_manager_s_numbers(self, client, head, owner, teammate, outsider):
        plan(owner, "Просрочено 1", an_hour_ago())
        plan(owner, "Просрочено 2", an_hour_ago())
        plan(teammate, "Сегодня", later_today())
        LeadFactory(responsible=teammate)
        LeadFactory(responsible=outsider)
        page = day_page(client, head, view="team").content.decode()
        assert 'data-testid="day-toggle"' in page
        rows = {user.pk: page[page.index(f'data-person="{user.pk}"'):] for user in (owner, teammate, outsider)}
        owner_row = rows[owner.pk][:rows[owner.pk].index("</tr>")]
        teammate_row = rows[teammate.pk][:rows[teammate.pk].index("</tr>")]
        assert "Иванов Пётр" in owner_row and f"?manager={owner.pk}#overdue\">2<" in owner_row
        assert f"?manager={teammate.pk}#today\">1<" in teammate_row
        new_leads = reverse("leads:list") + f"?responsible={teammate.pk}&amp;status=new"
        assert f'href="{new_leads}">1<' in teammate_row
        assert "Лиды: 1" in teammate_row  # the new lead has nothing planned either

    def test_the_department_counts_records_with_nothing_planned_up_to_a_cap(self, client, head, owner, monkeypatch):
        monkeypatch.setattr(selectors_day, "COUNT_CAP", 3)
        for _ in range(4):
            LeadFactory(responsible=owner)
        planned = LeadFactory(responsible=head)
        plan(head, "Звонок", later_today(), records=[planned])
        LeadFactory(responsible=head)
        page = day_page(client, head, view="team").content.decode()
        rows = {u.pk: page[page.index(f'data-person="{u.pk}"'):] for u in (owner, head)}
        assert "Лиды: 3+" in rows[owner.pk][:rows[owner.pk].index("</tr>")]
        assert "Лиды: 1<" in rows[head.pk][:rows[head.pk].index("</tr>")]

    def test_the_department_stops_at_the_head_s_tree(self, client, org, owner):
        group_head = UserFactory(department=org["group1"], role="Руководитель отдела продаж")
        other = UserFactory(department=org["group2"], role="Менеджер", last_name="Далёкий")
        page = day_page(client, group_head, view="team").content.decode()
        assert f'data-person="{owner.pk}"' in page and f'data-person="{other.pk}"' not in page

    def test_a_head_opens_a_manager_s_day(self, client, head, owner, lead):
        plan(owner, "Звонок Иванова", an_hour_ago(), records=[lead])
        page = day_page(client, head, manager=owner.pk).content.decode()
        assert "Звонок Иванова" in section(page, "day-overdue")
        assert 'data-testid="day-complete"' not in page  # the manager completes his own calls
        assert "Иванов Пётр" in page

    def test_a_manager_cannot_open_a_colleague_s_day(self, client, owner, teammate):
        plan(teammate, "Звонок Петровой", an_hour_ago())
        response = day_page(client, owner, manager=teammate.pk)
        page = response.content.decode()
        assert response.status_code == 200 and "Звонок Петровой" not in page
        assert "Такого сотрудника нет в вашем отделе." in page

    @pytest.mark.parametrize("params", [{"manager": "abc"}, {"manager": "-1"}, {"manager": "99999999999999"},
                                        {"view": "everyone"}])
    def test_bad_parameters_get_a_message_not_an_error(self, client, head, params):
        response = day_page(client, head, **params)
        assert response.status_code == 200 and 'class="alert alert-warning' in response.content.decode()

    def test_the_department_costs_a_fixed_number_of_queries(self, client, org, head, owner, teammate,
                                                           django_assert_max_num_queries):
        def fill(n):
            for i in range(n):
                manager = UserFactory(department=org["group1"], role="Менеджер")
                plan(manager, f"Просрочено {i}", an_hour_ago(), records=[LeadFactory(responsible=manager)])
                plan(owner, f"Сегодня {i}", later_today())
                DealFactory(responsible=teammate)

        fill(2)
        client.force_login(head)
        with django_assert_max_num_queries(20) as few:
            assert client.get(reverse("tasks:day"), {"view": "team"}).status_code == 200
        fill(15)
        with django_assert_max_num_queries(len(few.captured_queries)):
            assert client.get(reverse("tasks:day"), {"view": "team"}).status_code == 200

    def test_a_head_s_own_day_costs_a_fixed_number_of_queries(self, client, head, owner, django_assert_max_num_queries):
        for i in range(3):
            plan(head, f"Контроль {i}", an_hour_ago(), records=[LeadFactory(responsible=owner)])
        awaiting(head, owner, "Отчёт 0")
        plan(head, "Сделка", later_today(), records=[DealFactory(responsible=head)])
        client.force_login(head)
        with django_assert_max_num_queries(22) as few:
            assert client.get(reverse("tasks:day")).status_code == 200
        for i in range(20):
            plan(head, f"Ещё {i}", later_today(), records=[DealFactory(responsible=head)])
            awaiting(head, owner, f"Отчёт {i + 1}")
        with django_assert_max_num_queries(len(few.captured_queries)):
            assert client.get(reverse("tasks:day")).status_code == 200

    def test_the_work_waiting_for_the_head_s_acceptance_is_on_his_day(self, client, head, owner):
        done = awaiting(head, owner, "Собрать отчёт по звонкам")
        services.task_create(data={"title": "Ещё в работе", "responsible": owner, "needs_acceptance": True}, by=head)
        page = day_page(client, head).content.decode()
        control = section(page, "day-control")
        assert "Собрать отчёт по звонкам" in control and "Иванов Пётр завершил(а)" in control
        assert reverse("tasks:detail", args=[done.pk]) in control and "Ещё в работе" not in control
        # Not the manager's: accepting is the creator's part.
        assert 'data-testid="day-control"' not in day_page(client, owner).content.decode()
