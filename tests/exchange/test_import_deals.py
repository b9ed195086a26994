"""A head of sales brings Bitrix24's deals over: pipelines and stages by name, product rows one per
file row, links to the companies and contacts imported before by their Bitrix24 IDs."""

from decimal import Decimal

import pytest

from clients.models import Company, Contact
from deals.models import Deal
from tests.exchange.import_helpers import lines, run
from tests.factories import COLD

HEAD = ["ID", "Название сделки", "Воронка", "Стадия сделки", "Сумма", "Компания", "Контакт", "Товар", "Цена",
        "Количество", "Ответственный"]


@pytest.fixture
def clients(head):
    run("company", [["ID", "Название компании"], ["10", "ПАО Сбербанк"]], by=head)
    run("contact", [["ID", "Фамилия", "Имя"], ["501", "Грефов", "Герман"]], by=head)


@pytest.mark.django_db
def test_it_imports_deals_with_their_product_rows_and_links(head, clients):
    outcome = run("deal", [
        HEAD,
        ["7", "Внедрение", COLD, "Презентация", "", "10", "501", "Тренинги", "10000", "2", ""],
        ["7", "Внедрение", COLD, "Презентация", "", "10", "501", "Консультации", "5000", "1", ""],
        ["8", "Подписка", "", "", "1000", "", "", "", "", "", ""],
    ], by=head, name="DEAL.csv")

    assert outcome.summary() == "Создано: 2, обновлено: 0, пропущено: 0, отклонено: 0"
    deal = Deal.objects.get(external_id="7")
    assert deal.current_stage.name == "Презентация" and deal.pipeline.name == COLD
    assert sorted((str(r.product), r.quantity, r.price) for r in deal.products.all()) == [
        ("Консультации", Decimal("1"), Decimal("5000")), ("Тренинги", Decimal("2"), Decimal("10000"))]
    assert deal.amount == Decimal("25000")
    assert deal.company == Company.objects.get(external_id="10")
    assert list(deal.contacts.all()) == [Contact.objects.get(external_id="501")]
    other = Deal.objects.get(external_id="8")
    assert other.current_stage == other.pipeline.first_stage() and other.amount == Decimal("1000")


@pytest.mark.django_db
def test_a_deal_short_of_its_stage_lands_on_the_furthest_it_meets(head, clients):
    outcome = run("deal", [HEAD, ["7", "Внедрение", COLD, "Счёт выставлен", "", "", "", "", "", "", ""]], by=head)

    deal = Deal.objects.get()
    assert deal.current_stage.name == "Презентация"
    [line] = [line for line in outcome.all_lines() if line.outcome == "adjusted"]
    assert (line.row, line.column, line.value) == (2, "Стадия сделки", "Счёт выставлен")
    assert "Товары/услуги" in line.message and "«Презентация»" in line.message

    strict = run("deal", [HEAD, ["9", "Ещё", COLD, "Счёт выставлен", "", "", "", "", "", "", ""]], by=head, strict=True)
    assert strict.rejected == 1 and Deal.objects.count() == 1


@pytest.mark.django_db
def test_a_rerun_of_deals_changes_nothing(head, clients):
    rows = [HEAD, ["7", "Внедрение", COLD, "Презентация", "30000", "10", "501", "Тренинги", "10000", "2", ""],
            ["7", "Внедрение", COLD, "Презентация", "30000", "10", "501", "Консультации", "5000", "1", ""]]
    run("deal", rows, by=head)
    before = list(Deal.objects.values_list("pk", "version", "amount"))

    again = run("deal", rows, by=head, on_duplicate="update")

    assert again.summary() == "Создано: 0, обновлено: 0, пропущено: 1, отклонено: 0"
    assert list(Deal.objects.values_list("pk", "version", "amount")) == before


@pytest.mark.django_db
def test_an_unknown_stage_rejects_the_row(head):
    outcome = run("deal", [HEAD, ["7", "Внедрение", COLD, "Нет такой", "", "", "", "", "", "", ""]], by=head)

    assert lines(outcome, "rejected") == [(2, f"Нет стадии «Нет такой» в воронке «{COLD}». Есть: Новая, "
                                              "Бесплатный продукт согласован, Бесплатный продукт проведён, Презентация, "
                                              "КП отправлено, Счёт выставлен, Оплачено, Отказ.")]


@pytest.mark.django_db
def test_bitrix_stage_codes_find_the_pipelines_own_stages(head):
    from deals.models import LossReason

    LossReason.objects.get(name="Дорого")
    outcome = run("deal", [HEAD + ["Причина провала"],
                           ["7", "Первая", COLD, "C1:NEW", "", "", "", "", "", "", "", ""],
                           ["8", "Вторая", COLD, "LOSE", "", "", "", "", "", "", "", "Дорого"]], by=head)

    assert outcome.created == 2
    assert Deal.objects.get(external_id="7").current_stage.name == "Новая"
    assert Deal.objects.get(external_id="8").current_stage.name == "Отказ"
