"""The admin for supervisors: pipelines and stages (add, rename, reorder; a stage holding deals
cannot be deleted), rules per stage, loss reasons; deals read-only."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from deals import services
from deals.models import Deal, LossReason, Pipeline, Stage, StageRequirement
from tests.factories import COLD, DealFactory, pipeline, pipeline_form, stage

pytestmark = pytest.mark.django_db


@pytest.fixture
def supervisor(head):
    group = Group.objects.create(name="Руководители")
    group.permissions.set(Permission.objects.filter(content_type__app_label__in=["deals", "crm"]))
    head.groups.add(group)
    return head


def html(response) -> str:
    return response.content.decode()


def change_url(p):
    return reverse("admin:deals_pipeline_change", args=[p.pk])


class TestPipelines:
    def test_the_list_shows_each_pipeline_with_its_stages(self, client, supervisor):
        client.force_login(supervisor)
        page = html(client.get(reverse("admin:deals_pipeline_changelist")))
        assert COLD in page and "Новая → Бесплатный продукт согласован" in page

    def test_a_supervisor_adds_renames_and_reorders_stages(self, client, supervisor, owner):
        cold = pipeline(COLD)
        client.force_login(supervisor)
        assert client.get(change_url(cold)).status_code == 200
        response = client.post(change_url(cold), pipeline_form(
            cold, edit={"Презентация": {"name": "Демонстрация продукта", "sort": 15}},
            add=[{"name": "Согласование договора", "sort": 65, "semantics": "process", "color": "#ff8b3d"}]))
        assert response.status_code == 302, html(response)
        names = list(cold.stages.order_by("sort", "pk").values_list("name", flat=True))
        assert names[:2] == ["Новая", "Демонстрация продукта"]
        assert "Согласование договора" in names and Stage.objects.get(name="Согласование договора").color == "#ff8b3d"
        # The board follows at once: the stages are data.
        client.force_login(owner)
        board = client.get(reverse("deals:board"), {"pipeline": cold.pk})
        assert [c["label"] for c in board.context["columns"]][1] == "Демонстрация продукта"

    def test_deleting_a_stage_that_holds_deals_shows_the_protected_message(self, client, supervisor, owner):
        cold = pipeline(COLD)
        DealFactory(title="Держит стадию", responsible=owner, stage_id=stage(COLD, "Презентация").pk)
        client.force_login(supervisor)
        response = client.post(change_url(cold), pipeline_form(cold, delete=["Презентация"]))
        assert response.status_code == 200
        page = html(response)
        assert "будет требовать удаления" in page and "Держит стадию" in page
        assert Stage.objects.filter(pk=stage(COLD, "Презентация").pk).exists()
        # The stage's own delete page says the same instead of failing.
        page = html(client.post(reverse("admin:deals_stage_delete", args=[stage(COLD, "Презентация").pk]),
                                {"post": "yes"}))
        assert "Держит стадию" in page and Stage.objects.filter(name="Презентация", pipeline=cold).exists()
        # A pipeline with deals cannot be deleted either.
        page = html(client.post(reverse("admin:deals_pipeline_delete", args=[cold.pk]), {"post": "yes"}))
        assert Pipeline.objects.filter(pk=cold.pk).exists() and "Держит стадию" in page

    def test_an_empty_stage_is_deleted(self, client, supervisor):
        cold = pipeline(COLD)
        client.force_login(supervisor)
        response = client.post(change_url(cold), pipeline_form(cold, delete=["Бесплатный продукт проведён"]))
        assert response.status_code == 302
        assert not cold.stages.filter(name="Бесплатный продукт проведён").exists()

    @pytest.mark.parametrize(("change", "message"), [
        ({"edit": {"Отказ": {"semantics": "success"}}}, "ровно одна стадия «Успех»"),
        ({"delete": ["Отказ"]}, "ровно одна стадия «Успех» и ровно одна «Провал»"),
        ({"add": [{"name": "Второй успех", "sort": 905, "semantics": "success"}]}, "ровно одна"),
    ])
    def test_a_pipeline_keeps_one_success_and_one_failure_stage(self, client, supervisor, change, message):
        cold = pipeline(COLD)
        client.force_login(supervisor)
        response = client.post(change_url(cold), pipeline_form(cold, **change))
        assert response.status_code == 200 and message in html(response)
        assert cold.stages.filter(semantics="success").count() == 1
        assert cold.stages.filter(semantics="failure").count() == 1

    def test_two_stages_with_one_name_are_refused(self, client, supervisor):
        cold = pipeline(COLD)
        client.force_login(supervisor)
        response = client.post(change_url(cold), pipeline_form(
            cold, add=[{"name": "Презентация", "sort": 45, "semantics": "process"}]))
        assert response.status_code == 200
        assert cold.stages.filter(name="Презентация").count() == 1


class TestRules:
    def test_a_rule_added_in_the_admin_blocks_the_next_move(self, client, supervisor, owner):
        client.force_login(supervisor)
        response = client.post(reverse("admin:deals_stagerequirement_add"),
                                {"stage": stage(COLD, "Презентация").pk, "key": "close_date"})
        assert response.status_code == 302
        deal = DealFactory(responsible=owner)
        with pytest.raises(services.MissingFields) as exc:
            services.deal_move(deal, to=stage(COLD, "Презентация"), by=owner)
        assert [r.label for r in exc.value.requirements] == ["Предполагаемая дата закрытия"]

    def test_the_rule_form_offers_only_known_requirements(self, client, supervisor):
        client.force_login(supervisor)
        page = html(client.get(reverse("admin:deals_stagerequirement_add")))
        assert "Товары/услуги (хотя бы одна строка)" in page and "Сумма больше нуля" in page
        response = client.post(reverse("admin:deals_stagerequirement_add"),
                               {"stage": stage(COLD, "Презентация").pk, "key": "drop table"})
        assert response.status_code == 200
        assert not StageRequirement.objects.filter(key="drop table").exists()

    def test_the_stage_page_edits_its_rules_inline(self, client, supervisor):
        s = stage(COLD, "КП отправлено")
        client.force_login(supervisor)
        page = html(client.get(reverse("admin:deals_stage_change", args=[s.pk])))
        assert "Сумма больше нуля" in page and 'type="color"' in page

    def test_the_rules_list_names_them(self, client, supervisor):
        client.force_login(supervisor)
        page = html(client.get(reverse("admin:deals_stagerequirement_changelist")))
        assert "Причина провала" in page and "Товары/услуги (хотя бы одна строка)" in page


class TestDealsAndReasons:
    def test_the_deal_admin_is_read_only_with_search_and_history(self, client, supervisor, owner):
        deal = DealFactory(title="Ромашка — внедрение", responsible=owner)
        services.deal_move(deal, to=stage(COLD, "Презентация"), by=owner)
        DealFactory(title="Другая", responsible=owner)
        client.force_login(supervisor)
        page = html(client.get(reverse("admin:deals_deal_changelist"), {"q": "Ромашка"}))
        assert "Ромашка — внедрение" in page and "Другая" not in page and "Презентация" in page
        page = html(client.get(reverse("admin:deals_deal_change", args=[deal.pk])))
        assert "Презентация" in page and 'name="title"' not in page and "Открыть карточку сделки" in page
        assert client.get(reverse("admin:deals_deal_add")).status_code == 403
        assert client.get(reverse("admin:deals_deal_changelist"), {"stage": stage(COLD, "Новая").pk,
                                                                   "pipeline__id__exact": pipeline(COLD).pk}
                          ).status_code == 200

    def test_the_deal_list_costs_a_fixed_number_of_queries(self, client, supervisor, owner,
                                                           django_assert_max_num_queries):
        DealFactory.create_batch(30, responsible=owner)
        client.force_login(supervisor)
        with django_assert_max_num_queries(20):
            client.get(reverse("admin:deals_deal_changelist"))

    def test_a_loss_reason_in_use_cannot_be_deleted(self, client, supervisor, owner):
        reason = LossReason.objects.get(name="Дорого")
        deal = DealFactory(responsible=owner)
        services.deal_move(deal, to=stage(COLD, "Отказ"), by=owner, data={"loss_reason": reason})
        client.force_login(supervisor)
        page = html(client.post(reverse("admin:deals_lossreason_delete", args=[reason.pk]), {"post": "yes"}))
        assert LossReason.objects.filter(pk=reason.pk).exists() and Deal.objects.get(pk=deal.pk).title in page
