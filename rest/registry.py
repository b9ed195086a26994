"""The methods' registry and what a method sees.

A method is a function of a `Call`, registered by name and scope:

    from rest.registry import Call, RestError, method

    @method("crm.lead.get", scope="crm")
    def lead_get(call: Call):
        lead = selectors.lead_for(call.user, call.param("id"))   # the user's access, as in the browser
        if lead is None:
            raise RestError.not_found()
        return LEADS.to_rest(lead)

It returns anything JSON-able (the answer's `result`) or a `Page` (a list: the kernel adds `total`
and `next`). It raises `RestError` for Bitrix24's error answers; the dispatcher (rest.views) runs it
in one transaction, so an error leaves nothing half-saved. Names are lower-case (clients send any
case); the scope is one of rest.models.Scope, or None for the methods every webhook may call
(`user.current`, `profile`, `methods`, `scope`, `batch`).

Methods live in rest/methods/*.py; each module registers itself when rest.methods imports it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest


class RestError(Exception):
    """Bitrix24's error answer: {"error": code, "error_description": description} with `status`.

    CRM validation errors in Bitrix24 have an empty code and HTTP 400 («Not found», «Access
    denied.», «ID is not defined or invalid»): the helpers give those."""

    def __init__(self, code: str, description: str, status: int = 400):
        super().__init__(description)
        self.code = code
        self.description = description
        self.status = status

    def as_json(self) -> dict:
        return {"error": self.code, "error_description": self.description}

    @classmethod
    def not_found(cls, what: str = "") -> RestError:
        """A record the user may not see is «Not found» too: its existence is not told."""
        return cls("", f"{what} not found" if what else "Not found", 400)

    @classmethod
    def access_denied(cls) -> RestError:
        """The record is visible but the action is not allowed (Bitrix24: 400 «Access denied.»)."""
        return cls("", "Access denied.", 400)

    @classmethod
    def invalid(cls, description: str, code: str = "") -> RestError:
        """A value or parameter the method cannot take (the description says which, in English
        like Bitrix24's own, or in Russian when it is a message for the user — e.g. the status
        gate's missing fields)."""
        return cls(code, description, 400)

    @classmethod
    def no_id(cls) -> RestError:
        return cls("", "ID is not defined or invalid.", 400)


class Rendered(list):
    """Rows already as the answer writes them (no empty map anywhere in them, which PHP would write
    as `[]`): the envelope passes them through as they are (rest.dispatch.php)."""


@dataclass
class Page:
    """A list answer: `rows` (at most 50), `total` (None: not counted, start=-1) and `next` (the
    start of the next page, None on the last). The dispatcher puts total/next beside `result`."""

    rows: list
    total: int | None = None
    next: int | None = None


@dataclass
class Call:
    user: Any  # accounts.User: the webhook's user; every read and write goes through his access
    webhook: Any  # rest.models.Webhook
    params: dict  # parsed parameters (PHP-nested form, JSON or query), keys as sent
    request: HttpRequest | None = field(default=None, repr=False)

    def param(self, *names: str, default=None):
        """The first present of `names`, case-insensitive: call.param("fields") finds «fields»,
        «FIELDS» or «Fields»; call.param("fields", "arFields") tries both names."""
        lowered = {str(k).lower(): v for k, v in self.params.items()} if self.params else {}
        for name in names:
            if name in self.params:
                return self.params[name]
            if name.lower() in lowered:
                return lowered[name.lower()]
        return default

    def id_param(self, *names: str) -> int:
        """A positive integer id (`id`/`ID` by default); RestError «ID is not defined or invalid.» otherwise."""
        value = self.param(*(names or ("id",)))
        try:
            number = int(str(value).strip())
        except (TypeError, ValueError):
            raise RestError.no_id() from None
        if number <= 0 or number > 2**63 - 1:
            raise RestError.no_id()
        return number

    def record(self, load: Callable[[Any, int], Any], action: str = "view"):
        """The record `id` names, read by `load(user, pk)` — an app's card selector, Http404 when
        the user may not see it: «Not found» then, its existence not told — and, for an action
        other than reading, «Access denied.» unless accounts.access.can allows it."""
        from django.http import Http404

        from accounts import access

        try:
            record = load(self.user, self.id_param())
        except Http404:
            raise RestError.not_found() from None
        if action != "view" and not access.can(self.user, action, record):
            raise RestError.access_denied()
        return record


@dataclass(frozen=True)
class Method:
    name: str
    scope: str | None
    func: Callable[[Call], Any]
    atomic: bool = True


_methods: dict[str, Method] = {}


def method(name: str, scope: str | None, *, atomic: bool = True) -> Callable:
    """Decorator: register `fn(call)` as the method `name` (case-insensitive) of `scope`.

    `atomic=False`: the dispatcher opens no transaction around it — for a method that writes
    nothing (a list: a transaction costs two round trips, as much as reading a page, fifty times
    in a get_all's batch) or opens its own (`batch`: one per command)."""

    def register(func: Callable[[Call], Any]) -> Callable[[Call], Any]:
        _methods[name.lower()] = Method(name.lower(), scope, func, atomic)
        return func

    return register


def find(name: str) -> Method | None:
    """The method a client named: any case, «.json» optional."""
    name = name.strip().lower()
    if name.endswith(".json"):
        name = name[:-5]
    return _methods.get(name)


def all_methods() -> list[Method]:
    return sorted(_methods.values(), key=lambda m: m.name)
