"""A head of sales brings companies and contacts over from Bitrix24: multifield phones and e-mails,
ИНН, links between contacts and companies, duplicates."""

import pytest

from clients.models import Company, Contact
from crm import timeline
from tests.exchange.import_helpers import lines, run

COMPANY = ["ID", "Название компании", "ИНН", "Рабочий телефон", "Мобильный телефон", "Рабочий e-mail",
           "Корпоративный сайт", "Ниша компании", "Ответственный"]
CONTACT = ["ID", "Фамилия", "Имя", "Отчество", "Должность", "Мобильный телефон", "Частный e-mail", "Компания"]


@pytest.mark.django_db
def test_it_imports_companies_with_their_phones_and_emails(head):
    outcome = run("company", [
        COMPANY,
        ["10", "ПАО Сбербанк", "7707083893", "8 800 555-55-50, +7 495 500-55-50", "8 912 111-11-11",
         "Info@Sber.ru", "sberbank.ru", "Финансы и страхование", ""],
        ["11", "ООО «Ромашка»", "", "", "", "", "", "", "Смирнова Ольга"],
    ], by=head, name="COMPANY_2026.csv")

    assert outcome.summary() == "Создано: 2, обновлено: 0, пропущено: 0, отклонено: 0"
    sber = Company.objects.get(external_id="10")
    assert sorted((c.type, c.value) for c in sber.communications.all()) == [
        ("mobile", "+79121111111"), ("work", "+74955005550"), ("work", "+78005555550"), ("work", "info@sber.ru")]
    assert sber.niche.name == "Финансы и страхование" and sber.responsible == head
    assert sber.company_key == "сбербанк"
    assert "88005555550" in sber.search_text
    assert timeline.render(timeline.entries(sber).get()).text == "Импорт: COMPANY_2026.csv"


@pytest.mark.django_db
def test_a_company_is_found_again_by_its_inn_and_updated(head):
    run("company", [COMPANY, ["", "Сбербанк", "7707083893", "", "", "", "", "", ""]], by=head)

    outcome = run("company", [COMPANY, ["10", "ПАО Сбербанк", "7707083893", "88005555550", "", "", "", "", ""]],
                  by=head, on_duplicate="update")

    assert outcome.updated == 1
    sber = Company.objects.get()
    assert (sber.name, sber.external_id) == ("ПАО Сбербанк", "10")
    assert [c.value for c in sber.communications.all()] == ["+78005555550"]


@pytest.mark.django_db
def test_a_taken_inn_is_refused_even_when_creating_duplicates(head):
    run("company", [COMPANY, ["", "Сбербанк", "7707083893", "", "", "", "", "", ""]], by=head)

    outcome = run("company", [COMPANY, ["", "Сбер", "7707083893", "", "", "", "", "", ""]], by=head,
                  on_duplicate="create")

    assert outcome.rejected == 1
    assert lines(outcome, "rejected") == [(2, "Компания с таким ИНН уже есть в CRM.")]


@pytest.mark.django_db
def test_it_imports_contacts_linked_to_their_companies_by_bitrix_id(head):
    run("company", [COMPANY, ["10", "ПАО Сбербанк", "7707083893", "", "", "", "", "", ""]], by=head)

    outcome = run("contact", [
        CONTACT,
        ["501", "Грефов", "Герман", "Оскарович", "Директор", "8 912 222-22-22", "g@sber.ru", "10"],
        ["502", "Петрова", "", "", "", "", "", "ООО «Нет такой»"],
    ], by=head)

    assert (outcome.created, outcome.rejected) == (2, 0)
    gref = Contact.objects.get(external_id="501")
    assert [c.name for c in gref.companies.all()] == ["ПАО Сбербанк"]
    assert Contact.objects.get(external_id="502").first_name == "Петрова"
    assert lines(outcome, "adjusted") == [(3, "Не найдено: компания «ООО «Нет такой»» — запись импортирована без этой связи.")]


@pytest.mark.django_db
def test_a_contacts_phone_already_in_the_crm_is_a_duplicate(head):
    rows = [CONTACT, ["", "Грефов", "Герман", "", "", "8 912 222-22-22", "", ""]]
    run("contact", rows, by=head)

    again = run("contact", rows, by=head, on_duplicate="update")

    assert again.summary() == "Создано: 0, обновлено: 0, пропущено: 1, отклонено: 0"
    assert Contact.objects.count() == 1


@pytest.mark.django_db
def test_an_update_adds_the_companies_a_contact_row_names_and_keeps_the_others(head):
    run("company", [COMPANY, ["10", "ПАО Сбербанк", "7707083893", "", "", "", "", "", ""],
                    ["11", "ООО «Ромашка»", "", "", "", "", "", "", ""]], by=head)
    run("contact", [CONTACT, ["501", "Грефов", "Герман", "", "", "", "", "10"]], by=head)

    outcome = run("contact", [CONTACT, ["501", "Грефов", "Герман", "", "", "", "", "11"]], by=head,
                  on_duplicate="update")
    again = run("contact", [CONTACT, ["501", "Грефов", "Герман", "", "", "", "", "11"]], by=head,
                on_duplicate="update")

    assert (outcome.updated, again.updated, again.skipped) == (1, 0, 1)
    assert sorted(c.external_id for c in Contact.objects.get().companies.all()) == ["10", "11"]
