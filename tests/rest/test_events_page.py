"""The «Исходящие события» page and the admin: a supervisor's (the head of sales, the CRM
administrator), 403 to the managers; a new handler's token is shown once; bad input is a Russian
message on the form with nothing saved."""

import pytest
from django.urls import reverse

from rest.events import services
from rest.events.models import Delivery, Handler

FORM = {"name": "Сайт", "url": "https://example.ru/bitrix/events", "events": ["ONCRMLEADADD", "ONCRMDEALUPDATE"],
        "active": "on"}


@pytest.fixture
def handler(head):
    made = services.handler_create(name="Телефония", url="https://pbx.example.ru/hook", events=["ONCRMLEADADD"], by=head)
    Delivery.objects.create(handler=made, event="ONCRMLEADADD", object_id=42, state=Delivery.State.FAILED,
                            attempts=5, last_status=500, last_error="Обработчик ответил 500.")
    return made


@pytest.mark.parametrize("persona,allowed", [("owner", False), ("teammate", False), ("outsider", False),
                                             ("head", True), ("crm_admin", True)])
def test_it_opens_to_supervisors_only(client, personas, handler, persona, allowed, django_assert_max_num_queries):
    client.force_login(personas[persona])
    for url in (reverse("rest_events:list"), reverse("rest_events:detail", args=[handler.pk])):
        with django_assert_max_num_queries(12):
            response = client.get(url)
        assert response.status_code == (200 if allowed else 403)
    for name in ("rest_events:token", "rest_events:delete"):
        response = client.post(reverse(name, args=[handler.pk]))
        assert response.status_code == (302 if allowed else 403)
    assert Handler.objects.filter(pk=handler.pk).exists() is not allowed


@pytest.mark.parametrize("persona,shown", [("owner", False), ("head", True), ("crm_admin", True)])
def test_the_settings_menu_links_it_for_supervisors(client, personas, persona, shown):
    client.force_login(personas[persona])
    page = client.get(reverse("leads:list")).content.decode()
    assert (f'href="{reverse("rest_events:list")}"' in page) is shown
    assert ("Исходящие события" in page) is shown


def test_it_lists_handlers_with_their_log_counts(client, head, handler):
    client.force_login(head)
    page = client.get(reverse("rest_events:list")).content.decode()
    assert "Телефония" in page and "https://pbx.example.ru/hook" in page and "ONCRMLEADADD" in page
    assert handler.application_token not in page  # shown once, at its making, never in the list


def test_it_adds_a_handler_and_shows_its_token_once(client, head):
    client.force_login(head)
    response = client.post(reverse("rest_events:list"), FORM, follow=True)
    handler = Handler.objects.get()
    assert (handler.name, handler.url, handler.events, handler.active, handler.created_by) == (
        "Сайт", FORM["url"], ["ONCRMDEALUPDATE", "ONCRMLEADADD"], True, head)
    assert response.redirect_chain[-1][0] == reverse("rest_events:detail", args=[handler.pk])
    assert handler.application_token in response.content.decode()
    again = client.get(reverse("rest_events:detail", args=[handler.pk])).content.decode()
    assert handler.application_token not in again and "Журнал отправок" in again


def test_a_new_token_is_shown_once_and_replaces_the_old(client, head, handler):
    client.force_login(head)
    old = handler.application_token
    page = client.post(reverse("rest_events:token", args=[handler.pk]), follow=True).content.decode()
    handler.refresh_from_db()
    assert handler.application_token != old and handler.application_token in page and old not in page


@pytest.mark.parametrize("change,field,message", [
    ({"url": "http://127.0.0.1:8000/hook"}, "url", "внутренняя сеть"),
    ({"url": "ftp://example.ru/x"}, "url", "должен начинаться с http:// или https://"),
    ({"events": []}, "events", "Выберите хотя бы одно событие"),
    ({"events": ["ONCRMLEADADD", "ONNOTHING"]}, "events", "Выберите корректный вариант"),
    ({"name": ""}, "name", "Обязательное поле"),
])
def test_bad_input_is_a_message_and_saves_nothing(client, head, change, field, message):
    client.force_login(head)
    response = client.post(reverse("rest_events:list"), {**FORM, **change})
    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors[field])
    assert not Handler.objects.exists()


def test_it_edits_a_handler_and_shows_its_log(client, head, handler):
    client.force_login(head)
    page = client.get(reverse("rest_events:detail", args=[handler.pk])).content.decode()
    assert "Не доставлено" in page and "HTTP 500" in page and "42" in page
    response = client.post(reverse("rest_events:detail", args=[handler.pk]),
                           {"name": "АТС", "url": "https://pbx.example.ru/v2", "events": ["ONCRMLEADUPDATE"]})
    assert response.status_code == 302
    handler.refresh_from_db()
    assert (handler.name, handler.url, handler.events, handler.active) == (
        "АТС", "https://pbx.example.ru/v2", ["ONCRMLEADUPDATE"], False)


def test_it_deletes_a_handler_with_its_log(client, head, handler):
    client.force_login(head)
    assert client.post(reverse("rest_events:delete", args=[handler.pk])).status_code == 302
    assert not Handler.objects.exists() and not Delivery.objects.exists()


def test_the_admin_shows_handlers_and_log_to_supervisors_and_switches_through_the_service(client, head, owner, handler):
    client.force_login(head)  # staff, the head of sales' level
    assert client.get(reverse("admin:rest_events_handler_changelist")).status_code == 200
    log = client.get(reverse("admin:rest_events_delivery_changelist")).content.decode()
    assert "ONCRMLEADADD" in log and "Обработчик ответил 500." in log
    change = client.get(reverse("admin:rest_events_handler_change", args=[handler.pk])).content.decode()
    assert handler.application_token not in change
    response = client.post(reverse("admin:rest_events_handler_change", args=[handler.pk]), {"_save": "1"})
    assert response.status_code == 302
    handler.refresh_from_db()
    assert handler.active is False  # the checkbox left unticked

    owner.is_staff = True
    owner.save()
    client.force_login(owner)  # staff but a manager's level: not his to see
    assert client.get(reverse("admin:rest_events_handler_changelist")).status_code == 403
