"""The managers' «Без запланированных дел сегодня» comes from crm.tallies' counters: a lead's from
the counters of the leads without a next touch date, a deal's from the deals in work less the
planned ones. It must say what counting the unplanned records says,
for every persona, with leads and deals in work and closed, planned and not, reassigned."""

from decimal import Decimal

import pytest
from django.db.models import Count

from accounts.models import User
from analytics import selectors
from crm import day
from leads import services
from leads.models import Status
from tasks_app import selectors as tasks
from tests.analytics.conftest import convert, deal_move, junk, move, new_deal, new_lead, touch

pytestmark = pytest.mark.django_db


def counted_one_by_one(user) -> dict[int, int]:
    """What the report counted before the counters: the unplanned records in work themselves."""
    found: dict[int, int] = {}
    people = selectors._people(user)
    for source in day.sources():
        rows = source.in_work(user).exclude(tasks.planned_condition(source.model))
        if people is not None:
            rows = rows.filter(responsible__in=people)
        for owner, n in rows.order_by().values("responsible").annotate(n=Count("pk")).values_list("responsible", "n"):
            found[owner] = found.get(owner, 0) + n
    return found


def shown(user, month) -> dict[int, int]:
    return {row.user_id: row.nothing_planned for row in selectors.managers(user, month) if row.nothing_planned}


def test_it_counts_the_unplanned_records_from_the_counters(personas, month):
    owner, teammate, outsider, head = (personas[p] for p in ("owner", "teammate", "outsider", "head"))
    planned = move(new_lead(owner, title="Запланирован"), Status.FIRST_CALL, owner)
    touch(owner, planned, 2)
    move(new_lead(owner, title="Забыт"), Status.QUALIFICATION, owner)
    new_lead(owner, title="Новый")
    junk(new_lead(owner, title="Брак"), owner)
    converted = convert(new_lead(outsider, title="В сделку"), outsider, amount=Decimal("1000"))
    touch(outsider, converted.deal, 1)
    new_deal(outsider, title="Без дел")
    deal_move(new_deal(teammate, title="Выиграна"), "Оплачено", teammate)
    handed = services.lead_assign(new_lead(teammate, title="Передан"), responsible=owner, by=head)
    touch(owner, handed, -1)  # overdue is still planned
    new_deal(teammate, title="Сделка коллеги")

    for persona, user in personas.items():
        fresh = User.objects.get(pk=user.pk)
        assert shown(fresh, month) == counted_one_by_one(fresh), persona
    assert shown(User.objects.get(pk=head.pk), month) == {owner.pk: 2, outsider.pk: 1, teammate.pk: 1}


def test_the_unplanned_leads_are_read_from_the_counters_without_a_lead_row(personas, month):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    owner, head = personas["owner"], personas["head"]
    touch(owner, move(new_lead(owner, title="Запланирован"), Status.FIRST_CALL, owner), 2)
    new_lead(owner, title="Забыт")
    with CaptureQueriesContext(connection) as queries:
        assert shown(User.objects.get(pk=head.pk), month) == {owner.pk: 1}
    assert not [q["sql"] for q in queries if "leads_lead" in q["sql"]]
