"""A lead card's field groups edited in place (htmx), and the create form's folded groups."""

import re

import pytest
from django.urls import reverse

from crm import timeline
from leads import services
from leads.models import Lead, Status
from tests.factories import LeadFactory, ref

from .conftest import qualification_data

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def html(response):
    return response.content.decode()


def edit_url(lead, slug="company"):
    return reverse("leads:group_edit", args=[lead.pk, slug])


def company_payload(lead, **overrides):
    return {"company_name": lead.company_name, "company_phone": "+78800000000", "company_email": "",
            "company_address": "", "company_website": "", "version": lead.version, **overrides}


class TestOpening:
    def test_it_offers_every_group_to_whoever_may_change_the_lead(self, client, owner, lead):
        client.force_login(owner)
        page = html(client.get(reverse("leads:detail", args=[lead.pk])))
        for slug in ("about", "company", "requisites", "contact", "qualification", "decision-maker"):
            assert f'hx-get="{edit_url(lead, slug)}"' in page
        # Without JavaScript the same button is a link to the edit page.
        assert f'href="{reverse("leads:edit", args=[lead.pk])}#group-company"' in page

    def test_a_viewer_who_may_not_change_sees_no_buttons_and_gets_404(self, client, lead, org):
        from accounts.models import Action, Entity, Level, Permission, Role
        from tests.factories import UserFactory

        role = Role.objects.create(name="Только просмотр лидов")
        Permission.objects.create(role=role, entity=Entity.LEAD, action=Action.VIEW, level=Level.ALL)
        viewer = UserFactory(department=org["group2"])
        viewer.roles.add(role)
        client.force_login(viewer)
        page = html(client.get(reverse("leads:detail", args=[lead.pk])))
        assert lead.title in page and edit_url(lead) not in page
        assert client.get(edit_url(lead), **HTMX).status_code == 404
        assert client.post(edit_url(lead), company_payload(lead, company_name="Чужое"), **HTMX).status_code == 404

    @pytest.mark.parametrize("persona", ["teammate", "outsider"])
    def test_a_foreign_user_gets_404(self, client, personas, lead, persona):
        client.force_login(personas[persona])
        assert client.get(edit_url(lead), **HTMX).status_code == 404
        assert client.get(reverse("leads:group", args=[lead.pk, "company"]), **HTMX).status_code == 404
        response = client.post(edit_url(lead), company_payload(lead, company_name="Чужое"), **HTMX)
        assert response.status_code == 404
        lead.refresh_from_db()
        assert lead.company_name == 'Тест "Решение"'

    def test_a_bad_group_name_is_a_404(self, client, owner, lead):
        client.force_login(owner)
        assert client.get(edit_url(lead, "nonsense"), **HTMX).status_code == 404
        assert client.get(reverse("leads:group", args=[lead.pk, "nonsense"]), **HTMX).status_code == 404

    def test_the_form_has_only_the_groups_fields_and_the_current_version(self, client, owner, lead):
        services.lead_update(lead, data={"company_email": "a@example.com"}, by=owner, version=lead.version)
        lead.refresh_from_db()
        client.force_login(owner)
        page = html(client.get(edit_url(lead), **HTMX))
        assert 'name="company_phone"' in page and 'value="+7 (880) 000-00-00"' in page
        assert 'name="title"' not in page and 'name="inn"' not in page
        assert f'name="version" value="{lead.version}"' in page
        assert re.search(r'<input type="text" name="company_name"[^>]* autofocus', page)

    def test_without_javascript_opening_goes_to_the_edit_page(self, client, owner, lead):
        client.force_login(owner)
        response = client.get(edit_url(lead))
        assert response.status_code == 302
        assert response["Location"] == reverse("leads:edit", args=[lead.pk]) + "#group-company"

    def test_cancel_shows_the_group_again(self, client, owner, lead):
        client.force_login(owner)
        page = html(client.get(reverse("leads:group", args=[lead.pk, "company"]), **HTMX))
        assert "+7 (880) 000-00-00" in page and "<form" not in page and edit_url(lead) in page


class TestSaving:
    def test_it_saves_one_group_and_leaves_the_other_fields(self, client, owner, ready_lead):
        lead = ready_lead
        client.force_login(owner)
        response = client.post(edit_url(lead), company_payload(lead, company_phone="8 (912) 859-87-48"), **HTMX)
        page = html(response)
        assert response.status_code == 200 and "<form" not in page.split('id="lead-head"')[0]
        assert "+7 (912) 859-87-48" in page
        lead.refresh_from_db()
        assert lead.company_phone == "+79128598748"
        # Fields of other groups, and the many-to-many ones, are untouched.
        assert lead.title == "Тест Решение" and lead.contact_first_name == "Анна" and lead.niche is not None
        assert lead.products_to_sell.count() == 1 and lead.used_products.count() == 1
        change = timeline.entries(lead).filter(kind="change").first()
        assert [label for label, _old, _new in timeline.render(change).changes] == ["Телефон"]

    def test_the_answer_refreshes_the_timeline_header_and_checklist_out_of_band(self, client, owner, lead):
        client.force_login(owner)
        payload = {"title": "Новое имя", "source": ref("Source", "Контур.Компас").pk, "amount": "0",
                   "currency": "RUB", "responsible": owner.pk, "comment": "", "version": lead.version}
        page = html(client.post(edit_url(lead, "about"), payload, **HTMX))
        assert '<div id="lead-timeline" hx-swap-oob="true">' in page
        assert 'id="lead-head" hx-swap-oob="true"' in page and "Новое имя" in page
        assert 'id="lead-checklist" data-testid="checklist" hx-swap-oob="true"' in page
        assert "Изменены поля" in page

    def test_a_stale_group_form_is_refused_and_the_newer_data_stays(self, client, owner, lead):
        client.force_login(owner)
        stale = lead.version
        services.lead_update(lead, data={"company_email": "newer@example.com"}, by=owner, version=stale)
        response = client.post(edit_url(lead), company_payload(lead, version=stale, company_email="stale@example.com"),
                               **HTMX)
        assert "изменил другой пользователь" in html(response)
        assert 'data-testid="group-form"' in html(response)
        lead.refresh_from_db()
        assert lead.company_email == "newer@example.com"

    def test_an_invalid_phone_gets_the_russian_message_inside_the_group(self, client, owner, lead):
        client.force_login(owner)
        version = lead.version
        response = client.post(edit_url(lead), company_payload(lead, company_phone="123"), **HTMX)
        page = html(response)
        assert response.status_code == 200 and 'data-testid="group-form"' in page
        assert "Неверная длина номера «123»" in page or "Не похоже на номер телефона" in page
        lead.refresh_from_db()
        assert lead.company_phone == "+78800000000" and lead.version == version

    def test_a_requirement_of_the_current_status_cannot_be_emptied(self, client, owner, lead):
        lead = services.lead_update(lead, data=qualification_data(), by=owner, version=lead.version)
        lead = services.lead_move(lead, to=Status.QUALIFICATION, by=owner)
        client.force_login(owner)
        payload = {"crm_system": "", "niche": "", "client_type": "", "version": lead.version}
        page = html(client.post(edit_url(lead, "qualification"), payload, **HTMX))
        assert "Обязательное поле" in page or "обязательн" in page.lower()
        lead.refresh_from_db()
        assert lead.niche is not None

    def test_a_duplicate_is_warned_about_and_saved_anyway_in_the_group(self, client, owner, lead):
        LeadFactory(responsible=owner, title="Старый лид", company_phone="+79128598748")
        client.force_login(owner)
        payload = company_payload(lead, company_phone="8 912 859-87-48")
        page = html(client.post(edit_url(lead), payload, **HTMX))
        assert "Возможные дубликаты" in page and "Старый лид" in page and "Сохранить всё равно" in page
        lead.refresh_from_db()
        assert lead.company_phone == "+78800000000"
        client.post(edit_url(lead), {**payload, "save_anyway": "1"}, **HTMX)
        lead.refresh_from_db()
        assert lead.company_phone == "+79128598748"
        assert timeline.entries(lead).filter(kind="duplicate").exists()

    def test_an_unchanged_duplicate_is_not_warned_about_again(self, client, owner, lead):
        LeadFactory(responsible=owner, title="Старый лид", company_phone="+78800000000")
        client.force_login(owner)
        # Only a change to the fields duplicates are found by warns, as on the edit page.
        client.post(edit_url(lead), company_payload(lead, company_address="Москва, Тверская, 1"), **HTMX)
        lead.refresh_from_db()
        assert lead.company_address == "Москва, Тверская, 1"

    def test_without_javascript_a_save_redirects_to_the_card(self, client, owner, lead):
        client.force_login(owner)
        response = client.post(edit_url(lead), company_payload(lead, company_name="Ромашка"))
        assert response.status_code == 302 and response["Location"] == reverse("leads:detail", args=[lead.pk])
        lead.refresh_from_db()
        assert lead.company_name == "Ромашка"
        page = html(client.post(edit_url(lead), company_payload(lead, company_phone="123")))
        assert "<html" in page and 'data-testid="group-form"' in page


class TestCreateForm:
    def test_it_opens_what_a_new_lead_needs_and_folds_the_rest(self, client, owner):
        client.force_login(owner)
        page = html(client.get(reverse("leads:create")))
        assert page.count("<details") == 3
        for name in ("inn", "crm_system", "sales_channel", "title", "company_phone", "contact_phone"):
            assert f'name="{name}"' in page
        assert "<details" not in html(client.get(reverse("leads:edit", args=[LeadFactory(responsible=owner).pk])))

    def test_a_folded_group_with_an_error_opens_and_keeps_the_values(self, client, owner):
        from .test_card import create_payload

        client.force_login(owner)
        response = client.post(reverse("leads:create"),
                               create_payload(responsible=owner.pk, inn="12", crm_system=ref("CrmSystem").pk,
                                              next_touch="Позвонить в четверг"))
        page = html(response)
        assert not Lead.objects.exists()
        assert page.count("<details") == 3
        assert re.findall(r'<details[^>]*id="(group-[a-z-]+)"[^>]* open[ >]', page) == ["group-requisites"]
        assert 'value="Позвонить в четверг"' in page or "Позвонить в четверг</textarea>" in page
        assert f'value="{ref("CrmSystem").pk}" selected' in page
