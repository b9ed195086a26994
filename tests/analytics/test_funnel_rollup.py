"""The funnel of a calendar week / month / quarter / year reads the rollup (FunnelMark, FunnelCount,
kept by analytics.history as the leads move): it is exactly what the scan of the stays says, for
every persona and filter, after a history that crosses a month and a quarter boundary."""

from datetime import date, datetime, time, timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from analytics import history, selectors
from analytics.models import FunnelCount, FunnelMark, Handover, Stay
from analytics.params import Period, ReportParams
from leads import services
from leads.models import Lead, Status
from tests.analytics.conftest import (
    LEAD,
    NOV3,
    OCT2,
    OCT20,
    SEP29,
    calendar_periods,
    convert,
    junk,
    move,
    new_lead,
)
from tests.factories import ref

pytestmark = pytest.mark.django_db

ZONE = timezone.get_default_timezone()




def _import(by, owner, outsider, status=Status.NEW):
    items = [services.ImportItem(row=n, data={"title": f"Импорт {n}", "source": ref("Source", "Сайт"),
                                              "company_name": f"ООО «Импорт {n}»", "company_phone": f"+7912000001{n}",
                                              "responsible": who}, status=status)
             for n, who in enumerate((owner, outsider))]
    return services.leads_import(items, by=by, source="leads.csv")


@pytest.fixture
def story(clock, owner, teammate, outsider, head):
    """Moves back and forth, «Забраковать» and reopening, a conversion, a reassignment, a source and
    a niche change, an import and its move, deletions — on both sides of 1 October."""
    clock.at(SEP29, 10)
    a = move(move(new_lead(owner, title="A"), Status.FIRST_CALL, owner), Status.QUALIFICATION, owner)
    b = junk(new_lead(owner, title="B", niche="HoReCa"), owner)
    c = move(new_lead(teammate, title="C"), Status.FIRST_CALL, teammate)
    d = new_lead(outsider, title="D", source="Сайт")
    gone = move(new_lead(owner, title="Удалён"), Status.FIRST_CALL, owner)
    g = junk(new_lead(outsider, title="G"), outsider)
    clock.at(OCT2, 11)
    g = move(g, Status.FIRST_CALL, head)  # reopened for good: «Возвращены в работу»
    a = move(move(a, Status.FIRST_CALL, owner), Status.QUALIFICATION, owner)
    b = move(b, Status.QUALIFICATION, head)  # reopened: its reason is gone
    c = services.lead_assign(c, responsible=owner, by=head)
    d = services.lead_update(d, data={"source": ref("Source", "Контур.Компас"), "niche": ref("Niche", "HoReCa")},
                             by=outsider, version=d.version)
    imported = _import(head, owner, outsider)
    e = convert(new_lead(owner, title="E"), owner).lead
    clock.at(OCT20, 15)
    a = junk(a, owner, reason="Дубликат")
    imported[0] = move(imported[0], Status.FIRST_CALL, owner)
    services.lead_delete(gone, by=head)
    c = move(c, Status.QUALIFICATION, owner)
    clock.at(NOV3, 9)
    b = junk(b, owner, reason="Дубликат")
    d = move(d, Status.FIRST_CALL, outsider)
    f = move(new_lead(outsider, title="F"), Status.FIRST_CALL, outsider)
    services.lead_delete(f, by=head)
    return {"a": a, "b": b, "c": c, "d": d, "e": e, "g": g, "imported": imported}


def scanned(monkeypatch, report, *args):
    """`report` as the scan of the stays answers it (the path of any non-calendar period)."""
    with monkeypatch.context() as patch:
        patch.setattr(selectors, "_calendar", lambda period: None)
        return report(*args)


def managers_closed(user, params):
    return [(r.user_id, r.converted, r.junked) for r in selectors.managers(user, params)]


def test_the_story_crosses_the_boundaries():
    assert history.period_start("week", SEP29) == history.period_start("week", OCT2) == date(2026, 9, 28)
    assert history.period_start("quarter", SEP29) != history.period_start("quarter", OCT2)
    assert [(p.start, p.end) for _kind, p in calendar_periods()][:3] == [
        (date(2026, 1, 1), date(2026, 12, 31)), (date(2026, 7, 1), date(2026, 9, 30)),
        (date(2026, 9, 1), date(2026, 9, 30))]


@pytest.mark.parametrize("persona", ["owner", "teammate", "outsider", "head", "crm_admin"])
def test_the_rollup_is_the_scan_for_every_persona_and_calendar_period(story, personas, persona, monkeypatch):
    user = personas[persona]
    for kind, period in calendar_periods():
        params = ReportParams(period=period)
        assert selectors._calendar(period) == (kind, period.start)
        assert selectors.funnel(user, params) == scanned(monkeypatch, selectors.funnel, user, params), period
        assert managers_closed(user, params) == scanned(monkeypatch, managers_closed, user, params), period


def test_the_rollup_is_the_scan_under_every_filter(story, head, owner, org, monkeypatch):
    from dataclasses import replace

    filters = [{"source": ref("Source", "Сайт").pk}, {"source": ref("Source", "Контур.Компас").pk},
               {"niche": ref("Niche", "HoReCa").pk}, {"responsible": owner.pk}, {"department": org["group2"].pk},
               {"department": org["group1"].pk, "source": ref("Source", "Сайт").pk}]
    for _kind, period in calendar_periods():
        for narrowed in filters:
            params = replace(ReportParams(period=period), **narrowed)
            assert selectors.funnel(head, params) == scanned(monkeypatch, selectors.funnel, head, params), (period, narrowed)
            assert managers_closed(head, params) == scanned(monkeypatch, managers_closed, head, params), (period, narrowed)


def test_the_story_s_figures(story, head):
    """The rollup's own answers, not only its agreement with the scan."""
    week = selectors.funnel(head, ReportParams(period=Period(date(2026, 9, 28), date(2026, 10, 4))))
    # A, B, C, D, G, the two imported and E were created (the deleted lead is gone); B was junked
    # again in November: its current reason; G, reopened, is «Возвращены в работу».
    assert week.total == 8
    assert [(r.state, r.entered, r.reached) for r in week.rows] == [
        ("new", 8, 8), ("first_call", 3, 5), ("qualification", 2, 3), ("reconnaissance", 0, 1),
        ("decision_maker", 1, 1), ("converted", 1, 1)]
    assert [(r.label, r.count) for r in week.junk] == [("Дубликат", 1), ("Возвращены в работу", 1)]
    october = selectors.funnel(head, ReportParams(period=Period(date(2026, 10, 1), date(2026, 10, 31))))
    # A entered «Не успешный» on 20 October with «Дубликат»; C counts for the owner it was handed to.
    assert [(r.label, r.count) for r in october.junk] == [("Дубликат", 1)]
    assert october.total == 7  # A, B, C, G and E moved, the imported were created; D was only edited
    september = selectors.funnel(head, ReportParams(period=Period(date(2026, 9, 1), date(2026, 9, 30))))
    assert [(r.label, r.count) for r in september.junk] == [("Дубликат", 1), ("Возвращены в работу", 1)]
    assert september.total == 5
    mine = {r.user_id: (r.converted, r.junked) for r in selectors.managers(head, ReportParams(
        period=Period(date(2026, 10, 1), date(2026, 12, 31))))}
    assert mine[story["a"].responsible_id] == (1, 2)  # E converted; A and B junked in the quarter


def test_the_kept_marks_and_counts_are_what_a_rebuild_makes(story):
    assert history.funnel_differences() == (0, [])
    kept = sorted(FunnelCount.objects.exclude(n=0).values_list("kind", "start", "owner", "source", "niche", "reason",
                                                                "mask", "n"))
    marks = sorted(FunnelMark.objects.values_list("object_id", "kind", "start", "mask"))
    history.rebuild_funnel()
    assert sorted(FunnelCount.objects.values_list("kind", "start", "owner", "source", "niche", "reason", "mask",
                                                  "n")) == kept
    assert sorted(FunnelMark.objects.values_list("object_id", "kind", "start", "mask")) == marks


def test_a_deleted_lead_leaves_no_mark_and_no_count(clock, owner, head):
    clock.at(OCT2)
    lead = move(new_lead(owner), Status.FIRST_CALL, owner)
    assert FunnelMark.objects.filter(object_id=lead.pk).count() == 4
    assert sum(FunnelCount.objects.values_list("n", flat=True)) == 4
    services.lead_delete(lead, by=head)
    assert not FunnelMark.objects.exists()
    assert set(FunnelCount.objects.values_list("n", flat=True)) == {0}
    assert selectors.funnel(head, ReportParams(period=Period(date(2026, 10, 1), date(2026, 10, 31)))).total == 0


def test_an_import_in_a_later_status_marks_that_status(clock, head, owner, outsider):
    clock.at(OCT2)
    leads = _import(head, owner, outsider, status=Status.FIRST_CALL)
    assert {lead.status for lead in leads} == {Status.FIRST_CALL}
    assert set(FunnelMark.objects.values_list("mask", flat=True)) == {history.BITS[Status.FIRST_CALL]}
    report = selectors.funnel(head, ReportParams(period=Period(date(2026, 10, 1), date(2026, 10, 31))))
    assert [(r.entered, r.reached) for r in report.rows[:2]] == [(0, 2), (2, 2)]


def test_this_week_so_far_reads_the_rollup_and_other_periods_the_stays(owner, head):
    today = timezone.localdate()
    monday = today - timedelta(days=today.weekday())
    assert selectors._calendar(Period(monday, today)) == ("week", monday)
    assert selectors._calendar(Period(today.replace(day=1), today))[1] == today.replace(day=1)
    assert selectors._calendar(Period(today - timedelta(days=29), today - timedelta(days=1))) in (None, (
        "month", today - timedelta(days=29)))
    assert selectors._calendar(Period(date(2026, 10, 1), date(2026, 10, 30))) is None  # one day short, in the past
    assert selectors._calendar(Period(date(2026, 10, 2), date(2026, 10, 31))) is None
    assert selectors._calendar(Period(date(2026, 9, 28), date(2026, 10, 4))) == ("week", date(2026, 9, 28))
    assert selectors._calendar(Period(date(2026, 10, 1), date(2026, 12, 31))) == ("quarter", date(2026, 10, 1))
    move(new_lead(owner), Status.FIRST_CALL, owner)
    with CaptureQueriesContext(connection) as queries:
        report = selectors.funnel(User.objects.get(pk=head.pk), ReportParams(period=Period(monday, today)))
    assert report.total == 1 and report.rows[1].entered == 1
    assert not [q["sql"] for q in queries if "analytics_stay" in q["sql"]]
    assert [q["sql"] for q in queries if "analytics_funnelcount" in q["sql"]]


@pytest.mark.parametrize("persona", ["owner", "head"])
def test_the_rollup_costs_the_same_for_3_and_30_leads(clock, personas, persona):
    owner, outsider = personas["owner"], personas["outsider"]
    october = ReportParams(period=Period(date(2026, 10, 1), date(2026, 10, 31)))

    def grow(count):
        for n in range(count):
            who = owner if n % 3 else outsider
            lead = move(new_lead(who, title=f"Лид {n}"), Status.FIRST_CALL, who)
            if n % 3 == 1:
                junk(lead, who)

    def cost():
        user = User.objects.get(pk=personas[persona].pk)
        with CaptureQueriesContext(connection) as queries:
            selectors.funnel(user, october)
            selectors.managers(user, october)
        return len(queries)

    clock.at(OCT2)
    grow(3)
    few = cost()
    grow(27)
    assert cost() == few


def test_a_move_costs_three_queries_for_the_funnel(clock, owner):
    clock.at(OCT2)
    lead = new_lead(owner)
    locked = Lead.objects.get(pk=lead.pk)
    with CaptureQueriesContext(connection) as queries:
        history.moved(locked, owner, Status.NEW, Status.FIRST_CALL)
    funnel = [q["sql"] for q in queries if "analytics_funnel" in q["sql"]]
    assert len(funnel) == 3, funnel  # its marks read, the changed ones written, the counts' upsert
    with CaptureQueriesContext(connection) as queries:  # back to a status entered in these periods already
        history.moved(locked, owner, Status.FIRST_CALL, Status.NEW)
    assert len([q for q in queries if "analytics_funnel" in q["sql"]]) == 1  # the read only


def test_rebuild_check_finds_a_planted_difference_and_the_rebuild_repairs_it(story, capsys):
    call_command("rebuild_analytics", "--check", "--only", "funnel")
    assert "воронка: расхождений нет." in capsys.readouterr().out
    row = FunnelCount.objects.filter(n__gt=0).order_by("pk").first()
    FunnelCount.objects.filter(pk=row.pk).update(n=row.n + 5)
    FunnelMark.objects.filter(pk=FunnelMark.objects.order_by("pk").first().pk).update(mask=0)
    with pytest.raises(SystemExit) as exited:
        call_command("rebuild_analytics", "--check", "--only", "funnel")
    assert exited.value.code == 1
    out = capsys.readouterr().out
    assert f"записано {row.n + 5}; по пребываниям {row.n}" in out
    assert "отметок лидов расходится 2, счётчиков 1." in out  # the planted mark: its wrong row and its missing one
    call_command("rebuild_analytics", "--only", "funnel")
    assert "воронка: пересобрано" in capsys.readouterr().out
    assert history.funnel_differences() == (0, [])
    call_command("rebuild_analytics", "--check")  # the stays and the funnel: nothing differs


def test_a_lost_mark_is_found_by_the_check(story):
    FunnelMark.objects.filter(object_id=story["e"].pk).delete()
    marks, counts = history.funnel_differences()
    assert marks == 4 and counts == []  # the counts still hold it: only the marks differ


def test_a_move_that_hands_the_lead_over_moves_its_stays_and_funnel_and_writes_a_handover(clock, owner, teammate,
                                                                                         head):
    """The status dialog may save the responsible with the move (leads.services.lead_move's data)."""
    clock.at(OCT2)
    lead = move(new_lead(owner), Status.FIRST_CALL, owner)
    clock.at(OCT20)
    lead = services.lead_move(lead, to=Status.QUALIFICATION, by=head, data={"responsible": teammate})
    assert lead.responsible_id == teammate.pk
    assert set(Stay.objects.filter(model=LEAD, object_id=lead.pk).values_list("owner", flat=True)) == {teammate.pk}
    assert list(Handover.objects.filter(model=LEAD, object_id=lead.pk).order_by("at", "pk").values_list(
        "owner", "previous", "by")) == [(owner.pk, None, owner.pk), (teammate.pk, owner.pk, head.pk)]
    assert set(FunnelCount.objects.filter(n__gt=0).values_list("owner", flat=True)) == {teammate.pk}
    assert history.funnel_differences() == (0, [])
    october = ReportParams(period=Period(date(2026, 10, 1), date(2026, 10, 31)))
    assert selectors.funnel(teammate, october).total == 1
    assert selectors.funnel(owner, october).total == 0


def test_a_record_s_rebuild_and_a_backdated_history_recount_its_marks(story, head):
    from tests.analytics.conftest import backdate

    a = story["a"]
    for stay in Stay.objects.filter(model=LEAD, object_id=a.pk):  # its stays moved around the hooks
        Stay.objects.filter(pk=stay.pk).update(entered_at=stay.entered_at - timedelta(days=60))
    assert history.funnel_differences() != (0, [])
    history.rebuild(LEAD, [a.pk])  # its stays from its timeline, its marks and counts from them
    assert history.funnel_differences() == (0, [])
    e = story["e"]  # created, «Выход на ЛПР», «Успешный» on 2 October: now 40, 35 and 3 days before 1 October
    backdate(e, 40, 35, 3, now=timezone.make_aware(datetime.combine(date(2026, 10, 1), time(12)), ZONE))
    assert history.funnel_differences() == (0, [])
    august = selectors.funnel(head, ReportParams(period=Period(date(2026, 8, 1), date(2026, 8, 31))))
    assert (august.total, august.rows[0].entered, august.rows[4].entered) == (1, 1, 1)
    september = selectors.funnel(head, ReportParams(period=Period(date(2026, 9, 1), date(2026, 9, 30))))
    assert september.total == 6 and september.rows[-1].entered == 1
