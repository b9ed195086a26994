"""The head of sales registers an outgoing-events handler in a browser: from the «Настройки» menu,
the form with its events grid, the token shown once; a lead created then reaches the receiver (a
real HTTP server on loopback) and the handler's log says «Доставлено»."""

import pytest
from playwright.sync_api import expect

from leads import services as leads
from rest.events.models import Handler
from tests.factories import ref
from tests.rest.events_receiver import Receiver

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_head_registers_a_handler_and_sees_the_event_delivered(live_server, page, login, head, owner, settings):
    settings.REST_EVENTS_ALLOW_PRIVATE = True  # the receiver is on 127.0.0.1
    receiver = Receiver()
    try:
        login(head)
        page.get_by_test_id("menu").get_by_role("link", name="Исходящие события").click()
        expect(page.get_by_test_id("no-handlers")).to_be_visible()
        page.get_by_test_id("handler-name").fill("Сайт «Решения»")
        page.get_by_test_id("handler-url").fill(receiver.url)
        page.get_by_test_id("event-ONCRMLEADADD").check()
        page.get_by_test_id("event-ONCRMLEADUPDATE").check()
        page.get_by_test_id("handler-add").click()

        handler = Handler.objects.get()
        expect(page.get_by_test_id("token")).to_have_text(handler.application_token)
        assert handler.events == ["ONCRMLEADADD", "ONCRMLEADUPDATE"] and handler.created_by == head
        expect(page.get_by_test_id("no-deliveries")).to_be_visible()

        lead = leads.lead_create(data={"title": "Заявка с сайта", "source": ref("Source", "Контур.Компас"),
                                       "company_name": "ООО «Вектор»", "company_phone": "+79120000001",
                                       "responsible": owner}, by=owner)
        page.reload()
        expect(page.get_by_test_id("token")).to_have_count(0)  # shown once
        expect(page.get_by_test_id("delivery-state")).to_have_text("Доставлено")
        assert receiver.events() == [("ONCRMLEADADD", str(lead.pk))]
        assert receiver.fields()["auth[application_token]"] == handler.application_token
    finally:
        receiver.close()


def test_the_head_edits_renews_the_token_of_and_deletes_a_handler(live_server, page, login, head):
    from rest.events import services

    handler = services.handler_create(name="Телефония", url="https://pbx.example.ru/hook",
                                      events=["ONCRMLEADADD", "ONCRMDEALUPDATE"], by=head)
    old_token = handler.application_token
    login(head)
    page.goto(f"{live_server.url}/rest/events/{handler.pk}/")
    page.get_by_test_id("event-ONCRMDEALUPDATE").uncheck()
    page.get_by_test_id("handler-save").click()
    expect(page.get_by_text("Обработчик сохранён.")).to_be_visible()
    handler.refresh_from_db()
    assert handler.events == ["ONCRMLEADADD"]

    page.get_by_test_id("handler-token").click()
    expect(page.get_by_test_id("token")).to_be_visible()
    handler.refresh_from_db()
    assert handler.application_token != old_token
    expect(page.get_by_test_id("token")).to_have_text(handler.application_token)  # the new one, shown once

    page.get_by_test_id("handler-delete").click()
    page.get_by_test_id("handler-delete-confirm").click()
    expect(page.get_by_text("Обработчик «Телефония» удалён.")).to_be_visible()
    assert not Handler.objects.filter(pk=handler.pk).exists()
