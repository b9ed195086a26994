"""«Мои задачи»: the role tabs, filters and search, the create form and dialog, the card with its
checklist, edit and delete (tasks_app.views_tasks)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tasks_app import services
from tasks_app.models import ChecklistItem, Status, Task
from tests.factories import DealFactory, LeadFactory, UserFactory

pytestmark = pytest.mark.django_db


def make_task(creator, responsible, title="Позвонить в «Ромашку»", *, deadline=None, coexecutors=(), observers=(),
              checklist=(), records=(), **data):
    return services.task_create(
        data={"title": title, "responsible": responsible, "deadline": deadline, **data}, by=creator,
        coexecutors=coexecutors, observers=observers, checklist=checklist, records=records)


def in_days(days: float):
    return timezone.now() + timedelta(days=days)


def form_data(user, **extra) -> dict:
    tomorrow = timezone.localdate() + timedelta(days=1)
    return {"title": "Подготовить КП", "responsible": user.pk, "deadline_date": tomorrow.isoformat(),
            "deadline_time": "15:30", **extra}


# --- The list ---

class TestList:
    def test_it_shows_each_role_tab_with_the_tasks_of_that_role(self, client, owner, teammate, head):
        doing = make_task(head, owner, "Делаю-задача")
        helping = make_task(head, teammate, "Помогаю-задача", coexecutors=[owner])
        watching = make_task(head, teammate, "Наблюдаю-задача", observers=[owner])
        assigned = make_task(owner, teammate, "Поручил-задача")
        client.force_login(owner)
        expected = {"doing": doing, "helping": helping, "watching": watching, "assigned": assigned}
        for role, task in expected.items():
            page = client.get(reverse("tasks:list"), {"role": role}).content.decode()
            assert task.title in page
            assert all(other.title not in page for other in expected.values() if other != task), role
        # The default tab is «Делаю».
        assert doing.title in client.get(reverse("tasks:list")).content.decode()

    def test_it_gives_the_head_all_tasks_of_his_department_and_a_manager_no_such_tab(self, client, owner, outsider,
                                                                                    head, teammate):
        mine = make_task(owner, owner, "Задача Иванова")
        theirs = make_task(outsider, outsider, "Задача Сидорова")
        client.force_login(head)
        page = client.get(reverse("tasks:list"), {"role": "all"}).content.decode()
        assert "Все задачи отдела" in page and mine.title in page and theirs.title in page
        client.force_login(teammate)
        page = client.get(reverse("tasks:list"), {"role": "all"}).content.decode()
        assert "Все задачи отдела" not in page and mine.title not in page
        assert "Некоторые условия не применены" in page  # the unknown tab is said, not a 500

    def test_it_filters_by_status_overdue_deadline_importance_and_title(self, client, owner, head):
        late = make_task(head, owner, "Просроченная", deadline=in_days(1))
        Task.objects.filter(pk=late.pk).update(deadline=in_days(-1))
        soon = make_task(head, owner, "Скорая важная", deadline=in_days(2), is_important=True)
        far = make_task(head, owner, "Далёкая", deadline=in_days(40))
        done = make_task(head, owner, "Сделанная")
        services.task_transition(done, "complete", by=owner)
        client.force_login(owner)

        def titles(**params):
            page = client.get(reverse("tasks:list"), params).content.decode()
            return {t.title for t in (late, soon, far, done) if t.title in page}

        assert titles() == {"Просроченная", "Скорая важная", "Далёкая"}  # «Активные» by default
        assert titles(status="overdue") == {"Просроченная"}
        assert titles(status="completed") == {"Сделанная"}
        assert titles(status="all") == {"Просроченная", "Скорая важная", "Далёкая", "Сделанная"}
        assert titles(important="1") == {"Скорая важная"}
        assert titles(q="далёк") == {"Далёкая"}
        upto = (timezone.localdate() + timedelta(days=5)).isoformat()
        assert titles(deadline_after=timezone.localdate().isoformat(), deadline_before=upto) == {"Скорая важная"}

    def test_it_lets_the_head_filter_by_responsible_and_refuses_a_stranger(self, client, owner, outsider, head):
        make_task(owner, owner, "Задача Иванова")
        make_task(outsider, outsider, "Задача Сидорова")
        client.force_login(head)
        page = client.get(reverse("tasks:list"), {"role": "all", "responsible": owner.pk}).content.decode()
        assert "Задача Иванова" in page and "Задача Сидорова" not in page
        client.force_login(owner)  # a manager has no such filter: an id there is refused, not applied
        page = client.get(reverse("tasks:list"), {"responsible": outsider.pk}).content.decode()
        assert "Некоторые условия не применены" in page

    @pytest.mark.parametrize("params", [
        {"status": "nonsense"}, {"deadline_after": "31.02.2026"}, {"deadline_before": "завтра"},
        {"important": "maybe"}, {"responsible": "abc"}, {"role": "'; drop table"}, {"page": "-1"},
        {"sort": "password"}, {"q": "x" * 500}, {"responsible": "99999999999999999999999"},
    ])
    def test_it_answers_bad_parameters_with_a_russian_message_not_a_500(self, client, owner, params):
        make_task(owner, owner)
        client.force_login(owner)
        response = client.get(reverse("tasks:list"), params)
        assert response.status_code == 200
        page = response.content.decode()
        if set(params) - {"page", "sort"}:
            assert "Некоторые условия не применены" in page

    def test_it_shows_the_deadline_overdue_in_red_progress_and_only_visible_bindings(self, client, owner, head,
                                                                                     outsider):
        mine = LeadFactory(title="Лид Иванова", responsible=owner)
        hidden = LeadFactory(title="Лид Сидорова", responsible=outsider)
        task = make_task(head, owner, "С привязками", deadline=in_days(1), checklist=["a", "b", "c"],
                         records=[mine, hidden])
        services.checklist_tick(task.checklist.first(), True, by=owner)
        Task.objects.filter(pk=task.pk).update(deadline=in_days(-1))
        client.force_login(owner)
        page = client.get(reverse("tasks:list"), {"status": "all"}).content.decode()
        assert 'data-testid="task-overdue"' in page and "просрочена" in page
        assert 'data-testid="task-progress">1/3<' in page
        assert reverse("leads:detail", args=[mine.pk]) in page
        assert "Лид Сидорова" not in page

    def test_it_costs_a_fixed_number_of_queries(self, client, owner, head, django_assert_max_num_queries):
        lead, deal = LeadFactory(responsible=owner), DealFactory(responsible=owner)
        for i in range(30):
            make_task(head, owner, f"Задача {i}", deadline=in_days(i % 5 + 1), checklist=["x", "y"],
                      records=[lead, deal], coexecutors=[head])
        client.force_login(head)
        with django_assert_max_num_queries(16):
            response = client.get(reverse("tasks:list"), {"role": "all"})
        assert response.status_code == 200 and response.content.decode().count("data-task=") == 30


# --- Create ---

class TestCreate:
    def test_it_creates_a_task_with_participants_checklist_and_flags(self, client, head, owner, teammate, outsider):
        client.force_login(head)
        data = form_data(owner, coexecutors=[teammate.pk], observers=[outsider.pk], is_important="on",
                         needs_acceptance="on", checklist="Собрать цены\n\n  Согласовать скидку  \nОтправить")
        response = client.post(reverse("tasks:create"), data)
        task = Task.objects.get(title="Подготовить КП")
        assert response.status_code == 302 and response.url == reverse("tasks:detail", args=[task.pk])
        assert task.creator == head and task.responsible == owner and task.is_important and task.needs_acceptance
        assert list(task.coexecutors.all()) == [teammate] and list(task.observers.all()) == [outsider]
        assert [i.text for i in task.checklist.all()] == ["Собрать цены", "Согласовать скидку", "Отправить"]
        local = timezone.localtime(task.deadline)
        assert (local.date(), local.strftime("%H:%M")) == (timezone.localdate() + timedelta(days=1), "15:30")

    def test_it_opens_as_a_dialog_for_htmx_and_redirects_after_saving(self, client, head, owner):
        client.force_login(head)
        response = client.get(reverse("tasks:create"), headers={"HX-Request": "true"})
        assert response["HX-Retarget"] == "#crm-modal-content"
        assert 'data-testid="task-dialog"' in response.content.decode()
        response = client.post(reverse("tasks:create"), form_data(owner), headers={"HX-Request": "true"})
        task = Task.objects.get()
        assert response.status_code == 204 and response["HX-Redirect"] == reverse("tasks:detail", args=[task.pk])

    def test_it_shows_a_dialog_with_errors_again_in_the_modal(self, client, head, owner):
        client.force_login(head)
        response = client.post(reverse("tasks:create"), form_data(owner, title=""), headers={"HX-Request": "true"})
        assert response.status_code == 200 and response["HX-Retarget"] == "#crm-modal-content"
        assert "Обязательное поле" in response.content.decode()
        assert not Task.objects.exists()

    def test_it_binds_to_the_record_named_in_the_link(self, client, owner):
        lead = LeadFactory(title="Лид для задачи", responsible=owner)
        client.force_login(owner)
        page = client.get(reverse("tasks:create"), {"bind": f"leads.lead:{lead.pk}"}).content.decode()
        assert "Лид для задачи" in page and f'value="leads.lead:{lead.pk}"' in page
        client.post(reverse("tasks:create"), form_data(owner, bind=f"leads.lead:{lead.pk}"))
        task = Task.objects.get()
        assert services.bound_records(task) == [lead]

    @pytest.mark.parametrize("bind", ["leads.lead:{hidden}", "accounts.user:1", "leads.lead:abc", "leads.lead",
                                      "leads.lead:99999999999999999999999", "tasks_app.task:1"])
    def test_it_refuses_a_binding_to_a_record_one_may_not_see_or_that_is_not_a_record(self, client, owner,
                                                                                      outsider, bind):
        hidden = LeadFactory(title="Чужой лид", responsible=outsider)
        client.force_login(owner)
        value = bind.format(hidden=hidden.pk)
        response = client.post(reverse("tasks:create"), form_data(owner, bind=value))
        assert response.status_code == 200
        page = response.content.decode()
        assert "Запись для привязки не найдена или нет доступа" in page and "Чужой лид" not in page
        assert not Task.objects.exists()
        response = client.get(reverse("tasks:create"), {"bind": value})
        assert response.status_code == 200 and "Чужой лид" not in response.content.decode()

    @pytest.mark.parametrize(("change", "message"), [
        ({"deadline_date": "31.02.2026"}, "Введите правильную дату"),
        ({"deadline_date": "1812-09-07"}, "год должен быть между 2000 и 2100"),
        ({"deadline_date": "2020-01-01"}, "Крайний срок уже прошёл"),
        ({"deadline_date": "", "deadline_time": "10:00"}, "Укажите дату крайнего срока"),
        ({"deadline_time": "25:61"}, "Введите правильное время"),
        ({"responsible": "99999"}, "Такого сотрудника нет среди активных"),
        ({"responsible": "не число"}, "Такого сотрудника нет среди активных"),
        ({"coexecutors": ["99999"]}, "Такого сотрудника нет среди активных"),
        ({"title": "   "}, "Обязательное поле"),
        ({"checklist": "\n".join(f"Пункт {i}" for i in range(1000))}, "В чек-листе не больше 100 пунктов"),
        ({"checklist": "x" * 501}, "не длиннее 500 символов"),
    ])
    def test_it_refuses_bad_input_with_a_russian_message_and_saves_nothing(self, client, owner, change, message):
        client.force_login(owner)
        response = client.post(reverse("tasks:create"), form_data(owner, **change))
        assert response.status_code == 200
        assert message in response.content.decode()
        assert not Task.objects.exists() and not ChecklistItem.objects.exists()

    def test_it_refuses_an_inactive_user(self, client, owner):
        gone = UserFactory(last_name="Уволенный", is_active=False)
        client.force_login(owner)
        for field in ("responsible", "observers"):
            response = client.post(reverse("tasks:create"), form_data(owner, **{field: gone.pk}))
            assert "Такого сотрудника нет среди активных" in response.content.decode()
        assert not Task.objects.exists()

    def test_it_keeps_what_was_typed_when_refusing(self, client, owner):
        client.force_login(owner)
        page = client.post(reverse("tasks:create"), form_data(owner, deadline_date="2020-01-01",
                                                              checklist="Первый пункт")).content.decode()
        assert 'value="Подготовить КП"' in page and "Первый пункт" in page


# --- The card ---

class TestCard:
    def test_it_shows_fields_participants_checklist_bindings_and_timeline(self, client, head, owner, teammate):
        lead = LeadFactory(title="Лид на карточке", responsible=owner)
        task = make_task(head, owner, "Карточка задачи", deadline=in_days(2), coexecutors=[teammate],
                         checklist=["Один", "Два"], records=[lead], description="Подробности")
        client.force_login(owner)
        page = client.get(reverse("tasks:detail", args=[task.pk])).content.decode()
        for text in ("Карточка задачи", "Подробности", "Ждёт выполнения", str(teammate), "Один", "Два",
                     "Лид на карточке", "Задача создана", 'data-testid="timeline"', "0/2"):
            assert text in page, text

    def test_it_is_not_found_for_an_outsider(self, client, owner, outsider):
        task = make_task(owner, owner)
        client.force_login(outsider)
        for name in ("tasks:detail", "tasks:edit"):
            assert client.get(reverse(name, args=[task.pk])).status_code == 404
        for name in ("tasks:transition", "tasks:delete", "tasks:checklist_add", "tasks:board_move"):
            assert client.post(reverse(name, args=[task.pk]), {"name": "complete", "text": "x",
                                                               "to": "none"}).status_code == 404
        assert Task.objects.get().status == Status.PENDING

    def test_it_ticks_adds_and_deletes_checklist_items_through_htmx(self, client, head, owner):
        task = make_task(head, owner, checklist=["Первый", "Второй"])
        first = task.checklist.get(text="Первый")
        client.force_login(owner)
        hx = {"HX-Request": "true"}
        page = client.post(reverse("tasks:checklist_tick", args=[task.pk, first.pk]), {"done": "on"},
                           headers=hx).content.decode()
        assert 'id="task-checklist"' in page and "1/2" in page and 'width: 50%' in page
        first.refresh_from_db()
        assert first.is_done and first.done_by == owner
        client.post(reverse("tasks:checklist_tick", args=[task.pk, first.pk]), {}, headers=hx)
        first.refresh_from_db()
        assert not first.is_done
        page = client.post(reverse("tasks:checklist_add", args=[task.pk]), {"text": "Третий"}, headers=hx).content.decode()
        assert "Третий" in page and "0/3" in page
        client.post(reverse("tasks:checklist_delete", args=[task.pk, first.pk]), headers=hx)
        assert list(task.checklist.values_list("text", flat=True)) == ["Второй", "Третий"]

    def test_an_observer_may_not_tick_and_is_told_why(self, client, head, owner, teammate):
        task = make_task(head, owner, observers=[teammate], checklist=["Пункт"])
        item = task.checklist.get()
        client.force_login(teammate)
        page = client.get(reverse("tasks:detail", args=[task.pk])).content.decode()
        assert 'data-testid="task-tick"' not in page and 'data-testid="task-item-add"' not in page
        page = client.post(reverse("tasks:checklist_tick", args=[task.pk, item.pk]), {"done": "on"},
                           headers={"HX-Request": "true"}).content.decode()
        assert "Отмечать пункты могут участники задачи" in page
        item.refresh_from_db()
        assert not item.is_done

    def test_it_refuses_a_101st_item_and_an_item_of_another_task(self, client, owner):
        task = make_task(owner, owner, checklist=[f"П{i}" for i in range(100)])
        other = make_task(owner, owner, "Другая", checklist=["Чужой пункт"])
        client.force_login(owner)
        page = client.post(reverse("tasks:checklist_add", args=[task.pk]), {"text": "Ещё"},
                           headers={"HX-Request": "true"}).content.decode()
        assert "В чек-листе не больше 100 пунктов" in page and task.checklist.count() == 100
        response = client.post(reverse("tasks:checklist_tick", args=[task.pk, other.checklist.get().pk]), {"done": "on"})
        assert response.status_code == 404
        response = client.post(reverse("tasks:checklist_add", args=[task.pk]), {"text": ""})
        assert response.status_code == 302 and task.checklist.count() == 100

    def test_it_costs_a_fixed_number_of_queries(self, client, head, owner, teammate, django_assert_max_num_queries):
        leads = [LeadFactory(responsible=owner) for _ in range(3)]
        task = make_task(head, owner, checklist=[str(i) for i in range(20)], records=leads, coexecutors=[teammate],
                         observers=[head])
        client.force_login(head)
        with django_assert_max_num_queries(20):
            response = client.get(reverse("tasks:detail", args=[task.pk]))
        assert response.status_code == 200


# --- Edit and delete ---

class TestEditAndDelete:
    def test_the_creator_edits_and_the_responsible_may_not(self, client, head, owner, teammate):
        task = make_task(head, owner, "Старое название")
        client.force_login(owner)
        assert 'data-testid="task-edit"' not in client.get(reverse("tasks:detail", args=[task.pk])).content.decode()
        response = client.post(reverse("tasks:edit", args=[task.pk]), form_data(owner, title="ВЗЛОМ", version=task.version))
        assert response.status_code == 302
        task.refresh_from_db()
        assert task.title == "Старое название"
        client.force_login(head)
        response = client.post(reverse("tasks:edit", args=[task.pk]),
                               form_data(teammate, title="Новое название", version=task.version, observers=[owner.pk]))
        assert response.status_code == 302
        task.refresh_from_db()
        assert task.title == "Новое название" and task.responsible == teammate
        assert list(task.observers.all()) == [owner]

    def test_a_stale_edit_is_refused_and_loses_nothing_saved(self, client, head, owner):
        task = make_task(head, owner, "Исходное")
        stale = task.version
        services.task_update(task, data={"title": "Чужая правка"}, by=head, version=stale)
        client.force_login(head)
        page = client.post(reverse("tasks:edit", args=[task.pk]),
                           form_data(owner, title="Моя правка", version=stale)).content.decode()
        assert "Задачу уже изменил другой пользователь" in page
        task.refresh_from_db()
        assert task.title == "Чужая правка"

    def test_an_old_deadline_may_stay_on_edit_but_a_new_one_must_be_in_the_future(self, client, head, owner):
        task = make_task(head, owner, deadline=in_days(1))
        Task.objects.filter(pk=task.pk).update(deadline=in_days(-2))
        task.refresh_from_db()
        client.force_login(head)
        local = timezone.localtime(task.deadline)
        data = form_data(owner, title="Переименовано", version=task.version, deadline_date=local.date().isoformat(),
                         deadline_time=local.strftime("%H:%M"))
        task.deadline = task.deadline.replace(second=0, microsecond=0)
        Task.objects.filter(pk=task.pk).update(deadline=task.deadline)
        assert client.post(reverse("tasks:edit", args=[task.pk]), data).status_code == 302
        page = client.post(reverse("tasks:edit", args=[task.pk]),
                           {**data, "version": task.version + 1, "deadline_date": "2021-05-05"}).content.decode()
        assert "Крайний срок уже прошёл" in page

    def test_delete_goes_through_the_service_and_is_refused_without_rights(self, client, head, owner, teammate):
        task = make_task(head, owner, observers=[teammate])
        client.force_login(teammate)
        response = client.post(reverse("tasks:delete", args=[task.pk]))
        assert response.status_code == 302 and Task.objects.filter(pk=task.pk).exists()
        client.force_login(head)
        assert 'data-testid="task-delete"' in client.get(reverse("tasks:detail", args=[task.pk])).content.decode()
        response = client.post(reverse("tasks:delete", args=[task.pk]))
        assert response.status_code == 302 and response.url == reverse("tasks:list")
        assert not Task.objects.filter(pk=task.pk).exists()
        from crm.models import DeletionRecord

        assert DeletionRecord.objects.filter(title=task.title).exists()
