"""The only writers of outgoing events: handlers (a supervisor's) and the events themselves.

An event is sent after its transaction commits — a change rolled back sends nothing — and once per
record and event however many history lines the change wrote (a move with its fields writes two):
the hooks register an on-commit callback per change, and the callbacks of one transaction share a
`_Batch` that remembers what it sent. A record added and changed in one transaction sends its ADD
only, as Bitrix24 does for a lead added with its fields. Each (handler, event) becomes a `Delivery`
row posted by the background task `deliver`."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import access
from accounts.models import Action, Entity, Level

from . import addresses
from .models import ACTIONS, ENTITIES, EVENT_CODES, Delivery, Handler


def can_manage(user) -> bool:
    """Handlers are the portal's, not one manager's: an event names records of every department.
    So they are a supervisor's — the head of sales' level (own department and all below it) or the
    CRM administrator's —, as Bitrix24 leaves outgoing webhooks to its administrators."""
    if not (user and user.is_authenticated and user.is_active):
        return False
    return user.is_superuser or access.level(user, Entity.LEAD, Action.VIEW) >= Level.SUBDEPARTMENTS


def _check(by) -> None:
    if not can_manage(by):
        raise PermissionDenied(_("Обработчики событий настраивают руководители и администраторы CRM."))


def _validate(handler: Handler) -> None:
    errors: dict[str, list[str]] = {}
    if not handler.name.strip():
        errors["name"] = [_("Укажите название.")]
    trouble = addresses.problem(handler.url, resolve=False)
    if trouble:
        errors["url"] = [trouble]
    unknown = sorted(set(handler.events) - EVENT_CODES)
    if not handler.events or unknown:
        errors["events"] = [_("Выберите события из списка.")]
    if errors:
        raise ValidationError(errors)


def new_token() -> str:
    return secrets.token_hex(16)  # 32 characters, as Bitrix24's application tokens


@transaction.atomic
def handler_create(*, name: str, url: str, events: list[str], active: bool = True, by) -> Handler:
    """The new handler with its application token (shown to its creator once)."""
    _check(by)
    handler = Handler(name=name.strip(), url=url.strip(), events=sorted(set(events)), active=active,
                      application_token=new_token(), created_by=by)
    _validate(handler)
    handler.save()
    return handler


@transaction.atomic
def handler_update(handler: Handler, *, data: dict[str, Any], by) -> Handler:
    _check(by)
    locked = Handler.objects.select_for_update().get(pk=handler.pk)
    for name in ("name", "url", "events", "active"):
        if name in data:
            value = data[name]
            setattr(locked, name, sorted(set(value)) if name == "events" else value.strip() if isinstance(value, str) else value)
    _validate(locked)
    locked.save()
    return locked


@transaction.atomic
def handler_new_token(handler: Handler, *, by) -> Handler:
    """A new token (the old one leaked): events still waiting go with the new one."""
    _check(by)
    locked = Handler.objects.select_for_update().get(pk=handler.pk)
    locked.application_token = new_token()
    locked.save(update_fields=["application_token"])
    return locked


@transaction.atomic
def handler_delete(handler: Handler, *, by) -> None:
    """Its log goes with it; events waiting for a retry find nothing and stop."""
    _check(by)
    Handler.objects.filter(pk=handler.pk).delete()


# --- The events ---

def event_code(label: str, action: str) -> str | None:
    """`leads.lead` + `update` → ONCRMLEADUPDATE; None for records that have no events."""
    entity = ENTITIES.get(label)
    return entity[0] + ACTIONS[action][0] if entity and action in ACTIONS else None


class _Batch:
    """What one transaction's callbacks sent. A batch whose callbacks never ran (its transaction
    rolled back) is reused by the next transaction: it has sent nothing, so it dedupes nothing."""

    def __init__(self):
        self.ran = False
        self.sent: set[tuple[str, int]] = set()
        self.handlers: list[Handler] | None = None


def _batch() -> _Batch:
    connection = transaction.get_connection()
    batch = getattr(connection, "_rest_events_batch", None)
    if batch is None or batch.ran:
        batch = connection._rest_events_batch = _Batch()
    return batch


def _announce(code: str | None, pks: list[int]) -> None:
    if code is not None and pks:
        batch, when = _batch(), timezone.now()

        def send() -> None:
            _send(batch, code, pks, when)

        transaction.on_commit(send, robust=True)


def record_changed(record: Model, by, action: str) -> None:
    """crm.hooks.changed: inside the writer's transaction."""
    _announce(event_code(record._meta.label_lower, action), [record.pk])


def records_changed(records: list[Model], by, action: str) -> None:
    _announce(event_code(records[0]._meta.label_lower, action), [r.pk for r in records])


def record_deleted(content_type, pk: int) -> None:
    """crm.deletion.on_deleted: inside the deletion's transaction."""
    _announce(event_code(f"{content_type.app_label}.{content_type.model}", "delete"), [pk])


def _send(batch: _Batch, code: str, pks: list[int], when) -> None:
    """After the commit: a Delivery per handler that wants `code`, each posted by `deliver`."""
    from .tasks import deliver

    batch.ran = True
    added = code[:-len("UPDATE")] + "ADD" if code.endswith("UPDATE") else None
    fresh = [pk for pk in dict.fromkeys(pks) if (code, pk) not in batch.sent and (added, pk) not in batch.sent]
    batch.sent.update((code, pk) for pk in fresh)
    if batch.handlers is None:
        batch.handlers = list(Handler.objects.filter(active=True).only("pk", "events"))
    wanted = [h for h in batch.handlers if code in h.events]
    if not fresh or not wanted:
        return
    # created_at is the moment of the change, not of the commit: Bitrix24's `ts`.
    deliveries = Delivery.objects.bulk_create([Delivery(handler_id=h.pk, event=code, object_id=pk, created_at=when)
                                               for h in wanted for pk in fresh])
    for delivery in deliveries:
        deliver.enqueue(delivery.pk)


# --- The log ---

def purge_deliveries(days: int | None = None) -> int:
    """Remove the log's deliveries older than `days` (REST_EVENTS_KEEP_DAYS) that are done —
    delivered, given up or cancelled; one still waiting for its post stays. Returns how many went.
    Idempotent."""
    days = settings.REST_EVENTS_KEEP_DAYS if days is None else days
    before = timezone.now() - timedelta(days=days)
    removed, _by_model = (Delivery.objects.filter(created_at__lt=before).exclude(state=Delivery.State.PENDING)
                          .delete())
    return removed


# --- The body Bitrix24 posts ---

def portal() -> dict[str, str]:
    """auth[domain], auth[client_endpoint] and auth[member_id] as Bitrix24 sends them: the CRM's
    host, its REST address and a stable portal id (here derived from the address: one CRM, one id)."""
    base = settings.CRM_URL.rstrip("/")
    domain = urlsplit(base).netloc
    member = settings.REST_EVENTS_MEMBER_ID or hashlib.md5(base.encode()).hexdigest()  # an id, not a secret
    return {"domain": domain, "client_endpoint": f"{base}/rest/", "member_id": member}


def body(delivery: Delivery) -> list[tuple[str, str]]:
    """Bitrix24's form fields for one event: event, event_handler_id, data[FIELDS][ID] (a task's
    events carry data[FIELDS_AFTER][ID], an update also data[FIELDS_BEFORE][ID], as Bitrix24's task
    events do), ts (Unix seconds) and auth[…] with the handler's application token."""
    pk = str(delivery.object_id)
    if delivery.event.startswith("ONTASK"):
        data = [("data[FIELDS_BEFORE][ID]", pk)] if delivery.event != "ONTASKADD" else []
        data += [("data[FIELDS_AFTER][ID]", pk)] if delivery.event != "ONTASKDELETE" else []
    else:
        data = [("data[FIELDS][ID]", pk)]
    auth = portal()
    return [("event", delivery.event), ("event_handler_id", str(delivery.handler_id)), *data,
            ("ts", str(int(delivery.created_at.timestamp()))),
            ("auth[domain]", auth["domain"]), ("auth[client_endpoint]", auth["client_endpoint"]),
            ("auth[member_id]", auth["member_id"]), ("auth[application_token]", delivery.handler.application_token)]
