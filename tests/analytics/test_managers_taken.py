"""The managers' «Взято в работу» of a calendar week / month / quarter / year reads the counts kept
per period (TakenMark, TakenCount, analytics.history): a lead handed to a manager twice in a month
is one lead of his, as the scan of the handovers (any other period) counts it — for every persona,
after creations, reassignments there and back, an import and a deletion."""

from datetime import date, datetime

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from analytics import history, selectors
from analytics.models import TakenCount, TakenMark
from analytics.params import Period, ReportParams
from leads import services
from leads.models import Lead
from tests.analytics.conftest import NOV3, OCT2, OCT20, OCTOBER, SEP29, calendar_periods, new_lead
from tests.factories import ref

pytestmark = pytest.mark.django_db

ZONE = timezone.get_default_timezone()
# Not one calendar period: the scan of the handovers answers it.
OCTOBER_SCANNED = Period(date(2026, 9, 30), date(2026, 10, 31))


def assign(lead, to, by):
    return services.lead_assign(Lead.objects.get(pk=lead.pk), responsible=to, by=by)


def import_for(by, *owners):
    items = [services.ImportItem(row=n, data={"title": f"Импорт {n}", "source": ref("Source", "Сайт"),
                                              "company_name": f"ООО «Импорт {n}»", "company_phone": f"+7912000002{n}",
                                              "responsible": who})
             for n, who in enumerate(owners)]
    return services.leads_import(items, by=by, source="leads.csv")


@pytest.fixture
def story(clock, owner, teammate, outsider, head):
    """In October: a lead of the owner handed to the teammate and back (twice his in one month), a
    lead created for the teammate and handed to the owner, an import for the owner and the
    outsider, the outsider's lead deleted; September and November around it."""
    clock.at(SEP29, 10)
    early = new_lead(owner, title="Сентябрьский")
    clock.at(OCT2, 11)
    there_and_back = new_lead(owner, title="Туда и обратно")
    there_and_back = assign(there_and_back, teammate, head)
    handed = new_lead(teammate, title="Передан")
    imported = import_for(head, owner, outsider)
    gone = new_lead(outsider, title="Удалён")
    clock.at(OCT20, 15)
    there_and_back = assign(there_and_back, owner, head)
    handed = assign(handed, owner, head)
    services.lead_delete(Lead.objects.get(pk=gone.pk), by=head)
    clock.at(NOV3, 9)
    early = assign(early, teammate, head)
    return {"early": early, "there_and_back": there_and_back, "handed": handed, "imported": imported}


def taken(user, period: Period) -> dict[int, int]:
    return {r.user_id: r.taken for r in selectors.managers(User.objects.get(pk=user.pk), ReportParams(period=period))
            if r.taken}


def scanned(monkeypatch, user, period: Period) -> dict[int, int]:
    with monkeypatch.context() as patch:
        patch.setattr(selectors, "_calendar", lambda period: None)
        return taken(user, period)


def test_a_lead_handed_to_a_manager_twice_in_a_month_is_one_lead_of_his(story, owner, teammate, outsider, head):
    # The owner: «Туда и обратно» (created, then back on the 20th), «Передан», his import.
    # The teammate: «Туда и обратно» (on the 2nd), «Передан» (created for him). The outsider: his
    # import; his deleted lead is gone.
    assert taken(head, OCTOBER) == {owner.pk: 3, teammate.pk: 2, outsider.pk: 1}
    assert taken(head, OCTOBER_SCANNED) == {owner.pk: 3, teammate.pk: 2, outsider.pk: 1}
    assert taken(head, Period(date(2026, 9, 1), date(2026, 9, 30))) == {owner.pk: 1}
    assert taken(head, Period(date(2026, 11, 1), date(2026, 11, 30))) == {teammate.pk: 1}
    # The week of 28 September crosses the quarter: «Сентябрьский» and the 2 October handovers.
    assert taken(head, Period(date(2026, 9, 28), date(2026, 10, 4))) == {owner.pk: 3, teammate.pk: 2, outsider.pk: 1}
    # The year: each lead once per receiver, whenever it came back.
    assert taken(head, Period(date(2026, 1, 1), date(2026, 12, 31))) == {owner.pk: 4, teammate.pk: 3, outsider.pk: 1}


@pytest.mark.parametrize("persona", ["owner", "teammate", "outsider", "head", "crm_admin"])
def test_the_kept_counts_are_the_scan_for_every_persona_and_calendar_period(story, personas, persona, monkeypatch):
    user = personas[persona]
    for kind, period in calendar_periods():
        assert selectors._calendar(period) == (kind, period.start)
        assert taken(user, period) == scanned(monkeypatch, user, period), period


def test_a_manager_sees_only_his_own_taken(story, owner, outsider):
    assert taken(owner, OCTOBER) == {owner.pk: 3}
    assert taken(outsider, OCTOBER) == {outsider.pk: 1}


def test_the_department_filter_narrows_the_kept_counts_as_the_scan(story, head, org, owner, monkeypatch):
    from dataclasses import replace

    for narrowed in ({"department": org["group1"].pk}, {"department": org["group2"].pk}, {"responsible": owner.pk}):
        params = replace(ReportParams(period=OCTOBER), **narrowed)
        kept = {r.user_id: r.taken for r in selectors.managers(head, params) if r.taken}
        with monkeypatch.context() as patch:
            patch.setattr(selectors, "_calendar", lambda period: None)
            assert kept == {r.user_id: r.taken for r in selectors.managers(head, params) if r.taken}, narrowed


def test_a_deleted_lead_leaves_no_mark_and_no_count(clock, owner, teammate, head):
    clock.at(OCT2)
    lead = assign(new_lead(owner), teammate, head)
    assert TakenMark.objects.filter(object_id=lead.pk).count() == 8  # two receivers × four periods
    assert taken(head, OCTOBER) == {owner.pk: 1, teammate.pk: 1}
    services.lead_delete(Lead.objects.get(pk=lead.pk), by=head)
    assert not TakenMark.objects.exists()
    assert set(TakenCount.objects.values_list("n", flat=True)) == {0}
    assert taken(head, OCTOBER) == {}
    assert [r.user_id for r in selectors.managers(head, ReportParams(period=OCTOBER)) if r.user_id == teammate.pk] == []


def test_an_import_marks_each_lead_once_in_one_insert(clock, head, owner, outsider):
    clock.at(OCT2)
    with CaptureQueriesContext(connection) as queries:
        import_for(head, owner, owner, outsider)
    assert len([q for q in queries if "analytics_takenmark" in q["sql"]]) == 1
    assert len([q for q in queries if "analytics_takencount" in q["sql"]]) == 1
    assert taken(head, OCTOBER) == {owner.pk: 2, outsider.pk: 1}


def test_a_handover_already_marked_adds_nothing(clock, owner, teammate, head):
    clock.at(OCT2)
    lead = assign(new_lead(owner), teammate, head)
    clock.at(OCT20)
    assign(lead, owner, head)
    # Back to the owner in the same week? No: another week, so only that week's mark and count are new.
    assert TakenCount.objects.get(kind="month", start=date(2026, 10, 1), owner=owner.pk).n == 1
    assert TakenCount.objects.get(kind="week", start=date(2026, 10, 19), owner=owner.pk).n == 1
    assert TakenMark.objects.filter(object_id=lead.pk, owner=owner.pk).count() == 5


def test_the_kept_marks_and_counts_are_what_a_rebuild_makes(story):
    assert history.taken_differences() == (0, [])
    kept = sorted(TakenCount.objects.exclude(n=0).values_list("kind", "start", "owner", "n"))
    marks = sorted(TakenMark.objects.values_list("object_id", "owner", "kind", "start"))
    history.rebuild_taken()
    assert sorted(TakenCount.objects.values_list("kind", "start", "owner", "n")) == kept
    assert sorted(TakenMark.objects.values_list("object_id", "owner", "kind", "start")) == marks


def test_rebuild_check_finds_a_missing_and_an_extra_mark_and_the_rebuild_repairs_them(story, owner, capsys):
    call_command("rebuild_analytics", "--check", "--only", "taken")
    assert "взято в работу: расхождений нет." in capsys.readouterr().out
    TakenMark.objects.filter(object_id=story["handed"].pk, owner=owner.pk, kind="month").delete()
    TakenMark.objects.create(object_id=story["early"].pk, owner=owner.pk, kind="month", start=date(2026, 12, 1))
    TakenCount.objects.filter(kind="month", start=date(2026, 10, 1), owner=owner.pk).update(n=7)
    with pytest.raises(SystemExit) as exited:
        call_command("rebuild_analytics", "--check", "--only", "taken")
    assert exited.value.code == 1
    out = capsys.readouterr().out
    assert f"взято в работу month с 2026-10-01, ответственный {owner.pk}: записано 7; по передачам 3" in out
    assert "взято в работу: отметок расходится 2, счётчиков 1." in out
    call_command("rebuild_analytics", "--only", "taken")
    assert "взято в работу: пересобрано" in capsys.readouterr().out
    assert history.taken_differences() == (0, [])
    call_command("rebuild_analytics", "--check")  # everything kept agrees


def test_a_record_s_rebuild_and_a_backdated_history_recount_its_marks(story, owner, teammate, outsider, head):
    from analytics.models import Handover

    lead = story["handed"]
    Handover.objects.filter(object_id=lead.pk).delete()  # its handovers lost around the writers
    assert history.taken_differences()[0] == 8  # its marks of two receivers × four periods: none made now
    history.rebuild(history.LEAD, [lead.pk])  # its handovers from its timeline, its marks and counts from them
    assert history.taken_differences() == (0, [])
    # Its handovers moved to September around the writers (as the demo data spreads its history).
    Handover.objects.filter(object_id=lead.pk).update(at=timezone.make_aware(datetime(2026, 9, 10, 12), ZONE))
    history.recount([lead.pk])
    assert history.taken_differences() == (0, [])
    # «Передан» is no longer October's: the owner keeps «Туда и обратно» and his import, the teammate the first.
    assert taken(head, OCTOBER) == {owner.pk: 2, teammate.pk: 1, outsider.pk: 1}


def test_a_creation_costs_two_queries_for_the_taken_marks(clock, owner):
    clock.at(OCT2)
    with CaptureQueriesContext(connection) as queries:
        new_lead(owner)
    assert len([q for q in queries if "analytics_taken" in q["sql"]]) == 2  # the marks' insert, the counts' upsert


def test_this_month_reads_the_counts_and_not_the_handovers(owner, head):
    today = timezone.localdate()
    new_lead(owner)
    with CaptureQueriesContext(connection) as queries:
        assert taken(head, Period(today.replace(day=1), today)) == {owner.pk: 1}
    assert not [q["sql"] for q in queries if "analytics_handover" in q["sql"]]
    # The managers' counts kept per period (ManagerCount: TakenCount's projection among others).
    assert [q["sql"] for q in queries if "analytics_managercount" in q["sql"]]


def test_without_returning_the_writers_keep_the_same_marks_and_counts(clock, monkeypatch, owner, teammate, head):
    """A database without INSERT/DELETE … RETURNING (SQLite before 3.35) reads the lead's marks first."""
    monkeypatch.setattr(history, "_returning", lambda: False)
    clock.at(OCT2)
    lead = assign(new_lead(owner), teammate, head)
    import_for(head, owner)
    clock.at(OCT20)
    assign(lead, owner, head)
    assert taken(head, OCTOBER) == {owner.pk: 2, teammate.pk: 1}
    assert history.taken_differences() == (0, [])
    services.lead_delete(Lead.objects.get(pk=lead.pk), by=head)
    assert taken(head, OCTOBER) == {owner.pk: 1}
    assert history.taken_differences() == (0, [])
