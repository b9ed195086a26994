"""What feature apps show on the cards of CRM records — companies, contacts, leads and deals —
(and on a user's own profile: the notifications' e-mail choice). Leads and deals register a
panel here at start-up (their AppConfig.ready), and tasks its «Дела», so `clients` — the kernel —
never imports them, never reads their records and never names their templates, and the lead and
deal cards never import tasks: a card just renders the registered panels.

A panel is a callable `(user, record) -> Panel | None` (None: nothing to show on this kind of
record). It reads through its own app's selectors, i.e. through the access gate."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Model


@dataclass
class Panel:
    template: str  # rendered with `panel` (this object) and the card's own context
    context: dict[str, Any] = field(default_factory=dict)
    order: int = 0  # lower first


PanelFunc = Callable[[Any, Model], "Panel | None"]
_panels: list[PanelFunc] = []


def register(panel: PanelFunc) -> PanelFunc:
    """Decorator: add a panel to the records' cards (once per function)."""
    if panel not in _panels:
        _panels.append(panel)
    return panel


def panels_for(user, record: Model) -> list[Panel]:
    """The panels the registered apps show on `record`'s card for `user`, in their order."""
    shown = [p for p in (panel(user, record) for panel in _panels) if p is not None]
    return sorted(shown, key=lambda p: p.order)
