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


# A few numbers another app shows on «Мой день» (analytics: the head's figures of the week), as
# (label, value, url) — a function of the user, returning [] for whom it has nothing; the tasks
# app renders them without importing the app.
NumbersFunc = Callable[[Any], list[tuple[Any, Any, str]]]
_numbers: list[NumbersFunc] = []


def register_numbers(func: NumbersFunc) -> NumbersFunc:
    if func not in _numbers:
        _numbers.append(func)
    return func


def numbers(user) -> list[tuple[Any, Any, str]]:
    return [number for func in _numbers for number in func(user)]
