"""Time in status of a calendar week / month / quarter / year reads the ended stays' durations kept
per period (EndedStayCount, analytics.history) — the same medians and 90th percentiles as the scan
of the stays (any other period, a source, a niche) for every persona and filter, after the funnel's
and the deals' stories (moves back and forth, junk and reopen, conversion, reassignment, an import,
deletions, a deal won, lost and moved to another pipeline, across a month and a quarter boundary).
A duration is counted in the tenths of a day the report prints, in the counts and in the scan."""

from dataclasses import replace
from datetime import date, datetime, time, timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from analytics import history, selectors
from analytics.models import EndedStayCount, Stay
from analytics.params import Period, ReportParams
from leads import services
from leads.models import Lead, Status
from tests.analytics.conftest import DEAL, LEAD, OCT2, ZONE, backdate, calendar_periods, move, new_lead
from tests.analytics.test_deals_closed_counts import story as deals_story  # noqa: F401 (a fixture)
from tests.analytics.test_funnel_rollup import scanned
from tests.analytics.test_funnel_rollup import story as leads_story  # noqa: F401 (a fixture)
from tests.analytics.test_managers_taken import assign, import_for
from tests.factories import COLD, GENERAL, pipeline, ref

pytestmark = pytest.mark.django_db


def counts(model: str = LEAD) -> dict[tuple, int]:
    """{(scope, kind, start, state, owner, tenths): n} as kept, without the rows fallen to 0."""
    return {tuple(key): n for *key, n in EndedStayCount.objects.filter(model=model).exclude(n=0).values_list(
        "scope", "kind", "start", "state", "owner", "tenths", "n")}


def times(user, params, model=LEAD):
    report = selectors.time_in_status(user, params, model=model)
    return report.pipeline, [(r.state, r.count, r.median_days, r.p90_days) for r in report.rows], report.stuck_total


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute)), ZONE)


# --- What the writers keep ---

def test_a_stay_ends_in_its_calendar_periods_rounded_to_the_tenth_of_a_day(clock, owner):
    clock.at(OCT2, 9)
    lead = new_lead(owner)
    clock.now = at(OCT2, 14)  # 5 hours: 0.208 of a day → 0.2
    lead = move(lead, Status.FIRST_CALL, owner)
    clock.now = at(date(2026, 10, 5), 14) + timedelta(minutes=36)  # 3 days 36 minutes: 3.025 → 3.0
    lead = move(lead, Status.NEW, owner)
    week, month, quarter, year = date(2026, 9, 28), date(2026, 10, 1), date(2026, 10, 1), date(2026, 1, 1)
    assert counts() == {
        (0, "week", week, "new", owner.pk, 2): 1, (0, "month", month, "new", owner.pk, 2): 1,
        (0, "quarter", quarter, "new", owner.pk, 2): 1, (0, "year", year, "new", owner.pk, 2): 1,
        (0, "week", date(2026, 10, 5), "first_call", owner.pk, 30): 1, (0, "month", month, "first_call", owner.pk, 30): 1,
        (0, "quarter", quarter, "first_call", owner.pk, 30): 1, (0, "year", year, "first_call", owner.pk, 30): 1}
    assert history.ended_differences() == []


def test_a_duration_is_rounded_half_up_as_the_database_rounds_it():
    assert [history.tenths(s) for s in (0, 4319.999, 4320, 8640, 12959, 12960, 86400 * 3 + 36 * 60)] == [
        0, 0, 1, 1, 1, 2, 30]


def test_a_reassignment_moves_the_ended_stays_to_the_new_owner(clock, owner, teammate, head):
    clock.at(OCT2, 9)
    lead = move(new_lead(owner), Status.FIRST_CALL, owner)
    assign(lead, teammate, head)
    assert {key[4] for key in counts()} == {teammate.pk}
    assert history.ended_differences() == []


def test_an_import_and_its_move_count_each_owner_s_ended_stays(owner, outsider, head):
    imported = import_for(head, owner, owner, outsider)
    assert counts() == {}
    for lead in imported:
        move(Lead.objects.get(pk=lead.pk), Status.FIRST_CALL, head)
    per_period = {(kind, owner_id): n for (_s, kind, _start, _state, owner_id, _t), n in counts().items()}
    assert per_period == {(kind, who.pk): n for kind in history.FUNNEL_KINDS for who, n in ((owner, 2), (outsider, 1))}
    assert history.ended_differences() == []


def test_a_deleted_lead_takes_its_ended_stays_away(owner, head):
    kept = move(new_lead(owner, title="Остаётся"), Status.FIRST_CALL, owner)
    gone = move(new_lead(owner, title="Удалён"), Status.FIRST_CALL, owner)
    services.lead_delete(Lead.objects.get(pk=gone.pk), by=head)
    assert sum(counts().values()) == 4  # the kept lead's «Не обработан», in its week, month, quarter and year
    assert kept.pk and history.ended_differences() == []


def test_a_deal_moved_to_another_pipeline_keeps_its_ended_stay_on_the_old_one(owner, head):
    from deals import services as deals
    from tests.analytics.conftest import new_deal

    deal = new_deal(owner)
    cold, general = pipeline(COLD), pipeline(GENERAL)
    deals.deal_change_pipeline(deal, pipeline=general, by=head)
    assert {(scope, state) for scope, _k, _s, state, _o, _t in counts(DEAL)} == {(cold.pk, str(cold.first_stage().pk))}
    assert history.ended_differences() == []


@pytest.mark.usefixtures("leads_story", "deals_story")
def test_the_stories_keep_what_a_rebuild_makes():
    assert history.ended_differences() == []
    kept = sorted(EndedStayCount.objects.exclude(n=0).values_list("model", "scope", "kind", "start", "state", "owner",
                                                                     "tenths", "n"))
    assert kept  # not all zero
    history.rebuild_ended()
    assert sorted(EndedStayCount.objects.values_list("model", "scope", "kind", "start", "state", "owner", "tenths",
                                                     "n")) == kept


def test_without_returning_the_writers_keep_the_same_counts(monkeypatch, clock, owner, teammate, head):
    monkeypatch.setattr(history, "_returning", lambda: False)
    clock.at(OCT2, 9)
    lead = move(new_lead(owner), Status.FIRST_CALL, owner)
    assign(lead, teammate, head)
    assert sum(counts().values()) == 4 and history.ended_differences() == []


def test_a_backdated_history_and_a_record_s_rebuild_recount_its_stays(owner):
    lead = move(new_lead(owner), Status.FIRST_CALL, owner)
    backdate(lead, 6, 2.5)  # «Не обработан» 6 → 2.5 days ago: 3.5 days, around the writers
    assert {key[5] for key in counts()} == {35}
    assert history.ended_differences() == []
    history.rebuild(LEAD, [lead.pk])  # the history says: created and moved just now
    assert {key[5] for key in counts()} == {0}
    assert history.ended_differences() == []


def test_rebuild_check_finds_a_wrong_count_and_the_rebuild_repairs_it(owner, capsys):
    move(new_lead(owner), Status.FIRST_CALL, owner)
    EndedStayCount.objects.filter(kind="month").update(n=F("n") + 1)  # around the writers
    with pytest.raises(SystemExit):
        call_command("rebuild_analytics", "--check", "--only", "ended")
    assert "записано 2; по пребываниям 1" in capsys.readouterr().out
    call_command("rebuild_analytics", "--only", "ended")
    assert history.ended_differences() == []
    call_command("rebuild_analytics", "--check", "--only", "ended")  # no SystemExit
    assert "длительности пребываний: расхождений нет." in capsys.readouterr().out


# --- What the report reads ---

@pytest.mark.usefixtures("leads_story", "deals_story")
@pytest.mark.parametrize("persona", ["owner", "teammate", "outsider", "head", "crm_admin"])
def test_the_kept_durations_are_the_scan_for_every_persona_and_calendar_period(personas, persona, monkeypatch):
    user = User.objects.get(pk=personas[persona].pk)
    compared = 0
    for _kind, period in calendar_periods():
        for model, scope in ((LEAD, None), (DEAL, pipeline(COLD).pk), (DEAL, pipeline(GENERAL).pk)):
            params = ReportParams(period=period, pipeline=scope)
            kept = times(user, params, model)
            assert kept == scanned(monkeypatch, times, user, params, model), (model, period)
            compared += sum(count for _state, count, _m, _p in kept[1])
    assert compared or persona == "teammate"


@pytest.mark.usefixtures("leads_story", "deals_story")
def test_the_kept_durations_are_the_scan_under_every_filter(head, owner, org, monkeypatch):
    filters = [{"responsible": owner.pk}, {"department": org["group2"].pk}, {"department": org["group1"].pk},
               {"source": ref("Source", "Сайт").pk}, {"niche": ref("Niche", "HoReCa").pk}]
    for _kind, period in calendar_periods():
        for narrowed in filters:
            for model in (LEAD, DEAL):
                params = replace(ReportParams(period=period), **narrowed)
                assert times(head, params, model) == scanned(monkeypatch, times, head, params, model), (period, narrowed)


@pytest.mark.usefixtures("leads_story")
def test_the_story_s_october_figures(head):
    """The kept counts' own answers, not only their agreement with the scan."""
    october = dict((state, (n, median, p90)) for state, n, median, p90 in times(
        head, ReportParams(period=Period(date(2026, 10, 1), date(2026, 10, 31))))[1])
    # «Первый звонок» ended twice in October: A's 0 days (moved on at once on 2 October) and C's 21.2
    # (29 September 10:00 → 20 October 15:00: 21 days 5 hours).
    assert october["first_call"] == (2, pytest.approx(10.6), pytest.approx(0 + 0.9 * 21.2))
    # «Не обработан»: what its stays that ended in October say, each rounded to the tenth of a day.
    ended = Stay.objects.filter(model=LEAD, state="new", left_at__gte=at(date(2026, 10, 1), 0),
                                left_at__lt=at(date(2026, 11, 1), 0))
    lengths = [history.tenths((s.left_at - s.entered_at).total_seconds()) / 10 for s in ended]
    assert october["new"] == (len(lengths), pytest.approx(selectors.percentile(lengths, 0.5)),
                              pytest.approx(selectors.percentile(lengths, 0.9)))


@pytest.mark.usefixtures("leads_story")
def test_a_calendar_quarter_reads_the_counts_and_a_source_or_other_dates_the_stays(head):
    quarter = ReportParams(period=Period(date(2026, 10, 1), date(2026, 12, 31)))
    for params, table in [(quarter, "analytics_endedstaycount"),
                          (replace(quarter, source=ref("Source", "Сайт").pk), "analytics_stay"),
                          (ReportParams(period=Period(date(2026, 10, 2), date(2026, 12, 31))), "analytics_stay")]:
        with CaptureQueriesContext(connection) as queries:
            selectors.time_in_status(head, params)
        read = [q["sql"] for q in queries if "PERCENTILE_CONT" in q["sql"].upper() or "endedstaycount" in q["sql"]]
        assert read and all(table in sql for sql in read), (params, read)


def test_counted_percentiles_are_the_percentiles_of_the_values():
    values = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5]
    counted = sorted({v: values.count(v) for v in values}.items())
    fractions = (0, 0.1, 0.5, 0.9, 1)
    total, found = selectors.counted_percentiles(counted, fractions)
    assert total == 11
    assert found == [pytest.approx(selectors.percentile(values, f)) for f in fractions]
    assert found[2] == 4 and found[3] == 6  # 1 1 2 3 3 [4] 5 5 5 [6] 9: the 6th of 11, the 10th
    assert selectors.counted_percentiles([(1, 0), (2, 3), (5, 0)], (0.5,)) == (3, [2])  # rows fallen to 0 are nothing
    assert selectors.counted_percentiles([(1, 0)], (0.5,)) == (0, [None])


@pytest.mark.usefixtures("leads_story", "deals_story")
def test_a_reader_who_sees_no_leads_gets_empty_times_and_no_error(owner):
    """The kept durations, the stuck records and their count run their compiled SQL: a gate that
    opens nothing compiles to no SQL at all (Django's EmptyResultSet), and the report says «none»."""
    from accounts.models import Action, Entity, Level, Permission

    Permission.objects.filter(role__name="Менеджер", entity=Entity.LEAD, action=Action.VIEW).update(level=Level.NONE)
    reader = User.objects.get(pk=owner.pk)
    for params in (ReportParams(period=Period(date(2026, 10, 1), date(2026, 12, 31))),
                   ReportParams(period=Period(date(2026, 10, 2), date(2026, 12, 31)))):
        report = selectors.time_in_status(reader, params)
        assert all(row.count == 0 for row in report.rows) and report.stuck == [] and report.stuck_total == 0
    since = {str(Status.NEW): timezone.now()}
    assert selectors.stuck_count(reader, LEAD, ReportParams(period=calendar_periods()[0][1]), since) == 0
    assert selectors._stuck_records(reader, LEAD, selectors._stays(reader, LEAD, ReportParams(
        period=calendar_periods()[0][1])), since) == []
