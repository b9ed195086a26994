"""What «Мой день» (tasks_app) lists of CRM records: the records in work that nobody plans to
call and the new ones waiting for their first call. Leads and deals register a source here at
start-up (their AppConfig.ready), so the tasks app never imports them and reads their records
only through their own selectors — the access gate applied — as with crm.cards.

A source's querysets are the records the *reader* may see; «Мой день» narrows them to one
responsible (the user himself, or each manager of a head's department) and counts or lists them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import Model, QuerySet


@dataclass(frozen=True)
class Source:
    model: type[Model]
    label: Any  # the section's name for this kind of record («Лиды»), lazy
    # Records in work (not closed) that `user` may see: «Без запланированных дел» looks here.
    in_work: Callable[[Any], QuerySet]
    # The app's list of `responsible`'s records in work, or of his new ones (`new=True`).
    list_url: Callable[..., str]
    # Records waiting for their first call (leads «Не обработан»), newest first; None: not kept.
    new: Callable[[Any], QuerySet] | None = None
    order: int = 0


_sources: list[Source] = []


def register(source: Source) -> Source:
    """Add a kind of record to «Мой день» (once per model)."""
    if all(s.model is not source.model for s in _sources):
        _sources.append(source)
    return source


def sources() -> list[Source]:
    return sorted(_sources, key=lambda s: s.order)



# Panels other apps show on «Мой день» (analytics: the head's figures of the reports): the URL name
# of a partial the page fetches by htmx after it loads — so the day page pays none of their queries
# — and who sees it, a function of the user. The tasks app renders them without importing the app.
@dataclass(frozen=True)
class Panel:
    url_name: str
    check: Callable[[Any], bool]
    # The HTML shown in the panel's place until it comes: its shape, so nothing below it moves.
    placeholder: Callable[[], str] | None = None


_panels: list[Panel] = []


def register_panel(panel: Panel) -> Panel:
    if all(p.url_name != panel.url_name for p in _panels):
        _panels.append(panel)
    return panel


def panels(user) -> list[Panel]:
    """The panels `user` sees."""
    return [p for p in _panels if p.check(user)]
