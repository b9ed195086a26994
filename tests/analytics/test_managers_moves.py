"""The managers' «Переводов статуса» comes from the moves per day kept by the writers
(analytics.source_counts.MoveCount): for every persona and period it must say what counting the
stays says — after moves by several users on two months, a reassignment, a source change, a
deletion."""

from datetime import timedelta

import pytest
from django.db.models import Count
from django.utils import timezone

from accounts.models import User
from analytics import selectors, source_counts
from analytics.params import Period, ReportParams
from leads import services
from leads.models import Lead, Status
from tests.analytics.conftest import junk, move, new_lead
from tests.analytics.test_sources_rollup import _months, last_month
from tests.factories import ref

pytestmark = pytest.mark.django_db


def counted_from_the_stays(user, params) -> dict[int, int]:
    """What the report counted before the rollup: the stays the moves opened."""
    people = selectors._people(user)
    stays = selectors._entered(selectors._stays(user, selectors.LEAD, params), params.period).exclude(moved_from="")
    if people is not None:
        stays = stays.filter(entered_by__in=people)
    return {who: n for who, n in stays.values("entered_by").annotate(n=Count("pk")).values_list("entered_by", "n")
            if who is not None}


def assert_moves_are_the_stays(personas, extra=()):
    previous, this = _months()
    today = timezone.localdate()
    periods = [Period(today, today), Period(today - timedelta(days=6), today), previous, this,
               Period(previous.start + timedelta(days=5), today)]
    for persona, user in personas.items():
        for period in periods:
            for narrowed in ({}, *extra):
                fresh = User.objects.get(pk=user.pk)
                params = ReportParams(period=period, **narrowed)
                people = selectors._people(fresh)
                assert selectors._moves(fresh, params, people) == counted_from_the_stays(fresh, params), \
                    (persona, period, narrowed)
    assert source_counts.differences() == []


def test_it_counts_the_moves_from_the_rollup_as_from_the_stays(personas):
    owner, teammate, outsider, head = (personas[p] for p in ("owner", "teammate", "outsider", "head"))
    with last_month():
        old = move(move(new_lead(owner, title="Старый"), Status.FIRST_CALL, owner), Status.QUALIFICATION, head)
    mine = move(new_lead(owner, title="Мой", niche="HoReCa"), Status.FIRST_CALL, owner)
    mine = move(mine, Status.QUALIFICATION, owner)
    theirs = junk(move(new_lead(teammate, title="Коллеги"), Status.FIRST_CALL, teammate), teammate)
    theirs = move(theirs, Status.QUALIFICATION, head)  # reopened by the head
    gone = move(new_lead(outsider, title="Удалить", source="Сайт"), Status.FIRST_CALL, outsider)
    assert_moves_are_the_stays(personas)
    assert selectors._moves(User.objects.get(pk=head.pk), ReportParams(period=_months()[1]), None) == {
        owner.pk: 2, teammate.pk: 2, head.pk: 1, outsider.pk: 1}

    services.lead_assign(Lead.objects.get(pk=old.pk), responsible=outsider, by=head)
    services.lead_assign(Lead.objects.get(pk=mine.pk), responsible=teammate, by=head)
    fresh = Lead.objects.get(pk=theirs.pk)
    services.lead_update(fresh, data={"source": ref("Source", "Сайт")}, by=head, version=fresh.version)
    services.lead_delete(Lead.objects.get(pk=gone.pk), by=head)
    assert_moves_are_the_stays(personas, [{"responsible": teammate.pk}, {"source": ref("Source", "Сайт").pk},
                                          {"niche": ref("Niche", "HoReCa").pk}])
