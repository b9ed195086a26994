"""The import commands as a supervisor's script or cron job calls them: the issue's options, files in
the encodings people bring, the summary as the last line, Russian errors."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from clients.models import Company, Contact
from deals.models import Deal
from leads.models import Lead, Status
from tests.factories import COLD

LEADS = ("ID;Название лида;Статус;Источник;Название компании;Рабочий телефон;ИНН;Ответственный\r\n"
         "1;Лид Ромашки;Не обработан;Контур.Компас;ООО «Ромашка»;8 (912) 000-00-01;;Смирнова Ольга\r\n"
         "2;Лид Лютика;Квалификация;Контур.Компас;ООО «Лютик»;8 (912) 000-00-02;;\r\n"
         "3;Лид Астры;Не обработан;Контур.Компас;ООО «Астра»;8 (912) 000-00-03;123;\r\n")


def call(*args) -> list[str]:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue().splitlines()


@pytest.mark.django_db
def test_it_imports_a_windows_1251_file_and_prints_the_summary_last(head, tmp_path):
    path = tmp_path / "kontur.csv"
    path.write_bytes(LEADS.encode("cp1251"))

    printed = call("import_leads", str(path), "--as", "head", "--report", str(tmp_path / "report.csv"))

    assert printed[-1] == "Создано: 2, обновлено: 0, пропущено: 0, отклонено: 1"
    assert Lead.objects.get(external_id="1").title == "Лид Ромашки"
    assert Lead.objects.get(external_id="2").status == Status.FIRST_CALL  # «Квалификация» needs a niche…
    report = (tmp_path / "report.csv").read_text(encoding="utf-8-sig")
    assert "3;Статус;Квалификация;Для статуса «Квалификация»" in report
    assert "4;;;ИНН" in report


@pytest.mark.django_db
def test_a_dry_run_prints_every_row_and_writes_nothing(head, tmp_path):
    path = tmp_path / "kontur.csv"
    path.write_text(LEADS, encoding="utf-8-sig")

    printed = call("import_leads", str(path), "--as", "head", "--dry-run", "--strict")

    assert not Lead.objects.exists()
    assert printed[-1] == "Проверка без записи. Создано: 1, обновлено: 0, пропущено: 0, отклонено: 2"
    assert any(line.startswith("строка 3: Для статуса «Квалификация»") for line in printed)
    assert any(line.startswith("строка 4: ИНН") for line in printed)


@pytest.mark.django_db
def test_map_names_columns_the_engine_does_not_know(head, tmp_path):
    path = tmp_path / "base.csv"
    path.write_text("Организация;Тел.;Канал\nООО «Ромашка»;89120000001;Сайт\n", encoding="utf-8")

    printed = call("import_leads", str(path), "--as", "head", "--map", "Организация=company_name",
                   "--map", "Тел.=company_phone", "--map", "Канал=source")

    assert printed[-1] == "Создано: 1, обновлено: 0, пропущено: 0, отклонено: 0"
    lead = Lead.objects.get()
    assert (lead.title, lead.company_phone, lead.source.name) == ("ООО «Ромашка»", "+79120000001", "Сайт")


@pytest.mark.django_db
def test_bad_options_and_files_are_russian_errors(head, owner, tmp_path):
    path = tmp_path / "kontur.csv"
    path.write_text(LEADS, encoding="utf-8")
    with pytest.raises(CommandError, match="--as: нет активного пользователя «nobody»"):
        call("import_leads", str(path), "--as", "nobody")
    with pytest.raises(CommandError, match="Нет прав на импорт"):
        call("import_leads", str(path), "--as", "owner")
    with pytest.raises(CommandError, match="--map: ожидается «Колонка=поле»"):
        call("import_leads", str(path), "--as", "head", "--map", "ИНН")
    with pytest.raises(CommandError, match="В файле нет колонки «Телефон»"):
        call("import_leads", str(path), "--as", "head", "--map", "Телефон=company_phone")
    with pytest.raises(CommandError, match="Файла «.*нет.csv» нет"):
        call("import_leads", str(tmp_path / "нет.csv"), "--as", "head")
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(CommandError):
        call("import_leads", str(empty), "--as", "head")


@pytest.mark.django_db
def test_import_bitrix24_links_deals_and_converted_leads_by_bitrix_ids(head, tmp_path):
    (tmp_path / "DEAL_20261129.csv").write_text(
        "ID;Название сделки;Воронка;Стадия сделки;Компания;Контакт;Товар;Цена;Количество\n"
        f"70;Внедрение;{COLD};Презентация;10;501;Тренинги;10000;2\n"
        f"70;Внедрение;{COLD};Презентация;10;501;Консультации;5000;1\n", encoding="utf-8-sig")
    (tmp_path / "CONTACT_20261129.csv").write_text(
        "ID;Фамилия;Имя;Мобильный телефон;Компания\n501;Грефов;Герман;+7 912 222-22-22;10\n", encoding="utf-8-sig")
    (tmp_path / "COMPANY_20261129.csv").write_text(
        "ID;Название компании;ИНН;Рабочий телефон\n10;ПАО Сбербанк;7707083893;8 800 555-55-50\n", encoding="utf-8-sig")
    (tmp_path / "LEAD_20261129.csv").write_text(
        "ID;Название лида;Источник;Название компании;Рабочий телефон;Компания;Контакт\n"
        "900;Сбер хочет тренинги;Сайт;ПАО Сбербанк;8 800 555-55-51;10;501\n", encoding="utf-8-sig")

    printed = call("import_bitrix24", str(tmp_path), "--as", "head", "--report", str(tmp_path / "r.csv"))

    assert printed[-1] == "Создано: 4, обновлено: 0, пропущено: 0, отклонено: 0"
    company, contact = Company.objects.get(external_id="10"), Contact.objects.get(external_id="501")
    deal = Deal.objects.get(external_id="70")
    assert deal.company == company and list(deal.contacts.all()) == [contact]
    assert deal.products.count() == 2
    assert list(contact.companies.all()) == [company]
    lead = Lead.objects.get(external_id="900")
    assert (lead.company, lead.contact) == (company, contact)

    again = call("import_bitrix24", str(tmp_path), "--as", "head", "--on-duplicate", "update")
    assert again[-1] == "Создано: 0, обновлено: 0, пропущено: 4, отклонено: 0"


@pytest.mark.django_db
def test_import_bitrix24_leaves_other_files_alone_and_refuses_a_folder_without_exports(head, tmp_path):
    (tmp_path / "prices.csv").write_text("Артикул;Цена\n1;2\n", encoding="utf-8")

    with pytest.raises(CommandError, match="В папке нет выгрузок"):
        call("import_bitrix24", str(tmp_path), "--as", "head")

    (tmp_path / "Компании.csv").write_text("Название компании\nООО «Ромашка»\n", encoding="utf-8")
    printed = call("import_bitrix24", str(tmp_path), "--as", "head")
    assert printed[0] == "Файл «prices.csv» пропущен: не похож на выгрузку компаний, контактов, лидов или сделок."
    assert printed[-1] == "Создано: 1, обновлено: 0, пропущено: 0, отклонено: 0"


@pytest.mark.django_db
def test_the_apostrophe_an_export_puts_before_formula_like_text_is_dropped(head, tmp_path):
    path = tmp_path / "export.csv"
    path.write_text("Название лида;Источник;Название компании;Рабочий телефон;Комментарий\n"
                    "Лид;Сайт;ООО «Ромашка»;'+7 (912) 859-87-48;'=HYPERLINK(x)\n", encoding="utf-8-sig")

    assert call("import_leads", str(path), "--as", "head")[-1].startswith("Создано: 1,")

    lead = Lead.objects.get()
    assert (lead.company_phone, lead.comment) == ("+79128598748", "=HYPERLINK(x)")
