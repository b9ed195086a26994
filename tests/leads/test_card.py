"""The lead card, create/edit forms, the missing-fields dialog, «Забраковать», comments."""

import pytest
from django.urls import reverse

from crm import timeline
from leads.models import Lead, Status
from tests.factories import DealFactory, LeadFactory, ref

from .conftest import qualification_data

pytestmark = pytest.mark.django_db


def html(response):
    return response.content.decode()


def create_payload(**overrides):
    return {"title": "Тест Решение", "source": ref("Source", "Контур.Компас").pk, "amount": "0", "currency": "RUB",
            "company_name": 'Тест "Решение"', "company_phone": "8 (880) 000-00-00",
            "contact_phone_type": "work", "contact_last_name": "Лактионова", "contact_first_name": "Анна",
            "contact_middle_name": "Игоревна", "contact_position": "Руководитель отдела продаж", **overrides}


class TestAccess:
    @pytest.mark.parametrize(("persona", "status"), [("owner", 200), ("teammate", 404), ("outsider", 404),
                                                     ("head", 200), ("crm_admin", 200)])
    def test_it_opens_the_card_only_for_those_who_may_see_it(self, client, personas, lead, persona, status):
        client.force_login(personas[persona])
        response = client.get(reverse("leads:detail", args=[lead.pk]))
        assert response.status_code == status
        if status == 200:
            assert "Тест Решение" in html(response)

    @pytest.mark.parametrize("persona", ["teammate", "outsider"])
    def test_strangers_cannot_edit_move_junk_or_pin(self, client, personas, lead, persona):
        client.force_login(personas[persona])
        entry = timeline.add_comment(lead, lead.responsible, "мой")
        for url, data in [(reverse("leads:edit", args=[lead.pk]), {}),
                          (reverse("leads:move", args=[lead.pk]), {"to": "first_call"}),
                          (reverse("leads:junk", args=[lead.pk]), {"dialog": "1", "junk_reason": ref("JunkReason").pk}),
                          (reverse("crm:comment_pin", args=["leads.lead", lead.pk, entry.pk]), {})]:
            assert client.post(url, data).status_code == 404, url
        lead.refresh_from_db()
        assert lead.status == Status.NEW and not timeline.pinned(lead)

    def test_a_tampered_id_is_a_404_not_a_500(self, client, owner):
        client.force_login(owner)
        assert client.get("/leads/999999/").status_code == 404
        assert client.get("/leads/abc/").status_code == 404


class TestCard:
    def test_it_shows_groups_status_bar_checklist_and_timeline(self, client, owner, ready_lead):
        client.force_login(owner)
        page = html(client.get(reverse("leads:detail", args=[ready_lead.pk])))
        for text in ("О лиде", "Компания", "Реквизиты", "Контактное лицо", "Квалификация", "Выход на ЛПР",
                     "Не обработан", "Первый звонок", "Разведка", "Забраковать", "+7 (880) 000-00-00",
                     "Разведка: 12 магазинов"):
            assert text in page, text
        assert page.count('data-done="1"') == 10  # the ready lead meets all ten checklist points

    def test_a_fresh_lead_has_its_checklist_undone(self, client, owner, lead):
        client.force_login(owner)
        page = html(client.get(reverse("leads:detail", args=[lead.pk])))
        assert page.count('data-done="0"') == 10

    def test_it_links_the_deals_the_reader_may_open_and_only_counts_the_others(self, client, owner, outsider, lead):
        mine = DealFactory(title="Сделка Иванова", lead=lead, responsible=owner)
        DealFactory(title="Чужая сделка", lead=lead, responsible=outsider)
        DealFactory(title="Сделка другого лида", responsible=owner)
        client.force_login(owner)
        page = html(client.get(reverse("leads:detail", args=[lead.pk])))
        assert "Сделка Иванова" in page and reverse("deals:detail", args=[mine.pk]) in page
        assert "Чужая сделка" not in page and "Сделка другого лида" not in page
        assert 'data-testid="linked-deals-hidden"' in page

    def test_the_card_costs_a_fixed_number_of_queries(self, client, owner, ready_lead, django_assert_max_num_queries):
        client.force_login(owner)
        for i in range(30):
            timeline.add_comment(ready_lead, owner, f"комментарий {i}")
        with django_assert_max_num_queries(12):  # 16 before issue 13 (crm.references, access.can on the row …)
            assert client.get(reverse("leads:detail", args=[ready_lead.pk])).status_code == 200


class TestCreateAndEdit:
    def test_it_creates_a_lead_in_not_processed_with_a_normalised_phone(self, client, owner):
        client.force_login(owner)
        response = client.post(reverse("leads:create"), create_payload(responsible=owner.pk))
        lead = Lead.objects.get(title="Тест Решение")
        assert response.status_code == 302 and response["Location"] == reverse("leads:detail", args=[lead.pk])
        assert lead.status == Status.NEW and lead.company_phone == "+78800000000" and lead.created_by == owner

    @pytest.mark.parametrize(("field", "value", "message"), [
        ("company_phone", "12ab", "Телефон может содержать только цифры"),
        ("company_phone", "123", "Неверная длина номера"),
        ("company_email", "not-an-email", "адрес электронной почты"),
        ("inn", "7707083894", "контрольной суммы"),
        ("inn", "12345", "10 цифр"),
        ("amount", "-5", "не может быть отрицательной"),
        ("source", "999999", "Выберите корректный вариант"),
        ("title", "", "Обязательное поле"),
    ])
    def test_bad_input_gets_a_russian_message_and_saves_nothing(self, client, owner, field, value, message):
        client.force_login(owner)
        response = client.post(reverse("leads:create"), create_payload(responsible=owner.pk, **{field: value}))
        assert response.status_code == 200
        assert message in html(response)
        assert not Lead.objects.exists()

    def test_duplicates_are_shown_before_saving_and_saving_anyway_is_recorded(self, client, owner):
        existing = LeadFactory(responsible=owner, company_phone="+78800000000", title="Старый лид")
        client.force_login(owner)
        payload = create_payload(responsible=owner.pk, company_phone="+7 880 000-00-00")
        response = client.post(reverse("leads:create"), payload)
        assert "Возможные дубликаты" in html(response) and "Старый лид" in html(response)
        assert Lead.objects.count() == 1
        client.post(reverse("leads:create"), {**payload, "save_anyway": "1"})
        new = Lead.objects.exclude(pk=existing.pk).get()
        entry = timeline.entries(new).get(kind="duplicate")
        assert entry.data["matches"][0]["reasons"] == ["телефон"]

    @pytest.mark.parametrize(("field", "value", "reason"), [
        ("company_email", "SALES@romashka.ru", "e-mail"), ("inn", "7707083893", "ИНН"),
        ("company_name", "Ромашка", "название компании"),
    ])
    def test_the_live_duplicate_check_finds_each_kind(self, client, owner, field, value, reason):
        LeadFactory(responsible=owner, company_email="sales@romashka.ru", inn="7707083893",
                    company_name="ООО «Ромашка»", title="Ромашка")
        client.force_login(owner)
        response = client.post(reverse("leads:duplicates"), {field: value, "company_phone": ""})
        assert reason in html(response) and "Ромашка" in html(response)

    def test_a_duplicate_owned_by_someone_else_tells_only_whose_it_is(self, client, owner, outsider):
        other = LeadFactory(responsible=outsider, company_phone="+78800000000", title="Чужой лид")
        client.force_login(owner)
        page = html(client.post(reverse("leads:duplicates"), {"company_phone": "88800000000"}))
        assert "Такой клиент уже есть в CRM у Сидоров Алексей, Группа продаж 2" in page
        assert other.title not in page and reverse("leads:detail", args=[other.pk]) not in page

    def test_edit_on_a_stale_form_is_refused_and_keeps_the_newer_data(self, client, owner, lead):
        client.force_login(owner)
        form_version = lead.version
        from leads import services

        services.lead_update(lead, data={"company_email": "newer@example.com"}, by=owner, version=form_version)
        payload = create_payload(responsible=owner.pk, version=form_version, company_email="stale@example.com",
                                 company_phone="+78800000000")
        response = client.post(reverse("leads:edit", args=[lead.pk]), payload)
        assert "изменил другой пользователь" in html(response)
        lead.refresh_from_db()
        assert lead.company_email == "newer@example.com"


class TestMoveDialog:
    def test_a_move_lacking_data_shows_exactly_the_missing_fields(self, client, owner, lead):
        client.force_login(owner)
        response = client.post(reverse("leads:move", args=[lead.pk]), {"to": "qualification"}, HTTP_HX_REQUEST="true")
        page = html(response)
        assert response["HX-Retarget"] == "#crm-modal-content"
        assert "Для изменения статуса лида заполните обязательные поля" in page
        assert 'name="niche"' in page and 'name="crm_system"' in page and 'name="client_type"' in page
        assert 'name="company_name"' not in page and 'name="sales_channel"' not in page
        lead.refresh_from_db()
        assert lead.status == Status.NEW

    def test_filling_the_dialog_moves_the_lead(self, client, owner, lead):
        client.force_login(owner)
        data = {k: v.pk for k, v in qualification_data().items()}
        response = client.post(reverse("leads:move", args=[lead.pk]), {"to": "qualification", "dialog": "1", **data},
                               HTTP_HX_REQUEST="true")
        assert "lead-moved" in response["HX-Trigger"]
        lead.refresh_from_db()
        assert lead.status == Status.QUALIFICATION

    def test_an_invalid_dialog_keeps_the_lead_and_says_why(self, client, owner, lead):
        client.force_login(owner)
        response = client.post(reverse("leads:move", args=[lead.pk]),
                               {"to": "qualification", "dialog": "1", "niche": ref("Niche").pk})
        assert "Обязательное поле" in html(response)
        lead.refresh_from_db()
        assert lead.status == Status.NEW and lead.niche is None

    def test_the_decision_maker_dialog_asks_for_the_pinned_comment(self, client, owner, lead):
        client.force_login(owner)
        page = html(client.post(reverse("leads:move", args=[lead.pk]), {"to": "decision_maker"}))
        assert 'name="pinned_comment"' in page and 'name="products_to_sell"' in page

    def test_without_javascript_the_dialog_is_a_page_and_success_redirects(self, client, owner, lead):
        client.force_login(owner)
        response = client.post(reverse("leads:move", args=[lead.pk]), {"to": "first_call"})
        assert response.status_code == 302
        lead.refresh_from_db()
        assert lead.status == Status.FIRST_CALL

    @pytest.mark.parametrize("to", ["won", "", "converted"])
    def test_a_forbidden_or_unknown_target_is_refused_in_russian(self, client, owner, lead, to):
        client.force_login(owner)
        response = client.post(reverse("leads:move", args=[lead.pk]), {"to": to}, follow=True)
        assert response.status_code == 200
        page = html(response)
        assert "Неизвестный статус" in page or "Выход на ЛПР" in page
        lead.refresh_from_db()
        assert lead.status == Status.NEW


class TestJunk:
    def test_junk_needs_a_reason(self, client, owner, lead):
        client.force_login(owner)
        response = client.post(reverse("leads:junk", args=[lead.pk]), {"dialog": "1"})
        assert "Выберите причину закрытия" in html(response)
        response = client.post(reverse("leads:junk", args=[lead.pk]), {"dialog": "1", "junk_reason": "999999"})
        assert "Такой причины закрытия нет" in html(response)
        client.post(reverse("leads:junk", args=[lead.pk]),
                    {"dialog": "1", "junk_reason": ref("JunkReason", "Отказ клиента").pk, "comment": "Дорого"})
        lead.refresh_from_db()
        assert lead.status == Status.JUNK and lead.junk_reason.name == "Отказ клиента"
        assert timeline.entries(lead).filter(kind="comment", text="Дорого").exists()

    def test_only_a_supervisor_sees_reopen_buttons_on_a_closed_lead(self, client, owner, head, lead):
        from leads import services

        services.lead_junk(lead, reason=ref("JunkReason"), by=owner)
        client.force_login(owner)
        assert 'name="to" value="first_call"' not in html(client.get(reverse("leads:detail", args=[lead.pk])))
        client.force_login(head)
        assert 'name="to" value="first_call"' in html(client.get(reverse("leads:detail", args=[lead.pk])))


class TestTimeline:
    def test_comment_pin_and_unpin(self, client, owner, lead):
        client.force_login(owner)
        response = client.post(reverse("crm:comment_add", args=["leads.lead", lead.pk]), {"text": "Первый"}, HTTP_HX_REQUEST="true")
        assert "Первый" in html(response)
        first = timeline.entries(lead).get(text="Первый")
        client.post(reverse("crm:comment_add", args=["leads.lead", lead.pk]), {"text": "Второй", "pin": "on"})
        assert timeline.pinned(lead).text == "Второй"
        client.post(reverse("crm:comment_pin", args=["leads.lead", lead.pk, first.pk]))
        assert timeline.pinned(lead).text == "Первый"  # one pinned at a time
        client.post(reverse("crm:comment_pin", args=["leads.lead", lead.pk, first.pk]))
        assert timeline.pinned(lead) is None

    def test_an_empty_comment_is_refused(self, client, owner, lead):
        client.force_login(owner)
        response = client.post(reverse("crm:comment_add", args=["leads.lead", lead.pk]), {"text": "  "}, HTTP_HX_REQUEST="true")
        assert "Комментарий пуст" in html(response) or "Обязательное поле" in html(response)
        assert not timeline.entries(lead).filter(kind="comment").exists()


def test_the_move_redirect_stays_on_this_site(client, owner, lead):
    client.force_login(owner)
    response = client.post(reverse("leads:move", args=[lead.pk]), {"to": "first_call", "next": "https://evil.example/"})
    assert response["Location"] == reverse("leads:detail", args=[lead.pk])
    response = client.post(reverse("leads:move", args=[lead.pk]), {"to": "new", "next": "/leads/kanban/"})
    assert response["Location"] == "/leads/kanban/"
