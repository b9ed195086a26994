"""Posting an event (Django's tasks API; the worker is `manage.py db_worker`).

`deliver` is idempotent: a delivery already made, given up or whose handler is gone is left alone,
and the row is locked while posting so two workers do not both post it. A failure (no answer, an
answer other than 2xx, a refused address) is retried after REST_EVENTS_BACKOFF seconds (one
delay per retry, the last repeated) until REST_EVENTS_ATTEMPTS attempts were made; then the
delivery is «Не доставлено» and stays in the log. Redirects are not followed: a receiver that
moved must be re-registered, and a redirect cannot lead the post into the private network."""

from __future__ import annotations

import http.client
import socket
import ssl
from datetime import timedelta
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import default_task_backend, task

from . import addresses
from .models import Delivery
from .services import body, purge_deliveries


def post(url: str, fields: list[tuple[str, str]]) -> tuple[int | None, str]:
    """(HTTP status or None, error text or "") of one post, to the addresses `addresses.destination`
    checked — not to what the name resolves to a moment later — with the name as Host and as TLS's
    server name (its certificate is checked against the name)."""
    found, trouble = addresses.destination(url)
    if trouble:
        return None, trouble
    parts = urlsplit(url)
    connection = _connection(parts, found)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request("POST", target, body=urlencode(fields).encode(), headers={
            "Content-Type": "application/x-www-form-urlencoded", "User-Agent": "Reshenie-CRM events"})
        status = connection.getresponse().status
    except (OSError, http.client.HTTPException) as exc:
        return None, (_("Нет ответа: %(reason)s") % {"reason": str(exc) or type(exc).__name__})[:500]
    finally:
        connection.close()
    if 200 <= status < 300:
        return status, ""
    # A redirect is not followed either: it could lead the post into the private network.
    return status, _("Обработчик ответил %(status)s.") % {"status": status}


def _connection(parts, found: list[str]) -> http.client.HTTPConnection:
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname  # an IPv6 address
    timeout = settings.REST_EVENTS_TIMEOUT
    if parts.scheme == "https":
        connection = http.client.HTTPSConnection(host, parts.port, timeout=timeout,
                                                 context=ssl.create_default_context())
    else:
        connection = http.client.HTTPConnection(host, parts.port, timeout=timeout)

    def pinned(address, timeout=None, source_address=None):
        """http.client's connect: to the checked addresses in turn, on the URL's port."""
        error: OSError | None = None
        for ip in found:
            try:
                return socket.create_connection((ip, address[1]), timeout, source_address)
            except OSError as exc:
                error = exc
        raise error or OSError("no address")

    connection._create_connection = pinned
    return connection


def backoff(attempts: int) -> int:
    delays = list(settings.REST_EVENTS_BACKOFF) or [0]
    return int(delays[min(attempts, len(delays)) - 1])


@task()
def deliver(delivery_id: int) -> bool:
    """One attempt; True when the handler took the event."""
    with transaction.atomic():
        delivery = (Delivery.objects.select_for_update(of=("self",)).select_related("handler")
                    .filter(pk=delivery_id, state=Delivery.State.PENDING).first())
        if delivery is None:
            return False
        now = timezone.now()
        if not delivery.handler.active:
            delivery.state, delivery.next_attempt_at = Delivery.State.CANCELLED, None
            delivery.last_error = _("Обработчик выключен.")
            delivery.save()
            return False
        status, error = post(delivery.handler.url, body(delivery))
        delivery.attempts += 1
        delivery.last_attempt_at, delivery.last_status, delivery.last_error = now, status, error
        if status is not None and 200 <= status < 300:
            delivery.state, delivery.next_attempt_at = Delivery.State.DELIVERED, None
        elif delivery.attempts >= settings.REST_EVENTS_ATTEMPTS:
            delivery.state, delivery.next_attempt_at = Delivery.State.FAILED, None
        else:
            delivery.next_attempt_at = now + timedelta(seconds=backoff(delivery.attempts))
            transaction.on_commit(lambda: _retry(delivery.pk, delivery.next_attempt_at), robust=True)
        delivery.save()
    return delivery.state == Delivery.State.DELIVERED


def _retry(delivery_id: int, when) -> None:
    if default_task_backend.supports_defer:
        deliver.using(run_after=when).enqueue(delivery_id)
    elif when <= timezone.now():
        # A backend that cannot defer (the immediate one of the tests) retries at once when no
        # delay is configured; with a delay it leaves the delivery waiting rather than hurry it.
        deliver.enqueue(delivery_id)


@task()
def purge_log() -> int:
    """The delivery log's old entries removed (services.purge_deliveries); idempotent — run it daily:
    `manage.py purge_rest_events` from cron, or enqueue it."""
    return purge_deliveries()
