"""Outgoing events (rest.events): after a change of a lead, deal, contact, company or task commits,
each handler that wants the event gets Bitrix24's form-encoded body posted by the background task,
retried with back-off; a rolled-back change sends nothing. A real HTTP receiver on loopback takes
the posts; tasks run in the immediate backend (the worker test runs the real `db_worker`)."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from clients import services as clients
from deals import services as deals
from leads import services as leads
from leads.models import Status
from rest.events import addresses, services
from rest.events.models import Delivery, Handler
from tasks_app import services as tasks
from tests.factories import ref
from tests.rest.events_receiver import Receiver


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


@pytest.fixture(autouse=True)
def _loopback_allowed(settings):
    settings.REST_EVENTS_ALLOW_PRIVATE = True  # the receiver is on 127.0.0.1
    settings.REST_EVENTS_BACKOFF = [0]
    settings.REST_EVENTS_ATTEMPTS = 3
    settings.CRM_URL = "https://crm.reshenie.example"


def handler_for(receiver, *events, by):
    return services.handler_create(name="Сайт", url=receiver.url, events=list(events), by=by)


def new_lead(owner, **extra):
    return leads.lead_create(data={"title": "Лид с сайта", "source": ref("Source", "Контур.Компас"),
                                   "company_name": "ООО «Вектор»", "company_phone": "+79120000001",
                                   "responsible": owner, **extra}, by=owner)


def test_it_posts_bitrix24s_form_body_after_a_lead_is_created(receiver, head, owner, django_capture_on_commit_callbacks):
    handler = handler_for(receiver, "ONCRMLEADADD", by=head)
    with django_capture_on_commit_callbacks(execute=True):
        lead = new_lead(owner)
    assert receiver.events() == [("ONCRMLEADADD", str(lead.pk))]
    fields = receiver.fields()
    assert [name for name, _value in receiver.posts[0]] == [
        "event", "event_handler_id", "data[FIELDS][ID]", "ts", "auth[domain]", "auth[client_endpoint]",
        "auth[member_id]", "auth[application_token]"]
    assert fields["event_handler_id"] == str(handler.pk)
    assert fields["auth[application_token]"] == handler.application_token and len(handler.application_token) == 32
    assert fields["auth[domain]"] == "crm.reshenie.example"
    assert fields["auth[client_endpoint]"] == "https://crm.reshenie.example/rest/"
    assert len(fields["auth[member_id]"]) == 32
    assert abs(int(fields["ts"]) - int(lead.created_at.timestamp())) <= 2
    assert receiver.headers[0]["Content-Type"] == "application/x-www-form-urlencoded"
    delivery = Delivery.objects.get()
    assert (delivery.state, delivery.attempts, delivery.last_status) == (Delivery.State.DELIVERED, 1, 200)


def test_it_posts_nothing_before_the_commit_and_nothing_for_a_change_rolled_back(receiver, head, owner,
                                                                                  django_capture_on_commit_callbacks):
    handler_for(receiver, "ONCRMLEADADD", "ONCRMLEADUPDATE", by=head)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with transaction.atomic():
            new_lead(owner)
            assert receiver.posts == []  # still inside the transaction
            transaction.set_rollback(True)
    assert callbacks == [] and receiver.posts == [] and not Delivery.objects.exists()

    # A refused change (the status gate) rolls back too: no ONCRMLEADUPDATE for it.
    with django_capture_on_commit_callbacks(execute=True):
        lead = new_lead(owner)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(leads.LeadError):
        leads.lead_move(lead, to=Status.DECISION_MAKER, by=owner, data={"comment": "пропущу этапы"})
    assert receiver.events() == [("ONCRMLEADADD", str(lead.pk))]


def test_it_sends_one_event_per_record_and_change(receiver, head, owner, django_capture_on_commit_callbacks):
    handler_for(receiver, "ONCRMLEADADD", "ONCRMLEADUPDATE", by=head)
    # Added and edited in one transaction (an API call adding with a status): its ADD only.
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        lead = new_lead(owner)
        lead = leads.lead_update(lead, data={"amount": Decimal("1500")}, by=owner, version=lead.version)
    # A move with fields writes two history lines (the fields, the status): one UPDATE.
    with django_capture_on_commit_callbacks(execute=True):
        leads.lead_move(lead, to=Status.FIRST_CALL, by=owner, data={"comment": "Позвонить завтра"})
    assert receiver.events() == [("ONCRMLEADADD", str(lead.pk)), ("ONCRMLEADUPDATE", str(lead.pk))]


def test_it_sends_only_the_events_a_handler_chose_and_none_to_a_switched_off_one(receiver, head, owner,
                                                                                 django_capture_on_commit_callbacks):
    handler = handler_for(receiver, "ONCRMLEADUPDATE", by=head)
    with django_capture_on_commit_callbacks(execute=True):
        lead = new_lead(owner)
    assert receiver.posts == []
    services.handler_update(handler, data={"active": False}, by=head)
    with django_capture_on_commit_callbacks(execute=True):
        leads.lead_update(lead, data={"amount": Decimal("10")}, by=owner, version=lead.version)
    assert receiver.posts == [] and not Delivery.objects.exists()


def test_it_sends_deletions_and_the_other_records_events(receiver, head, owner, crm_admin,
                                                          django_capture_on_commit_callbacks):
    handler_for(receiver, "ONCRMLEADDELETE", "ONCRMDEALADD", "ONCRMDEALUPDATE", "ONCRMCOMPANYADD",
                "ONCRMCONTACTADD", "ONCRMCONTACTUPDATE", "ONTASKADD", "ONTASKUPDATE", by=head)
    with django_capture_on_commit_callbacks(execute=True):
        lead = new_lead(owner)
    with django_capture_on_commit_callbacks(execute=True):
        leads.lead_delete(lead, by=crm_admin)
    with django_capture_on_commit_callbacks(execute=True):
        deal = deals.deal_create(data={"title": "Внедрение", "responsible": owner}, by=owner)
    with django_capture_on_commit_callbacks(execute=True):
        deals.deal_update(deal, data={"amount": Decimal("100")}, by=owner, version=deal.version)
    with django_capture_on_commit_callbacks(execute=True):
        company = clients.company_create(data={"name": "ООО «Ромашка»", "responsible": owner}, by=owner)
    with django_capture_on_commit_callbacks(execute=True):
        contact = clients.contact_create(data={"first_name": "Анна", "last_name": "Иванова", "responsible": owner},
                                         by=owner)
    with django_capture_on_commit_callbacks(execute=True):
        clients.contact_link_company(contact, company, by=owner)
    with django_capture_on_commit_callbacks(execute=True):
        task = tasks.task_create(data={"title": "Позвонить", "responsible": owner}, by=owner)
    with django_capture_on_commit_callbacks(execute=True):
        tasks.task_update(task, data={"title": "Позвонить в 10:00"}, by=owner)
    assert receiver.events() == [
        ("ONCRMLEADDELETE", str(lead.pk)), ("ONCRMDEALADD", str(deal.pk)), ("ONCRMDEALUPDATE", str(deal.pk)),
        ("ONCRMCOMPANYADD", str(company.pk)), ("ONCRMCONTACTADD", str(contact.pk)),
        ("ONCRMCONTACTUPDATE", str(contact.pk)), ("ONTASKADD", str(task.pk)), ("ONTASKUPDATE", str(task.pk))]
    # A task's events carry Bitrix24's FIELDS_AFTER (and FIELDS_BEFORE on an update).
    assert "data[FIELDS_AFTER][ID]" in receiver.fields(-2) and "data[FIELDS_BEFORE][ID]" not in receiver.fields(-2)
    assert receiver.fields(-1)["data[FIELDS_BEFORE][ID]"] == receiver.fields(-1)["data[FIELDS_AFTER][ID]"] == str(task.pk)


def test_it_retries_a_failed_post_and_gives_up_after_the_last_attempt(receiver, head, owner,
                                                                       django_capture_on_commit_callbacks):
    handler_for(receiver, "ONCRMLEADADD", by=head)
    receiver.answers = [500]
    with django_capture_on_commit_callbacks(execute=True):
        new_lead(owner)
    delivery = Delivery.objects.get()
    assert (delivery.state, delivery.attempts, delivery.last_status) == (Delivery.State.DELIVERED, 2, 200)
    assert len(receiver.posts) == 2 and receiver.posts[0] == receiver.posts[1]  # the same body again

    receiver.answers = [503, 502, 500, 200]
    with django_capture_on_commit_callbacks(execute=True):
        new_lead(owner)
    failed = Delivery.objects.latest("pk")
    assert (failed.state, failed.attempts, failed.last_status) == (Delivery.State.FAILED, 3, 500)
    assert "500" in failed.last_error and failed.next_attempt_at is None


def test_it_waits_the_back_off_before_a_retry(receiver, head, owner, settings, django_capture_on_commit_callbacks):
    settings.REST_EVENTS_BACKOFF = [60, 300]
    handler_for(receiver, "ONCRMLEADADD", by=head)
    receiver.answers = [500]
    with django_capture_on_commit_callbacks(execute=True):
        new_lead(owner)
    delivery = Delivery.objects.get()
    # The immediate backend cannot defer: the retry waits for the worker's backend (test_events_worker).
    assert (delivery.state, delivery.attempts, len(receiver.posts)) == (Delivery.State.PENDING, 1, 1)
    assert 55 <= (delivery.next_attempt_at - delivery.last_attempt_at).total_seconds() <= 60


def test_it_does_not_follow_a_redirect(receiver, head, owner, django_capture_on_commit_callbacks):
    handler_for(receiver, "ONCRMLEADADD", by=head)
    receiver.redirect_to = "http://10.0.0.1/admin"
    with django_capture_on_commit_callbacks(execute=True):
        new_lead(owner)
    delivery = Delivery.objects.get()
    assert delivery.last_status == 302 and delivery.state == Delivery.State.FAILED and len(receiver.posts) == 3


@pytest.mark.parametrize("url", ["http://127.0.0.1:8000/x", "http://localhost/x", "http://10.1.2.3/x",
                                 "http://192.168.0.5/x", "http://169.254.169.254/latest/meta-data",
                                 "http://[::1]/x", "http://[::ffff:127.0.0.1]/x", "http://0.0.0.0/x"])
def test_it_refuses_loopback_and_private_addresses_unless_allowed(url, head, settings):
    settings.REST_EVENTS_ALLOW_PRIVATE = False
    assert "внутренняя сеть" in addresses.problem(url)
    with pytest.raises(ValidationError) as refused:
        services.handler_create(name="Внутренний", url=url, events=["ONCRMLEADADD"], by=head)
    assert "url" in refused.value.message_dict and not Handler.objects.exists()
    settings.REST_EVENTS_ALLOW_PRIVATE = True
    assert addresses.problem(url) is None


@pytest.mark.parametrize("url", ["ftp://example.ru/x", "https://user:secret@example.ru/x", "example"])
def test_it_refuses_what_is_no_http_address(url):
    assert addresses.problem(url, resolve=False)


def test_it_rechecks_the_address_before_each_post(receiver, head, owner, settings, django_capture_on_commit_callbacks):
    handler_for(receiver, "ONCRMLEADADD", by=head)
    settings.REST_EVENTS_ALLOW_PRIVATE = False
    with django_capture_on_commit_callbacks(execute=True):
        new_lead(owner)
    delivery = Delivery.objects.get()
    assert receiver.posts == [] and delivery.state == Delivery.State.FAILED and "внутренняя сеть" in delivery.last_error


def test_it_leaves_handlers_to_supervisors(owner, teammate, outsider, head, crm_admin):
    for user in (owner, teammate, outsider):
        assert not services.can_manage(user)
        with pytest.raises(PermissionDenied):
            services.handler_create(name="Мой", url="https://example.ru/x", events=["ONCRMLEADADD"], by=user)
    for user in (head, crm_admin):
        assert services.can_manage(user)
        assert services.handler_create(name="Их", url="https://example.ru/x", events=["ONCRMLEADADD"], by=user).pk


def test_it_refuses_unknown_events(head):
    with pytest.raises(ValidationError) as refused:
        services.handler_create(name="Сайт", url="https://example.ru/x", events=["ONCRMLEADADD", "ONSOMETHING"], by=head)
    assert "events" in refused.value.message_dict


def test_a_new_token_replaces_the_old_one_in_the_posts(receiver, head, owner, django_capture_on_commit_callbacks):
    handler = handler_for(receiver, "ONCRMLEADADD", by=head)
    old = handler.application_token
    handler = services.handler_new_token(handler, by=head)
    with django_capture_on_commit_callbacks(execute=True):
        new_lead(owner)
    assert handler.application_token != old and receiver.fields()["auth[application_token]"] == handler.application_token


def test_an_imports_records_send_their_events_with_one_look_at_the_handlers(receiver, head, owner,
                                                                            django_capture_on_commit_callbacks,
                                                                            django_assert_max_num_queries):
    from crm import timeline

    handler_for(receiver, "ONCRMLEADADD", by=head)
    made = [new_lead(owner) for _ in range(3)]  # outside the capture: their own events are not run
    receiver.posts.clear()
    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        # An import writes its «created» lines at once (log_many): one callback for all its records.
        timeline.log_many(made, timeline.Kind.CREATED, owner, timeline.message("Импорт: %(file)s", file="leads.csv"))
    assert len(callbacks) == 1
    with django_assert_max_num_queries(2 + 3 * 4):  # the handlers once, the deliveries, then each post's task
        callbacks[0]()
    assert sorted(receiver.events()) == sorted(("ONCRMLEADADD", str(lead.pk)) for lead in made)


def test_a_transaction_of_many_changes_looks_at_the_handlers_once(receiver, head, owner,
                                                                  django_capture_on_commit_callbacks):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    handler_for(receiver, "ONCRMLEADADD", "ONCRMLEADUPDATE", by=head)
    handler_for(receiver, "ONCRMLEADUPDATE", by=head)
    made = [new_lead(owner) for _ in range(3)]  # outside the capture: their own events are not run
    receiver.posts.clear()
    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        for lead in made:  # one callback per change, as the history's writer registers them
            leads.lead_update(lead, data={"comment": "Перезвонить"}, by=owner, version=lead.version)
    assert len(callbacks) == 3
    with CaptureQueriesContext(connection) as queries:
        for callback in callbacks:
            callback()
    handlers = [q["sql"] for q in queries.captured_queries if 'FROM "rest_events_handler"' in q["sql"]
                and "rest_events_delivery" not in q["sql"]]
    assert len(handlers) == 1
    assert sorted(receiver.events()) == sorted(("ONCRMLEADUPDATE", str(lead.pk)) for lead in made for _ in (1, 2))


PUBLIC = "93.184.215.14"  # a global address the test pretends the receiver's name has


@pytest.fixture
def rebinding(monkeypatch):
    """hooks.example.com resolves to a public address once, then to 127.0.0.1 (a rebinding DNS
    server); every connection goes to the loopback receiver, and `connected` keeps where it was
    asked to go."""
    import socket

    state = {"lookups": 0, "connected": []}
    real_lookup, real_connect = socket.getaddrinfo, socket.create_connection

    def lookup(host, port, *args, **kwargs):
        if host != "hooks.example.com":
            return real_lookup(host, port, *args, **kwargs)
        state["lookups"] += 1
        address = PUBLIC if state["lookups"] == 1 else "127.0.0.1"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    def connect(address, *args, **kwargs):
        state["connected"].append(address)
        return real_connect(("127.0.0.1", address[1]), *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", lookup)
    monkeypatch.setattr(socket, "create_connection", connect)
    return state


def test_it_posts_to_the_address_it_checked_not_to_what_the_name_turns_to(receiver, rebinding, settings):
    from rest.events import tasks as delivery_tasks

    settings.REST_EVENTS_ALLOW_PRIVATE = False
    status, error = delivery_tasks.post(f"http://hooks.example.com:{receiver.port}/bitrix/events", [("event", "X")])
    assert (status, error) == (200, "")
    assert rebinding["lookups"] == 1 and rebinding["connected"] == [(PUBLIC, receiver.port)]
    assert receiver.headers[0]["Host"] == f"hooks.example.com:{receiver.port}"

    # The next post resolves again: the name now points at this machine, and nothing is sent.
    status, error = delivery_tasks.post(f"http://hooks.example.com:{receiver.port}/bitrix/events", [("event", "X")])
    assert status is None and "внутренняя сеть" in error and len(receiver.posts) == 1


def test_it_posts_over_tls_to_the_checked_address_with_the_names_certificate(rebinding, settings, monkeypatch,
                                                                            tmp_path):
    import ssl

    import trustme

    from rest.events import tasks as delivery_tasks

    ca = trustme.CA()
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "ca.pem"))
    server_side = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("hooks.example.com").configure_cert(server_side)
    receiver = Receiver(tls=server_side)
    try:
        settings.REST_EVENTS_ALLOW_PRIVATE = False
        status, error = delivery_tasks.post(f"https://hooks.example.com:{receiver.port}/bitrix/events",
                                            [("event", "ONCRMLEADADD")])
    finally:
        receiver.close()
    assert (status, error) == (200, "")
    assert rebinding["connected"] == [(PUBLIC, receiver.port)] and receiver.server_names == ["hooks.example.com"]
    assert receiver.fields()["event"] == "ONCRMLEADADD"


def test_it_prunes_the_log_of_old_finished_deliveries_and_keeps_those_still_waiting(receiver, head, settings):
    import datetime as dt
    from io import StringIO

    from django.core.management import call_command
    from django.utils import timezone

    from rest.events import tasks as delivery_tasks

    settings.REST_EVENTS_KEEP_DAYS = 30
    handler = handler_for(receiver, "ONCRMLEADADD", by=head)
    now = timezone.now()

    def logged(days_ago, state):
        return Delivery.objects.create(handler=handler, event="ONCRMLEADADD", object_id=1, state=state,
                                       created_at=now - dt.timedelta(days=days_ago))

    old = [logged(31, state) for state in (Delivery.State.DELIVERED, Delivery.State.FAILED, Delivery.State.CANCELLED)]
    waiting, recent, fresh = logged(40, Delivery.State.PENDING), logged(29, Delivery.State.DELIVERED), \
        logged(12, Delivery.State.FAILED)
    out = StringIO()
    call_command("purge_rest_events", stdout=out)
    assert "3" in out.getvalue() and not Delivery.objects.filter(pk__in=[d.pk for d in old]).exists()
    assert set(Delivery.objects.all()) == {waiting, recent, fresh}
    call_command("purge_rest_events", "--days", "10", stdout=StringIO())
    assert set(Delivery.objects.all()) == {waiting}
    assert delivery_tasks.purge_log.call() == 0  # the task does the same, and twice changes nothing


def test_the_purge_command_refuses_a_negative_number_of_days():
    from django.core.management import call_command
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("purge_rest_events", "--days", "-1")
