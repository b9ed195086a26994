"""The managers' «Взято», «Переведено», «Конвертировано» and «Забраковано» of a calendar week /
month / quarter / year come from one kept table (ManagerCount: the projection of TakenCount,
FunnelCount and MoveCount, written by the same writers) in one query: for every persona, calendar
kind and filter they are what the scan of the handovers and the stays says — after moves back and
forth, junk and reopen, a conversion, reassignments after moves (one by one and in bulk), an
import, a deletion and a move by the system."""

from dataclasses import replace
from datetime import date

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from analytics import history, selectors
from analytics.models import ManagerCount
from analytics.params import ReportParams
from leads import services
from leads.models import Lead, Status
from tests.analytics.conftest import NOV3, OCT2, OCT20, OCTOBER, SEP29, calendar_periods, convert, junk, move, new_lead
from tests.analytics.test_managers_taken import assign, import_for

pytestmark = pytest.mark.django_db

FIGURES = ("taken", "moved", "converted", "junked")


def lead(pk):
    return Lead.objects.get(pk=pk)


@pytest.fixture
def story(clock, owner, teammate, outsider, head):
    """September to November: moves there and back, a junk reopened by the head, a conversion, a
    lead handed to the outsider after the owner's and the head's moves, an import, a deletion, a
    move by the system, a bulk reassignment, the reopened lead handed to the owner in November."""
    clock.at(SEP29, 10)
    there_and_back = move(new_lead(owner, title="Туда и обратно"), Status.FIRST_CALL, owner)
    clock.at(OCT2, 11)
    there_and_back = move(move(there_and_back, Status.QUALIFICATION, owner), Status.FIRST_CALL, owner)
    reopened = junk(move(new_lead(teammate, title="Брак и возврат"), Status.FIRST_CALL, teammate), teammate)
    reopened = move(reopened, Status.QUALIFICATION, head)  # reopened by the head: it was junked in October still
    convert(new_lead(owner, title="Конвертирован"), owner)
    handed = move(move(new_lead(owner, title="Передан после переводов"), Status.FIRST_CALL, owner),
                  Status.QUALIFICATION, head)
    handed = assign(handed, outsider, head)  # its moves stay the movers', on the outsider's lead now
    import_for(head, owner, outsider)
    gone = junk(move(new_lead(outsider, title="Удалён"), Status.FIRST_CALL, outsider), outsider)
    services.lead_delete(lead(gone.pk), by=head)
    by_the_system = services.lead_move(new_lead(teammate, title="Системный"), to=Status.FIRST_CALL, by=None)
    clock.at(OCT20, 15)
    there_and_back = move(lead(there_and_back.pk), Status.RECONNAISSANCE, owner)
    services.leads_bulk_assign([lead(there_and_back.pk), lead(by_the_system.pk)], responsible=teammate, by=head)
    clock.at(NOV3, 9)
    junk(move(lead(handed.pk), Status.RECONNAISSANCE, outsider), outsider)
    assign(reopened, owner, head)


def figures(user, params: ReportParams) -> dict[int, tuple]:
    rows = selectors.managers(User.objects.get(pk=user.pk), params)
    return {r.user_id: tuple(getattr(r, f) for f in FIGURES) for r in rows if any(getattr(r, f) for f in FIGURES)}


def scanned(monkeypatch, user, params: ReportParams) -> dict[int, tuple]:
    with monkeypatch.context() as patch:
        patch.setattr(selectors, "_calendar", lambda period: None)
        return figures(user, params)


def test_october_s_figures_per_manager(story, owner, teammate, outsider, head):
    # (taken, moved, converted, junked). The owner: taken «Конвертирован», «Передан после переводов»
    # and his import («Туда и обратно» was his in September); moved 3 on «Туда и обратно», 2 to «Выход
    # на ЛПР» and «Успешный», 1 on «Передан…»; «Брак и возврат», junked in October, is his since
    # November (a lead's figures follow its current owner, as its stays do). The teammate: taken his
    # two and «Туда и обратно» back; the system's move is no one's. The head: moved 2 (a reopen, a
    # move of «Передан…»). The outsider: taken «Передан…» and his import; his deleted lead is gone
    # with its figures.
    assert figures(head, ReportParams(period=OCTOBER)) == {
        owner.pk: (3, 6, 1, 1), teammate.pk: (3, 2, 0, 0), head.pk: (0, 2, 0, 0), outsider.pk: (2, 0, 0, 0)}


@pytest.mark.parametrize("persona", ["owner", "teammate", "outsider", "head", "crm_admin"])
def test_the_kept_figures_are_the_scan_for_every_persona_and_calendar_period(story, personas, persona, monkeypatch):
    user = personas[persona]
    for kind, period in calendar_periods():
        params = ReportParams(period=period)
        assert selectors._calendar(period) == (kind, period.start)
        assert figures(user, params) == scanned(monkeypatch, user, params), period


@pytest.mark.parametrize("narrowed", ["group1", "group2", "responsible"])
def test_a_department_or_responsible_filter_narrows_the_kept_figures_as_the_scan(story, org, owner, head,
                                                                                   narrowed, monkeypatch):
    filters = {"responsible": owner.pk} if narrowed == "responsible" else {"department": org[narrowed].pk}
    for _kind, period in calendar_periods():
        params = replace(ReportParams(period=period), **filters)
        assert figures(head, params) == scanned(monkeypatch, head, params), period
    # His leads only: his moves on «Передан…» and «Туда и обратно», the outsider's and the teammate's
    # leads now, are not in it.
    assert figures(head, replace(ReportParams(period=OCTOBER), responsible=owner.pk)) == {owner.pk: (3, 2, 1, 1)}


def test_the_kept_rows_are_the_projection_of_the_three_counts(story):
    assert history.managers_differences() == []
    kept = sorted(ManagerCount.objects.values_list(*history.MANAGER_KEY, *history.MANAGER_COUNTED))
    history.rebuild_managers()
    assert sorted(ManagerCount.objects.values_list(*history.MANAGER_KEY, *history.MANAGER_COUNTED)) == [
        row for row in kept if any(row[4:])]
    # The system's move is on no one's row.
    assert not ManagerCount.objects.filter(by=0).exclude(moved=0).exists()


def test_a_calendar_period_reads_the_figures_in_one_query_from_the_kept_table(story, head):
    with CaptureQueriesContext(connection) as queries:
        selectors.managers(User.objects.get(pk=head.pk), ReportParams(period=OCTOBER))
    sql = [q["sql"] for q in queries]
    assert len([q for q in sql if "analytics_managercount" in q]) == 1
    assert not [q for q in sql if any(t in q for t in ("analytics_takencount", "analytics_funnelcount",
                                                       "analytics_movecount", "analytics_handover"))]
    # The won deals read the closed deals' counts of any pipeline: no stay is scanned at all.
    assert not [q for q in sql if "analytics_stay" in q]
    assert len([q for q in sql if "analytics_closedcount" in q]) == 1


def test_a_source_filter_reads_the_three_counts_as_before(story, head, monkeypatch):
    from tests.factories import ref

    params = ReportParams(period=OCTOBER, source=ref("Source", "Контур.Компас").pk)
    with CaptureQueriesContext(connection) as queries:
        found = figures(head, params)
    assert not [q for q in queries if "analytics_managercount" in q["sql"]]
    assert found == scanned(monkeypatch, head, params)
    assert found  # the story's card-made leads are of this source


def upserts(write) -> int:
    with CaptureQueriesContext(connection) as queries:
        write()
    return len([q for q in queries if "analytics_managercount" in q["sql"]])


def test_a_write_adds_to_the_kept_rows_in_one_upsert(clock, owner, head):
    clock.at(OCT2)
    made = []
    assert upserts(lambda: made.append(new_lead(owner))) == 1  # his «взято»
    assert upserts(lambda: made.append(move(made[0], Status.FIRST_CALL, head))) == 1  # the head's move
    # The owner's «забраковано» and the head's move: both at the end of the service's transaction.
    assert upserts(lambda: junk(made[1], head)) == 1
    month = ManagerCount.objects.filter(kind="month", start=date(2026, 10, 1))
    assert sorted(month.values_list("owner", "by", *FIGURES)) == [(owner.pk, 0, 1, 0, 0, 1),
                                                                 (owner.pk, head.pk, 0, 2, 0, 0)]


def test_a_deletion_takes_the_lead_s_figures_away(clock, owner, head):
    clock.at(OCT2)
    gone = junk(move(new_lead(owner), Status.FIRST_CALL, head), head)
    assert figures(head, ReportParams(period=OCTOBER)) == {owner.pk: (1, 0, 0, 1), head.pk: (0, 2, 0, 0)}
    services.lead_delete(lead(gone.pk), by=head)
    assert figures(head, ReportParams(period=OCTOBER)) == {}
    assert set(ManagerCount.objects.values_list(*FIGURES)) == {(0, 0, 0, 0)}  # rows at 0 stay


def test_rebuild_check_finds_a_wrong_row_and_the_rebuild_repairs_it(story, owner, capsys):
    call_command("rebuild_analytics", "--check", "--only", "managers")
    assert "менеджеры: расхождений нет." in capsys.readouterr().out
    ManagerCount.objects.filter(kind="month", start=date(2026, 10, 1), owner=owner.pk, by=0).update(taken=9)
    with pytest.raises(SystemExit) as exited:
        call_command("rebuild_analytics", "--check", "--only", "managers")
    assert exited.value.code == 1
    out = capsys.readouterr().out
    assert (f"менеджеры month с 2026-10-01, ответственный {owner.pk} (взято, переведено, конвертировано, "
            f"забраковано): записано (9, 0, 1, 1); по счётчикам (3, 0, 1, 1)") in out
    assert "менеджеры: счётчиков расходится 1." in out
    call_command("rebuild_analytics", "--only", "managers")
    assert "менеджеры: пересобрано" in capsys.readouterr().out
    assert history.managers_differences() == []
    call_command("rebuild_analytics", "--check")  # everything kept agrees


@pytest.mark.parametrize("only", ["funnel", "taken", "sources"])
def test_a_rebuild_of_a_projected_count_rebuilds_the_managers_after_it(story, owner, only, capsys):
    ManagerCount.objects.filter(kind="year", owner=owner.pk).delete()
    call_command("rebuild_analytics", "--only", only)
    assert "менеджеры: пересобрано" in capsys.readouterr().out
    assert history.managers_differences() == []
