"""The lead's status machine and its rules (PROCESS.md §1.1, §1.3), through the one service."""

import threading

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection

from crm import timeline
from leads import services
from leads.models import IN_PROCESS, Lead, Requirement, Status
from leads.requirements import missing_for
from tests.factories import LeadFactory, ref

from .conftest import decision_maker_data, decision_maker_m2m, qualification_data

pytestmark = pytest.mark.django_db


def keys(requirements):
    return {r.key for r in requirements}


def test_a_new_lead_starts_in_not_processed_and_needs_the_four_creation_fields(owner):
    lead = services.lead_create(data=dict(title="Тест Решение", source=ref("Source", "Контур.Компас"),
                                          company_name="Тест", company_phone="+78800000000", responsible=owner),
                                by=owner)
    assert lead.status == Status.NEW
    assert timeline.entries(lead).filter(kind="created").exists()
    with pytest.raises(services.MissingFields) as exc:
        services.lead_create(data=dict(title="Без телефона", source=ref("Source"), company_name="X",
                                       company_phone="", responsible=owner), by=owner)
    assert keys(exc.value.requirements) == {"company_phone"}
    assert not Lead.objects.filter(title="Без телефона").exists()


def test_first_call_needs_nothing_more(lead, owner):
    assert services.lead_move(lead, to=Status.FIRST_CALL, by=owner).status == Status.FIRST_CALL


def test_qualification_needs_niche_crm_portal_and_client_type(lead, owner):
    with pytest.raises(services.MissingFields) as exc:
        services.lead_move(lead, to=Status.QUALIFICATION, by=owner)
    assert keys(exc.value.requirements) == {"niche", "crm_system", "client_type"}
    assert "Для изменения статуса лида заполните обязательные поля" in str(exc.value)
    lead.refresh_from_db()
    assert lead.status == Status.NEW
    moved = services.lead_move(lead, to=Status.QUALIFICATION, by=owner, data=qualification_data())
    assert moved.status == Status.QUALIFICATION and moved.niche is not None


def test_reconnaissance_needs_nothing_beyond_qualification(lead, owner):
    with pytest.raises(services.MissingFields) as exc:
        services.lead_move(lead, to=Status.RECONNAISSANCE, by=owner)
    assert keys(exc.value.requirements) == {"niche", "crm_system", "client_type"}
    assert services.lead_move(lead, to=Status.RECONNAISSANCE, by=owner, data=qualification_data()).status == \
        Status.RECONNAISSANCE


def test_decision_maker_needs_the_whole_checklist_and_a_pinned_comment(lead, owner):
    lead = services.lead_move(lead, to=Status.RECONNAISSANCE, by=owner, data=qualification_data())
    with pytest.raises(services.MissingFields) as exc:
        services.lead_move(lead, to=Status.DECISION_MAKER, by=owner)
    assert keys(exc.value.requirements) == {
        "pinned_comment", "sales_channel", "employees_count", "contact_last_name", "contact_first_name",
        "contact_phone_or_ext", "talked_to_decision_maker", "products_to_sell", "usp_acknowledged",
        "used_products", "next_touch", "training_info",
    }
    moved = services.lead_move(lead, to=Status.DECISION_MAKER, by=owner, data=decision_maker_data(),
                               m2m=decision_maker_m2m(), pinned_comment="Итоги разведки")
    assert moved.status == Status.DECISION_MAKER
    assert timeline.pinned(moved).text == "Итоги разведки"


@pytest.mark.parametrize(("field", "value"), [("talked_to_decision_maker", False), ("usp_acknowledged", False)])
def test_yes_no_points_must_be_yes(ready_lead, owner, field, value):
    ready_lead = services.lead_update(ready_lead, data={field: value}, by=owner, version=ready_lead.version)
    with pytest.raises(services.MissingFields) as exc:
        services.lead_move(ready_lead, to=Status.DECISION_MAKER, by=owner)
    assert keys(exc.value.requirements) == {field}


def test_an_extension_is_enough_instead_of_the_decision_makers_phone(ready_lead, owner):
    ready_lead = services.lead_update(ready_lead, data={"contact_phone": "", "contact_phone_ext": "204"}, by=owner,
                                      version=ready_lead.version)
    assert services.lead_move(ready_lead, to=Status.DECISION_MAKER, by=owner).status == Status.DECISION_MAKER


def test_qualification_can_be_skipped_when_the_first_call_got_everything(ready_lead, owner):
    lead = services.lead_move(ready_lead, to=Status.FIRST_CALL, by=owner)
    assert services.lead_move(lead, to=Status.DECISION_MAKER, by=owner).status == Status.DECISION_MAKER


def test_back_moves_are_allowed_and_recorded(ready_lead, owner):
    lead = services.lead_move(ready_lead, to=Status.DECISION_MAKER, by=owner)
    lead = services.lead_move(lead, to=Status.FIRST_CALL, by=owner)
    assert lead.status == Status.FIRST_CALL
    moves = [(e.data["from"], e.data["to"]) for e in timeline.entries(lead).filter(kind="status").order_by("pk")]
    assert moves == [("new", "decision_maker"), ("decision_maker", "first_call")]
    entry = timeline.entries(lead).filter(kind="status").first()
    assert entry.author == owner and timeline.render(entry).new == "Первый звонок"


def test_converted_only_from_decision_maker(lead, owner):
    with pytest.raises(services.LeadError, match="«Выход на ЛПР»"):
        services.lead_move(lead, to=Status.CONVERTED, by=owner)


def test_junk_needs_a_reason_from_any_in_process_status(owner):
    for status in IN_PROCESS:
        lead = LeadFactory(responsible=owner)
        if status != Status.NEW:
            lead = services.lead_move(lead, to=status, by=owner, data={**qualification_data(), **decision_maker_data()},
                                      m2m=decision_maker_m2m(), pinned_comment="итоги")
        with pytest.raises(services.MissingFields) as exc:
            services.lead_move(lead, to=Status.JUNK, by=owner)
        assert keys(exc.value.requirements) == {"junk_reason"}
        junk = services.lead_junk(lead, reason=ref("JunkReason", "Дубликат"), by=owner, comment="Уже есть в работе")
        assert junk.status == Status.JUNK and junk.junk_reason.name == "Дубликат"
        assert "Причина: Дубликат" in timeline.entries(junk).filter(kind="status").first().text


def test_a_closed_lead_returns_to_work_only_by_a_supervisor(lead, owner, head):
    lead = services.lead_junk(lead, reason=ref("JunkReason"), by=owner)
    with pytest.raises(PermissionDenied):
        services.lead_move(lead, to=Status.FIRST_CALL, by=owner)
    with pytest.raises(services.LeadError):
        services.lead_move(lead, to=Status.CONVERTED, by=head)
    reopened = services.lead_move(lead, to=Status.FIRST_CALL, by=head)
    assert reopened.status == Status.FIRST_CALL and reopened.junk_reason is None


def test_moves_need_change_access(lead, teammate, outsider, head, crm_admin):
    for stranger in (teammate, outsider):
        with pytest.raises(PermissionDenied):
            services.lead_move(lead, to=Status.FIRST_CALL, by=stranger)
    assert services.lead_move(lead, to=Status.FIRST_CALL, by=head).status == Status.FIRST_CALL
    assert services.lead_move(lead, to=Status.NEW, by=crm_admin).status == Status.NEW


def test_unknown_status_is_refused(lead, owner):
    with pytest.raises(services.LeadError, match="Неизвестный статус"):
        services.lead_move(lead, to="won", by=owner)


def test_the_status_field_cannot_be_set_directly(lead):
    with pytest.raises(AttributeError):
        lead.status = Status.DECISION_MAKER


def test_a_rule_added_in_the_database_changes_the_next_move(lead, owner):
    Requirement.objects.create(status=Status.QUALIFICATION, key="company_website")
    with pytest.raises(services.MissingFields) as exc:
        services.lead_move(lead, to=Status.QUALIFICATION, by=owner, data=qualification_data())
    assert keys(exc.value.requirements) == {"company_website"}
    moved = services.lead_move(lead, to=Status.QUALIFICATION, by=owner,
                               data={**qualification_data(), "company_website": "reshenie.example"})
    assert moved.status == Status.QUALIFICATION


def test_a_rule_removed_in_the_database_frees_the_next_move(lead, owner):
    Requirement.objects.filter(status=Status.QUALIFICATION).delete()
    assert services.lead_move(lead, to=Status.QUALIFICATION, by=owner).status == Status.QUALIFICATION


def test_rules_are_cumulative_a_rule_on_an_earlier_status_binds_later_ones(lead, owner):
    Requirement.objects.create(status=Status.FIRST_CALL, key="company_email")
    assert keys(missing_for(lead, Status.RECONNAISSANCE)) == {"company_email", "niche", "crm_system", "client_type"}
    assert keys(missing_for(lead, Status.JUNK)) == {"junk_reason"}


def test_a_failed_move_saves_none_of_its_data(lead, owner):
    with pytest.raises(services.MissingFields):
        services.lead_move(lead, to=Status.DECISION_MAKER, by=owner, data={"niche": ref("Niche")},
                           pinned_comment="не должен сохраниться")
    lead.refresh_from_db()
    assert lead.niche is None and lead.status == Status.NEW
    assert timeline.pinned(lead) is None


def test_a_stale_edit_is_refused_not_silently_overwriting(lead, owner):
    seen_version = lead.version
    services.lead_update(lead, data={"company_email": "new@example.com"}, by=owner, version=seen_version)
    with pytest.raises(services.StaleEdit):
        services.lead_update(lead, data={"company_email": "old@example.com"}, by=owner, version=seen_version)
    lead.refresh_from_db()
    assert lead.company_email == "new@example.com"


def test_an_edit_records_field_changes(lead, owner):
    services.lead_update(lead, data={"company_email": "a@b.ru", "amount": 1500}, by=owner, version=lead.version)
    change = timeline.entries(lead).get(kind="change")
    fields = {label: (old, new) for label, old, new in timeline.render(change).changes}
    assert fields["E-mail"] == ("—", "a@b.ru")
    assert "Сумма" in fields


def test_an_edit_cannot_break_the_current_status_rules(lead, owner):
    lead = services.lead_move(lead, to=Status.QUALIFICATION, by=owner, data=qualification_data())
    with pytest.raises(services.MissingFields):
        services.lead_update(lead, data={"niche": None}, by=owner, version=lead.version)
    lead.refresh_from_db()
    assert lead.niche is not None


def test_bulk_move_reports_each_lead_that_could_not_move(owner):
    ready = [LeadFactory(responsible=owner, **qualification_data()) for _ in range(2)]
    bare = LeadFactory(responsible=owner, title="Без квалификации")
    report = services.leads_bulk_move(Lead.objects.filter(pk__in=[*(r.pk for r in ready), bare.pk]),
                                      to=Status.QUALIFICATION, by=owner)
    assert {lead.pk for lead in report.done} == {r.pk for r in ready}
    assert [(lead.title, "Ниша компании" in reason) for lead, reason in report.failed] == [("Без квалификации", True)]


@pytest.mark.django_db(transaction=True)
def test_two_managers_moving_one_lead_at_once_leave_a_consistent_history(seeded_defaults, head, crm_admin):
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL; SQLite serialises writers anyway")
    lead = LeadFactory(responsible=head)
    barrier, errors = threading.Barrier(2), []

    def move(user, to):
        from django.db import connections

        try:
            barrier.wait()
            services.lead_move(Lead.objects.get(pk=lead.pk), to=to, by=user, data=qualification_data())
        except Exception as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=move, args=(head, Status.FIRST_CALL)),
               threading.Thread(target=move, args=(crm_admin, Status.RECONNAISSANCE))]
    [t.start() for t in threads]
    [t.join() for t in threads]
    lead.refresh_from_db()
    history = list(timeline.entries(lead).filter(kind="status").order_by("pk"))
    # Every recorded move starts where the previous one ended: no lost update.
    assert errors == []
    assert len(history) == 2
    assert history[0].data["from"] == "new"
    for before, after in zip(history, history[1:], strict=False):
        assert before.data["to"] == after.data["from"]
    assert history[-1].data["to"] == lead.status


def test_converted_is_set_only_by_conversion(ready_lead, owner):
    lead = services.lead_move(ready_lead, to=Status.DECISION_MAKER, by=owner)
    with pytest.raises(services.LeadError, match="конвертации"):
        services.lead_move(lead, to=Status.CONVERTED, by=owner)
    assert services.lead_move(lead, to=Status.CONVERTED, by=owner, converting=True).status == Status.CONVERTED


def test_creation_rules_are_data_too(owner):
    Requirement.objects.filter(status=Status.NEW, key="company_phone").delete()
    lead = services.lead_create(data=dict(title="Только название", source=ref("Source"), company_name="X",
                                          responsible=owner), by=owner)
    assert lead.status == Status.NEW and lead.company_phone == ""


@pytest.mark.parametrize(("data", "message"), [
    ({"company_phone": "12ab"}, "Телефон может содержать только цифры"),
    ({"inn": "7707083894"}, "контрольной суммы"),
    ({"amount": -1}, "не может быть отрицательной"),
    ({"company_email": "не почта"}, "E-mail"),
])
def test_the_service_validates_what_no_form_checked(lead, owner, data, message):
    """An import or a script calls the service directly: it must refuse what a form refuses."""
    with pytest.raises(services.InvalidData, match=message):
        services.lead_update(lead, data=data, by=owner, version=lead.version)
    with pytest.raises(services.InvalidData, match=message):
        services.lead_create(data={"title": "x", "source": ref("Source"), "company_name": "x",
                                   "company_phone": "+79120000000", "responsible": owner, **data}, by=owner)


def test_the_service_normalises_phones_and_refuses_nothing_used_with_others(lead, owner):
    lead = services.lead_update(lead, data={"contact_phone": "8 (952) 266-63-48"}, by=owner, version=lead.version)
    assert lead.contact_phone == "+79522666348"
    with pytest.raises(services.InvalidData, match="Ничем не пользовалась"):
        services.lead_update(lead, data={}, m2m={"used_products": [ref("UsedProduct", "Ничем не пользовалась"),
                                                                   ref("UsedProduct", "Консультации")]},
                             by=owner, version=lead.version)
