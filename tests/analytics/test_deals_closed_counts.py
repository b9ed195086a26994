"""The deals report's won and lost deals of a calendar week / month / quarter / year read the counts
kept per period (ClosedMark, ClosedCount, analytics.history) — the same figures as the scan of the
closed stays (any other period, or a source) for every persona: a deal won twice in a month counts
once, won then lost counts in both, a loss reason changed, an amount edited, a reassignment and a
new pipeline after winning follow the deal, a deleted deal is gone, an import straight into a won
stage counts."""

from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Action, Entity, Level, Permission, User
from analytics import history, selectors
from analytics.models import ANY_PIPELINE, ClosedCount, ClosedMark, Stay
from analytics.params import Period, ReportParams
from tests.analytics.conftest import DEAL, NOV3, OCT2, OCT20, OCTOBER, SEP29, calendar_periods, deal_move, new_deal
from tests.factories import COLD, GENERAL, pipeline, ref, stage

pytestmark = pytest.mark.django_db

ZONE = timezone.get_default_timezone()
OCTOBER_SCANNED = Period(date(2026, 9, 30), date(2026, 10, 31))  # not one calendar period


def reason(name: str):
    from deals.models import LossReason

    return LossReason.objects.get(name=name)


def fresh(deal):
    from deals.models import Deal

    return Deal.objects.get(pk=deal.pk)


def won(deal, by):
    return deal_move(fresh(deal), "Оплачено", by)


def lost(deal, by, why="Дорого"):
    return deal_move(fresh(deal), "Отказ", by, loss_reason=reason(why))


def edit(deal, by, **data):
    from deals import services as deals

    deal = fresh(deal)
    return deals.deal_update(deal, data=data, by=by, version=deal.version)


def import_won(by, owner, amount: Decimal):
    from deals import services as deals

    item = deals.ImportItem(row=1, data={"title": "Импорт", "responsible": owner}, pipeline=pipeline(COLD),
                            stage=stage(COLD, "Оплачено"), products=[(ref("Product", "Тренинги"), Decimal(1), amount)])
    deals.deals_import([item], by=by, source="deals.csv")
    assert not item.error and not item.adjusted, (item.error, item.adjusted)
    return item.deal


@pytest.fixture
def story(clock, owner, teammate, outsider, head):
    """Around October: deals won, lost, reopened, edited, reassigned, moved to another pipeline and
    deleted, in RUB and USD, by the owner (group 1), the teammate and the outsider (group 2)."""
    from deals import services as deals

    clock.at(SEP29, 10)
    early = won(new_deal(owner, title="Сентябрьская", amount=Decimal("100")), owner)
    clock.at(OCT2, 11)
    twice = won(new_deal(owner, title="Дважды", amount=Decimal("1000.10")), owner)
    twice = deal_move(twice, "Презентация", owner)
    won_then_lost = won(edit(new_deal(owner, title="Доллары", amount=Decimal("50.25")), owner, currency="USD"), owner)
    reason_changed = lost(new_deal(teammate, title="Передумал", amount=Decimal("70")), teammate, "Дорого")
    edited = won(new_deal(outsider, title="Правка", amount=Decimal("2000.55")), outsider)
    reassigned = won(new_deal(owner, title="Передана", amount=Decimal("300")), owner)
    moved = won(new_deal(owner, title="Переехала", amount=Decimal("400")), owner)
    gone = won(new_deal(outsider, title="Удалена", amount=Decimal("999")), outsider)
    imported = import_won(head, teammate, Decimal("555"))
    clock.at(OCT20, 15)
    twice = won(twice, owner)  # won again in the month, another week
    won_then_lost = lost(won_then_lost, owner, "Выбрали конкурента")
    reason_changed = edit(reason_changed, teammate, loss_reason=reason("Нет бюджета"))
    edited = edit(edited, outsider, amount=Decimal("2500.00"))
    reassigned = edit(reassigned, head, responsible=teammate)
    moved = deals.deal_change_pipeline(fresh(moved), pipeline=pipeline(GENERAL), by=head)
    moved = deal_move(moved, "Сделка успешна", head, pipeline_name=GENERAL)
    moved = edit(moved, head, amount=Decimal("450"))
    deals.deal_delete(fresh(gone), by=head)
    clock.at(NOV3, 9)
    late = lost(new_deal(outsider, title="Ноябрьская", amount=Decimal("10")), outsider)
    return {"early": early, "twice": twice, "won_then_lost": won_then_lost, "reason_changed": reason_changed,
            "edited": edited, "reassigned": reassigned, "moved": moved, "imported": imported, "late": late}


def figures(user, period: Period, **narrowed) -> dict:
    """Per pipeline: (won count, won sums), (lost count, lost sums), [(loss reason, count)…]."""
    report = selectors.deals_report(User.objects.get(pk=user.pk), replace(ReportParams(period=period), **narrowed))
    return {p.label: ((p.won.count, p.won.sums), (p.lost.count, p.lost.sums), [(r.label, r.count) for r in p.loss_reasons])
            for p in report.pipelines}


def scanned(monkeypatch, user, period: Period, **narrowed) -> dict:
    with monkeypatch.context() as patch:
        patch.setattr(selectors, "_calendar", lambda period: None)
        return figures(user, period, **narrowed)


RUB = "RUB"


def test_october_s_won_and_lost_deals_are_each_deal_once_with_its_current_money(story, head, monkeypatch):
    october = figures(head, OCTOBER)
    # Won in «Холодные»: «Дважды» once, «Доллары», «Правка» at its new amount, «Передана»,
    # «Переехала» (won here before its move) at its new amount, the import; «Удалена» is gone.
    assert october[COLD][0] == (6, {RUB: Decimal("1000.10") + Decimal("2500.00") + 300 + 450 + 555, "USD": Decimal("50.25")})
    # Lost: «Доллары» (won, then lost) and «Передумал» under its new reason.
    assert october[COLD][1] == (2, {RUB: Decimal("70.00"), "USD": Decimal("50.25")})
    assert october[COLD][2] == [("Выбрали конкурента", 1), ("Нет бюджета", 1)]
    assert october[GENERAL][0] == (1, {RUB: Decimal("450.00")})
    assert october == scanned(monkeypatch, head, OCTOBER) == figures(head, OCTOBER_SCANNED)
    assert figures(head, Period(date(2026, 9, 1), date(2026, 9, 30)))[COLD][0] == (1, {RUB: Decimal("100.00")})
    assert figures(head, Period(date(2026, 11, 1), date(2026, 11, 30)))[COLD][1] == (1, {RUB: Decimal("10.00")})


@pytest.mark.parametrize("persona", ["owner", "teammate", "outsider", "head", "crm_admin"])
def test_the_kept_counts_are_the_scan_for_every_persona_and_calendar_period(story, personas, persona, monkeypatch):
    user = personas[persona]
    seen = set()
    for kind, period in calendar_periods():
        assert selectors._calendar(period) == (kind, period.start)
        kept = figures(user, period)
        assert kept == scanned(monkeypatch, user, period), period
        seen |= {count for won_lost in kept.values() for count, _sums in won_lost[:2]}
    assert seen - {0}  # every persona sees some closed deal somewhere


def test_a_manager_sees_his_own_closed_deals_and_the_reassigned_one_goes_to_its_new_owner(story, owner, teammate):
    # The owner: «Дважды», «Доллары» (won and lost); «Передана» is the teammate's now, «Переехала»
    # was won in «Холодные» by the owner but is the owner's still.
    assert figures(owner, OCTOBER)[COLD][:2] == ((3, {RUB: Decimal("1450.10"), "USD": Decimal("50.25")}),
                                                 (1, {"USD": Decimal("50.25")}))
    assert figures(teammate, OCTOBER)[COLD][:2] == ((2, {RUB: Decimal("855.00")}), (1, {RUB: Decimal("70.00")}))


def test_the_department_and_the_responsible_narrow_the_counts_as_the_scan(story, head, org, owner, monkeypatch):
    for narrowed in ({"department": org["group1"].pk}, {"department": org["group2"].pk}, {"responsible": owner.pk}):
        assert figures(head, OCTOBER, **narrowed) == scanned(monkeypatch, head, OCTOBER, **narrowed), narrowed


def test_a_source_is_answered_by_the_scan(story, head):
    with CaptureQueriesContext(connection) as queries:
        figures(head, OCTOBER, source=ref("Source", "Сайт").pk)
    assert not [q for q in queries if "analytics_closedcount" in q["sql"]]


def test_this_month_reads_the_counts_and_not_the_stays(owner, head):
    won(new_deal(owner, amount=Decimal("10")), owner)
    today = timezone.localdate()
    with CaptureQueriesContext(connection) as queries:
        assert figures(head, Period(today.replace(day=1), today))[COLD][0] == (1, {RUB: Decimal("10.00")})
    assert not [q["sql"] for q in queries if "analytics_stay" in q["sql"]]
    assert len([q["sql"] for q in queries if "analytics_closedcount" in q["sql"]]) == 1


def test_a_deal_won_twice_in_a_month_is_one_mark_per_period_and_a_new_week_adds_only_that_week(clock, owner):
    clock.at(OCT2)
    deal = deal_move(won(new_deal(owner, amount=Decimal("10")), owner), "Презентация", owner)
    won(deal, owner)  # the same week: nothing new
    # Four periods, in its pipeline and in any pipeline (the managers' deal won once).
    assert ClosedMark.objects.filter(object_id=deal.pk).count() == 4 * 2
    clock.at(OCT20)
    deal_move(fresh(deal), "Презентация", owner)
    won(deal, owner)
    assert ClosedMark.objects.filter(object_id=deal.pk).count() == 5 * 2
    for scope in (pipeline(COLD).pk, ANY_PIPELINE):
        month = ClosedCount.objects.get(kind="month", start=date(2026, 10, 1), won=True, scope=scope)
        assert (month.n, month.total) == (1, Decimal("10.00"))


def test_an_edit_moves_the_marks_between_buckets_and_a_deletion_empties_them(clock, owner, teammate, head):
    from deals import services as deals

    clock.at(OCT2)
    deal = lost(new_deal(owner, amount=Decimal("10")), owner, "Дорого")
    edit(deal, head, responsible=teammate, loss_reason=reason("Другое"), amount=Decimal("12.5"))
    kept = {(c.owner, c.reason, c.n, c.total) for c in ClosedCount.objects.filter(kind="month")}
    assert kept == {(owner.pk, reason("Дорого").pk, 0, Decimal("0.00")),
                    (teammate.pk, reason("Другое").pk, 1, Decimal("12.50"))}
    assert set(ClosedMark.objects.values_list("owner", "amount")) == {(teammate.pk, Decimal("12.50"))}
    deals.deal_delete(fresh(deal), by=head)
    assert not ClosedMark.objects.exists()
    assert set(ClosedCount.objects.values_list("n", "total")) == {(0, Decimal("0.00"))}
    assert history.closed_differences() == (0, [])


def test_an_edit_of_a_deal_never_closed_costs_one_read_of_its_marks(owner):
    deal = new_deal(owner, amount=Decimal("10"))
    with CaptureQueriesContext(connection) as queries:
        edit(deal, owner, amount=Decimal("20"))
    assert len([q for q in queries if "analytics_closed" in q["sql"]]) == 1


def test_a_winning_move_costs_two_queries_for_the_closed_marks(clock, owner):
    clock.at(OCT2)
    deal = new_deal(owner, amount=Decimal("10"))
    with CaptureQueriesContext(connection) as queries:
        won(deal, owner)
    assert len([q for q in queries if "analytics_closed" in q["sql"]]) == 2  # the marks' insert, the counts' upsert


def test_the_kept_marks_and_counts_are_what_a_rebuild_makes(story):
    assert history.closed_differences() == (0, [])
    kept = sorted(ClosedCount.objects.exclude(n=0).values_list("kind", "start", "scope", "won", "owner", "currency",
                                                                "reason", "n", "total"))
    marks = sorted(ClosedMark.objects.values_list(*history.CLOSED_COLUMNS))
    history.rebuild_closed()
    assert sorted(ClosedCount.objects.values_list("kind", "start", "scope", "won", "owner", "currency", "reason", "n",
                                                  "total")) == kept
    assert sorted(ClosedMark.objects.values_list(*history.CLOSED_COLUMNS)) == marks


def test_rebuild_check_finds_a_wrong_count_and_a_missing_mark_and_the_rebuild_repairs_them(story, owner, capsys):
    call_command("rebuild_analytics", "--check", "--only", "closed")
    assert "закрытые сделки: расхождений нет." in capsys.readouterr().out
    ClosedMark.objects.filter(object_id=story["twice"].pk, kind="month", scope=pipeline(COLD).pk).delete()
    ClosedCount.objects.filter(kind="month", start=date(2026, 10, 1), scope=pipeline(COLD).pk, owner=owner.pk, won=True,
                               currency="RUB").update(n=7)
    with pytest.raises(SystemExit) as exited:
        call_command("rebuild_analytics", "--check", "--only", "closed")
    assert exited.value.code == 1
    out = capsys.readouterr().out
    assert (f"закрытые сделки month с 2026-10-01, воронка {pipeline(COLD).pk}, выиграно, ответственный {owner.pk}, "
            f"валюта RUB, причина —: записано 7 на 1450.10; по пребываниям 2 на 1450.10") in out
    assert "закрытые сделки: отметок сделок расходится 1, счётчиков 1." in out
    call_command("rebuild_analytics", "--only", "closed")
    assert "закрытые сделки: пересобрано" in capsys.readouterr().out
    assert history.closed_differences() == (0, [])
    call_command("rebuild_analytics", "--check")  # everything kept agrees


def test_a_record_s_rebuild_and_a_backdated_history_recount_its_marks(story, head, monkeypatch):
    deal = story["edited"]
    Stay.objects.filter(model=DEAL, object_id=deal.pk).delete()  # its stays lost around the writers
    assert history.closed_differences()[0] == 4 * 2  # its won marks of four periods: none made now
    history.rebuild(DEAL, [deal.pk])
    assert history.closed_differences() == (0, [])
    # Its stays moved to September around the writers (as the demo data spreads its history).
    Stay.objects.filter(model=DEAL, object_id=deal.pk).update(entered_at=timezone.make_aware(datetime(2026, 9, 10, 12), ZONE))
    history.recount([deal.pk], DEAL)
    assert history.closed_differences() == (0, [])
    assert figures(head, OCTOBER)[COLD][0][0] == 5  # «Правка» is September's now
    assert figures(head, OCTOBER) == scanned(monkeypatch, head, OCTOBER)


def test_without_returning_the_writers_keep_the_same_marks_and_counts(clock, monkeypatch, owner, teammate, head):
    """A database without INSERT/DELETE … RETURNING (SQLite before 3.35) reads the deal's marks first."""
    from deals import services as deals

    monkeypatch.setattr(history, "_returning", lambda: False)
    clock.at(OCT2)
    deal = won(new_deal(owner, amount=Decimal("10")), owner)
    import_won(head, teammate, Decimal("20"))
    clock.at(OCT20)
    deal = won(deal_move(deal, "Презентация", owner), owner)
    assert figures(head, OCTOBER)[COLD][0] == (2, {RUB: Decimal("30.00")})
    assert history.closed_differences() == (0, [])
    deals.deal_delete(fresh(deal), by=head)
    assert figures(head, OCTOBER)[COLD][0] == (1, {RUB: Decimal("20.00")})
    assert history.closed_differences() == (0, [])


@pytest.mark.parametrize("persona", ["owner", "teammate", "outsider", "head", "crm_admin"])
def test_my_day_s_won_deals_read_the_counts_with_the_scan_s_figures(story, personas, persona, monkeypatch):
    user = User.objects.get(pk=personas[persona].pk)
    for _kind, period in calendar_periods():
        kept = selectors.won_deals(user, period)
        with monkeypatch.context() as patch:
            patch.setattr(selectors, "_calendar", lambda period: None)
            assert kept == selectors.won_deals(user, period), period


def test_my_day_s_won_deals_of_october_count_a_deal_once_per_pipeline_it_was_won_in(story, head):
    # «Дважды», «Доллары», «Правка», «Передана», the import in «Холодные»; «Переехала» in both.
    assert selectors.won_deals(User.objects.get(pk=head.pk), OCTOBER) == 7


def test_my_day_s_won_deals_read_one_query_of_the_counts(owner, head):
    won(new_deal(owner, amount=Decimal("10")), owner)
    today = timezone.localdate()
    with CaptureQueriesContext(connection) as queries:
        assert selectors.won_deals(User.objects.get(pk=head.pk), Period(today.replace(day=1), today)) == 1
    assert [q["sql"] for q in queries if "analytics_" in q["sql"]] == [
        q["sql"] for q in queries if "analytics_closedcount" in q["sql"]]
    assert not [q for q in queries if "deals_stage" in q["sql"]]


def test_a_stage_whose_meaning_the_supervisor_swaps_in_the_admin_recounts_its_deals_in_the_background(
        story, head, client, monkeypatch, django_capture_on_commit_callbacks):
    from django.urls import reverse

    from accounts.demo import grant_supervisors
    from tests.factories import pipeline_form

    grant_supervisors({"head": head})
    client.force_login(head)
    cold = pipeline(COLD)
    refused, presentation = stage(COLD, "Отказ"), stage(COLD, "Презентация")
    recounted = []
    recount = history.recount_stage
    monkeypatch.setattr(history, "recount_stage", lambda state: recounted.append(state) or recount(state))
    with django_capture_on_commit_callbacks(execute=True):
        # «Отказ» becomes a stage in process and «Презентация» the failure one, in one save of the
        # pipeline's form: the deals that ever entered either are recounted after the commit.
        response = client.post(reverse("admin:deals_pipeline_change", args=[cold.pk]), pipeline_form(cold, edit={
            "Отказ": {"semantics": "process", "name": "Отказ клиента"}, "Презентация": {"semantics": "failure"}}))
    assert response.status_code == 302, response.content.decode()
    # The two stages whose meaning changed, not the others the form saved too.
    assert sorted(recounted) == sorted([str(refused.pk), str(presentation.pk)])
    assert history.closed_differences() == (0, [])
    october = figures(head, OCTOBER)
    # Lost in October now: «Дважды», which entered «Презентация» then; not the deals of «Отказ».
    assert october[COLD][1] == (1, {RUB: Decimal("1000.10")})
    assert october == scanned(monkeypatch, head, OCTOBER)


def test_a_deleted_failure_stage_takes_its_deals_out_of_the_lost_ones(story, head, monkeypatch,
                                                                       django_capture_on_commit_callbacks):
    from deals.models import Deal

    refused = stage(COLD, "Отказ")
    # Its deals moved away first (a stage with deals cannot be deleted); their stays keep its id.
    Deal.objects.filter(stage=refused).update(stage=stage(COLD, "Презентация"))
    with django_capture_on_commit_callbacks(execute=True) as queued:
        refused.delete()
    assert len(queued) == 1
    assert history.closed_differences() == (0, [])
    october = figures(head, OCTOBER)
    assert october[COLD][1] == (0, {})
    assert october == scanned(monkeypatch, head, OCTOBER)


# --- The managers' won deals: each deal once, from the marks of any pipeline ---

def managers_won(user, period: Period, **narrowed) -> dict:
    """{manager: (deals won, {currency: their sum})} of the managers' report."""
    rows = selectors.managers(User.objects.get(pk=user.pk), replace(ReportParams(period=period), **narrowed))
    return {row.name: (row.deals_won, {**({RUB: row.won_sum} if row.won_sum else {}), **row.won_other})
            for row in rows if row.deals_won}


def managers_scanned(monkeypatch, user, period: Period, **narrowed) -> dict:
    with monkeypatch.context() as patch:
        patch.setattr(selectors, "_calendar", lambda period: None)
        return managers_won(user, period, **narrowed)


def test_the_managers_count_a_deal_won_in_two_pipelines_once_with_its_current_money(story, head, owner, teammate,
                                                                                    outsider, monkeypatch):
    october = managers_won(head, OCTOBER)
    # The owner: «Дважды» once, «Доллары» (won, then lost), «Переехала» won in both pipelines: once,
    # at its new amount. The teammate: «Передана» and the import. The outsider: «Правка».
    assert october == {str(owner): (3, {RUB: Decimal("1450.10"), "USD": Decimal("50.25")}),
                       str(teammate): (2, {RUB: Decimal("855.00")}),
                       str(outsider): (1, {RUB: Decimal("2500.00")})}
    assert october == managers_scanned(monkeypatch, head, OCTOBER)


@pytest.mark.parametrize("persona", ["owner", "teammate", "outsider", "head", "crm_admin"])
def test_the_managers_won_deals_read_the_counts_with_the_scan_s_figures(story, personas, persona, org, monkeypatch):
    user = personas[persona]
    for _kind, period in calendar_periods():
        assert managers_won(user, period) == managers_scanned(monkeypatch, user, period), period
    for narrowed in ({"department": org["group1"].pk}, {"responsible": personas["teammate"].pk}):
        assert managers_won(user, OCTOBER, **narrowed) == managers_scanned(monkeypatch, user, OCTOBER, **narrowed)


def test_the_managers_won_deals_of_this_month_read_one_query_of_the_counts(owner, head):
    won(new_deal(owner, amount=Decimal("10")), owner)
    today = timezone.localdate()
    with CaptureQueriesContext(connection) as queries:
        assert managers_won(head, Period(today.replace(day=1), today)) == {str(owner): (1, {RUB: Decimal("10.00")})}
    assert not [q["sql"] for q in queries if "analytics_stay" in q["sql"]]
    assert len([q["sql"] for q in queries if "analytics_closedcount" in q["sql"]]) == 1


def test_a_head_whose_access_differs_by_pipeline_is_answered_by_the_scan(story, head, owner, monkeypatch):
    """Any pipeline's counts mix the pipelines: a role with a level of its own in one of them
    (here: no deals of «Общая» at all) cannot be gated on them, so the stays answer."""
    for role in head.roles.all():
        Permission.objects.create(role=role, entity=Entity.DEAL, action=Action.VIEW, level=Level.NONE,
                                  scope=pipeline(GENERAL).access_scope)
    with CaptureQueriesContext(connection) as queries:
        october = managers_won(head, OCTOBER)
    assert not [q for q in queries if "analytics_closedcount" in q["sql"]]
    # «Переехала» was won in «Холодные» too: still the owner's, at its current amount.
    assert october[str(owner)] == (3, {RUB: Decimal("1450.10"), "USD": Decimal("50.25")})
    assert october == managers_scanned(monkeypatch, head, OCTOBER)
