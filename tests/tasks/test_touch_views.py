"""Touches planned and completed from the lead and deal cards: the «Дела» panel, the
«Запланировать» and «Дело выполнено» dialogs, access."""

import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from leads.models import Lead
from tasks_app import services
from tasks_app.forms_touches import add_working_days
from tasks_app.models import Binding, Kind, Status, Task
from tests.factories import DealFactory, LeadFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def html(response):
    return response.content.decode()


@pytest.fixture
def lead(owner):
    return LeadFactory(title="Лид Ромашка", responsible=owner)


def plan_url(record):
    return reverse("tasks:touch_plan", args=[record._meta.label_lower, record.pk])


def plan(client, record, **overrides):
    data = {"kind": "call", "title": "", "day": (timezone.localdate() + timedelta(days=1)).isoformat(),
            "at": "10:00", "responsible": record.responsible_id, "description": "",
            "card": f"{record._meta.label_lower}:{record.pk}", **overrides}
    return client.post(plan_url(record), data, **HTMX)


def touch(lead, by, *, days=1, title="Позвонить"):
    return services.task_create(data={"kind": Kind.CALL, "title": title, "responsible": lead.responsible,
                                      "deadline": timezone.now() + timedelta(days=days)}, by=by, records=[lead])


class TestPanel:
    def test_it_shows_active_touches_first_and_the_done_ones_folded(self, client, owner, lead):
        done = touch(lead, owner, title="Первый звонок клиенту")
        services.task_transition(done, "complete", by=owner, result="Дозвонились")
        touch(lead, owner, days=-1, title="Просроченный звонок")
        touch(lead, owner, days=3, title="Встреча в офисе")
        client.force_login(owner)
        page = html(client.get(reverse("leads:detail", args=[lead.pk])))
        panel = page[page.index('data-testid="touches-panel"'):]
        assert panel.index("Просроченный звонок") < panel.index("Встреча в офисе") < panel.index("touches-done")
        assert panel.index("touches-done") < panel.index("Первый звонок клиенту")
        assert "text-danger" in panel[:panel.index("Встреча в офисе")]
        assert page.count('data-testid="touch-complete"') == 2

    @pytest.mark.parametrize("one_query", [100, 0])  # read at once and split, or two queries
    def test_it_shows_the_newest_done_ones_up_to_the_cap(self, client, owner, lead, one_query, monkeypatch):
        from tasks_app import cards

        monkeypatch.setattr(cards, "ONE_QUERY", one_query)
        monkeypatch.setattr(cards, "DONE_SHOWN", 2)
        for i in range(3):
            task = touch(lead, owner, title=f"Звонок {i}")
            services.task_transition(task, "complete", by=owner, result="")
            Task.objects.filter(pk=task.pk).update(completed_at=timezone.now() - timedelta(days=10 - i))
        touch(lead, owner, days=2, title="Будущий звонок")
        client.force_login(owner)
        page = html(client.get(reverse("leads:detail", args=[lead.pk])))
        panel = page[page.index('data-testid="touches-panel"'):]
        panel = panel[:panel.index("</section>")]  # the timeline names them all
        assert panel.index("Будущий звонок") < panel.index("touches-done") < panel.index("Звонок 2") < panel.index("Звонок 1")
        assert "Звонок 0" not in panel

    def test_the_deal_card_has_the_panel_too(self, client, owner):
        deal = DealFactory(responsible=owner)
        client.force_login(owner)
        page = html(client.get(reverse("deals:detail", args=[deal.pk])))
        assert 'data-testid="touches-panel"' in page and 'data-testid="touch-plan"' in page

    def test_the_card_with_touches_costs_a_fixed_number_of_queries(self, client, owner, lead,
                                                                    django_assert_max_num_queries):
        client.force_login(owner)
        client.get(reverse("leads:detail", args=[lead.pk]))
        with django_assert_max_num_queries(40) as none:
            assert client.get(reverse("leads:detail", args=[lead.pk])).status_code == 200
        touch(lead, owner, days=1, title="Звонок")
        # A record with nothing bound is not asked for its tasks (one query less); with some, the
        # count no longer grows with them.
        with django_assert_max_num_queries(len(none.captured_queries) + 1) as one:
            assert client.get(reverse("leads:detail", args=[lead.pk])).status_code == 200
        for i in range(15):
            touch(lead, owner, days=i + 2, title=f"Звонок {i}")
        with django_assert_max_num_queries(len(one.captured_queries)):
            assert client.get(reverse("leads:detail", args=[lead.pk])).status_code == 200


class TestPlan:
    def test_the_dialog_defaults_to_a_call_tomorrow_at_ten_for_the_responsible(self, client, owner, lead):
        client.force_login(owner)
        response = client.get(plan_url(lead), **HTMX)
        page = html(response)
        assert response.status_code == 200 and response["HX-Retarget"] == "#crm-modal-content"
        tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
        assert f'value="{tomorrow}"' in page and 'value="10:00"' in page
        assert f'<option value="{owner.pk}" selected>' in page
        assert 'value="call"' in page and "checked" in page

    def test_it_plans_a_call_refreshes_panel_and_timeline_and_fills_the_touch_date(self, client, owner, lead):
        client.force_login(owner)
        response = plan(client, lead)
        assert response.status_code == 200
        trigger = json.loads(response["HX-Trigger"])
        assert "touchesChanged" in trigger and "crm:close-modal" in trigger
        body = html(response)
        assert 'id="touches-panel" data-testid="touches-panel" hx-swap-oob="true"' in body
        assert '<div id="timeline" hx-swap-oob="true"' in body
        task = Task.objects.get()
        assert (task.kind, task.title, task.responsible, task.creator) == (Kind.CALL, "Звонок", owner, owner)
        assert timezone.localtime(task.deadline).hour == 10
        assert Binding.objects.filter(task=task, object_id=lead.pk).exists()
        lead.refresh_from_db()
        assert lead.next_touch_date == timezone.localdate() + timedelta(days=1)
        assert "Запланировано" in body and "Звонок" in body

    def test_from_another_page_it_only_triggers_touches_changed(self, client, owner, lead):
        client.force_login(owner)
        response = plan(client, lead, card="", title="Встреча", kind="meeting")
        assert response.status_code == 200 and response.content == b""
        assert "touchesChanged" in json.loads(response["HX-Trigger"])
        assert Task.objects.get().kind == Kind.MEETING

    @pytest.mark.parametrize("bad", [{"day": "31.02.2026"}, {"day": ""}, {"kind": "party"}, {"at": "25:99"},
                                     {"responsible": "999999"}, {"title": "x" * 300}, {"day": "0001-01-01"}])
    def test_bad_input_is_told_in_the_dialog_and_nothing_is_saved(self, client, owner, lead, bad):
        client.force_login(owner)
        response = plan(client, lead, **bad)
        assert response.status_code == 200 and response["HX-Retarget"] == "#crm-modal-content"
        assert "invalid-feedback" in html(response) or "alert-danger" in html(response)
        assert not Task.objects.exists()

    def test_a_dismissed_responsible_is_refused_with_a_message(self, client, owner, teammate, lead):
        teammate.is_active = False
        teammate.save()
        client.force_login(owner)
        response = plan(client, lead, responsible=teammate.pk)
        assert "invalid-feedback" in html(response) and not Task.objects.exists()

    @pytest.mark.parametrize("persona", ["teammate", "outsider"])
    def test_someone_who_cannot_see_the_lead_gets_a_404_and_plans_nothing(self, client, personas, lead, persona):
        client.force_login(personas[persona])
        assert client.get(plan_url(lead), **HTMX).status_code == 404
        assert plan(client, lead).status_code == 404
        assert not Task.objects.exists()

    def test_a_tampered_kind_is_a_404(self, client, owner, lead):
        client.force_login(owner)
        for kind in ("tasks_app.task", "accounts.user", "nope.nope", "leads"):
            assert client.get(reverse("tasks:touch_plan", args=[kind, lead.pk])).status_code == 404

    def test_without_javascript_it_is_a_page_and_goes_back_to_the_card(self, client, owner, lead):
        client.force_login(owner)
        assert 'data-testid="touch-plan-dialog"' in html(client.get(plan_url(lead)))
        data = {"kind": "task", "title": "Отправить КП", "day": "2030-01-10", "at": "", "responsible": owner.pk}
        response = client.post(plan_url(lead), data)
        assert response.status_code == 302 and response["Location"] == lead.get_absolute_url()
        assert Task.objects.get().title == "Отправить КП"


class TestComplete:
    def test_it_completes_with_a_result_and_plans_the_next_one_in_two_working_days(self, client, owner, lead):
        first = touch(lead, owner, title="Первый звонок")
        client.force_login(owner)
        url = reverse("tasks:touch_complete", args=[first.pk]) + f"?card=leads.lead:{lead.pk}"
        page = html(client.get(url, **HTMX))
        next_day = add_working_days(timezone.localdate(), 2)
        assert "Дело выполнено" in page and f'value="{next_day.isoformat()}"' in page
        response = client.post(url, {"result": "Договорились о демо", "next_kind": "meeting", "next_title": "Демо",
                                     "next_day": next_day.isoformat(), "next_at": "15:00",
                                     "card": f"leads.lead:{lead.pk}"}, **HTMX)
        assert response.status_code == 200 and "touchesChanged" in json.loads(response["HX-Trigger"])
        first.refresh_from_db()
        assert first.status == Status.COMPLETED and first.result == "Договорились о демо"
        demo = Task.objects.exclude(pk=first.pk).get()
        assert (demo.kind, demo.title, demo.responsible) == (Kind.MEETING, "Демо", owner)
        assert timezone.localtime(demo.deadline).date() == next_day
        assert Binding.objects.filter(task=demo, object_id=lead.pk).exists()
        lead.refresh_from_db()
        assert lead.next_touch_date == next_day
        body = html(response)
        assert "Выполнено" in body and "Демо" in body  # the timeline swapped in shows both

    def test_not_planning_the_next_clears_the_touch_date(self, client, owner, lead):
        first = touch(lead, owner)
        client.force_login(owner)
        response = client.post(reverse("tasks:touch_complete", args=[first.pk]), {"skip_next": "on", "result": ""},
                               **HTMX)
        assert response.status_code == 200
        assert Task.objects.count() == 1
        lead.refresh_from_db()
        assert lead.next_touch_date is None

    def test_without_a_next_date_it_asks_and_completes_nothing(self, client, owner, lead):
        first = touch(lead, owner)
        client.force_login(owner)
        response = client.post(reverse("tasks:touch_complete", args=[first.pk]), {"result": "ок", "next_day": ""},
                               **HTMX)
        assert "Не планировать" in html(response) and "invalid-feedback" in html(response)
        first.refresh_from_db()
        assert first.status == Status.PENDING

    def test_a_next_touch_that_cannot_be_planned_keeps_the_first_one_open(self, client, owner, lead):
        first = touch(lead, owner)
        client.force_login(owner)
        response = client.post(reverse("tasks:touch_complete", args=[first.pk]),
                               {"result": "ок", "next_day": "1999-01-01"}, **HTMX)
        assert "alert-danger" in html(response)
        first.refresh_from_db()
        assert first.status == Status.PENDING and Task.objects.count() == 1

    def test_completing_twice_is_refused_with_a_message(self, client, owner, lead):
        first = touch(lead, owner)
        services.task_transition(first, "complete", by=owner)
        client.force_login(owner)
        response = client.post(reverse("tasks:touch_complete", args=[first.pk]), {"skip_next": "on"}, **HTMX)
        assert 'data-testid="move-refused"' in html(response) and "уже выполнено" in html(response)

    @pytest.mark.parametrize("persona", ["teammate", "outsider"])
    def test_someone_who_cannot_see_the_touch_gets_a_404(self, client, personas, owner, lead, persona):
        first = touch(lead, owner)
        client.force_login(personas[persona])
        assert client.post(reverse("tasks:touch_complete", args=[first.pk]), {"skip_next": "on"}).status_code == 404
        first.refresh_from_db()
        assert first.status == Status.PENDING

    def test_the_timeline_shows_the_planned_and_the_done(self, client, owner, lead):
        client.force_login(owner)
        plan(client, lead, title="Звонок директору")
        task = Task.objects.get()
        client.post(reverse("tasks:touch_complete", args=[task.pk]), {"skip_next": "on", "result": "Перезвонить"},
                    **HTMX)
        page = html(client.get(reverse("leads:detail", args=[lead.pk])))
        timeline_part = page[page.index('data-testid="timeline"'):]
        assert "Запланировано: звонок «Звонок директору»" in timeline_part
        assert "Выполнено: звонок «Звонок директору»" in timeline_part


def test_it_never_makes_the_next_card_edit_stale(client, owner, lead):
    """A touch planned by htmx keeps the lead's version: the card's in-place form opened before
    it still saves (the touch date is derived, not edited)."""
    client.force_login(owner)
    version = Lead.objects.get(pk=lead.pk).version
    plan(client, lead)
    assert Lead.objects.get(pk=lead.pk).version == version


class TestQueryBudgets:
    def test_the_dialogs_cost_a_fixed_number_of_queries(self, client, owner, lead, django_assert_max_num_queries):
        first = touch(lead, owner)
        client.force_login(owner)
        complete_url = reverse("tasks:touch_complete", args=[first.pk]) + f"?card=leads.lead:{lead.pk}"
        client.get(plan_url(lead), **HTMX)  # warm caches that are not per request (content types, …)
        with django_assert_max_num_queries(8):
            assert client.get(plan_url(lead), **HTMX).status_code == 200
        with django_assert_max_num_queries(12):
            assert client.get(complete_url, **HTMX).status_code == 200

    def test_a_done_post_refreshing_the_card_costs_the_same_with_many_touches(self, client, owner, lead):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        client.force_login(owner)
        plan(client, lead)
        with CaptureQueriesContext(connection) as one:
            assert plan(client, lead).status_code == 200
        for i in range(20):
            touch(lead, owner, days=i + 2, title=f"Звонок {i}")
        with CaptureQueriesContext(connection) as many:
            assert plan(client, lead).status_code == 200
        assert len(many) == len(one)


def test_without_javascript_the_card_says_what_was_planned(client, owner, lead):
    client.force_login(owner)
    data = {"kind": "meeting", "title": "Демо", "day": "2030-01-10", "at": "12:00", "responsible": owner.pk}
    page = html(client.post(plan_url(lead), data, follow=True))
    assert "Запланировано: встреча «Демо»." in page
