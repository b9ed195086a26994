"""The touches' counts per responsible and day (tasks_app.touch_counts), which the managers' report
sums instead of reading the touches: every service that changes a touch keeps them equal to what
the tasks say, and the figures read from them are the tasks' — due, done, and overdue now."""

from datetime import datetime, time, timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from leads import services as lead_services
from tasks_app import services, touch_counts
from tasks_app.models import TouchDay
from tests.factories import LeadFactory, UserFactory

pytestmark = pytest.mark.django_db


def _call(responsible, lead, deadline, by=None):
    return services.task_create(data={"kind": "call", "title": "Звонок", "responsible": responsible,
                                      "deadline": deadline}, by=by or responsible, records=[lead] if lead else [])


def _today_at(hour: int) -> datetime:
    return timezone.make_aware(datetime.combine(timezone.localdate(), time(hour)))


def _window():
    today = timezone.localdate()
    return today - timedelta(days=10), today + timedelta(days=40)


@pytest.fixture
def reader(db):
    """Who reads the counts: a superuser, whose level opens every touch."""
    return UserFactory(username="reader", is_superuser=True)


def _figures(reader, *people):
    return {pk: rest for pk, *rest in touch_counts.figures(reader, set(people) if people else None, *_window())}


def test_every_change_of_a_touch_keeps_its_counts_with_the_tasks(owner, teammate, head, reader):
    lead, other = LeadFactory(responsible=owner), LeadFactory(responsible=owner)
    now = timezone.now()
    call = _call(owner, lead, now + timedelta(days=2))
    assert touch_counts.differences() == []
    assert _figures(reader, owner.pk) == {owner.pk: [1, 0, 0]}

    call = services.task_set_deadline(call, now - timedelta(days=1), by=owner)  # moved into the past: overdue
    assert touch_counts.differences() == [] and _figures(reader, owner.pk) == {owner.pk: [1, 0, 1]}

    call = services.task_update(call, data={"responsible": teammate}, by=owner)  # handed over
    assert touch_counts.differences() == [] and owner.pk not in _figures(reader, owner.pk, teammate.pk)

    call = services.task_transition(call, "complete", by=teammate)
    assert touch_counts.differences() == []
    assert _figures(reader, teammate.pk)[teammate.pk][1] == 1  # done today

    call = services.task_transition(call, "renew", by=owner)  # back to work
    assert touch_counts.differences() == [] and _figures(reader, teammate.pk)[teammate.pk][1] == 0

    services.task_bind(call, [other], by=owner)
    services.task_unbind(call, lead, by=owner)
    assert touch_counts.differences() == [] and teammate.pk in _figures(reader)
    services.task_unbind(call, other, by=owner)  # bound to nothing: a task, no touch
    assert touch_counts.differences() == [] and _figures(reader) == {}

    plain = _call(owner, None, now + timedelta(days=1))
    services.task_bind(plain, [lead], by=owner)  # a task becomes a touch
    assert touch_counts.differences() == [] and _figures(reader)[owner.pk][0] == 1

    services.task_delete(plain, by=head)
    assert touch_counts.differences() == [] and _figures(reader) == {}


def test_a_deleted_lead_takes_its_touches_out_of_the_counts(owner, head, reader):
    lead = LeadFactory(responsible=owner)
    _call(owner, lead, timezone.now() + timedelta(days=1))
    lead_services.lead_delete(lead, by=head)  # the task stays, bound to nothing
    assert touch_counts.differences() == [] and _figures(reader) == {}


def test_the_figures_count_today_s_touches_overdue_only_before_now(owner, teammate, reader, monkeypatch):
    now = _today_at(12)  # noon: half an hour either side is still today, whenever the test runs
    monkeypatch.setattr(timezone, "now", lambda: now)
    lead = LeadFactory(responsible=owner)
    _call(owner, lead, now - timedelta(minutes=30))  # today, passed: overdue
    _call(owner, lead, now + timedelta(minutes=30))  # today, still ahead
    _call(owner, lead, now - timedelta(days=3))  # earlier, not done: overdue (when in the month)
    done = _call(owner, lead, now - timedelta(days=2))
    services.task_transition(done, "complete", by=owner)
    _call(teammate, LeadFactory(responsible=teammate), now + timedelta(days=5))
    start = (now - timedelta(days=3)).date()
    end = start + timedelta(days=30)
    found = {pk: rest for pk, *rest in touch_counts.figures(reader, {owner.pk, teammate.pk}, start, end)}
    # owner: four due (the done one too), one done today, two overdue; teammate: one due ahead.
    assert found == {owner.pk: [4, 1, 2], teammate.pk: [1, 0, 0]}
    assert touch_counts.figures(teammate, {teammate.pk}, start, end) == [(teammate.pk, 1, 0, 0)]
    assert touch_counts.figures(reader, set(), start, start) == []
    # A manager's level opens his own touches, not a colleague's: the counts do not answer him.
    assert touch_counts.figures(owner, {owner.pk, teammate.pk}, start, end) is None


def test_recount_touches_finds_a_drift_and_rebuilds(owner, capsys):
    _call(owner, LeadFactory(responsible=owner), timezone.now() + timedelta(days=1))
    TouchDay.objects.update(planned=5)
    with pytest.raises(SystemExit) as exit_:
        call_command("recount_touches", "--check")
    assert exit_.value.code == 1 and "по задачам срок 1" in capsys.readouterr().out
    call_command("recount_touches")
    assert touch_counts.differences() == []
    call_command("recount_touches", "--check")
    assert "Расхождений нет." in capsys.readouterr().out


def test_the_managers_report_counts_the_touches_as_reading_them_does_for_every_persona(personas):
    from analytics import selectors
    from analytics.params import Period

    owner, teammate, outsider, head = (personas[k] for k in ("owner", "teammate", "outsider", "head"))
    now = timezone.now()
    for who, days in ((owner, -3), (owner, 2), (teammate, -1), (outsider, 4), (head, 1)):
        _call(who, LeadFactory(responsible=who), now + timedelta(days=days))
    services.task_transition(_call(teammate, LeadFactory(responsible=teammate), now - timedelta(days=2)), "complete",
                             by=teammate)
    # A manager who watches a colleague's call sees that one touch of hers, not all of them.
    watched = _call(outsider, LeadFactory(responsible=outsider), now - timedelta(days=1), by=head)
    services.task_update(watched, data={}, observers=[owner], by=head)
    today = timezone.localdate()
    period = Period(today - timedelta(days=10), today + timedelta(days=30))
    for name, user in personas.items():
        people = selectors._people(user)
        kept = sorted(selectors._touch_counts(user, people, period))
        assert kept == sorted(tuple(row) for row in selectors._touches_read(user, people, period)), name
        assert kept, name  # each persona sees some


def test_the_migration_counts_the_touches_there_are(owner, teammate):
    from importlib import import_module
    from types import SimpleNamespace

    from django.apps import apps
    from django.db import connection

    from tasks_app.models import TouchMark

    now = timezone.now()
    _call(owner, LeadFactory(responsible=owner), now + timedelta(days=1))
    services.task_transition(_call(teammate, LeadFactory(responsible=teammate), now - timedelta(days=2)), "complete",
                             by=teammate)
    _call(owner, None, now)  # bound to nothing: no touch
    kept = sorted(TouchDay.objects.values_list("responsible", "day", "planned", "open", "done"))
    TouchDay.objects.all().delete()
    TouchMark.objects.all().delete()

    import_module("tasks_app.migrations.0004_touch_counts").fill(apps, SimpleNamespace(connection=connection))
    assert sorted(TouchDay.objects.values_list("responsible", "day", "planned", "open", "done")) == kept
    assert len(kept) == 3 and touch_counts.differences() == []
