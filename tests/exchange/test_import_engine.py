"""The engine's promises that are no one entity's: the mapping it suggests, the files people bring
in each format, queries per batch rather than per row, bounded memory for the report, the hooks
of the statuses imported records enter."""

from io import StringIO

import pytest
from django.core.management import call_command

from exchange import importers
from exchange.importers import suggest_mapping
from leads.models import Lead
from tests.exchange.import_helpers import run

HEAD = ["ID", "Название лида", "Источник", "Название компании", "Рабочий телефон"]


def rows(count: int, start: int = 0) -> list[list[str]]:
    return [HEAD] + [[str(n), f"Лид {n}", "Сайт", f"ООО «Компания {n}»", f"8 912 {n:03d}-00-00"]
                     for n in range(start, start + count)]


def test_it_suggests_fields_for_bitrix_headers_whatever_their_case():
    headers = ["ID", "НАЗВАНИЕ ЛИДА", "Стадия", "Рабочий телефон", "Мобильный телефон", "Домашний телефон",
               "Частный e-mail", "Ответственный", "ИНН", "Ниша компании", "company_name", "Договоренность о следующем "
               "касании или о бесплатном продукте", "UTM_SOURCE", "ИНН"]

    assert suggest_mapping("lead", headers) == {
        "ID": "external_id", "НАЗВАНИЕ ЛИДА": "title", "Стадия": "status", "Рабочий телефон": "company_phone",
        "Мобильный телефон": "contact_phone", "Домашний телефон": "contact_phone", "Частный e-mail": "contact_email",
        "Ответственный": "responsible", "ИНН": "inn", "Ниша компании": "niche", "company_name": "company_name",
        "Договоренность о следующем касании или о бесплатном продукте": "next_touch", "UTM_SOURCE": ""}
    assert suggest_mapping("company", ["Название", "Телефон", "E-mail"]) == {
        "Название": "name", "Телефон": "phone_work", "E-mail": "email_work"}


@pytest.mark.django_db
def test_the_first_filled_of_two_columns_of_one_field_wins(head):
    outcome = run("lead", [["Название компании", "Источник", "Рабочий телефон", "Мобильный телефон", "Домашний телефон"],
                           ["ООО «Ромашка»", "Сайт", "89120000001", "", "8 912 000-00-02"]], by=head)

    assert outcome.created == 1
    assert Lead.objects.get().contact_phone == "+79120000002"


@pytest.mark.django_db
def test_it_reads_bitrix_html_xls_and_xlsx_files(head, tmp_path):
    from openpyxl import Workbook

    html = tmp_path / "LEAD.xls"
    cells = "".join(f"<th>{h}</th>" for h in HEAD)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows(2)[1:])
    html.write_text(f'<meta http-equiv="Content-type" content="text/html;charset=utf-8" />'
                    f"<table border=1><tr>{cells}</tr>{body}</table>", encoding="utf-8")
    book = Workbook()
    for r in rows(2, start=10):
        book.active.append(r)
    book.save(tmp_path / "leads.xlsx")

    for name in ("LEAD.xls", "leads.xlsx"):
        out = StringIO()
        call_command("import_leads", str(tmp_path / name), "--as", "head", stdout=out, stderr=StringIO())
        assert out.getvalue().splitlines()[-1] == "Создано: 2, обновлено: 0, пропущено: 0, отклонено: 0"
    assert sorted(Lead.objects.values_list("external_id", flat=True)) == ["0", "1", "10", "11"]


@pytest.mark.django_db
def test_a_batch_costs_the_same_queries_for_ten_rows_or_a_hundred(head):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    run("lead", rows(1, start=900), by=head)  # caches of the first run (content types) are warm
    counts = []
    for count, start in ((10, 0), (100, 100)):
        with CaptureQueriesContext(connection) as queries:
            assert run("lead", rows(count, start=start), by=head).created == count
        sql = [q["sql"] for q in queries.captured_queries]
        # SQLite splits a bulk insert by its limit on parameters; PostgreSQL sends one.
        counts.append(([s for s in sql if not s.startswith("INSERT")], sum(s.startswith("INSERT") for s in sql)))
    (others_10, inserts_10), (others_100, inserts_100) = counts
    assert len(others_100) == len(others_10) <= 12
    # 11: the analytics' open stays' counts (the stuck records', issue 15) are one upsert per batch too;
    # 12: so are the managers' counts per calendar period (ManagerCount: the leads taken).
    assert inserts_100 <= 12


@pytest.mark.django_db
def test_report_lines_past_the_memory_limit_go_to_a_file(head, monkeypatch, tmp_path):
    monkeypatch.setattr(importers, "LINES_IN_MEMORY", 3)
    bad = [HEAD] + [[str(n), f"Лид {n}", "Сайт", "ООО", "12"] for n in range(10)]

    outcome = run("lead", bad, by=head)

    assert len(outcome.lines) == 3 and outcome.rejected == 10
    assert [line.row for line in outcome.all_lines()] == list(range(2, 12))
    importers.write_report(outcome, tmp_path / "r.csv")
    assert len((tmp_path / "r.csv").read_text(encoding="utf-8-sig").splitlines()) == 11


@pytest.mark.django_db
def test_imported_leads_run_the_automation_rules_of_their_status(head):
    from tasks_app.models import AutomationRule, Task

    AutomationRule.objects.create(name="Первый звонок", entity="leads.lead", state="new", title="Позвонить новому лиду")

    run("lead", rows(3), by=head)

    assert Task.objects.filter(title="Позвонить новому лиду").count() == 3


def test_it_recognises_bitrix_exports_by_headers_then_names():
    from exchange.importers import recognise

    assert recognise("Лиды компании.csv", ["Название лида", "Название компании"]) == "lead"
    assert recognise("export.csv", ["Название сделки"]) == "deal"
    assert recognise("CONTACT_1.csv", ["ID", "Фамилия"]) == "contact"
    assert recognise("x.csv", ["Название компании", "ИНН"]) == "company"
    assert recognise("x.csv", ["Артикул"]) is None
