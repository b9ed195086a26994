"""A head of sales brings a Bitrix24 export whose reference values are written as Bitrix24 writes
them: its source codes (WEB, CALL…) and default names («Веб-сайт»), its lead status codes, its
pipeline «Общая» (category 0) and its stage codes («PREPARATION», «C3:NEW») — and e-mails in any case."""

import pytest

from clients.models import Company
from crm.models import Source
from deals.models import Deal
from leads.models import Lead, Status
from tests.exchange.import_helpers import lines, run
from tests.factories import COLD, GENERAL, LeadFactory

LEAD = ["ID", "Название лида", "Статус", "Источник", "Рабочий e-mail", "Название компании", "Рабочий телефон"]


def lead(n: int, source: str, status: str = "", email: str = "") -> list[str]:
    return [str(n), f"Лид {n}", status, source, email, f"ООО «Лид {n}»", f"8 912 000-00-{n:02d}"]


DEAL = ["ID", "Название сделки", "Воронка", "Стадия сделки", "Товар", "Цена", "Количество"]


@pytest.mark.django_db
def test_it_finds_sources_by_bitrix24_code_and_name_case_and_yo_insensitively(head):
    outcome = run("lead", [
        LEAD,
        lead(1, "WEB"),
        lead(2, "веб-САЙТ"),
        lead(3, "recommendation"),
        lead(4, "CRM-форма"),
        lead(5, "Партнер"),
        lead(6, "КОНТУР.КОМПАС"),
        lead(7, "CALL"),
        lead(8, "TRADE_SHOW"),
    ], by=head)

    assert outcome.summary() == "Создано: 8, обновлено: 0, пропущено: 0, отклонено: 0"
    sources = dict(Lead.objects.values_list("external_id", "source__name"))
    assert sources == {"1": "Сайт", "2": "Сайт", "3": "Рекомендация", "4": "Веб-форма", "5": "Партнёр",
                       "6": "Контур.Компас", "7": "Входящий звонок", "8": "Выставка"}


@pytest.mark.django_db
def test_a_bitrix24_source_we_lack_is_an_error_or_created_under_its_bitrix24_name(head):
    refused = run("lead", [LEAD, lead(1, "ADVERTISING"), lead(2, "RC_GENERATOR")], by=head)
    assert refused.rejected == 2 and not Lead.objects.exists()
    assert "«ADVERTISING» нет в справочнике «Источники»" in lines(refused)[0][1]

    created = run("lead", [LEAD, lead(1, "ADVERTISING"), lead(2, "PARTNER"), lead(3, "реклама")], by=head,
                  create_missing=True)
    assert created.created == 3
    # PARTNER is Bitrix24's «Существующий клиент», not our «Партнёр»; one «Реклама» for its code and name.
    assert dict(Lead.objects.values_list("external_id", "source__name")) == {
        "1": "Реклама", "2": "Существующий клиент", "3": "Реклама"}
    assert Source.objects.filter(name="Реклама").count() == 1
    assert not Source.objects.filter(name__in=["ADVERTISING", "PARTNER"]).exists()


@pytest.mark.django_db
def test_it_reads_lead_statuses_by_our_name_and_code_and_by_bitrix24s(head):
    rows = [lead(1, "Сайт", "НЕ ОБРАБОТАН"), lead(2, "Сайт", "первый ЗВОНОК"), lead(3, "Сайт", "JUNK"),
            lead(4, "Сайт", "некачественный лид"), lead(5, "Сайт", "IN_PROCESS")]
    outcome = run("lead", [LEAD + ["Причина закрытия"], *(r + ["Дубликат"] for r in rows)], by=head)

    assert dict(Lead.objects.values_list("external_id", "status")) == {
        "1": Status.NEW, "2": Status.FIRST_CALL, "3": Status.JUNK, "4": Status.JUNK}
    # Bitrix24's «В работе» has no status of ours: the row says so and lists ours.
    [(row, message)] = lines(outcome, "rejected")
    assert row == 6 and "«IN_PROCESS»" in message and "Не обработан, Первый звонок" in message


@pytest.mark.django_db
def test_it_finds_the_pipeline_general_and_stages_by_bitrix24_code(head):
    outcome = run("deal", [
        DEAL,
        ["1", "По имени «Общая»", "Общая", "PREPARATION", "", "", ""],
        ["2", "Направление 0", "0", "подготовка документов", "", "", ""],
        ["3", "Код без воронки", "", "NEW", "", "", ""],
        ["4", "Холодная по коду", COLD, "C4:NEW", "", "", ""],
        ["5", "Cчёт с латинской C", "общая", "Cчёт на предоплату", "Тренинги", "1000", "1"],
        ["6", "Код общей воронки", "", "C0:EXECUTING", "Тренинги", "1000", "1"],
    ], by=head, name="DEAL.csv")

    assert outcome.summary() == "Создано: 6, обновлено: 0, пропущено: 0, отклонено: 0"
    placed = {d.external_id: (d.pipeline.name, d.current_stage.name) for d in Deal.objects.all()}
    assert placed == {"1": (GENERAL, "Подготовка документов"), "2": (GENERAL, "Подготовка документов"),
                      "3": (GENERAL, "Новая"), "4": (COLD, "Новая"), "5": (GENERAL, "Счёт на предоплату"),
                      "6": (GENERAL, "В работе")}


@pytest.mark.django_db
def test_an_unknown_pipeline_or_stage_is_the_rows_error(head):
    outcome = run("deal", [
        DEAL,
        ["1", "Чужое направление", "1", "NEW", "", "", ""],
        ["2", "Стадия чужого направления", "", "C3:NEW", "", "", ""],
        ["3", "Неизвестный код", "Общая", "UC_7XK2", "", "", ""],
        ["4", "Хорошая", "Общая", "NEW", "", "", ""],
    ], by=head)

    assert (outcome.created, outcome.rejected) == (1, 3)
    messages = dict(lines(outcome, "rejected"))
    assert messages[2].startswith("Нет воронки «1». Есть: Общая воронка,")
    assert "направления №3" in messages[3] and "«Воронка»" in messages[3]
    assert messages[4].startswith("Нет стадии «UC_7XK2» в воронке «Общая воронка». Есть: Новая,")


@pytest.mark.django_db
def test_an_e_mail_in_another_case_is_a_duplicate(head, owner):
    LeadFactory(responsible=owner, company_email="Info@Romashka.RU", title="Уже в CRM")
    run("company", [["ID", "Название компании", "Рабочий e-mail"], ["10", "ПАО Сбербанк", "Info@Sber.ru"]], by=head)

    leads = run("lead", [LEAD, lead(1, "Сайт", email="INFO@romashka.ru")], by=head)
    companies = run("company", [["Название компании", "Рабочий e-mail"], ["Сбер", "INFO@SBER.RU"]], by=head)

    assert (leads.created, leads.skipped) == (0, 1) and "«Уже в CRM»" in lines(leads)[0][1]
    assert (companies.created, companies.skipped) == (0, 1) and Company.objects.count() == 1
    # Stored lower-case, so that the lookup is an exact one on the e-mail's index.
    assert Lead.objects.get().company_email == "info@romashka.ru"
