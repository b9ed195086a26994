"""Every number of every report, per persona, on one small history made through the services.

The history (the last 30 days unless said):
- L1 (owner, niche HoReCa): Не обработан → Первый звонок → Квалификация → Первый звонок; a call due
  yesterday, not done (overdue).
- L2 (owner): → Не успешный («Отказ клиента»), reopened by the head to Квалификация; a call due two
  days ago, done.
- L3 (owner): → Выход на ЛПР → converted: deal D1 (90 000 ₽), won.
- L4 (created by the teammate for himself): → Первый звонок, then the head hands it to the owner; a
  call in 40 days.
- L5 (outsider, source «Сайт»): → Не успешный («Дубликат»); a call due yesterday (overdue).
- L6 (owner): created 40 days ago, Первый звонок 35 days ago, Квалификация now.
- D2 (outsider, 5 000 ₽): lost («Дорого»). D3 (owner, 7 000 ₽): Презентация, closing today.
  D4 (teammate, 3 000 ₽): won.
"""

from decimal import Decimal

import pytest
from django.utils import timezone

from analytics import selectors
from analytics.params import ReportParams
from leads import services
from leads.models import Status
from tests.analytics.conftest import backdate, convert, deal_move, junk, move, new_deal, new_lead, touch
from tests.factories import COLD, pipeline, ref

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(owner, teammate, outsider, head):
    from deals.models import LossReason

    l1 = new_lead(owner, title="L1", niche="HoReCa")
    for to in (Status.FIRST_CALL, Status.QUALIFICATION, Status.FIRST_CALL):
        l1 = move(l1, to, owner)
    l2 = junk(new_lead(owner, title="L2"), owner)
    l2 = move(l2, Status.QUALIFICATION, head)
    l3 = convert(new_lead(owner, title="L3"), owner, amount=Decimal("90000"))
    d1 = deal_move(l3.deal, "Оплачено", owner)
    l4 = move(new_lead(teammate, title="L4"), Status.FIRST_CALL, teammate)
    l4 = services.lead_assign(l4, responsible=owner, by=head)
    l5 = junk(new_lead(outsider, title="L5", source="Сайт"), outsider, reason="Дубликат")
    l6 = move(move(new_lead(owner, title="L6"), Status.FIRST_CALL, owner), Status.QUALIFICATION, owner)
    backdate(l6, 40, 35, 0)
    d2 = deal_move(new_deal(outsider, title="D2", amount=Decimal("5000")), "Отказ", outsider,
                   loss_reason=LossReason.objects.get(name="Дорого"))
    d3 = deal_move(new_deal(owner, title="D3", amount=Decimal("7000"), close_date=timezone.localdate()),
                   "Презентация", owner)
    d4 = deal_move(new_deal(teammate, title="D4", amount=Decimal("3000")), "Оплачено", teammate)
    touch(owner, l1, -1)
    touch(owner, l2, -2, done=True)
    touch(owner, l4, 40)
    touch(outsider, l5, -1)
    return {"l1": l1, "l2": l2, "l3": l3.lead, "l4": l4, "l5": l5, "l6": l6, "d1": d1, "d2": d2, "d3": d3, "d4": d4}


def test_it_lets_only_supervisors_view_reports(personas):
    assert {name: selectors.can_view_reports(user) for name, user in personas.items()} == {
        "owner": False, "teammate": False, "outsider": False, "head": True, "crm_admin": True}


# --- The funnel ---

def rows(report):
    return [(r.state, r.entered, r.reached, r.to_next, r.to_won) for r in report.rows]


def test_the_owner_funnel_counts_his_leads_and_is_monotone(history, owner, month):
    report = selectors.funnel(owner, month)
    assert rows(report) == [
        ("new", 4, 5, 1.0, 0.2),  # L6 entered Квалификация in the period: it reached «Не обработан» too
        ("first_call", 2, 5, 0.8, 0.2),
        ("qualification", 3, 4, 0.25, 0.25),
        ("reconnaissance", 0, 1, 1.0, 1.0),
        ("decision_maker", 1, 1, 1.0, 1.0),
        ("converted", 1, 1, None, 1.0),
    ]
    assert [r.label for r in report.rows] == ["Не обработан", "Первый звонок", "Квалификация", "Разведка",
                                              "Выход на ЛПР", "Успешный"]
    assert report.total == 5
    assert [(r.id, r.label, r.count) for r in report.junk] == [(None, "Возвращены в работу", 1)]


def test_the_teammate_no_longer_sees_the_lead_handed_away(history, teammate, month):
    report = selectors.funnel(teammate, month)
    assert [(r.entered, r.reached) for r in report.rows] == [(0, 0)] * 6
    assert all(r.to_next is None and r.to_won is None for r in report.rows)
    assert (report.total, report.junk) == (0, [])


def test_the_outsider_sees_only_his_junked_lead(history, outsider, month):
    report = selectors.funnel(outsider, month)
    assert rows(report) == [("new", 1, 1, 0.0, 0.0)] + [(s, 0, 0, None, None) for s in (
        "first_call", "qualification", "reconnaissance", "decision_maker", "converted")]
    assert report.total == 1
    assert [(r.id, r.label, r.count) for r in report.junk] == [(ref("JunkReason", "Дубликат").pk, "Дубликат", 1)]


@pytest.mark.parametrize("persona", ["head", "crm_admin"])
def test_the_head_sees_the_whole_department(history, personas, persona, month):
    report = selectors.funnel(personas[persona], month)
    assert rows(report) == [
        ("new", 5, 6, 5 / 6, 1 / 6),
        ("first_call", 2, 5, 0.8, 0.2),
        ("qualification", 3, 4, 0.25, 0.25),
        ("reconnaissance", 0, 1, 1.0, 1.0),
        ("decision_maker", 1, 1, 1.0, 1.0),
        ("converted", 1, 1, None, 1.0),
    ]
    assert report.total == 6
    assert [(r.label, r.count) for r in report.junk] == [("Дубликат", 1), ("Возвращены в работу", 1)]


def test_the_funnel_narrows_by_department_source_niche_and_responsible(history, head, org, owner, month):
    from dataclasses import replace

    group2 = selectors.funnel(head, replace(month, department=org["group2"].pk))
    assert (group2.total, group2.rows[0].entered, [r.label for r in group2.junk]) == (1, 1, ["Дубликат"])
    site = selectors.funnel(head, replace(month, source=ref("Source", "Сайт").pk))
    assert site.total == 1 and site.rows[0].entered == 1
    horeca = selectors.funnel(head, replace(month, niche=ref("Niche", "HoReCa").pk))
    assert [(r.entered, r.reached) for r in horeca.rows[:3]] == [(1, 1), (1, 1), (1, 1)] and horeca.total == 1
    mine = selectors.funnel(head, replace(month, responsible=owner.pk))
    assert rows(mine) == rows(selectors.funnel(owner, month))
    # A responsible outside the department asked for: nothing.
    assert selectors.funnel(head, replace(month, responsible=owner.pk, department=org["group2"].pk)).total == 0


def test_an_earlier_period_sees_only_the_backdated_moves(history, owner):
    from datetime import timedelta

    from analytics.params import Period

    today = timezone.localdate()
    earlier = selectors.funnel(owner, ReportParams(period=Period(today - timedelta(days=45), today - timedelta(days=30))))
    assert [(r.entered, r.reached) for r in earlier.rows[:3]] == [(1, 1), (1, 1), (0, 0)] and earlier.total == 1


# --- Managers ---

def figures(row):
    return (row.name, row.taken, row.moved, row.converted, row.junked, row.planned, row.done, row.overdue,
            row.deals_won, row.won_sum, row.won_other, row.nothing_planned)


OWNER_ROW = ("Иванов Пётр", 4, 7, 1, 1, 2, 1, 1, 1, Decimal("90000"), {}, 3)


def test_a_manager_sees_only_his_own_row(history, owner, teammate, outsider, month):
    assert [figures(r) for r in selectors.managers(owner, month)] == [OWNER_ROW]
    # The teammate created L4 (his «взято») but it is the owner's now: its move is not his to see.
    assert [figures(r) for r in selectors.managers(teammate, month)] == [
        ("Петрова Мария", 1, 0, 0, 0, 0, 0, 0, 1, Decimal("3000"), {}, 0)]
    assert [figures(r) for r in selectors.managers(outsider, month)] == [
        ("Сидоров Алексей", 1, 1, 0, 1, 1, 0, 1, 0, Decimal(0), {}, 0)]


def test_the_head_sees_every_manager_of_his_tree_by_name(history, head, month):
    assert [figures(r) for r in selectors.managers(head, month)] == [
        OWNER_ROW,
        ("Петрова Мария", 1, 1, 0, 0, 0, 0, 0, 1, Decimal("3000"), {}, 0),
        ("Сидоров Алексей", 1, 1, 0, 1, 1, 0, 1, 0, Decimal(0), {}, 0),
        ("Смирнова Ольга", 0, 1, 0, 0, 0, 0, 0, 0, Decimal(0), {}, 0),  # he reopened L2
    ]


def test_the_managers_report_narrows_to_a_department(history, head, org, month):
    from dataclasses import replace

    assert [r.name for r in selectors.managers(head, replace(month, department=org["group1"].pk))] == [
        "Иванов Пётр", "Петрова Мария"]


def test_a_manager_with_nothing_to_show_still_gets_his_row(history, org, month):
    from tests.factories import UserFactory

    newcomer = UserFactory(last_name="Новиков", first_name="Иван", department=org["group1"], role="Менеджер")
    assert [figures(r) for r in selectors.managers(newcomer, month)] == [
        ("Новиков Иван", 0, 0, 0, 0, 0, 0, 0, 0, Decimal(0), {}, 0)]


# --- Sources ---

def source_rows(report):
    return [(r.label, r.leads, r.deals, r.won, r.paid_sum, r.conv_deal, r.conv_won) for r in report]


def test_sources_per_persona(history, personas, month):
    owner_rows = [("Контур.Компас", 4, 1, 1, Decimal("90000"), 0.25, 1.0)]  # L6 was created before the period
    assert source_rows(selectors.sources(personas["owner"], month)) == owner_rows
    assert source_rows(selectors.sources(personas["teammate"], month)) == []
    assert source_rows(selectors.sources(personas["outsider"], month)) == [("Сайт", 1, 0, 0, Decimal(0), 0.0, None)]
    assert source_rows(selectors.sources(personas["head"], month)) == [*owner_rows, ("Сайт", 1, 0, 0, Decimal(0), 0.0, None)]


def test_sources_per_niche(history, owner, head, month):
    assert source_rows(selectors.sources(owner, month, by="niche")) == [
        ("Розничная торговля", 3, 1, 1, Decimal("90000"), 1 / 3, 1.0), ("HoReCa", 1, 0, 0, Decimal(0), 0.0, None)]
    assert [r.label for r in selectors.sources(head, month, by="niche")] == ["Розничная торговля", "HoReCa"]


# --- Deals ---

def cold(report):
    found = [p for p in report.pipelines if p.label == COLD]
    assert len(found) == 1
    return found[0]


def nonzero(stage_rows):
    return [(r.label, r.count, r.sums) for r in stage_rows if r.count]


def test_deals_per_persona(history, personas, month):
    owner = cold(selectors.deals_report(personas["owner"], month))
    assert nonzero(owner.stages) == [("Презентация", 1, {"RUB": Decimal("7000")}), ("Оплачено", 1, {"RUB": Decimal("90000")})]
    assert (owner.won.count, owner.won.sums, owner.lost.count, owner.lost.sums) == (1, {"RUB": Decimal("90000")}, 0, {})
    assert nonzero(owner.forecast) == [("Презентация", 1, {"RUB": Decimal("7000")})]
    assert owner.loss_reasons == []
    assert [r.label for r in owner.forecast] == ["Новая", "Бесплатный продукт согласован", "Бесплатный продукт проведён",
                                                 "Презентация", "КП отправлено", "Счёт выставлен"]

    teammate = cold(selectors.deals_report(personas["teammate"], month))
    assert nonzero(teammate.stages) == [("Оплачено", 1, {"RUB": Decimal("3000")})]
    assert (teammate.won.count, teammate.lost.count, nonzero(teammate.forecast)) == (1, 0, [])

    outsider = cold(selectors.deals_report(personas["outsider"], month))
    assert nonzero(outsider.stages) == [("Отказ", 1, {"RUB": Decimal("5000")})]
    assert (outsider.won.count, outsider.lost.count, outsider.lost.sums) == (0, 1, {"RUB": Decimal("5000")})
    assert [(r.label, r.count) for r in outsider.loss_reasons] == [("Дорого", 1)]

    head = selectors.deals_report(personas["head"], month)
    assert [p.label for p in head.pipelines] == [p.name for p in type(pipeline(COLD)).objects.order_by("sort", "pk")]
    whole = cold(head)
    assert nonzero(whole.stages) == [("Презентация", 1, {"RUB": Decimal("7000")}),
                                     ("Оплачено", 2, {"RUB": Decimal("93000")}), ("Отказ", 1, {"RUB": Decimal("5000")})]
    assert (whole.won.count, whole.won.sums, whole.lost.count) == (2, {"RUB": Decimal("93000")}, 1)
    assert nonzero(whole.forecast) == [("Презентация", 1, {"RUB": Decimal("7000")})]
    assert [(r.label, r.count) for r in whole.loss_reasons] == [("Дорого", 1)]
    assert all(not nonzero(p.stages) for p in head.pipelines if p.label != COLD)


def test_deals_narrowed_by_source_read_the_records_not_the_counters(history, head, month):
    from dataclasses import replace

    site = replace(month, source=ref("Source", "Сайт").pk, pipeline=pipeline(COLD).pk)
    report = selectors.deals_report(head, site)
    assert [p.label for p in report.pipelines] == [COLD]
    assert nonzero(report.pipelines[0].stages) == [] and report.pipelines[0].won.count == 0
    # A deal has no niche: the deals' figures ignore that filter.
    by_niche = cold(selectors.deals_report(head, replace(month, niche=ref("Niche", "HoReCa").pk)))
    assert (by_niche.won.count, by_niche.lost.count) == (2, 1)
    mine = selectors.deals_report(head, replace(month, responsible=history["d3"].responsible_id, pipeline=pipeline(COLD).pk))
    assert nonzero(mine.pipelines[0].stages) == [("Презентация", 1, {"RUB": Decimal("7000")}),
                                                 ("Оплачено", 1, {"RUB": Decimal("90000")})]


# --- «Мой день» ---

def test_day_numbers_for_the_head_only(history, head, owner):
    assert selectors.day_numbers(owner) == []
    numbers = selectors.day_numbers(head)
    assert [label for label, _value, _url in numbers] == [
        "Новых лидов за неделю", "Конверсия лидов в «Успешный» за месяц", "Выиграно сделок за месяц",
        "Лидов дольше обычного в статусе"]
    assert numbers[0][1] == 5 and numbers[2][1] == 2
    assert numbers[0][2] == "/analytics/funnel/?period=week"


@pytest.mark.parametrize("persona", ["owner", "teammate", "outsider", "head", "crm_admin"])
def test_my_days_won_deals_are_the_deals_reports_won_of_the_month(history, personas, persona):
    from analytics.params import Period

    today = timezone.localdate()
    this_month = Period(today.replace(day=1), today)
    report = selectors.deals_report(personas[persona], ReportParams(period=this_month))
    expected = {"owner": 1, "teammate": 1, "outsider": 0, "head": 2, "crm_admin": 2}[persona]
    assert selectors.won_deals(personas[persona], this_month) == sum(p.won.count for p in report.pipelines) == expected
