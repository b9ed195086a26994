"""What feature apps do when a CRM record moves or its next touch is set. Leads and deals call
these from their services (the only writers), so a rule registered here holds for the card, the
kanban, bulk moves, the admin, imports and the API alike; the kernel names none of the apps that
register (tasks register the automation rules and the touches), as with crm.cards.

- `moved(record, by, source, target)`: after a lead's status or a deal's stage changed, inside the
  move's transaction (a hook that fails rolls the move back: a rule that cannot run is not
  silently skipped).
  `moved_many` is the same for many records at once (an import).
- `touch_date_set(record, day, by)`: the record's «Дата следующего касания» was edited: the planned
  touch follows it, so the two are one thing.
- `states`: the statuses / stages an app offers as triggers («when a lead enters …»), for the
  automation rules' admin.
- `changed(record, by, action)`: a record was added («add») or changed («update»), inside the
  writer's transaction (outgoing REST events listen: rest.events). Every writer of a CRM record
  writes its history, so `crm.timeline.log` calls it for the history's «created», «change» and
  «status» entries — one place rather than a call in every service; a writer that makes a record
  without a «created» entry (a task) calls it itself. `changed_many` is the same for an import.
  Deletions are `crm.deletion.on_deleted`.

Each call runs its hooks in one `crm.tallies.together()` block: the counters they change are
written at its end, in the one order every writer takes (the services hold a block over their
whole transaction, `crm.tallies.atomic()`, which these join).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from django.db.models import Model

from . import tallies

_moved: list[Callable[[Model, object, str, str], None]] = []
_touch_date: list[Callable[[Model, date | None, object], None]] = []
_changed: list[Callable[[Model, object, str], None]] = []
_changed_many: list[Callable[[list[Model], object, str], None]] = []
_states: dict[str, tuple[str, Callable[[], list[tuple[str, str]]]]] = {}


def on_moved(hook):
    if hook not in _moved:
        _moved.append(hook)
    return hook


@tallies.together()
def moved(record: Model, by, source: str, target: str) -> None:
    for hook in _moved:
        hook(record, by, source, target)


@tallies.together()
def moved_many(records, by, source: str, target: str) -> None:
    """`moved` for many records entering one state at once (an import): a hook that can take them
    together says so with a `many(records, by, source, target)` attribute (one query for all rather
    than one per record); the others are called per record."""
    records = list(records)
    if not records:
        return
    for hook in _moved:
        many = getattr(hook, "many", None)
        if many is not None:
            many(records, by, source, target)
        else:
            for record in records:
                hook(record, by, source, target)


def on_touch_date(hook):
    if hook not in _touch_date:
        _touch_date.append(hook)
    return hook


@tallies.together()
def touch_date_set(record: Model, day: date | None, by) -> None:
    for hook in _touch_date:
        hook(record, day, by)


def on_changed(hook, many=None):
    """`hook(record, by, action)`; `many(records, by, action)` takes an import's records at once."""
    if hook not in _changed:
        _changed.append(hook)
        _changed_many.append(many or (lambda records, by, action: [hook(r, by, action) for r in records]))
    return hook


@tallies.together()
def changed(record: Model, by, action: str) -> None:
    for hook in _changed:
        hook(record, by, action)


@tallies.together()
def changed_many(records, by, action: str) -> None:
    records = list(records)
    if records:
        for many in _changed_many:
            many(records, by, action)


def register_states(entity: str, label, choices: Callable[[], list[tuple[str, str]]]) -> None:
    """`entity` is the record's model label («leads.lead»); `choices()` lists (state code, name)."""
    _states[entity] = (label, choices)


def states() -> list[tuple[str, str, list[tuple[str, str]]]]:
    """(entity, label, [(state, name)…]) for every registered kind of record."""
    return [(entity, str(label), choices()) for entity, (label, choices) in _states.items()]
