"""Running one method as a webhook's user: the lookup (any case, «.json» optional), the scope, one
transaction, the «через REST» mark on the history, the refusals' registry (what a method raises →
Bitrix24's error answer). Used by the view and by `batch` for each command; the envelope and the
`time` block are made here too."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from crm import timeline
from crm.deletion import DeletionRefused

from . import registry
from .registry import Call, RestError

log = logging.getLogger("rest")

METHOD_NOT_FOUND = ("ERROR_METHOD_NOT_FOUND", "Method not found!", 404)
INSUFFICIENT_SCOPE = ("insufficient_scope", "The request requires higher privileges than provided by the webhook token",
                      403)
INTERNAL = ("INTERNAL_SERVER_ERROR", "Internal server error", 500)


def execute(webhook, name: str, params: dict, request=None) -> Any:
    """The method's result (or Page); RestError for Bitrix24's error answers. Everything the
    method writes is one transaction (unless it is registered atomic=False: it writes nothing or
    opens its own): an error leaves nothing half-saved. What the method raises is answered by the
    refusals' registry (`refusal`); anything else is logged and becomes INTERNAL_SERVER_ERROR
    (after the rollback)."""
    found = registry.find(name)
    if found is None:
        raise RestError(*METHOD_NOT_FOUND)
    if found.scope is not None and found.scope not in webhook.scope_list:
        raise RestError(*INSUFFICIENT_SCOPE)
    call = Call(user=webhook.user, webhook=webhook, params=params, request=request)
    try:
        with timeline.via("rest"), (transaction.atomic() if found.atomic else nullcontext()):
            return found.func(call)
    except RestError:
        raise
    except Exception as exc:
        error = refused(exc)
        if error is None:
            log.exception("REST method %s failed (webhook %s)", found.name, webhook.pk)
            raise RestError(*INTERNAL) from None
        raise error from None


# --- Refusals: what the apps' selectors and services raise, as Bitrix24 answers it ---

@dataclass(frozen=True)
class Refusal:
    code: str  # Bitrix24's error code ("" for the CRM's refusals, as Bitrix24's CRM answers)
    status: int
    wording: Callable[[Exception], str]  # the exception → error_description


_refusals: dict[type, Refusal] = {}


def refusal(kind: type[Exception], wording: Callable[[Exception], str] = str, *, code: str = "",
            status: int = 400) -> None:
    """Answer every `kind` a method raises (a subclass too, unless it has an entry of its own) as
    {"error": code, "error_description": wording(exc)} with `status`. A method lets its app's
    refusals through instead of catching them: a methods' module registers its app's exceptions
    (rest/methods/crm_leads.py: LeadError, and MissingFields naming the REST fields)."""
    _refusals[kind] = Refusal(code, status, wording)


def refused(exc: Exception) -> RestError | None:
    """Bitrix24's answer to `exc` by its closest registered class; None when none is registered."""
    for kind in type(exc).__mro__:
        found = _refusals.get(kind)
        if found is not None:
            return RestError(found.code, found.wording(exc), found.status)
    return None


def access_text(error: Exception) -> str:
    """Bitrix24's «Access denied.», then the rule ours names (only a supervisor reopens a closed
    lead; a pipeline without rights…)."""
    return f"Access denied. {error}" if str(error) else "Access denied."


def validation_text(error: ValidationError) -> str:
    """A service's ValidationError as one line: «field: message; …» (a field's name as the
    service named it), or its messages."""
    if hasattr(error, "error_dict"):
        return "; ".join(f"{field}: {' '.join(messages)}" if field != "__all__" else " ".join(messages)
                         for field, messages in error.message_dict.items())
    return " ".join(error.messages)


# A record the user may not see is «Not found» (its existence not told), a refused action «Access
# denied.», a service's refusal (the status gate's missing fields…) its own Russian messages.
refusal(Http404, lambda error: "Not found")
refusal(PermissionDenied, access_text)
refusal(ValidationError, validation_text)
refusal(DeletionRefused)


def time_block(started: float, finished: float) -> dict:
    """Bitrix24's `time` (without `operating`, on which fast-bitrix24 1.8.14 crashes)."""
    zone = timezone.get_current_timezone()
    return {
        "start": started,
        "finish": finished,
        "duration": finished - started,
        "processing": finished - started,
        "date_start": dt.datetime.fromtimestamp(started, zone).isoformat(timespec="seconds"),
        "date_finish": dt.datetime.fromtimestamp(finished, zone).isoformat(timespec="seconds"),
    }


def envelope(result: Any, started: float) -> dict:
    """{"result", ["next"], ["total"], "time"} — a Page spreads into result/next/total."""
    answer: dict[str, Any]
    if isinstance(result, registry.Page):
        answer = {"result": php(result.rows)}
        if result.next is not None:
            answer["next"] = result.next
        if result.total is not None:
            answer["total"] = result.total
    else:
        answer = {"result": php(result)}
    answer["time"] = time_block(started, time.time())
    return answer


def php(value: Any) -> Any:
    """As PHP's json_encode writes arrays: an empty map is `[]`."""
    if isinstance(value, registry.Rendered):
        return value
    if isinstance(value, dict):
        return [] if not value else {k: php(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [php(v) for v in value]
    return value
