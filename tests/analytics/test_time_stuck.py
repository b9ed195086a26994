"""The records stuck longer than their state's 90th percentile, across states: on PostgreSQL each
state's oldest open stays are read from the open stays' index apart (a union), then the longest
of all of them are kept — the same list as one read over every state.

Days ago (every stay that ended lasted 1 day, so each 90th percentile is 1 day):
- X1: Не обработан 6→5, Первый звонок 5→4, Квалификация since 4 (no ended stay there: not stuck).
- X2: Не обработан since 8.
- X3: Не обработан 7→6, Первый звонок since 6.
- X4: Не обработан since 3.
"""

import pytest
from django.utils import timezone

from analytics import selectors
from leads.models import Status
from tests.analytics.conftest import backdate, move, new_lead

pytestmark = pytest.mark.django_db


@pytest.fixture
def stuck_leads(owner):
    now = timezone.now()
    x1 = move(move(new_lead(owner, title="X1"), Status.FIRST_CALL, owner), Status.QUALIFICATION, owner)
    backdate(x1, 6, 5, 4, now=now)
    backdate(new_lead(owner, title="X2"), 8, now=now)
    backdate(move(new_lead(owner, title="X3"), Status.FIRST_CALL, owner), 7, 6, now=now)
    backdate(new_lead(owner, title="X4"), 3, now=now)


def test_it_lists_the_longest_stuck_records_of_every_state(stuck_leads, owner, month):
    report = selectors.time_in_status(owner, month)
    assert [(s.title, s.state, round(s.days)) for s in report.stuck] == [
        ("X2", "new", 8), ("X3", "first_call", 6), ("X4", "new", 3)]


def test_it_keeps_the_longest_of_all_states_when_there_are_more_than_it_shows(stuck_leads, owner, month, monkeypatch):
    monkeypatch.setattr(selectors, "STUCK_SHOWN", 2)
    report = selectors.time_in_status(owner, month)
    assert [(s.title, s.state) for s in report.stuck] == [("X2", "new"), ("X3", "first_call")]
