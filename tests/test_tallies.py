"""crm.tallies (issue 13): the counts and sums of leads and deals per owner, column and currency
are kept by every writer, answer the boards' totals and the lists' counts as the records would —
for every persona, through the access gate — and never drift, even with writers at work at once."""

import importlib
import re
import threading
from decimal import Decimal

import pytest
from django.apps import apps
from django.db import connection, connections
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts import access
from accounts.models import Action, Entity, Level, Permission
from crm import boards, lists, tallies
from crm.models import Tally
from deals import services as deals
from deals.models import Deal
from deals.selectors import visible_deals
from leads import services as leads
from leads.models import ORDER, Lead, Status
from leads.selectors import board_leads, visible_leads
from tests.factories import COLD, INBOUND, DealFactory, LeadFactory, UserFactory, pipeline, ref, stage
from tests.leads.conftest import decision_maker_data, decision_maker_m2m, qualification_data

pytestmark = pytest.mark.django_db


def drift() -> dict:
    """Every counter that differs from a fresh aggregate of the records, by model."""
    return {model._meta.label_lower: found for model in tallies.TALLIED if (found := tallies.differences(model))}


def owner_counts(user, model, *, columns=None, **kwargs) -> dict[int, int] | None:
    """{owner: n} of crm.tallies' counter read (None: the counters cannot answer), counters at 0 left out."""
    rows = tallies.owner_count_rows(user, [(model, columns)], **kwargs)
    return None if rows is None else {owner: n for owner, n in rows if n}


class Editor:
    """What a data migration's RunPython gets as its schema editor, for calling one in a test."""

    def __init__(self):
        self.connection = connection

    def execute(self, sql, params=()):
        with connection.cursor() as cursor:
            cursor.execute(sql, params)


def lead_totals(user, **kwargs):
    return tallies.board_totals(user, Lead, "status", ORDER, **kwargs)


def stage_ids(name):
    return [s.pk for s in pipeline(name).stages.order_by("sort", "pk")]


def deal_totals(user, name, **kwargs):
    return tallies.board_totals(user, Deal, "stage", stage_ids(name), scope=pipeline(name).pk, **kwargs)


def aggregated_deals(user, name):
    return boards.column_totals(visible_deals(user).filter(pipeline=pipeline(name)), "stage", stage_ids(name))


@pytest.fixture
def book(personas):
    """Leads and deals of every persona, in several columns and currencies."""
    p = personas
    LeadFactory(responsible=p["owner"], amount=Decimal("1000.50"))
    LeadFactory(responsible=p["owner"], amount=Decimal("250"), currency="USD", status=Status.FIRST_CALL)
    LeadFactory(responsible=p["owner"], amount=Decimal("0"), currency="EUR")
    LeadFactory(responsible=p["teammate"], amount=Decimal("70"))
    LeadFactory(responsible=p["outsider"], amount=Decimal("5"), status=Status.QUALIFICATION)
    LeadFactory(responsible=p["head"], amount=Decimal("3"), status=Status.JUNK, junk_reason=ref("JunkReason"))
    LeadFactory(responsible=p["crm_admin"], amount=Decimal("9"))
    DealFactory(responsible=p["owner"], amount=Decimal("100"))
    DealFactory(responsible=p["owner"], amount=Decimal("40"), pipeline=pipeline(INBOUND),
                stage_id=stage(INBOUND, "Новая заявка").pk)
    DealFactory(responsible=p["teammate"], amount=Decimal("12"), currency="USD")
    DealFactory(responsible=p["outsider"], amount=Decimal("8"), pipeline=pipeline(INBOUND),
                stage_id=stage(INBOUND, "Новая заявка").pk)
    DealFactory(responsible=p["crm_admin"], amount=Decimal("1"))
    return p


# --- Readers: the numbers per persona ---

class TestReaders:
    @pytest.mark.parametrize(("name", "count"), [("owner", 3), ("teammate", 1), ("outsider", 1), ("head", 6),
                                                 ("crm_admin", 7)])
    def test_it_answers_each_persona_what_the_leads_say(self, book, name, count):
        user = book[name]
        assert lead_totals(user) == boards.column_totals(visible_leads(user), "status", ORDER)
        assert tallies.visible_count(user, Lead) == visible_leads(user).count() == count

    def test_the_owners_columns_count_and_sum_per_currency(self, book):
        totals = lead_totals(book["owner"])
        assert totals[Status.NEW]["count"] == 2
        assert totals[Status.NEW]["sums"] == {"RUB": Decimal("1000.50"), "EUR": Decimal("0")}
        assert totals[Status.NEW]["sum_lines"] == ["1\xa0000,50\xa0₽"]
        assert totals[Status.FIRST_CALL]["sum_lines"] == ["250\xa0$"]
        assert totals[Status.JUNK] == {"count": 0, "sums": {}, "sum_lines": ["0\xa0₽"]}
        assert tallies.visible_count(book["owner"], Lead, columns=[Status.NEW]) == 2

    @pytest.mark.parametrize("name", ["owner", "teammate", "outsider", "head", "crm_admin"])
    def test_it_answers_each_persona_what_the_deals_say_per_pipeline(self, book, name):
        user = book[name]
        for pipeline_name in (COLD, INBOUND):
            assert deal_totals(user, pipeline_name) == aggregated_deals(user, pipeline_name)
        assert tallies.visible_count(user, Deal) == visible_deals(user).count()

    def test_a_pipeline_a_role_may_not_see_counts_nothing_for_it(self, book):
        owner = book["owner"]
        for role in owner.roles.all():
            Permission.objects.create(role=role, entity=Entity.DEAL, action=Action.VIEW, level=Level.NONE,
                                      scope=pipeline(INBOUND).access_scope)
        owner = type(owner).objects.get(pk=owner.pk)  # the levels are cached on the user object
        assert all(column["count"] == 0 for column in deal_totals(owner, INBOUND).values())
        assert deal_totals(owner, COLD) == aggregated_deals(owner, COLD)
        assert tallies.visible_count(owner, Deal) == visible_deals(owner).count() == 1
        # A role seeing every deal of one pipeline only: the others stay its own.
        for role in owner.roles.all():
            Permission.objects.create(role=role, entity=Entity.DEAL, action=Action.VIEW, level=Level.ALL,
                                      scope=pipeline(COLD).access_scope)
        owner = type(owner).objects.get(pk=owner.pk)
        assert deal_totals(owner, COLD) == aggregated_deals(owner, COLD)
        assert tallies.visible_count(owner, Deal) == visible_deals(owner).count() == 3

    @pytest.mark.parametrize("chosen", [{"preset": "mine"}, {"preset": "department"}, {"responsible": "teammate"},
                                        {"department": "group2"}, {"department": "group1", "responsible": "outsider"},
                                        {"responsible": "crm_admin"}, {}])
    def test_the_boards_owner_filters_narrow_the_counters_as_they_narrow_the_records(self, book, org, chosen):
        for name in ("head", "crm_admin", "owner"):
            user = book[name]
            owners = lists.Owners(user, access.level(user, Entity.LEAD, Action.VIEW))
            filters = {**{key: None for key in boards.kept()}, "q": "", "preset": ""}
            filters.update({key: (book[value].pk if key == "responsible" else org[value].pk if key == "department"
                                  else value) for key, value in chosen.items()})
            expected = boards.column_totals(board_leads(user, owners, filters, owner_index=True), "status", ORDER)
            assert boards.tallied_totals(user, Lead, "status", ORDER, owners, filters) == expected, name

    @pytest.mark.parametrize("narrowing", [{"q": "Лид"}, {"source": 1}, {"created_after": "2026-01-01"},
                                           {"close_before": "2026-01-01"}, {"touches": "none"}])
    def test_filters_the_counters_do_not_hold_leave_the_totals_to_the_records(self, book, narrowing):
        user = book["head"]
        owners = lists.Owners(user, access.level(user, Entity.LEAD, Action.VIEW))
        filters = {**{key: None for key in boards.kept()}, "q": "", "preset": "", **narrowing}
        assert boards.tallied_totals(user, Lead, "status", ORDER, owners, filters) is None

    def test_a_model_without_counters_is_not_answered(self, book):
        from clients.models import Company

        assert tallies.visible_count(book["owner"], Company) is None


# --- The boards' totals part: read from the counters, in a fixed number of queries ---

class TestBoards:
    def test_the_leads_totals_part_reads_the_counters_in_the_same_queries_whatever_the_number(
            self, client, book, django_assert_num_queries):
        head = book["head"]
        client.force_login(head)
        client.get(reverse("leads:kanban"), {"part": "totals"})  # the session, warmed
        with CaptureQueriesContext(connection) as first:
            response = client.get(reverse("leads:kanban"), {"part": "totals"})
        assert response.status_code == 200
        LeadFactory.create_batch(30, responsible=book["teammate"], amount=Decimal("2"))
        with django_assert_num_queries(len(first)):
            response = client.get(reverse("leads:kanban"), {"part": "totals"})
        assert response.status_code == 200
        sql = " ".join(q["sql"] for q in first.captured_queries)
        assert "crm_tally" in sql and 'COUNT("leads_lead"' not in sql
        columns = {c["status"]: c for c in response.context["columns"]}
        assert columns[Status.NEW]["count"] == 33  # owner 2, teammate 1 + 30

    def test_a_searched_board_still_sums_the_records(self, client, book):
        client.force_login(book["owner"])
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("leads:kanban"), {"part": "totals", "q": "Лид"})
        assert response.status_code == 200
        assert "crm_tally" not in " ".join(q["sql"] for q in queries.captured_queries)
        assert {c["status"]: c["count"] for c in response.context["columns"]}[Status.NEW] == 2

    def test_the_deals_totals_part_reads_the_counters_of_the_pipeline(self, client, book, django_assert_max_num_queries):
        owner = book["owner"]
        client.force_login(owner)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("deals:board"), {"pipeline": pipeline(INBOUND).pk, "part": "totals"})
        assert response.status_code == 200
        assert "crm_tally" in " ".join(q["sql"] for q in queries.captured_queries)
        counts = {c["id"]: c["count"] for c in response.context["columns"]}
        assert counts[stage(INBOUND, "Новая заявка").pk] == 1 and sum(counts.values()) == 1
        DealFactory.create_batch(5, responsible=owner, pipeline=pipeline(INBOUND),
                                 stage_id=stage(INBOUND, "Новая заявка").pk)
        with django_assert_max_num_queries(len(queries)):
            response = client.get(reverse("deals:board"), {"pipeline": pipeline(INBOUND).pk, "part": "totals"})
        assert response.status_code == 200
        assert {c["id"]: c["count"] for c in response.context["columns"]}[stage(INBOUND, "Новая заявка").pk] == 6


# --- Writers: every path keeps the counters equal to the records ---

class TestLeadWriters:
    def test_create_edit_and_reassign(self, owner, teammate):
        lead = leads.lead_create(data={"title": "Лид", "source": ref("Source", "Контур.Компас"), "company_name": "ООО «А»",
                                       "company_phone": "+79120000001", "responsible": owner, "amount": Decimal("10")},
                                 by=owner)
        assert drift() == {}
        lead = leads.lead_update(lead, data={"amount": Decimal("25.10"), "currency": "USD"}, by=owner,
                                 version=lead.version)
        assert drift() == {}
        assert lead_totals(owner)[Status.NEW]["sums"] == {"USD": Decimal("25.10")}
        leads.lead_assign(lead, responsible=teammate, by=owner)
        assert drift() == {}
        assert tallies.visible_count(owner, Lead) == 0 and tallies.visible_count(teammate, Lead) == 1

    def test_a_refused_create_counts_nothing(self, owner):
        with pytest.raises(leads.MissingFields):
            leads.lead_create(data={"title": "Без телефона", "source": ref("Source"), "responsible": owner}, by=owner)
        assert drift() == {} and tallies.visible_count(owner, Lead) == 0

    def test_an_edit_of_untallied_fields_touches_no_counter(self, owner):
        lead = LeadFactory(responsible=owner)
        with CaptureQueriesContext(connection) as queries:
            leads.lead_update(lead, data={"comment": "Перезвонить"}, by=owner, version=lead.version)
        assert "crm_tally" not in " ".join(q["sql"] for q in queries.captured_queries)

    def test_moves_bulk_actions_and_junk(self, owner, teammate, head):
        batch = LeadFactory.create_batch(3, responsible=owner, amount=Decimal("7"))
        leads.lead_move(batch[0], to=Status.FIRST_CALL, by=owner)
        leads.leads_bulk_move(batch[1:], to=Status.FIRST_CALL, by=owner)
        assert drift() == {} and lead_totals(owner)[Status.FIRST_CALL]["count"] == 3
        leads.lead_junk(batch[0], reason=ref("JunkReason"), by=owner)
        leads.lead_move(Lead.objects.get(pk=batch[0].pk), to=Status.NEW, by=head)  # a supervisor reopens it
        leads.leads_bulk_assign(batch, responsible=teammate, by=head)
        assert drift() == {}
        assert lead_totals(teammate)[Status.FIRST_CALL]["sums"] == {"RUB": Decimal("14")}

    def test_a_move_with_the_missing_fields_saved_and_one_refused(self, owner):
        lead = LeadFactory(responsible=owner, amount=Decimal("1"))
        leads.lead_move(lead, to=Status.QUALIFICATION, by=owner, data={**qualification_data(), "amount": Decimal("5")})
        with pytest.raises(leads.MissingFields):
            leads.lead_move(Lead.objects.get(pk=lead.pk), to=Status.DECISION_MAKER, by=owner,
                            data={"amount": Decimal("900")})
        assert drift() == {}
        assert lead_totals(owner)[Status.QUALIFICATION]["sums"] == {"RUB": Decimal("5")}

    def test_conversion_counts_the_lead_and_its_deal(self, owner):
        from crm import timeline

        lead = LeadFactory(responsible=owner, company_name="ООО «Б»", company_phone="+78800000000")
        lead = leads.lead_update(lead, data={**qualification_data(), **decision_maker_data(), "amount": Decimal("300")},
                                 m2m=decision_maker_m2m(), by=owner, version=lead.version)
        timeline.add_comment(lead, owner, "Разведка", pin_it=True)
        lead = leads.lead_move(lead, to=Status.DECISION_MAKER, by=owner)
        result = leads.lead_convert(lead, contact=True, company=True, deal=True, by=owner, pipeline=pipeline(COLD))
        assert drift() == {}
        assert lead_totals(owner)[Status.CONVERTED]["count"] == 1
        assert deal_totals(owner, COLD)[result.deal.stage_id]["sums"] == {"RUB": Decimal("300")}

    def test_the_imports_batch(self, owner, teammate):
        items = [leads.ImportItem(row=n, data={"title": f"Импорт {n}", "source": ref("Source"), "company_name": f"ООО {n}",
                                               "company_phone": f"+7912000{n:04d}", "amount": Decimal(n),
                                               "responsible": owner if n % 2 else teammate,
                                               "currency": "EUR" if n % 3 else "RUB"})
                 for n in range(1, 11)]
        items.append(leads.ImportItem(row=99, data={"title": "Без компании", "source": ref("Source"), "responsible": owner}))
        created = leads.leads_import(items, by=None, source="file.csv")
        assert len(created) == 10 and items[-1].error
        assert drift() == {}
        assert tallies.visible_count(owner, Lead) == 5

    def test_deletion_one_and_a_queryset(self, owner, crm_admin):
        doomed, kept, *rest = LeadFactory.create_batch(4, responsible=owner, amount=Decimal("3"))
        leads.lead_delete(doomed, by=crm_admin)
        assert drift() == {} and tallies.visible_count(owner, Lead) == 3
        Lead.objects.filter(pk__in=[r.pk for r in rest]).delete()
        assert drift() == {} and tallies.visible_count(owner, Lead) == 1

    def test_a_partly_loaded_or_hand_built_instance_counts_right(self, owner, teammate):
        lead = LeadFactory(responsible=owner, amount=Decimal("3"))
        partial = Lead.objects.only("pk", "title").get(pk=lead.pk)
        partial.responsible = teammate
        partial.save()
        assert drift() == {}
        stale = Lead.objects.get(pk=lead.pk)
        stale.refresh_from_db()
        stale.amount = Decimal("4")
        stale.save(update_fields=["amount"])
        assert drift() == {} and lead_totals(teammate)[Status.NEW]["sums"] == {"RUB": Decimal("4")}

    def test_a_querysets_update_moves_the_records_it_changes(self, owner, teammate):
        new, other, untouched = LeadFactory.create_batch(3, responsible=owner, amount=Decimal("2"))
        # Filtered by status and moved out of it: the records are the ones matched before the update.
        changed = Lead.objects.filter(pk__in=[new.pk, other.pk], status=Status.NEW).update(
            status=Status.FIRST_CALL, responsible=teammate)
        assert changed == 2 and drift() == {}
        assert lead_totals(teammate)[Status.FIRST_CALL]["sums"] == {"RUB": Decimal("4")}
        assert lead_totals(owner)[Status.NEW]["count"] == 1
        Lead.objects.filter(pk=untouched.pk).update(amount=Decimal("9"), currency="EUR")
        assert drift() == {} and lead_totals(owner)[Status.NEW]["sums"] == {"EUR": Decimal("9")}
        with CaptureQueriesContext(connection) as queries:
            Lead.objects.filter(pk=untouched.pk).update(comment="Без счётчиков")
        assert "crm_tally" not in " ".join(q["sql"] for q in queries.captured_queries)


    def test_a_touch_planned_and_done_moves_the_lead_between_the_planned_and_unplanned_counters(self, owner,
                                                                                                   teammate):
        from datetime import timedelta

        from django.utils import timezone

        from tasks_app import services as tasks

        def unplanned(user):
            return owner_counts(user, Lead, planned=False)

        lead = leads.lead_create(data={"title": "Лид", "source": ref("Source"), "company_name": "ООО «А»",
                                       "company_phone": "+79120000001", "responsible": owner}, by=owner)
        assert unplanned(owner) == {owner.pk: 1}
        with CaptureQueriesContext(connection) as queries:
            call = tasks.task_create(data={"kind": "call", "title": "Звонок", "responsible": owner,
                                           "deadline": timezone.now() + timedelta(days=2)}, by=owner, records=[lead])
        assert len([q for q in queries.captured_queries if "crm_tally" in q["sql"]]) == 1  # one upsert
        assert drift() == {} and unplanned(owner) == {}
        assert owner_counts(owner, Lead, planned=True) == {owner.pk: 1}
        # A second touch, its date moved: still planned, no counter moves.
        later = tasks.task_create(data={"kind": "call", "title": "Ещё звонок", "responsible": owner,
                                        "deadline": timezone.now() + timedelta(days=5)}, by=owner, records=[lead])
        with CaptureQueriesContext(connection) as queries:
            tasks.task_transition(call, "complete", by=owner)
        assert "crm_tally" not in " ".join(q["sql"] for q in queries.captured_queries)
        assert Lead.objects.get(pk=lead.pk).next_touch_date == timezone.localdate(later.deadline)
        # The lead object the services hold after the touch, saved again: counted from where it is.
        lead = Lead.objects.get(pk=lead.pk)
        tasks.task_transition(later, "complete", by=owner)
        assert drift() == {} and unplanned(owner) == {owner.pk: 1}
        leads.lead_assign(lead, responsible=teammate, by=owner)
        assert drift() == {} and unplanned(teammate) == {teammate.pk: 1}

    def test_a_lead_saved_after_its_touch_was_planned_keeps_the_counters_right(self, owner):
        from datetime import timedelta

        from django.utils import timezone

        # The card's «Дата следующего касания» plans a touch, which dates the lead in the same save.
        lead = leads.lead_create(data={"title": "Лид", "source": ref("Source"), "company_name": "ООО «А»",
                                       "company_phone": "+79120000001", "responsible": owner,
                                       "next_touch_date": timezone.localdate() + timedelta(days=3)}, by=owner)
        assert drift() == {} and owner_counts(owner, Lead, planned=True) == {owner.pk: 1}
        lead = leads.lead_update(lead, data={"amount": Decimal("40")}, by=owner, version=lead.version)
        assert drift() == {}
        assert owner_counts(owner, Lead, planned=False) == {}

    def test_a_touch_planned_on_a_deal_by_a_colleague_who_only_sees_it_moves_it_to_the_planned_counters(
            self, owner, teammate):
        """The deal keeps its next touch's date as bookkeeping (not editable): the teammate, who may
        see the owner's deals but not change them, plans a call on one, and the counters follow."""
        from datetime import timedelta

        from django.utils import timezone

        from tasks_app import services as tasks

        Permission.objects.filter(role__name="Менеджер", entity=Entity.DEAL, action=Action.VIEW).update(
            level=Level.DEPARTMENT)
        teammate = type(teammate).objects.get(pk=teammate.pk)  # its levels read afresh
        deal = DealFactory(responsible=owner)
        assert not access.can(teammate, Action.CHANGE, deal) and access.can(teammate, Action.VIEW, deal)
        assert owner_counts(owner, Deal, planned=False) == {owner.pk: 1}
        call = tasks.task_create(data={"kind": "call", "title": "Звонок", "responsible": teammate,
                                       "deadline": timezone.now() + timedelta(days=2)}, by=teammate, records=[deal])
        assert Deal.objects.get(pk=deal.pk).next_touch_date == timezone.localdate(call.deadline)
        assert drift() == {} and owner_counts(owner, Deal, planned=False) == {}
        assert owner_counts(owner, Deal, planned=True) == {owner.pk: 1}
        tasks.task_transition(call, "complete", by=teammate)
        assert Deal.objects.get(pk=deal.pk).next_touch_date is None
        assert drift() == {} and owner_counts(owner, Deal, planned=False) == {owner.pk: 1}


class TestDealWriters:
    def test_create_with_products_edit_and_products(self, owner, teammate):
        deal = deals.deal_create(data={"title": "Сделка", "responsible": owner, "amount": Decimal("1")}, by=owner,
                                 pipeline=pipeline(COLD), products=[(ref("Product"), Decimal("2"), Decimal("50"))])
        assert drift() == {} and deal_totals(owner, COLD)[deal.stage_id]["sums"] == {"RUB": Decimal("100")}
        deal = deals.deal_update(deal, data={"currency": "USD", "responsible": teammate}, by=owner, version=deal.version)
        assert drift() == {}
        deal = deals.deal_set_products(deal, rows=[(ref("Product"), Decimal("3"), Decimal("50"))], by=teammate)
        assert drift() == {} and deal_totals(teammate, COLD)[deal.stage_id]["sums"] == {"USD": Decimal("150")}

    def test_moves_and_a_pipeline_change(self, owner):
        deal = DealFactory(responsible=owner, amount=Decimal("5"))
        second = stage(COLD, "Бесплатный продукт согласован")
        deal = deals.deal_move(deal, to=second, by=owner)
        assert drift() == {} and deal_totals(owner, COLD)[second.pk]["count"] == 1
        deals.deal_change_pipeline(deal, pipeline=pipeline(INBOUND), by=owner)
        assert drift() == {}
        assert sum(c["count"] for c in deal_totals(owner, COLD).values()) == 0
        assert deal_totals(owner, INBOUND)[stage(INBOUND, "Новая заявка").pk]["count"] == 1

    def test_the_imports_batch_and_an_update(self, owner):
        items = [deals.ImportItem(row=n, data={"title": f"Импорт {n}", "responsible": owner, "amount": Decimal(n)},
                                  pipeline=pipeline(COLD if n % 2 else INBOUND)) for n in range(1, 7)]
        created = deals.deals_import(items, by=None, source="file.csv")
        assert len(created) == 6 and drift() == {}
        deal = Deal.objects.get(pk=created[0].pk)
        deals.deal_import_update(deal, data={"amount": Decimal("77")}, contacts=[], products=[],
                                 pipeline=pipeline(INBOUND), stage=None, by=owner)
        assert drift() == {}
        Deal.objects.filter(pk=deal.pk).update(stage_id=stage(INBOUND, "Новая заявка").pk, amount=Decimal("3"))
        assert drift() == {}

    def test_deletion(self, owner, crm_admin):
        deal = DealFactory(responsible=owner, amount=Decimal("5"))
        deals.deal_delete(deal, by=crm_admin)
        assert drift() == {} and tallies.visible_count(owner, Deal) == 0


# --- Never drifting: many writers at once (PostgreSQL: real row locks) ---

def deadlocks() -> int:
    """The deadlocks PostgreSQL has counted in this database, once the other sessions are gone (a
    session hands its counts over as it ends)."""
    import time

    with connection.cursor() as cursor:
        for _ in range(50):
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                           "AND pid <> pg_backend_pid()")
            if not cursor.fetchone()[0]:
                break
            time.sleep(0.1)
        time.sleep(0.3)
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_writers_at_once_leave_every_counter_equal_to_the_records(seeded_defaults, org):
    """Threads, each on its own connection, create, move, convert, import, reassign and delete
    records of the same owners at once; afterwards every counter equals a fresh aggregate."""
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL; SQLite serialises them anyway")
    from crm import timeline

    managers = [UserFactory(username=f"m{n}", department=org["group1"], role="Менеджер") for n in range(2)]
    boss = UserFactory(username="boss", department=org["root"], role="Администратор CRM")
    source = ref("Source")
    pool = [LeadFactory(responsible=managers[n % 2], amount=Decimal(n)) for n in range(24)]
    ready = []
    for n in range(4):
        lead = LeadFactory(responsible=managers[n % 2], company_name=f"ООО «Г{n}»", company_phone=f"+7880000000{n}")
        lead = leads.lead_update(lead, data={**qualification_data(), **decision_maker_data(), "amount": Decimal("50")},
                                 m2m=decision_maker_m2m(), by=boss, version=lead.version)
        timeline.add_comment(lead, boss, "Разведка", pin_it=True)
        ready.append(leads.lead_move(lead, to=Status.DECISION_MAKER, by=boss))
    pool_deals = [DealFactory(responsible=managers[n % 2], amount=Decimal("10")) for n in range(8)]
    barrier, errors = threading.Barrier(7), []

    def worker(job):
        try:
            barrier.wait()
            job()
        except Exception as exc:  # any failure is one
            errors.append(repr(exc))
        finally:
            connections.close_all()

    def move():
        for lead in pool[:12]:
            leads.lead_move(lead, to=Status.FIRST_CALL, by=boss)

    def move_back_and_forth():
        for lead in pool[6:18]:
            leads.lead_move(lead, to=Status.QUALIFICATION if lead.pk % 2 else Status.FIRST_CALL, by=boss,
                            data=qualification_data())

    def convert():
        for lead in ready:
            leads.lead_convert(lead, contact=False, company=False, deal=True, by=boss, pipeline=pipeline(COLD))

    def import_():
        for batch in range(3):
            items = [leads.ImportItem(row=n, data={"title": f"И{batch}-{n}", "source": source, "company_name": f"ООО {n}",
                                                   "company_phone": f"+79130{batch}{n:05d}", "amount": Decimal("1"),
                                                   "responsible": managers[n % 2]}) for n in range(10)]
            leads.leads_import(items, by=None, source="file.csv")
            items += [deals.ImportItem(row=1, data={"title": f"С{batch}", "responsible": managers[batch % 2],
                                                    "amount": Decimal("3")}, pipeline=pipeline(COLD))]
            deals.deals_import(items[-1:], by=None, source="file.csv")
            errors.extend(item.error for item in items if item.error)  # a batch the database refused

    def reassign():
        leads.leads_bulk_assign(pool[:18:2], responsible=managers[1], by=boss)  # the deleted ones aside
        for deal in pool_deals[:4]:
            deals.deal_update(Deal.objects.get(pk=deal.pk), data={"responsible": managers[0], "amount": Decimal("11")},
                              by=boss, version=Deal.objects.get(pk=deal.pk).version)

    def plan():
        # Touches planned and done on the leads the others move and reassign: each dates or
        # undates its lead, which moves it between the planned and unplanned counters.
        from datetime import timedelta

        from django.utils import timezone

        from tasks_app import services as tasks

        for lead in pool[:16]:
            call = tasks.task_create(data={"kind": "call", "title": "Звонок", "responsible": boss,
                                           "deadline": timezone.now() + timedelta(days=1)}, by=boss, records=[lead])
            if lead.pk % 2:
                tasks.task_transition(call, "complete", by=boss)

    def delete():
        for lead in pool[18:]:
            leads.lead_delete(lead, by=boss)
        for deal in pool_deals[4:]:
            deals.deal_move(deal, to=stage(COLD, "Бесплатный продукт согласован"), by=boss)
            deals.deal_delete(deal, by=boss)

    threads = [threading.Thread(target=worker, args=(job,))
               for job in (move, move_back_and_forth, convert, import_, reassign, plan, delete)]
    deadlocks_before = deadlocks()
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert errors == []
    # The import retries a refused batch row by row, so a deadlock it lost would leave no error:
    # PostgreSQL's own count says none happened (every writer locks the counters in one order).
    assert deadlocks() == deadlocks_before
    assert drift() == {}
    assert Tally.objects.filter(model="leads.lead").aggregate(n=Sum("count"))["n"] == Lead.objects.count() == 24 + 4 - 6 + 30
    assert Tally.objects.filter(model="leads.lead", planned=True).aggregate(n=Sum("count"))["n"] == 8
    assert Tally.objects.filter(model="deals.deal").aggregate(n=Sum("count"))["n"] == Deal.objects.count() == 8 + 4 - 4 + 3


# --- Checking and rebuilding: manage.py recount_tallies ---

class TestCommand:
    def test_it_reports_a_drift_and_rebuilds(self, owner, capsys):
        from django.core.management import call_command

        lead = LeadFactory(responsible=owner, amount=Decimal("8"))
        call_command("recount_tallies", "--check")
        assert "leads.lead: расхождений нет." in capsys.readouterr().out
        with connection.cursor() as cursor:  # behind the counters' back: raw SQL, around the ORM
            cursor.execute("UPDATE leads_lead SET status = %s WHERE id = %s", [Status.FIRST_CALL, lead.pk])
        with pytest.raises(SystemExit) as exit_:
            call_command("recount_tallies", "--check")
        assert exit_.value.code == 1
        captured = capsys.readouterr()
        assert f"leads.lead: ответственный {owner.pk}, область 0, колонка new, RUB: счётчик 1 шт., 8" in captured.out
        assert "колонка first_call, RUB: счётчик нет, по записям 1 шт., 8" in captured.out
        assert "Расхождений: 2" in captured.err
        assert drift()  # --check changes nothing
        call_command("recount_tallies")
        assert "leads.lead: счётчики пересчитаны." in capsys.readouterr().out
        assert drift() == {}
        assert lead_totals(owner)[Status.FIRST_CALL]["count"] == 1

    def test_the_migrations_fill_the_counters_from_the_records(self, book, owner):
        from datetime import timedelta

        from django.utils import timezone

        Lead.objects.filter(responsible=owner, status=Status.NEW).update(next_touch_date=timezone.localdate() + timedelta(1))
        fill = importlib.import_module("crm.migrations.0008_tally").fill
        split = importlib.import_module("crm.migrations.0009_tally_planned").split
        expected = {m: tallies.kept(m) for m in tallies.TALLIED}
        Tally.objects.all().delete()

        fill(apps, Editor())
        split(apps, Editor())  # the leads' counters split by «has a next touch date»
        assert {m: tallies.kept(m) for m in tallies.TALLIED} == expected
        assert owner_counts(owner, Lead, planned=True)[owner.pk] == 2
        assert drift() == {}

    def test_the_deals_migration_dates_the_deals_from_their_touches_and_splits_their_counters(self, owner):
        from datetime import timedelta

        from django.utils import timezone

        from tasks_app import services as tasks

        planned, other = DealFactory(responsible=owner), DealFactory(responsible=owner)
        soon = tasks.task_create(data={"kind": "call", "title": "Звонок", "responsible": owner,
                                       "deadline": timezone.now() + timedelta(days=2)}, by=owner, records=[planned])
        later = tasks.task_create(data={"kind": "call", "title": "Позже", "responsible": owner,
                                        "deadline": timezone.now() + timedelta(days=9)}, by=owner, records=[planned, other])
        expected = tallies.kept(Deal)
        Deal.objects.update(next_touch_date=None)  # as before the column (the migration recounts the counters)
        Tally.objects.filter(model="deals.deal").delete()

        importlib.import_module("deals.migrations.0009_deal_next_touch_date").fill(apps, Editor())
        assert dict(Deal.objects.values_list("pk", "next_touch_date")) == {
            planned.pk: timezone.localdate(soon.deadline), other.pk: timezone.localdate(later.deadline)}
        assert tallies.kept(Deal) == expected and drift() == {}


# --- One lock order: every writer changes the counters last, table by table in one order ---

def counter_tables() -> set[str]:
    from analytics import models as rollups

    return {model._meta.db_table for model in (Tally, rollups.FunnelCount, rollups.SourceCount, rollups.SourceDealCount,
                                                rollups.MoveCount, rollups.TakenCount, rollups.ManagerCount,
                                                rollups.ClosedCount, rollups.OpenStayCount)}


def counters_written(write) -> list[str]:
    """The tables `write` writes from its first counter statement to its last, one per statement."""
    counters = counter_tables()
    with CaptureQueriesContext(connection) as queries:
        write()
    tables = [(match.group(1) if (match := re.match(r'(?:INSERT INTO|UPDATE|DELETE FROM) "?(\w+)"?', q["sql"])) else "")
              for q in queries.captured_queries]
    at = [index for index, table in enumerate(tables) if table in counters]
    return tables[at[0]:at[-1] + 1]


def test_every_writer_locks_the_counters_last_and_in_one_order(personas):
    """A creation used to count its source before its stay and «взято», a reassignment the other
    way round; an import and a reassignment running at once then deadlocked on them (PostgreSQL
    aborted one: 5 times in 14 runs of the test above). Every service now writes the counters at
    the end of its transaction, one statement per table, in the tables' order."""
    from tests.analytics.conftest import new_lead

    owner, teammate, head = personas["owner"], personas["teammate"], personas["head"]
    made: list = []
    junked = new_lead(head, owner)
    writes = {
        "создание лида": lambda: made.append(new_lead(head, owner)),
        "смена ответственного": lambda: made.append(leads.lead_assign(made[0], responsible=teammate, by=head)),
        "перевод в статус": lambda: leads.lead_move(made[0], to=Status.DECISION_MAKER, by=head),
        "брак": lambda: leads.lead_junk(junked, reason=ref("JunkReason"), by=head),
        "конвертация": lambda: leads.lead_convert(Lead.objects.get(pk=made[0].pk), contact=False, company=False,
                                                  deal=True, by=head, pipeline=pipeline(COLD)),
        "импорт в разные статусы": lambda: leads.leads_import(
            [leads.ImportItem(row=n, status=status, data={"title": f"И{n}", "source": ref("Source"), "amount": Decimal("1"),
                                                          "company_name": f"ООО {n}", "company_phone": f"+7913000000{n}",
                                                          "responsible": owner})
             for n, status in enumerate([Status.NEW, Status.FIRST_CALL, Status.NEW])], by=head, source="file.csv"),
        "сделка": lambda: made.append(deals.deal_create(data={"title": "Сделка", "responsible": owner,
                                                               "amount": Decimal("5")}, by=head, pipeline=pipeline(COLD))),
        "сделка другому": lambda: deals.deal_update(made[-1], data={"responsible": teammate, "amount": Decimal("6")},
                                                    by=head, version=made[-1].version),
        "удаление лида": lambda: leads.lead_delete(Lead.objects.get(pk=junked.pk), by=head),
    }
    for name, write in writes.items():
        tables = counters_written(write)
        assert tables == sorted(set(tables)), name  # each counter table once, in order, nothing in between
        assert set(tables) <= counter_tables(), name
    assert drift() == {}


def test_a_move_with_the_dialogs_amount_counts_in_one_statement(owner):
    """The dialog's fields and the new stage are counted together: one upsert, whose rows are
    locked in key order — two such moves in opposite directions cannot deadlock on the counters."""
    deal = DealFactory(responsible=owner, amount=Decimal("0"))
    target = stage(COLD, "КП отправлено")  # needs an amount and a product row
    deals.deal_set_products(deal, rows=[(ref("Product"), Decimal("1"), Decimal("0"))], by=owner)
    with CaptureQueriesContext(connection) as queries:
        deals.deal_move(Deal.objects.get(pk=deal.pk), to=target, by=owner, data={"amount": Decimal("500")})
    assert len([q for q in queries.captured_queries if "crm_tally" in q["sql"]]) == 1
    assert drift() == {} and deal_totals(owner, COLD)[target.pk]["sums"] == {"RUB": Decimal("500")}
