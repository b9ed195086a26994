"""The deal card: access, fields, the stage bar, product rows, the origin lead's pinned comment,
«Сменить воронку», create and edit (optimistic locking, validation)."""

from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.models import Action, Entity, Level, Permission
from clients.models import Company, Contact
from crm import timeline
from deals import services
from deals.models import Deal, DealProduct, Pipeline, StageRequirement
from tests.factories import COLD, GENERAL, INBOUND, DealFactory, LeadFactory, pipeline, ref, stage

pytestmark = pytest.mark.django_db


def html(response) -> str:
    return response.content.decode()


def detail(deal):
    return reverse("deals:detail", args=[deal.pk])


@pytest.fixture
def deal(owner):
    return DealFactory(title="Внедрение Битрикс24", responsible=owner, comment="Звонить после обеда")


def create_payload(**overrides):
    return {"pipeline": pipeline(COLD).pk, "title": "Тест Решение — внедрение", "amount": "150000",
            "currency": "RUB", "source": ref("Source", "Контур.Компас").pk, "comment": "",
            "start_date": "2026-02-01", "close_date": "2026-03-01", **overrides}


def edit_payload(deal, **overrides):
    return {"title": deal.title, "amount": str(deal.amount), "currency": deal.currency,
            "responsible": deal.responsible_id, "comment": deal.comment, "version": deal.version, **overrides}


class TestAccess:
    @pytest.mark.parametrize(("persona", "status"), [("owner", 200), ("teammate", 404), ("outsider", 404),
                                                     ("head", 200), ("crm_admin", 200)])
    def test_it_opens_the_card_only_for_those_who_may_see_it(self, client, personas, deal, persona, status):
        client.force_login(personas[persona])
        response = client.get(detail(deal))
        assert response.status_code == status
        if status == 200:
            assert "Внедрение Битрикс24" in html(response)

    @pytest.mark.parametrize("persona", ["teammate", "outsider"])
    def test_strangers_cannot_edit_move_change_the_pipeline_or_the_products(self, client, personas, deal, persona):
        client.force_login(personas[persona])
        for url, data in [(reverse("deals:edit", args=[deal.pk]), {"title": "Чужая"}),
                          (reverse("deals:move", args=[deal.pk]), {"to": stage(COLD, "Презентация").pk}),
                          (reverse("deals:change_pipeline", args=[deal.pk]), {"pipeline": pipeline(INBOUND).pk}),
                          (reverse("deals:products", args=[deal.pk]), {}),
                          (reverse("crm:comment_add", args=["deals.deal", deal.pk]), {"text": "чужой"})]:
            assert client.post(url, data).status_code == 404, url
        fresh = Deal.objects.get(pk=deal.pk)
        assert fresh.title == "Внедрение Битрикс24" and fresh.pipeline == pipeline(COLD)
        assert not timeline.entries(deal).filter(kind="comment").exists()

    def test_a_tampered_id_is_a_404_not_a_500(self, client, owner):
        client.force_login(owner)
        for url in ("/deals/999999/", "/deals/abc/", "/deals/999999/edit/", "/deals/999999/products/"):
            assert client.get(url).status_code == 404, url


class TestCard:
    def test_it_shows_the_fields_the_stage_bar_and_the_timeline(self, client, owner, deal):
        company = Company.objects.create(name="ООО «Ромашка»", responsible=owner)
        contact = Contact.objects.create(last_name="Лактионова", first_name="Анна", responsible=owner)
        deal = services.deal_update(deal, data={"company": company, "source": ref("Source", "Контур.Компас")},
                                    m2m={"contacts": [contact]}, by=owner, version=deal.version)
        client.force_login(owner)
        response = client.get(detail(deal))
        page = html(response)
        for text in ("Название", "Воронка", "Стадия", "Сумма и валюта", "Компания", "Контакты", "Источник",
                     "Дата начала", "Предполагаемая дата закрытия", "Ответственный", "Лид", "Комментарий",
                     "ООО «Ромашка»", "Лактионова Анна", "Контур.Компас", "Звонить после обеда", COLD,
                     "Товары/услуги", "История и комментарии", 'data-testid="timeline"', "Изменены поля"):
            assert text in page, text
        steps = response.context["steps"]
        assert [s["stage"].name for s in steps] == ["Новая", "Бесплатный продукт согласован",
                                                    "Бесплатный продукт проведён", "Презентация", "КП отправлено",
                                                    "Счёт выставлен", "Оплачено", "Отказ"]
        assert [s["state"] for s in steps][:2] == ["current", "todo"]
        assert [s["clickable"] for s in steps] == [False] + [True] * 7
        for s in steps:
            assert f"--stage-color: {s['stage'].color}" in page
        assert page.count(f'action="{reverse("deals:move", args=[deal.pk])}"') == 7

    def test_passed_stages_are_marked_done(self, client, owner, deal):
        services.deal_move(deal, to=stage(COLD, "Презентация"), by=owner)
        client.force_login(owner)
        states = [s["state"] for s in client.get(detail(deal)).context["steps"]]
        assert states == ["done", "done", "done", "current", "todo", "todo", "todo", "todo"]

    def test_the_product_rows_and_their_total(self, client, owner, deal):
        services.deal_set_products(deal, rows=[(ref("Product", "Тренинги"), Decimal("2"), Decimal("15000")),
                                               (ref("Product", "Консультации"), Decimal("1"), Decimal("5000.50"))],
                                   by=owner)
        client.force_login(owner)
        page = html(client.get(detail(deal)))
        for text in ("Тренинги", "Консультации", "15\xa0000\xa0₽", "30\xa0000\xa0₽", "5\xa0000,50\xa0₽",
                     "35\xa0000,50\xa0₽", reverse("deals:products", args=[deal.pk])):
            assert text in page, text

    def test_it_shows_the_origin_leads_link_and_pinned_comment(self, client, owner):
        lead = LeadFactory(title="Тест Решение", responsible=owner)
        timeline.add_comment(lead, owner, "Разведка: 12 магазинов, Битрикс24 не внедрён", pin_it=True)
        deal = DealFactory(responsible=owner, lead=lead)
        client.force_login(owner)
        page = html(client.get(detail(deal)))
        assert 'data-testid="lead-pinned-comment"' in page
        assert "Разведка: 12 магазинов, Битрикс24 не внедрён" in page
        assert f'href="{reverse("leads:detail", args=[lead.pk])}"' in page

    def test_a_lead_the_user_may_not_open_is_named_without_a_link(self, client, owner, head):
        lead = LeadFactory(title="Чужой лид", responsible=head)
        timeline.add_comment(lead, head, "Закреплено руководителем", pin_it=True)
        deal = DealFactory(responsible=owner, lead=lead)
        client.force_login(owner)
        page = html(client.get(detail(deal)))
        assert "Чужой лид" in page and "Закреплено руководителем" in page
        assert f'href="{reverse("leads:detail", args=[lead.pk])}"' not in page

    def test_a_deal_without_a_lead_shows_no_pinned_lead_comment(self, client, owner, deal):
        client.force_login(owner)
        assert 'data-testid="lead-pinned-comment"' not in html(client.get(detail(deal)))

    def test_comments_go_to_the_deals_own_timeline(self, client, owner, deal):
        client.force_login(owner)
        client.post(reverse("crm:comment_add", args=["deals.deal", deal.pk]), {"text": "Отправил КП", "pin": "on"})
        assert timeline.pinned(deal).text == "Отправил КП"
        assert "Отправил КП" in html(client.get(detail(deal)))

    def test_the_card_costs_a_fixed_number_of_queries(self, client, owner, deal, django_assert_max_num_queries):
        lead = LeadFactory(responsible=owner)
        timeline.add_comment(lead, owner, "закреплён", pin_it=True)
        Deal.objects.filter(pk=deal.pk).update(lead=lead)
        services.deal_set_products(deal, rows=[(ref("Product"), Decimal("1"), Decimal("10"))] * 5, by=owner)
        for i in range(30):
            timeline.add_comment(deal, owner, f"комментарий {i}")
        client.force_login(owner)
        with django_assert_max_num_queries(14):  # 17 before issue 13
            assert client.get(detail(deal)).status_code == 200


class TestChangePipeline:
    def test_a_pipeline_with_no_stage_yet_is_not_offered(self, client, owner, deal):
        empty = Pipeline.objects.create(name="Новая воронка", sort=1)
        client.force_login(owner)
        page = html(client.get(detail(deal)))
        assert "Сменить воронку" in page and f'<option value="{pipeline(INBOUND).pk}">' in page
        assert f'<option value="{empty.pk}"' not in page

    def test_it_lands_on_the_first_stage_of_the_other_pipeline(self, client, owner, deal):
        services.deal_move(deal, to=stage(COLD, "Презентация"), by=owner)
        client.force_login(owner)
        page = html(client.get(detail(deal)))
        assert "Сменить воронку" in page and f'<option value="{pipeline(INBOUND).pk}">' in page
        # The select shows where the deal is, not the first other pipeline.
        assert f'<option value="{pipeline(COLD).pk}" selected>' in page
        response = client.post(reverse("deals:change_pipeline", args=[deal.pk]), {"pipeline": pipeline(INBOUND).pk},
                               follow=True)
        moved = Deal.objects.get(pk=deal.pk)
        assert moved.pipeline == pipeline(INBOUND) and moved.stage_id == stage(INBOUND, "Новая заявка").pk
        assert "Сделка перенесена в воронку" in html(response)
        assert "Воронка: " in timeline.entries(moved).filter(kind="status").first().text

    @pytest.mark.parametrize("value", ["", "abc", "999999"])
    def test_garbage_is_refused_with_a_message_not_a_500(self, client, owner, deal, value):
        client.force_login(owner)
        response = client.post(reverse("deals:change_pipeline", args=[deal.pk]), {"pipeline": value}, follow=True)
        assert response.status_code == 200
        assert Deal.objects.get(pk=deal.pk).pipeline == pipeline(COLD)
        assert "alert alert-danger" in html(response)

    def test_a_pipeline_the_user_may_not_add_to_is_not_offered_nor_accepted(self, client, owner, deal):
        for role in owner.roles.all():
            Permission.objects.create(role=role, entity=Entity.DEAL, action=Action.ADD, level=Level.NONE,
                                      scope=pipeline(INBOUND).access_scope)
        client.force_login(owner)
        page = html(client.get(detail(deal)))
        assert f'<option value="{pipeline(INBOUND).pk}">' not in page
        assert f'<option value="{pipeline(GENERAL).pk}">' in page
        client.post(reverse("deals:change_pipeline", args=[deal.pk]), {"pipeline": pipeline(INBOUND).pk})
        assert Deal.objects.get(pk=deal.pk).pipeline == pipeline(COLD)

    def test_choosing_the_current_pipeline_says_so(self, client, owner, deal):
        client.force_login(owner)
        response = client.post(reverse("deals:change_pipeline", args=[deal.pk]), {"pipeline": pipeline(COLD).pk},
                               follow=True)
        assert "Сделка уже в воронке" in html(response)
        assert Deal.objects.get(pk=deal.pk).pipeline == pipeline(COLD)

    def test_it_is_not_offered_without_another_pipeline_to_go_to(self, client, owner, deal):
        for role in owner.roles.all():
            for other in (INBOUND, GENERAL):
                Permission.objects.create(role=role, entity=Entity.DEAL, action=Action.ADD, level=Level.NONE,
                                          scope=pipeline(other).access_scope)
        client.force_login(owner)
        assert 'data-testid="change-pipeline"' not in html(client.get(detail(deal)))

    def test_it_needs_a_post(self, client, owner, deal):
        client.force_login(owner)
        assert client.get(reverse("deals:change_pipeline", args=[deal.pk])).status_code == 405


class TestCreateAndEdit:
    def test_it_creates_a_deal_on_the_first_stage(self, client, owner):
        company = Company.objects.create(name="ООО «Ромашка»", responsible=owner)
        contact = Contact.objects.create(first_name="Анна", last_name="Лактионова", responsible=owner)
        client.force_login(owner)
        form = client.get(reverse("deals:create")).context["form"]
        assert {p.name for p in form.fields["pipeline"].queryset} == {GENERAL, COLD, INBOUND}
        response = client.post(reverse("deals:create"), create_payload(responsible=owner.pk, company=company.pk,
                                                                        contacts=[contact.pk]))
        deal = Deal.objects.get(title="Тест Решение — внедрение")
        assert response.status_code == 302 and response["Location"] == detail(deal)
        assert deal.stage_id == stage(COLD, "Новая").pk and deal.created_by == owner
        assert deal.amount == Decimal("150000") and deal.company == company and list(deal.contacts.all()) == [contact]
        assert str(deal.start_date) == "2026-02-01"

    def test_the_form_preselects_the_boards_pipeline(self, client, owner):
        client.force_login(owner)
        response = client.get(reverse("deals:create"), {"pipeline": pipeline(INBOUND).pk})
        assert response.context["form"].initial["pipeline"] == pipeline(INBOUND)
        assert client.get(reverse("deals:create"), {"pipeline": "abc"}).status_code == 200

    @pytest.mark.parametrize(("field", "value", "message"), [
        ("amount", "-5", "не может быть отрицательной"),
        ("amount", "abc", "Введите сумму числом"),
        ("title", "", "Обязательное поле"),
        ("pipeline", "999999", "Выберите корректный вариант"),
        ("close_date", "32.13.2026", "Введите правильную дату"),
        ("currency", "XXX", "Выберите корректный вариант"),
    ])
    def test_bad_input_gets_a_russian_message_and_saves_nothing(self, client, owner, field, value, message):
        client.force_login(owner)
        response = client.post(reverse("deals:create"), create_payload(responsible=owner.pk, **{field: value}))
        assert response.status_code == 200 and message in html(response)
        assert not Deal.objects.exists()

    def test_only_visible_companies_and_contacts_are_offered(self, client, owner, teammate):
        mine = Company.objects.create(name="Моя компания", responsible=owner)
        other = Company.objects.create(name="Чужая компания", responsible=teammate)
        client.force_login(owner)
        form = client.get(reverse("deals:create")).context["form"]
        assert list(form.fields["company"].queryset) == [mine]
        response = client.post(reverse("deals:create"), create_payload(responsible=owner.pk, company=other.pk))
        assert response.status_code == 200 and not Deal.objects.exists()

    def test_a_pipeline_the_user_may_not_add_to_is_refused(self, client, owner):
        for role in owner.roles.all():
            Permission.objects.create(role=role, entity=Entity.DEAL, action=Action.ADD, level=Level.NONE,
                                      scope=pipeline(COLD).access_scope)
        client.force_login(owner)
        response = client.post(reverse("deals:create"), create_payload(responsible=owner.pk))
        assert response.status_code == 200 and not Deal.objects.exists()

    def test_a_user_who_may_not_add_deals_gets_a_403(self, client, owner):
        from accounts.models import Role
        from tests.factories import UserFactory

        viewer = Role.objects.create(name="Наблюдатель")
        Permission.objects.create(role=viewer, entity=Entity.DEAL, action=Action.VIEW, level=Level.ALL)
        watcher = UserFactory()
        watcher.roles.add(viewer)
        client.force_login(watcher)
        assert client.get(reverse("deals:create")).status_code == 403

    def test_it_edits_and_records_the_changes(self, client, owner, deal):
        client.force_login(owner)
        response = client.post(reverse("deals:edit", args=[deal.pk]),
                               edit_payload(deal, title="Внедрение и обучение", close_date="2026-04-30"))
        assert response.status_code == 302
        fresh = Deal.objects.get(pk=deal.pk)
        assert fresh.title == "Внедрение и обучение" and str(fresh.close_date) == "2026-04-30"
        assert fresh.version == deal.version + 1
        change = timeline.entries(fresh).get(kind="change")
        assert {label for label, _old, _new in timeline.render(change).changes} == {
            "Название", "Предполагаемая дата закрытия"}

    def test_a_stale_edit_shows_the_message_and_keeps_the_input(self, client, owner, teammate, deal):
        client.force_login(owner)
        old_version = deal.version
        services.deal_update(deal, data={"comment": "Изменил другой"}, by=owner, version=deal.version)
        response = client.post(reverse("deals:edit", args=[deal.pk]),
                               edit_payload(deal, title="Моя правка", version=old_version))
        page = html(response)
        assert response.status_code == 200
        assert "Сделку уже изменил другой пользователь" in page and 'value="Моя правка"' in page
        assert Deal.objects.get(pk=deal.pk).title == "Внедрение Битрикс24"

    def test_a_negative_amount_is_refused_on_edit(self, client, owner, deal):
        client.force_login(owner)
        response = client.post(reverse("deals:edit", args=[deal.pk]), edit_payload(deal, amount="-1"))
        assert response.status_code == 200 and "не может быть отрицательной" in html(response)
        assert Deal.objects.get(pk=deal.pk).amount == 0

    def test_the_amount_follows_the_rows_and_is_not_edited_by_hand(self, client, owner, deal):
        services.deal_set_products(deal, rows=[(ref("Product"), Decimal("2"), Decimal("500"))], by=owner)
        deal = Deal.objects.get(pk=deal.pk)
        client.force_login(owner)
        form = client.get(reverse("deals:edit", args=[deal.pk])).context["form"]
        assert form.fields["amount"].disabled and "pipeline" not in form.fields
        client.post(reverse("deals:edit", args=[deal.pk]), edit_payload(deal, amount="99999", title="Другое"))
        fresh = Deal.objects.get(pk=deal.pk)
        assert fresh.title == "Другое" and fresh.amount == Decimal("1000")

    def test_editing_keeps_a_company_the_editor_may_not_pick(self, client, owner, head, teammate):
        company = Company.objects.create(name="Компания коллеги", responsible=teammate)
        deal = DealFactory(responsible=owner, company=company)
        client.force_login(owner)
        client.post(reverse("deals:edit", args=[deal.pk]), edit_payload(deal, company=company.pk, title="Новое"))
        fresh = Deal.objects.get(pk=deal.pk)
        assert fresh.title == "Новое" and fresh.company == company


class TestProducts:
    def _rows(self, *rows, initial=0, **extra):
        data = {"products-TOTAL_FORMS": str(len(rows)), "products-INITIAL_FORMS": str(initial),
                "products-MIN_NUM_FORMS": "0", "products-MAX_NUM_FORMS": "100", **extra}
        for i, row in enumerate(rows):
            for key, value in row.items():
                data[f"products-{i}-{key}"] = value
        return data

    def test_rows_are_saved_and_the_amount_follows(self, client, owner, deal):
        client.force_login(owner)
        page = html(client.get(reverse("deals:products", args=[deal.pk])))
        assert 'name="products-0-product"' in page and 'name="products-1-product"' in page
        response = client.post(reverse("deals:products", args=[deal.pk]), self._rows(
            {"product": ref("Product", "Тренинги").pk, "quantity": "3", "price": "1000"},
            {"product": "", "quantity": "1", "price": ""}, version=deal.version))
        assert response.status_code == 302 and response["Location"] == detail(deal)
        fresh = Deal.objects.get(pk=deal.pk)
        assert fresh.amount == Decimal("3000") and fresh.products.count() == 1

    def test_a_row_is_deleted(self, client, owner, deal):
        services.deal_set_products(deal, rows=[(ref("Product", "Тренинги"), Decimal("1"), Decimal("10")),
                                               (ref("Product", "Консультации"), Decimal("1"), Decimal("20"))], by=owner)
        deal = Deal.objects.get(pk=deal.pk)
        client.force_login(owner)
        response = client.post(reverse("deals:products", args=[deal.pk]), self._rows(
            {"product": ref("Product", "Тренинги").pk, "quantity": "1", "price": "10", "DELETE": "on"},
            {"product": ref("Product", "Консультации").pk, "quantity": "1", "price": "20"},
            initial=2, version=deal.version))
        assert response.status_code == 302
        assert [r.product.name for r in DealProduct.objects.filter(deal=deal)] == ["Консультации"]
        assert Deal.objects.get(pk=deal.pk).amount == Decimal("20")

    def test_the_last_row_cannot_go_where_the_stage_needs_one(self, client, owner, deal):
        services.deal_set_products(deal, rows=[(ref("Product"), Decimal("1"), Decimal("10"))], by=owner)
        deal = services.deal_move(deal, to=stage(COLD, "КП отправлено"), by=owner)
        assert StageRequirement.objects.filter(stage=stage(COLD, "КП отправлено"), key="products").exists()
        client.force_login(owner)
        response = client.post(reverse("deals:products", args=[deal.pk]), self._rows(
            {"product": ref("Product").pk, "quantity": "1", "price": "10", "DELETE": "on"}, initial=1,
            version=deal.version))
        assert response.status_code == 200 and "На стадии «КП отправлено» обязательны" in html(response)
        assert DealProduct.objects.filter(deal=deal).count() == 1

    def test_a_stale_version_is_refused(self, client, owner, deal):
        client.force_login(owner)
        old = deal.version
        services.deal_update(deal, data={"comment": "другой"}, by=owner, version=deal.version)
        response = client.post(reverse("deals:products", args=[deal.pk]), self._rows(
            {"product": ref("Product").pk, "quantity": "1", "price": "10"}, version=old))
        assert "Сделку уже изменил другой пользователь" in html(response)
        assert not DealProduct.objects.exists()

    @pytest.mark.parametrize(("row", "message"), [
        ({"product": "", "quantity": "2", "price": "10"}, "Обязательное поле"),
        ({"product": "1", "quantity": "-1", "price": "10"}, "Количество должно быть больше нуля"),
        ({"product": "1", "quantity": "1", "price": "-10"}, "Цена не может быть отрицательной"),
    ])
    def test_bad_rows_get_a_russian_message(self, client, owner, deal, row, message):
        row = {**row, "product": ref("Product").pk if row["product"] else ""}
        client.force_login(owner)
        response = client.post(reverse("deals:products", args=[deal.pk]), self._rows(row, version=deal.version))
        assert response.status_code == 200 and message in html(response)
        assert not DealProduct.objects.exists()

    def test_a_tampered_management_form_is_not_a_500(self, client, owner, deal):
        client.force_login(owner)
        response = client.post(reverse("deals:products", args=[deal.pk]), {"products-TOTAL_FORMS": "abc"})
        assert response.status_code == 200
        assert not DealProduct.objects.exists()
