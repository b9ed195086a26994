"""The stuck records' count (issue 15): the open stays per state, owner and entry day
(OpenStayCount), kept by the writers — a move, a move back, an import, a reassignment, a junk and
a reopen, a deletion, a deal's new pipeline — and read by stuck_count: the same number as the
open stays counted, for every persona, whatever the moment."""

from datetime import datetime, time, timedelta

import pytest
from django.core.management import call_command
from django.db.models import F, Q
from django.utils import timezone

from accounts.models import User
from analytics import history, selectors
from analytics.models import OpenStayCount, Stay
from analytics.params import ReportParams
from leads import services
from leads.models import Lead, Status
from tests.analytics.conftest import DEAL, LEAD, backdate, junk, move, new_deal, new_lead
from tests.analytics.test_figures import history as figures  # noqa: F401 (a fixture: the figures' history)
from tests.analytics.test_managers_taken import assign, import_for
from tests.factories import COLD, GENERAL, pipeline

pytestmark = pytest.mark.django_db


def counts(model: str = LEAD) -> dict[tuple, int]:
    """{(scope, state, owner, day): n} as kept, without the rows fallen to 0."""
    return {(scope, state, owner, day): n for scope, state, owner, day, n in OpenStayCount.objects.filter(
        model=model).exclude(n=0).values_list("scope", "state", "owner", "day", "n")}


def days_ago(days: float):
    return timezone.localtime(timezone.now() - timedelta(days=days)).date()


@pytest.fixture
def today():
    return timezone.localdate()


def test_a_move_takes_the_lead_from_its_entry_day_and_puts_it_in_today_s_new_state(owner, today):
    lead = new_lead(owner)
    assert counts() == {(0, Status.NEW, owner.pk, today): 1}
    backdate(lead, 3)  # in «Не обработан» since 3 days ago
    assert counts() == {(0, Status.NEW, owner.pk, days_ago(3)): 1}
    lead = move(lead, Status.FIRST_CALL, owner)
    assert counts() == {(0, Status.FIRST_CALL, owner.pk, today): 1}
    move(lead, Status.NEW, owner)  # and back
    assert counts() == {(0, Status.NEW, owner.pk, today): 1}
    assert history.open_differences() == []


def test_an_import_counts_each_owner_s_new_leads_in_one_upsert(owner, outsider, head, today):
    import_for(head, owner, owner, outsider)
    assert counts() == {(0, Status.NEW, owner.pk, today): 2, (0, Status.NEW, outsider.pk, today): 1}
    assert history.open_differences() == []


def test_a_reassignment_moves_the_open_stay_to_the_new_owner_on_its_own_day(owner, teammate, head):
    lead = new_lead(owner)
    backdate(lead, 5)
    assign(lead, teammate, head)
    assert counts() == {(0, Status.NEW, teammate.pk, days_ago(5)): 1}
    assert history.open_differences() == []


def test_a_junked_and_reopened_lead_is_counted_in_its_current_state(owner, head, today):
    lead = junk(new_lead(owner), owner)
    assert counts() == {(0, Status.JUNK, owner.pk, today): 1}
    move(lead, Status.QUALIFICATION, head)
    assert counts() == {(0, Status.QUALIFICATION, owner.pk, today): 1}
    assert history.open_differences() == []


def test_a_deleted_lead_is_no_longer_counted(owner, head, today):
    kept, gone = new_lead(owner, title="Остаётся"), new_lead(owner, title="Удалён")
    services.lead_delete(Lead.objects.get(pk=gone.pk), by=head)
    assert counts() == {(0, Status.NEW, owner.pk, today): 1}
    assert Stay.objects.filter(object_id=kept.pk).exists()
    assert history.open_differences() == []


def test_a_deal_moved_to_another_pipeline_is_counted_on_the_new_one(owner, head, today):
    from deals import services as deals

    deal = new_deal(owner)
    cold, general = pipeline(COLD), pipeline(GENERAL)
    assert counts(DEAL) == {(cold.pk, str(cold.first_stage().pk), owner.pk, today): 1}
    deals.deal_change_pipeline(deal, pipeline=general, by=head)
    assert counts(DEAL) == {(general.pk, str(general.first_stage().pk), owner.pk, today): 1}
    assert history.open_differences() == []


def test_without_returning_the_writers_keep_the_same_counts(monkeypatch, owner, teammate, head, today):
    """A database without UPDATE … RETURNING (SQLite before 3.35) reads the closed stay first."""
    monkeypatch.setattr(history, "_returning", lambda: False)
    lead = new_lead(owner)
    backdate(lead, 2)
    lead = move(lead, Status.FIRST_CALL, owner)
    assign(lead, teammate, head)
    assert counts() == {(0, Status.FIRST_CALL, teammate.pk, today): 1}
    assert history.open_differences() == []


def test_rebuild_check_finds_a_wrong_count_and_the_rebuild_repairs_it(owner, capsys):
    new_lead(owner)
    OpenStayCount.objects.update(n=F("n") + 1)  # around the writers
    with pytest.raises(SystemExit):
        call_command("rebuild_analytics", "--check", "--only", "open")
    assert "записано 2; по пребываниям 1" in capsys.readouterr().out
    call_command("rebuild_analytics", "--only", "open")
    assert history.open_differences() == []
    call_command("rebuild_analytics", "--check", "--only", "open")  # no SystemExit
    assert "открытые пребывания: расхождений нет." in capsys.readouterr().out


def test_a_record_s_rebuild_counts_its_open_stay_from_its_history(owner, today):
    lead = new_lead(owner)
    backdate(lead, 3)  # its stay moved around the writers, the counts with it (the history says today)
    new_lead(owner, title="Другой")
    assert counts() == {(0, Status.NEW, owner.pk, days_ago(3)): 1, (0, Status.NEW, owner.pk, today): 1}
    history.rebuild(LEAD, [lead.pk])
    assert counts() == {(0, Status.NEW, owner.pk, today): 2}
    assert history.open_differences() == []


# --- stuck_count: the kept counts are the open stays counted ---

def counted(user, model: str, params: ReportParams, since: dict, scope: int) -> int:
    """The open stays counted, as stuck_count did before the kept counts."""
    condition = Q()
    for state, moment in since.items():
        condition |= Q(state=state, entered_at__lt=moment)
    return selectors._stays(user, model, params, pipeline=scope).filter(condition, left_at__isnull=True).count()


def moments():
    """Around each open stay's entry (a second before and after, on its own day) and at midday of
    the days of the history: the moment's day is summed apart from the days before it."""
    zone = timezone.get_default_timezone()
    found = set()
    for at in Stay.objects.filter(left_at__isnull=True).values_list("entered_at", flat=True):
        found |= {at - timedelta(seconds=1), at + timedelta(seconds=1)}
    today = timezone.localdate()
    found |= {timezone.make_aware(datetime.combine(today - timedelta(days=d), time(13, 30)), zone) for d in (0, 1, 5, 36)}
    return sorted(found)


@pytest.mark.usefixtures("figures")
@pytest.mark.parametrize("persona", ["owner", "teammate", "outsider", "head", "crm_admin"])
def test_the_stuck_count_is_the_open_stays_count_for_every_persona_and_moment(personas, persona, month):
    user = User.objects.get(pk=personas[persona].pk)
    lead_states = [str(s) for s in Status]
    cold = pipeline(COLD)
    deal_states = [str(pk) for pk in cold.stages.values_list("pk", flat=True)]
    narrowings = [month, ReportParams(period=month.period, responsible=personas["owner"].pk)]
    checked = 0
    for at in moments():
        for params in narrowings:
            for model, states, scope in ((LEAD, lead_states, 0), (DEAL, deal_states, cold.pk)):
                for since in ({state: at for state in states},
                              {state: at - timedelta(days=index) for index, state in enumerate(states)}):
                    want = counted(user, model, params, since, scope)
                    assert selectors.stuck_count(user, model, params, since, scope=scope) == want, (model, at, since)
                    checked += want
    assert checked or persona in ("outsider",)  # the counts are not all zero


@pytest.mark.usefixtures("figures")
def test_narrowed_by_source_the_open_stays_are_counted(head, month):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import ref

    params = ReportParams(period=month.period, source=ref("Source", "Сайт").pk)
    since = {str(s): timezone.now() for s in Status}
    with CaptureQueriesContext(connection) as queries:
        found = selectors.stuck_count(head, LEAD, params, since)
    assert found == counted(head, LEAD, params, since, 0)
    assert not [q for q in queries if "analytics_openstaycount" in q["sql"]]
