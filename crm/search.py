"""One search across the CRM's records («Привязать к записи» on a task): leads, deals, companies
and contacts register a finder here at start-up (their AppConfig.ready), so a feature that binds
to records (tasks_app) never imports the apps that own them and reads their records only through
their own selectors — the access gate applied — as with crm.day and crm.cards.

A finder answers the records `user` may see that match `query`, best first, searched as that
app's list searches (its search column, the same words rule)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Model, QuerySet


@dataclass(frozen=True)
class Finder:
    model: type[Model]
    # Records `user` may see matching `query` (already stripped), ordered best first.
    find: Callable[[Any, str], QuerySet]
    order: int = 0

    @property
    def label(self) -> str:
        """How a binding names the record: «leads.lead:5»."""
        return self.model._meta.label_lower


_finders: list[Finder] = []


def register(finder: Finder) -> Finder:
    """Add a kind of record to the search (once per model)."""
    if all(f.model is not finder.model for f in _finders):
        _finders.append(finder)
    return finder


def finders(labels: Iterable[str] | None = None) -> list[Finder]:
    """The registered finders in their order; only those of `labels` if given."""
    wanted = None if labels is None else set(labels)
    chosen = [f for f in _finders if wanted is None or f.label in wanted]
    return sorted(chosen, key=lambda f: f.order)


def find(user, query: str, *, limit: int = 10, labels: Iterable[str] | None = None,
         exclude: Iterable[tuple[str, int]] = ()) -> list[Model]:
    """Up to `limit` records of every kind matching `query` that `user` may see (one query per
    kind), grouped by kind. Each kind gets its fair share: taken in turns, so forty matching
    leads do not hide the one matching company. `exclude`: («leads.lead», 5) pairs left out
    (those already chosen)."""
    skip: dict[str, set[int]] = {}
    for label, pk in exclude:
        skip.setdefault(label, set()).add(pk)
    found: list[list[Model]] = []
    for finder in finders(labels):
        records = finder.find(user, query)
        if skip.get(finder.label):
            records = records.exclude(pk__in=sorted(skip[finder.label]))
        found.append(list(records[:limit]))
    taken = [0] * len(found)
    total, turn = 0, 0
    while total < limit and any(taken[i] < len(rows) for i, rows in enumerate(found)):
        i = turn % len(found)
        if taken[i] < len(found[i]):
            taken[i] += 1
            total += 1
        turn += 1
    return [record for i, rows in enumerate(found) for record in rows[:taken[i]]]
