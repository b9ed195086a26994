"""The deals list: every visible pipeline, filters, search, sorting, pages of 50, access and the
query budget; and the demo deals."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Action, Entity, Level, Permission
from clients.models import Company
from deals.models import Deal, LossReason, Stage
from deals.views_list import PER_PAGE
from tests.factories import COLD, GENERAL, INBOUND, DealFactory, UserFactory, pipeline, ref, stage

pytestmark = pytest.mark.django_db

LIST = reverse("deals:list")


def html(response) -> str:
    return response.content.decode()


def titles(response) -> list[str]:
    return [d.title for d in response.context["deals"]]


class TestList:
    def test_it_shows_deals_of_every_visible_pipeline_with_their_stage(self, client, owner):
        DealFactory(title="Холодная", responsible=owner, amount=Decimal("150000"))
        DealFactory(title="Входящая", responsible=owner, pipeline=pipeline(INBOUND),
                    stage_id=stage(INBOUND, "Демонстрация").pk)
        DealFactory(title="Общая", responsible=owner, pipeline=pipeline(GENERAL))
        client.force_login(owner)
        response = client.get(LIST)
        assert response.status_code == 200
        assert set(titles(response)) == {"Холодная", "Входящая", "Общая"}
        page = html(response)
        for text in ("Демонстрация", "Новая", "150\xa0000\xa0₽", "Иванов П.", COLD, INBOUND, "Найдено сделок: 3",
                     "Канбан", "Создать сделку"):
            assert text in page, text

    def test_it_is_empty_politely(self, client, owner):
        client.force_login(owner)
        assert "Сделок пока нет" in html(client.get(LIST))
        assert "По этим условиям сделок не найдено" in html(client.get(LIST, {"q": "нет такой"}))

    @pytest.mark.parametrize("persona", ["owner", "teammate", "outsider", "head", "crm_admin"])
    def test_it_shows_only_the_deals_the_user_may_see(self, client, personas, persona):
        titles_by_owner = {"owner": "Сделка владельца", "teammate": "Сделка коллеги", "outsider": "Сделка чужого отдела"}
        for name, title in titles_by_owner.items():
            DealFactory(title=title, responsible=personas[name])
        DealFactory(title="Сделка вне отделов", responsible=UserFactory())
        sees = {"owner": {"Сделка владельца"}, "teammate": {"Сделка коллеги"}, "outsider": {"Сделка чужого отдела"},
                "head": set(titles_by_owner.values()),
                "crm_admin": {*titles_by_owner.values(), "Сделка вне отделов"}}[persona]
        client.force_login(personas[persona])
        assert set(titles(client.get(LIST))) == sees

    def test_a_hidden_pipeline_is_neither_listed_nor_offered(self, client, owner):
        DealFactory(title="Входящая", responsible=owner, pipeline=pipeline(INBOUND),
                    stage_id=stage(INBOUND, "Новая заявка").pk)
        DealFactory(title="Холодная", responsible=owner)
        for role in owner.roles.all():
            Permission.objects.create(role=role, entity=Entity.DEAL, action=Action.VIEW, level=Level.NONE,
                                      scope=pipeline(INBOUND).access_scope)
        client.force_login(owner)
        response = client.get(LIST)
        assert titles(response) == ["Холодная"]
        assert pipeline(INBOUND) not in response.context["form"].fields["pipeline"].queryset
        # Asking for it by the filter does not widen the list.
        response = client.get(LIST, {"pipeline": pipeline(INBOUND).pk})
        assert titles(response) == ["Холодная"] and "pipeline" in response.context["form"].errors
        assert "Некоторые условия не применены" in html(response)


class TestFilters:
    @pytest.fixture
    def deals(self, owner, head):
        company = Company.objects.create(name="ООО «Ромашка»", responsible=owner)
        a = DealFactory(title="Внедрение CRM", responsible=owner, company=company, amount=Decimal("300"),
                        source=ref("Source", "Контур.Компас"), close_date=dt.date(2026, 3, 10))
        b = DealFactory(title="Обучение продавцов", responsible=head, amount=Decimal("100"),
                        pipeline=pipeline(INBOUND), stage_id=stage(INBOUND, "Демонстрация").pk,
                        close_date=dt.date(2026, 5, 1))
        c = DealFactory(title="Тайный покупатель", responsible=owner, amount=Decimal("200"),
                        stage_id=stage(COLD, "Презентация").pk, comment="Ёлки: сеть магазинов")
        return {"a": a, "b": b, "c": c, "company": company}

    def _titles(self, client, **params):
        return set(titles(client.get(LIST, params)))

    def test_by_pipeline_stage_responsible_company_source_and_dates(self, client, head, owner, deals):
        client.force_login(head)
        assert self._titles(client, pipeline=pipeline(INBOUND).pk) == {"Обучение продавцов"}
        assert self._titles(client, stage=stage(COLD, "Презентация").pk) == {"Тайный покупатель"}
        assert self._titles(client, responsible=owner.pk) == {"Внедрение CRM", "Тайный покупатель"}
        assert self._titles(client, company=deals["company"].pk) == {"Внедрение CRM"}
        assert self._titles(client, company="null") == {"Обучение продавцов", "Тайный покупатель"}
        assert self._titles(client, source=ref("Source", "Контур.Компас").pk) == {"Внедрение CRM"}
        assert self._titles(client, close_after="2026-04-01") == {"Обучение продавцов"}
        assert self._titles(client, close_before="2026-04-01") == {"Внедрение CRM"}
        today = timezone.localdate().isoformat()
        assert len(self._titles(client, created_after=today)) == 3

    def test_search_over_title_comment_and_company_name(self, client, head, deals):
        client.force_login(head)
        assert self._titles(client, q="ромашка") == {"Внедрение CRM"}
        assert self._titles(client, q="ОБУЧЕНИЕ") == {"Обучение продавцов"}
        assert self._titles(client, q="елки") == {"Тайный покупатель"}
        assert self._titles(client, q="внедрение ромашка") == {"Внедрение CRM"}
        assert self._titles(client, q="внедрение обучение") == set()

    def test_the_stage_choices_follow_the_pipeline(self, client, head, deals):
        client.force_login(head)
        stages = client.get(LIST, {"pipeline": pipeline(INBOUND).pk}).context["form"].fields["stage"].queryset
        assert {s.pipeline_id for s in stages} == {pipeline(INBOUND).pk}
        everything = client.get(LIST).context["form"].fields["stage"]
        assert {s.pipeline_id for s in everything.queryset} == {pipeline(n).pk for n in (GENERAL, COLD, INBOUND)}
        assert f"{COLD}: Презентация" in html(client.get(LIST, {"panel": "1"}, headers={"HX-Request": "true"}))

    def test_only_visible_companies_are_offered(self, client, teammate, owner, deals):
        Company.objects.create(name="Чужая компания", responsible=teammate)
        client.force_login(owner)
        assert [c.name for c in client.get(LIST).context["form"].fields["company"].queryset] == ["ООО «Ромашка»"]

    @pytest.mark.parametrize("params", [
        {"pipeline": "abc"}, {"stage": "999999"}, {"responsible": "-1"}, {"company": "x"},
        {"created_after": "32.13.2026"}, {"close_before": "вчера"}, {"sort": "drop table"}, {"page": "abc"},
        {"page": "999"}, {"q": "x" * 500}, {"sort": "--amount"},
    ])
    def test_garbage_is_not_a_500(self, client, head, deals, params):
        client.force_login(head)
        assert client.get(LIST, params).status_code == 200


class TestSortAndPages:
    def test_sorting_by_each_column(self, client, owner):
        DealFactory(title="Б", responsible=owner, amount=Decimal("300"), stage_id=stage(COLD, "Презентация").pk)
        DealFactory(title="А", responsible=owner, amount=Decimal("100"), stage_id=stage(COLD, "Счёт выставлен").pk,
                    close_date=dt.date(2026, 1, 1))
        DealFactory(title="В", responsible=owner, amount=Decimal("200"), pipeline=pipeline(GENERAL))
        client.force_login(owner)
        assert titles(client.get(LIST, {"sort": "title"})) == ["А", "Б", "В"]
        assert titles(client.get(LIST, {"sort": "-amount"})) == ["Б", "В", "А"]
        # By the pipelines' order, then the stages' order within each.
        assert titles(client.get(LIST, {"sort": "stage"})) == ["В", "Б", "А"]
        assert titles(client.get(LIST, {"sort": "-created_at"})) == ["В", "А", "Б"]
        page = html(client.get(LIST, {"sort": "amount"}))
        assert 'aria-sort="ascending"' in page and "sort=-amount" in page

    def test_pages_of_fifty(self, client, owner):
        DealFactory.create_batch(PER_PAGE + 5, responsible=owner)
        client.force_login(owner)
        first = client.get(LIST)
        assert len(first.context["deals"]) == PER_PAGE and first.context["total"] == PER_PAGE + 5
        second = client.get(LIST, {"page": 2})
        assert len(second.context["deals"]) == 5
        assert not {d.pk for d in first.context["deals"]} & {d.pk for d in second.context["deals"]}


class TestQueryBudget:
    def _spread(self, n, users):
        reason = LossReason.objects.first()
        stages = list(Stage.objects.all())
        company = Company.objects.first()
        for i in range(n):
            s = stages[i % len(stages)]
            DealFactory(responsible=users[i % len(users)], pipeline=s.pipeline, stage_id=s.pk, amount=Decimal(i),
                        company=company if i % 2 else None, source=ref("Source") if i % 3 else None,
                        loss_reason=reason if s.semantics == Stage.Semantics.FAILURE else None)

    def _queries(self, client, params) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(LIST, params).status_code == 200
        return len(queries)

    @pytest.mark.parametrize("persona", ["owner", "head", "crm_admin"])
    @pytest.mark.parametrize("params", [{}, {"sort": "stage", "q": "сделка"}, {"pipeline": "1", "page": "2"}])
    def test_the_list_costs_a_fixed_number_of_queries(self, client, personas, persona, params,
                                                      django_assert_max_num_queries):
        Company.objects.create(name="ООО «Ромашка»", responsible=personas["owner"])
        users = [personas["owner"], personas["teammate"], personas["outsider"]]
        self._spread(60, users)
        client.force_login(personas[persona])
        client.get(LIST, params)  # warm caches that are not per page (content types, …)
        small = self._queries(client, params)
        self._spread(190, users)
        assert Deal.objects.count() == 250
        assert self._queries(client, params) == small
        # The touches' badges: one query for the page whatever the number of tasks.
        from tasks_app import services as tasks

        for i, deal in enumerate(Deal.objects.order_by("-pk")[:30]):
            for days in (-1, 1) if i % 2 else (2,):
                tasks.task_create(data={"kind": "call", "title": "Звонок", "responsible": deal.responsible,
                                        "deadline": timezone.now() + dt.timedelta(days=days)},
                                  by=deal.responsible, records=[deal])
        assert self._queries(client, params) == small
        # A filter on top of a search: the list counts (the probe's ids count the search alone).
        assert self._queries(client, {**params, "touches": "none"}) == small + (1 if params.get("q") else 0)
        # A search costs two queries of its own: the matching companies, then the matching deals
        # (crm.lists.search), so the count and the page read them by id.
        # (The filter panel's choices are read when it is loaded: crm.lists.panel_context.)
        with django_assert_max_num_queries(17 if params.get("q") else 16):
            client.get(LIST, params)


def test_demo_data_makes_deals_in_every_pipeline_and_is_idempotent(db):
    from django.core.management import call_command

    call_command("demo_data")
    count = Deal.objects.count()
    assert 20 <= count <= 30
    call_command("demo_data")
    assert Deal.objects.count() == count
    for name in (GENERAL, COLD, INBOUND):
        in_pipeline = Deal.objects.filter(pipeline=pipeline(name))
        assert in_pipeline.values("stage").distinct().count() >= 4, name
    assert set(Deal.objects.values_list("responsible__username", flat=True)) == {"ivanov", "petrova", "sidorov"}
    assert Deal.objects.filter(products__isnull=False).distinct().count() >= 5
    kp = stage(COLD, "КП отправлено")
    for deal in Deal.objects.filter(stage=kp.pk):
        assert deal.amount > 0 and deal.products.exists()
    lost = Deal.objects.filter(stage__in=Stage.objects.filter(semantics=Stage.Semantics.FAILURE).values("pk"))
    assert lost.exists() and all(d.loss_reason_id for d in lost)
    # Moved through the one service: the history shows the stages walked.
    from crm import timeline

    paid = Deal.objects.get(title="Добрый доктор — тайный покупатель (3 филиала)")
    assert paid.current_stage.name == "Оплачено"
    assert timeline.entries(paid).filter(kind="status").count() == 6  # five stages in process, then «Оплачено»


def test_a_company_card_links_to_its_deals_in_the_list(client, owner):
    from clients import services as clients
    from tests.factories import DealFactory

    company = clients.company_create(data={"name": "ООО «Фильтр»", "responsible": owner}, by=None)
    DealFactory(responsible=owner, title="Своя сделка", company=company)
    DealFactory(responsible=owner, title="Чужая компания")
    client.force_login(owner)
    page = client.get(company.get_absolute_url()).content.decode()
    link = f"/deals/list/?company={company.pk}"
    assert link in page
    listed = client.get(link).context
    assert [d.title for d in listed["deals"]] == ["Своя сделка"]
    assert 'name="company"' in listed["form"]["company"].as_widget() and "<select" not in listed["form"]["company"].as_widget()


class TestOwnerFilters:
    def test_the_head_filters_the_list_by_department_and_my_department(self, client, personas, org):
        for name in ("owner", "teammate", "outsider", "head"):
            DealFactory(title=f"Сделка {name}", responsible=personas[name])
        DealFactory(title="Сделка вне отделов", responsible=UserFactory())
        head = personas["head"]
        client.force_login(head)
        assert set(titles(client.get(LIST, {"department": org["group2"].pk}))) == {"Сделка outsider"}
        assert titles(client.get(LIST, {"preset": "mine"})) == ["Сделка head"]
        # A head whose role sees every deal is offered «Мой отдел» too.
        Permission.objects.filter(role__in=head.roles.all(), entity=Entity.DEAL, action=Action.VIEW).update(level=Level.ALL)
        response = client.get(LIST, {"preset": "department"})
        assert [v for v, _label in response.context["form"].fields["preset"].choices] == ["", "mine", "department"]
        assert "Сделка вне отделов" not in titles(response) and len(titles(response)) == 4
        assert len(titles(client.get(LIST))) == 5

