"""The stage-requirement checker shared by leads and deals.

Rules are rows in the database (which requirement keys a stage needs); what a key means — its
label, how to tell it is met, which form fields fill it — is a `Requirement` in a catalogue that
the record's app defines. The checker only combines the two.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Requirement:
    key: str
    label: str
    is_met: Callable[[Any], bool]
    # Model fields the «заполните обязательные поля» form asks for to meet it.
    form_fields: tuple[str, ...] = ()
    # Extra (non-model) form fields, e.g. the text of a pinned comment.
    extra_fields: tuple[str, ...] = field(default=())


def filled(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, str):
        return bool(value.strip())
    return True


def missing(record: Any, keys: Iterable[str], catalogue: dict[str, Requirement]) -> list[Requirement]:
    """The requirements among `keys` that `record` does not meet, in catalogue order. Unknown keys
    (a rule left over after a field was removed) are ignored rather than blocking every move."""
    wanted = set(keys)
    return [req for key, req in catalogue.items() if key in wanted and not req.is_met(record)]
