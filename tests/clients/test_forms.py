"""Creating and editing companies and contacts: phones and e-mails, ИНН, duplicates, stale edits."""

from html import unescape

import pytest
from django.urls import reverse

from clients import services
from clients.models import Company, Contact
from crm import timeline
from crm.models import Communication
from tests.factories import LeadFactory, ref

from .conftest import INN, make_company, make_contact

pytestmark = pytest.mark.django_db

CREATE_COMPANY = reverse("clients:company_create")
CREATE_CONTACT = reverse("clients:contact_create")


def html(response) -> str:
    return unescape(response.content.decode()).replace("\xa0", " ")


def comms(*rows, initial=0) -> dict:
    """The phones and e-mails formset as the browser posts it: rows of (kind, type, value[, ext])."""
    data = {"comm-TOTAL_FORMS": str(len(rows)), "comm-INITIAL_FORMS": str(initial), "comm-MIN_NUM_FORMS": "0",
            "comm-MAX_NUM_FORMS": "1000"}
    for i, (kind, type_, value, *ext) in enumerate(rows):
        data.update({f"comm-{i}-kind": kind, f"comm-{i}-type": type_, f"comm-{i}-value": value,
                     f"comm-{i}-ext": ext[0] if ext else ""})
    return data


def company_payload(owner, *rows, **overrides) -> dict:
    rows = rows or (("phone", "work", "8 (880) 000-00-00", "123"), ("email", "work", "Info@Romashka.RU"))
    return {"name": "ООО «Ромашка»", "inn": INN, "kpp": "773601001", "website": "romashka.ru",
            "responsible": owner.pk, **comms(*rows), **overrides}


def contact_payload(owner, *rows, **overrides) -> dict:
    rows = rows or (("phone", "mobile", "+7 952 266-63-48"), ("email", "work", "anna@romashka.ru"))
    return {"last_name": "Лактионова", "first_name": "Анна", "middle_name": "Игоревна",
            "position": "Руководитель отдела продаж", "responsible": owner.pk, **comms(*rows), **overrides}


def stored(record) -> list[tuple[str, str, str, str]]:
    return sorted((c.kind, c.type, c.value, c.ext) for c in record.communications.all())


# --- The forms render ---

def test_the_company_form_has_every_group_the_requisites_button_and_phone_rows(client, owner):
    client.force_login(owner)
    page = html(client.get(CREATE_COMPANY))
    for value in ("Новая компания", "О компании", "Реквизиты", "Телефоны и e-mail", "Работа с клиентом",
                  "Заполнить по ИНН", 'id="requisites-fields"', 'name="comm-0-value"', 'name="comm-1-value"',
                  "comm-__prefix__-value", "+ Телефон", "+ E-mail", "Ниша компании", "Тип клиента"):
        assert value in page, value
    assert f'<option value="{owner.pk}" selected>' in page


def test_the_contact_form_offers_only_visible_companies_and_prefills_the_one_it_came_from(client, owner, teammate, company):
    theirs = make_company(teammate, name="Чужая компания")
    client.force_login(owner)
    page = html(client.get(CREATE_CONTACT, {"company": company.pk}))
    for value in ("Фамилия", "Имя", "Отчество", "Дата рождения", "Должность", "Компании"):
        assert value in page, value
    assert f'<option value="{company.pk}" selected>' in page
    assert "Чужая компания" not in page
    response = client.get(CREATE_CONTACT, {"company": theirs.pk})
    assert response.context["form"].initial["companies"] == []


# --- Create ---

def test_it_creates_a_company_with_normalised_phones_and_emails(client, owner):
    client.force_login(owner)
    response = client.post(CREATE_COMPANY, company_payload(owner))
    company = Company.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("clients:company_detail", args=[company.pk])
    assert stored(company) == [("email", "work", "info@romashka.ru", ""), ("phone", "work", "+78800000000", "123")]
    assert company.inn == INN and company.created_by == owner and company.responsible == owner
    assert "88800000000" in company.search_text
    assert timeline.entries(company).filter(kind="created").exists()


def test_empty_rows_are_skipped_and_a_deleted_row_is_not_saved(client, owner):
    client.force_login(owner)
    payload = company_payload(owner, ("phone", "work", ""), ("email", "work", "a@b.ru"), ("phone", "mobile", "89120000001"))
    payload["comm-1-DELETE"] = "on"
    client.post(CREATE_COMPANY, payload)
    assert stored(Company.objects.get()) == [("phone", "mobile", "+79120000001", "")]


def test_it_creates_a_contact_linked_to_companies(client, owner, company):
    other = make_company(owner, name="Лютик")
    client.force_login(owner)
    response = client.post(CREATE_CONTACT, contact_payload(owner, companies=[company.pk, other.pk]))
    contact = Contact.objects.get()
    assert response["Location"] == reverse("clients:contact_detail", args=[contact.pk])
    assert set(contact.companies.all()) == {company, other}
    assert stored(contact) == [("email", "work", "anna@romashka.ru", ""), ("phone", "mobile", "+79522666348", "")]


def test_handing_a_new_company_to_someone_the_creator_cannot_see_goes_back_to_the_list(client, owner, outsider):
    client.force_login(owner)
    response = client.post(CREATE_COMPANY, company_payload(owner, responsible=outsider.pk))
    assert response["Location"] == reverse("clients:company_list")
    assert Company.objects.get().responsible == outsider


@pytest.mark.parametrize(("overrides", "rows", "message"), [
    ({"inn": "7707083894"}, None, "не проходит проверку контрольной суммы"),
    ({"inn": "12345"}, None, "10 цифр"),
    ({"inn": "77070838ab"}, None, "только из цифр"),
    ({"name": ""}, None, "Обязательное поле"),
    ({"responsible": "999999"}, None, "Выберите корректный вариант"),
    ({}, (("phone", "work", "12ab"),), "Телефон может содержать только цифры"),
    ({}, (("phone", "work", "123"),), "Неверная длина номера"),
    ({}, (("phone", "work", "89120000001", "12a"),), "Добавочный номер — только цифры"),
    ({}, (("email", "work", "not-an-email"),), "Введите правильный адрес электронной почты"),
    ({}, (("phone", "work", "89120000001"), ("phone", "mobile", "+7 912 000-00-01")), "уже указан выше"),
    ({}, (("fax", "work", "89120000001"),), "Выберите корректный вариант"),
])
def test_bad_company_input_gets_a_russian_message_keeps_the_input_and_saves_nothing(client, owner, overrides, rows,
                                                                                     message):
    client.force_login(owner)
    payload = company_payload(owner, *(rows or ()), **overrides)
    response = client.post(CREATE_COMPANY, payload)
    assert response.status_code == 200
    page = html(response)
    assert message in page
    assert "Проверьте выделенные поля" in page
    assert 'value="romashka.ru"' in page  # the user's input is still there
    assert not Company.objects.exists() and not Communication.objects.exists()


def test_bad_contact_input_saves_nothing(client, owner):
    client.force_login(owner)
    response = client.post(CREATE_CONTACT, contact_payload(owner, ("phone", "mobile", "8 (952) 266"), first_name="",
                                                           birth_date="31.02.1990"))
    page = html(response)
    assert "Обязательное поле" in page and "Неверная длина номера" in page and "Введите правильную дату" in page
    assert 'value="8 (952) 266"' in page and 'value="Лактионова"' in page
    assert not Contact.objects.exists()


def test_a_duplicate_inn_is_refused_in_words_and_nothing_is_lost(client, owner, outsider):
    make_company(outsider, name="Чужая Ромашка", inn=INN)
    client.force_login(owner)
    response = client.post(CREATE_COMPANY, company_payload(owner, name="Совсем другое имя"))
    page = html(response)
    assert "Компания с таким ИНН уже есть в CRM." in page
    assert 'value="Совсем другое имя"' in page and 'value="8 (880) 000-00-00"' in page
    # The company found by the ИНН is not the manager's: he is told whose it is, not its name.
    assert "Такой клиент уже есть в CRM у Сидоров Алексей, Группа продаж 2" in page and "совпадает ИНН" in page
    assert "Чужая Ромашка" not in page
    assert Company.objects.count() == 1


def test_a_duplicate_inn_caught_by_the_service_lands_on_the_field(client, owner, monkeypatch):
    """The race the form's own check cannot see: the database refuses, the service says why."""
    from clients import forms

    monkeypatch.setattr(forms.CompanyForm, "clean_inn", lambda self: self.cleaned_data["inn"])
    monkeypatch.setattr(Company, "validate_constraints", lambda self, exclude=None: None)
    make_company(owner, name="Ромашка", inn=INN)
    client.force_login(owner)
    response = client.post(CREATE_COMPANY, company_payload(owner, name="Другая", save_anyway="1"))
    assert "Компания с таким ИНН уже есть в CRM." in html(response)
    assert Company.objects.count() == 1


# --- Duplicates ---

def test_duplicates_are_shown_before_saving_and_saving_anyway_is_recorded(client, owner):
    make_company(owner, name="Старая Ромашка", phones=["+78800000000"])
    LeadFactory(responsible=owner, company_phone="+78800000000", title="Лид Ромашки")
    client.force_login(owner)
    payload = company_payload(owner, ("phone", "work", "+7 880 000-00-00"), inn="")
    response = client.post(CREATE_COMPANY, payload)
    page = html(response)
    assert "Возможные дубликаты" in page and "Старая Ромашка" in page and "Лид Ромашки" in page
    assert "Сохранить всё равно" in page
    assert Company.objects.count() == 1
    response = client.post(CREATE_COMPANY, {**payload, "save_anyway": "1"})
    new = Company.objects.get(name="ООО «Ромашка»")
    assert response["Location"] == reverse("clients:company_detail", args=[new.pk])
    entry = timeline.entries(new).get(kind="duplicate")
    assert entry.text == "Сохранён, несмотря на возможные дубликаты"
    assert sorted((m["kind"], m["title"][:14]) for m in entry.data["matches"]) == [("Компания", "Старая Ромашка"),
                                                                                   ("Лид", "Лид Ромашки (О")]
    assert all(m["reasons"] == ["телефон"] for m in entry.data["matches"])
    # …and the card shows it in the history.
    assert "Сохранён, несмотря на возможные дубликаты" in html(client.get(new.get_absolute_url()))


def test_a_similar_company_name_is_a_possible_duplicate(client, owner):
    make_company(owner, name="ООО «Ромашка»")
    client.force_login(owner)
    page = html(client.post(CREATE_COMPANY, company_payload(owner, ("phone", "work", ""), name='Ромашка', inn="")))
    assert "Возможные дубликаты" in page and "название компании" in page


def test_a_contact_with_a_known_phone_or_email_is_a_possible_duplicate(client, owner, contact):
    client.force_login(owner)
    page = html(client.post(CREATE_CONTACT, contact_payload(owner, ("email", "work", "ANNA@romashka.ru"),
                                                            first_name="Анна", last_name="Другая")))
    assert "Возможные дубликаты" in page and "Лактионова Анна Игоревна" in page and "e-mail" in page
    assert Contact.objects.count() == 1


@pytest.mark.parametrize(("data", "reason"), [
    ({"entity": "company", "inn": INN}, "ИНН"),
    ({"entity": "company", "name": "Ромашка"}, "название компании"),
    ({"entity": "company", **comms(("phone", "work", "8 880 000 00 00"))}, "телефон"),
    ({"entity": "contact", **comms(("email", "work", "Info@romashka.ru"))}, "e-mail"),
])
def test_the_live_duplicate_check_finds_each_kind(client, owner, company, data, reason):
    client.force_login(owner)
    page = html(client.post(reverse("clients:duplicates"), data))
    assert "ООО «Ромашка»" in page and reason in page
    assert reverse("clients:company_detail", args=[company.pk]) in page


def test_the_live_check_leaves_out_the_record_being_edited_and_masks_strangers(client, owner, outsider, company):
    theirs = make_company(outsider, name="Чужая", phones=["+78800000000"])
    client.force_login(owner)
    page = html(client.post(reverse("clients:duplicates"), {"entity": "company", "record_id": str(company.pk),
                                                            **comms(("phone", "work", "88800000000"))}))
    assert "Такой клиент уже есть в CRM у Сидоров Алексей" in page
    assert "Чужая" not in page and reverse("clients:company_detail", args=[theirs.pk]) not in page
    assert "ООО «Ромашка»" not in page
    assert client.post(reverse("clients:duplicates"), {"entity": "x", "record_id": "abc"}).status_code == 200


# --- Edit ---

def test_the_edit_form_shows_the_stored_phones_in_the_russian_format(client, owner, company):
    client.force_login(owner)
    page = html(client.get(reverse("clients:company_edit", args=[company.pk])))
    assert 'value="+7 (880) 000-00-00"' in page and 'value="info@romashka.ru"' in page
    assert f'name="version" value="{company.version}"' in page


def test_an_edit_saves_fields_and_phones_and_records_the_change(client, owner, company):
    client.force_login(owner)
    payload = company_payload(owner, ("phone", "work", "8 (880) 000-00-00"), ("phone", "mobile", "89120000002"),
                              ("email", "work", "info@romashka.ru"), name="ООО «Ромашка» (головной офис)",
                              version=company.version)
    response = client.post(reverse("clients:company_edit", args=[company.pk]), payload)
    assert response.status_code == 302
    company.refresh_from_db()
    assert company.name == "ООО «Ромашка» (головной офис)"
    assert ("phone", "mobile", "+79120000002", "") in stored(company)
    change = timeline.entries(company).get(kind="change")
    assert {label for label, _old, _new in timeline.render(change).changes} >= {"Название компании", "Телефоны и e-mail"}


def test_an_edit_that_does_not_touch_phones_or_names_does_not_warn_about_known_duplicates(client, owner, company):
    make_company(owner, name="Ромашка-дубль", phones=["+78800000000"])
    client.force_login(owner)
    payload = company_payload(owner, ("phone", "work", "8 (880) 000-00-00"), ("email", "work", "info@romashka.ru"),
                              comment="Позвонить в понедельник", version=company.version)
    response = client.post(reverse("clients:company_edit", args=[company.pk]), payload)
    assert response.status_code == 302
    company.refresh_from_db()
    assert company.comment == "Позвонить в понедельник"


def test_an_edit_on_a_stale_form_is_refused_and_keeps_both_the_newer_data_and_the_input(client, owner, company):
    client.force_login(owner)
    form_version = company.version
    services.company_update(company, data={"website": "newer.ru"}, by=owner, version=form_version)
    payload = company_payload(owner, ("phone", "work", "8 (880) 000-00-00"), ("email", "work", "info@romashka.ru"),
                              website="stale.ru", version=form_version)
    response = client.post(reverse("clients:company_edit", args=[company.pk]), payload)
    page = html(response)
    assert "Компанию уже изменил другой пользователь" in page and 'value="stale.ru"' in page
    company.refresh_from_db()
    assert company.website == "newer.ru"


def test_a_contact_edit_keeps_links_to_companies_the_editor_cannot_see(client, owner, teammate, company):
    theirs = make_company(teammate, name="Чужая компания")
    contact = make_contact(owner, companies=[company, theirs], phones=["+79522666348"])
    client.force_login(owner)
    payload = contact_payload(owner, ("phone", "mobile", "+79522666348"), companies=[], position="Директор",
                              version=contact.version)
    response = client.post(reverse("clients:contact_edit", args=[contact.pk]), payload)
    assert response.status_code == 302
    contact.refresh_from_db()
    assert list(contact.companies.all()) == [theirs] and contact.position == "Директор"


def test_a_stale_contact_edit_is_refused(client, owner, contact):
    client.force_login(owner)
    version = contact.version
    services.contact_update(contact, data={"position": "Новая"}, by=owner, version=version)
    response = client.post(reverse("clients:contact_edit", args=[contact.pk]),
                           contact_payload(owner, ("phone", "mobile", "+79522666348"), position="Старая", version=version))
    assert "Контакт уже изменил другой пользователь" in html(response)
    contact.refresh_from_db()
    assert contact.position == "Новая"


def test_reference_values_retired_later_stay_on_old_records(client, owner):
    niche = ref("Niche")
    company = make_company(owner, name="С нишей", niche=niche)
    type(niche).objects.filter(pk=niche.pk).update(is_active=False)
    client.force_login(owner)
    page = html(client.get(reverse("clients:company_edit", args=[company.pk])))
    assert f'<option value="{niche.pk}" selected>' in page
