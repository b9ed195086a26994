"""«Привязки» of a task: bound from its card («+ Привязать», «×») and chosen in the create form
(«Привязать к записи»), found by one search across leads, deals, companies and contacts that shows
only what the user may see (tasks_app.views_bindings, crm.search)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from clients import services as client_services
from crm import timeline
from leads.models import Lead
from tasks_app import services
from tasks_app.models import Binding, Task
from tests.factories import DealFactory, LeadFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def make_task(creator, responsible, title="Подготовить КП", *, records=(), **data):
    return services.task_create(data={"title": title, "responsible": responsible, **data}, by=creator,
                                records=records)


def company(user, name):
    return client_services.company_create(data={"name": name, "responsible": user}, by=None)


def contact(user, last_name):
    return client_services.contact_create(data={"first_name": "Анна", "last_name": last_name, "responsible": user},
                                          communications=[], companies=[], by=None)


def value(record) -> str:
    return f"{record._meta.label_lower}:{record.pk}"


def bound(task) -> set[str]:
    return {f"{b.content_type.app_label}.{b.content_type.model}:{b.object_id}"
            for b in Binding.objects.filter(task=task).select_related("content_type")}


def search(client, task, q):
    return client.get(reverse("tasks:task_bind_search", args=[task.pk]), {"q": q}, **HTMX)


# --- The card ---

class TestCard:
    def test_it_binds_and_unbinds_a_record_from_the_card_by_the_creator(self, client, head, owner):
        task = make_task(head, owner)
        firm = company(owner, "Ромашка Плюс")
        client.force_login(head)
        page = client.get(reverse("tasks:detail", args=[task.pk])).content.decode()
        assert 'data-testid="task-bind-open"' in page and "Задача не привязана к записям CRM." in page

        found = search(client, task, "ромаш").content.decode()
        assert "Ромашка Плюс" in found and value(firm) in found

        answer = client.post(reverse("tasks:bind", args=[task.pk]), {"record": value(firm), "q": "ромаш"}, **HTMX)
        assert answer.status_code == 200
        text = answer.content.decode()
        assert bound(task) == {value(firm)}
        assert 'data-testid="task-binding"' in text and "Компания" in text and firm.get_absolute_url() in text
        # The match just bound leaves the refreshed search results (out of band).
        assert 'hx-swap-oob="true"' in text and 'data-testid="bind-match"' not in text

        answer = client.post(reverse("tasks:unbind", args=[task.pk]), {"record": value(firm)}, **HTMX)
        assert answer.status_code == 200 and bound(task) == set()
        assert "Задача не привязана к записям CRM." in answer.content.decode()

    def test_it_shows_each_kind_as_a_link_and_counts_the_hidden_ones(self, client, head, owner, outsider):
        mine = LeadFactory(title="Лид Иванова", responsible=owner)
        deal = DealFactory(title="Сделка Иванова", responsible=owner)
        theirs = LeadFactory(title="Лид Сидорова", responsible=outsider)
        task = make_task(head, owner, records=[mine, deal, theirs])
        client.force_login(owner)
        page = client.get(reverse("tasks:detail", args=[task.pk])).content.decode()
        assert mine.get_absolute_url() in page and deal.get_absolute_url() in page
        assert ">Лид<" in page and ">Сделка<" in page
        assert "Лид Сидорова" not in page and theirs.get_absolute_url() not in page
        assert "ещё без доступа: 1" in page

    def test_it_gives_a_responsible_who_did_not_set_the_task_no_buttons_and_refuses_his_post(
            self, client, head, owner):
        lead = LeadFactory(title="Лид для привязки", responsible=owner)
        other = LeadFactory(title="Другой лид", responsible=owner)
        task = make_task(head, owner, records=[lead])
        client.force_login(owner)
        page = client.get(reverse("tasks:detail", args=[task.pk])).content.decode()
        assert "Лид для привязки" in page
        assert 'data-testid="task-unbind"' not in page and 'data-testid="task-bind-open"' not in page

        answer = client.post(reverse("tasks:bind", args=[task.pk]), {"record": value(other)}, **HTMX)
        assert answer.status_code == 200
        assert "Привязки задачи меняет постановщик." in answer.content.decode()
        answer = client.post(reverse("tasks:unbind", args=[task.pk]), {"record": value(lead)})
        assert answer.status_code == 302  # without htmx: back to the card, with the refusal as a message
        assert bound(task) == {value(lead)}
        assert search(client, task, "лид").status_code == 403

    def test_it_refuses_a_crafted_post_binding_a_record_the_creator_may_not_see(self, client, owner, outsider):
        task = make_task(owner, owner)
        theirs = LeadFactory(title="Лид Сидорова", responsible=outsider)
        client.force_login(owner)
        for record in (value(theirs), "leads.lead:999999", "auth.user:1", "leads.lead:x", ""):
            answer = client.post(reverse("tasks:bind", args=[task.pk]), {"record": record}, **HTMX)
            assert answer.status_code == 200
            assert 'data-testid="task-bind-error"' in answer.content.decode(), record
        assert bound(task) == set()
        assert "Лид Сидорова" not in answer.content.decode()

    def test_it_refuses_a_binding_past_the_limit_and_says_so(self, client, owner):
        leads = [LeadFactory(title=f"Лид {n}", responsible=owner) for n in range(services.MAX_BINDINGS + 1)]
        task = make_task(owner, owner, records=leads[:-1])
        client.force_login(owner)
        answer = client.post(reverse("tasks:bind", args=[task.pk]), {"record": value(leads[-1])}, **HTMX)
        assert "Не больше 20 привязок к записям CRM." in answer.content.decode()
        assert len(bound(task)) == services.MAX_BINDINGS

    def test_it_is_a_404_for_someone_who_may_not_see_the_task(self, client, owner, outsider):
        task = make_task(owner, owner)
        lead = LeadFactory(responsible=outsider)
        client.force_login(outsider)
        assert client.post(reverse("tasks:bind", args=[task.pk]), {"record": value(lead)}).status_code == 404
        assert bound(task) == set()


# --- The search ---

class TestSearch:
    def test_it_never_returns_a_record_the_user_may_not_see(self, client, owner, outsider):
        task = make_task(owner, owner)
        LeadFactory(title="Ромашка моя", responsible=owner)
        LeadFactory(title="Ромашка чужая", responsible=outsider)
        company(outsider, "Ромашка Сидорова")
        contact(outsider, "Ромашкина")
        DealFactory(title="Ромашка сделка чужая", responsible=outsider)
        client.force_login(owner)
        for answer in (search(client, task, "ромашка"),
                       client.get(reverse("tasks:bind_search"), {"q": "ромашка"}, **HTMX)):
            text = answer.content.decode()
            assert "Ромашка моя" in text
            assert "чужая" not in text and "Сидорова" not in text and "Ромашкина" not in text

    def test_it_finds_each_kind_as_its_list_does_and_gives_each_a_share_of_ten(self, client, head, owner):
        task = make_task(head, owner)
        for n in range(12):
            LeadFactory(title=f"Вектор лид {n}", responsible=owner)
        firm = company(owner, "ООО «Вектор»")
        person = contact(owner, "Векторов")
        deal = DealFactory(title="Внедрение", responsible=owner, company=firm)
        client.force_login(head)
        text = search(client, task, "ВЕКТОР").content.decode()
        assert text.count('data-testid="bind-match"') == 10
        # The company, its deal (found by the company's name, as the deals list does) and the contact.
        assert value(firm) in text and value(deal) in text and value(person) in text

    def test_it_answers_a_short_or_too_long_query_with_a_message_and_no_matches(self, client, owner):
        task = make_task(owner, owner)
        LeadFactory(title="Я", responsible=owner)
        client.force_login(owner)
        text = search(client, task, " я ").content.decode()
        assert "Введите хотя бы 2 символа." in text and "bind-match" not in text
        answer = search(client, task, "я" * 101)
        assert answer.status_code == 200
        assert "Запрос не длиннее 100 символов." in answer.content.decode()
        assert "bind-match" not in answer.content.decode()
        assert "Ничего не найдено" in search(client, task, "нет такого").content.decode()

    def test_it_leaves_out_what_the_task_is_bound_to(self, client, owner):
        lead = LeadFactory(title="Альфа первый", responsible=owner)
        other = LeadFactory(title="Альфа второй", responsible=owner)
        task = make_task(owner, owner, records=[lead])
        client.force_login(owner)
        text = search(client, task, "альфа").content.decode()
        assert value(other) in text and value(lead) not in text

    def test_the_search_and_the_card_cost_a_fixed_number_of_queries(self, client, head, owner,
                                                                   django_assert_max_num_queries):
        records = []
        for n in range(6):
            records += [LeadFactory(title=f"Бета {n}", responsible=owner), company(owner, f"Бета {n}"),
                        contact(owner, f"Бетов {n}"), DealFactory(title=f"Бета {n}", responsible=owner)]
        task = make_task(head, owner, records=records[:8])
        client.force_login(head)
        client.get(reverse("tasks:detail", args=[task.pk]))  # warm the content-type cache
        with django_assert_max_num_queries(24):
            assert client.get(reverse("tasks:detail", args=[task.pk])).status_code == 200
        with django_assert_max_num_queries(16):
            assert search(client, task, "бета").status_code == 200
        with django_assert_max_num_queries(16):
            assert client.get(reverse("tasks:bind_search"), {"q": "бета"}, **HTMX).status_code == 200


# --- The lead's «Дата следующего касания» follows the touch bound or unbound ---

def test_it_moves_the_leads_touch_date_when_an_active_touch_is_bound_and_unbound(client, owner):
    lead = LeadFactory(title="Лид без касания", responsible=owner)
    deadline = timezone.now() + timedelta(days=3)
    call = make_task(owner, owner, "Позвонить", kind="call", deadline=deadline)
    client.force_login(owner)
    client.post(reverse("tasks:bind", args=[call.pk]), {"record": value(lead)}, **HTMX)
    assert Lead.objects.get(pk=lead.pk).next_touch_date == timezone.localtime(deadline).date()
    client.post(reverse("tasks:unbind", args=[call.pk]), {"record": value(lead)}, **HTMX)
    assert Lead.objects.get(pk=lead.pk).next_touch_date is None


# --- The create form ---

class TestCreateForm:
    def test_it_binds_a_new_task_to_several_chosen_records(self, client, owner):
        lead = LeadFactory(title="Лид Гамма", responsible=owner)
        firm = company(owner, "Гамма")
        client.force_login(owner)
        chips = client.get(reverse("tasks:bind_chips"), {"bind": [value(lead)], "add": value(firm), "q": "гамма"},
                           **HTMX).content.decode()
        assert chips.count('data-testid="bind-chip"') == 2
        assert f'name="bind" value="{value(lead)}"' in chips and f'name="bind" value="{value(firm)}"' in chips
        assert 'data-testid="bind-match"' not in chips  # both chosen: nothing left to offer
        chips = client.get(reverse("tasks:bind_chips"), {"bind": [value(lead), value(firm)], "remove": value(lead)},
                           **HTMX).content.decode()
        assert chips.count('data-testid="bind-chip"') == 1 and value(lead) not in chips

        tomorrow = timezone.localdate() + timedelta(days=1)
        answer = client.post(reverse("tasks:create"), {"title": "Встреча в «Гамме»", "responsible": owner.pk,
                                                        "deadline_date": tomorrow.isoformat(),
                                                        "bind": [value(lead), value(firm)]})
        task = Task.objects.get(title="Встреча в «Гамме»")
        assert answer.status_code == 302 and bound(task) == {value(lead), value(firm)}

    def test_it_shows_the_records_of_a_card_link_as_chips(self, client, owner):
        lead = LeadFactory(title="Лид Дельта", responsible=owner)
        client.force_login(owner)
        page = client.get(reverse("tasks:create"), {"bind": value(lead)}).content.decode()
        assert 'data-testid="bind-chip"' in page and f'name="bind" value="{value(lead)}"' in page

    def test_it_refuses_a_record_the_user_may_not_see_and_keeps_the_others(self, client, owner, outsider):
        mine = LeadFactory(title="Лид Эпсилон", responsible=owner)
        theirs = LeadFactory(title="Лид чужой Эпсилон", responsible=outsider)
        client.force_login(owner)
        chips = client.get(reverse("tasks:bind_chips"), {"bind": [value(mine)], "add": value(theirs)},
                           **HTMX).content.decode()
        assert chips.count('data-testid="bind-chip"') == 1 and "bind-chip-error" in chips
        assert "чужой" not in chips
        answer = client.post(reverse("tasks:create"), {"title": "Взлом", "responsible": owner.pk,
                                                        "bind": [value(mine), value(theirs)]})
        page = answer.content.decode()
        assert answer.status_code == 200 and not Task.objects.filter(title="Взлом").exists()
        assert "Запись для привязки не найдена или нет доступа" in page
        assert f'name="bind" value="{value(mine)}"' in page  # the chosen record the user may see stays

    def test_a_user_who_may_not_create_tasks_may_not_search_here(self, client, org):
        from tests.factories import UserFactory

        nobody = UserFactory(username="norole", department=org["group1"])
        client.force_login(nobody)
        assert client.get(reverse("tasks:bind_search"), {"q": "лид"}).status_code == 403
        assert client.get(reverse("tasks:bind_chips")).status_code == 403


def test_binding_and_unbinding_show_in_both_histories(head, owner):
    lead = LeadFactory(responsible=owner, title="Лид «Берёзка»")
    task = services.task_create(data={"title": "Сверить прайс", "responsible": owner}, by=head)
    services.task_bind(task, [lead], by=head)
    services.task_unbind(task, lead, by=head)
    on_lead = [timeline.render(e).text for e in timeline.entries(lead)]
    on_task = [timeline.render(e).text for e in timeline.entries(task)]
    assert "Привязана к задаче: задача «Сверить прайс»" in on_lead
    assert "Отвязана от задачи: задача «Сверить прайс»" in on_lead
    assert "Задача привязана: Лид «Лид «Берёзка»»" in on_task
    assert "Задача отвязана: Лид «Лид «Берёзка»»" in on_task


def test_the_service_holds_its_binding_rules_whatever_the_path(owner, head, crm_admin):
    """What a task may be bound to, how many, and that binding a lead (which moves its «Дата
    следующего касания») needs the right to change it: the service's rules, not a form's."""
    import datetime as dt

    from django.core.exceptions import PermissionDenied, ValidationError

    from accounts.models import Action, Entity, Level, Permission

    lead = LeadFactory(responsible=owner)
    # A head who may read his department's leads but not change them.
    Permission.objects.filter(role__in=head.roles.all(), entity=Entity.LEAD, action=Action.CHANGE).update(level=Level.OWN)
    with pytest.raises(PermissionDenied):
        services.task_create(data={"title": "Позвонить", "responsible": owner}, by=head, records=[lead])
    assert not Task.objects.exists()
    with pytest.raises(ValidationError):
        services.task_create(data={"title": "Рассылка", "responsible": owner}, by=owner,
                             records=[LeadFactory(responsible=owner) for _ in range(services.MAX_BINDINGS + 1)])
    with pytest.raises(ValidationError):
        services.task_create(data={"title": "К задаче", "responsible": owner}, by=crm_admin,
                             records=[services.task_create(data={"title": "Другая", "responsible": owner}, by=crm_admin)])
    task = services.task_create(data={"title": "Срок", "responsible": owner}, by=owner)
    with pytest.raises(ValidationError):
        services.task_set_deadline(task, timezone.make_aware(dt.datetime(3026, 1, 1)), by=owner)
