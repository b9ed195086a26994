"""Duplicate search across CRM records. Apps register finders (leads here; companies and
contacts in their own app), so this module knows none of them.

A finder takes the normalised probe and returns `Match`es."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

_finders: list[Callable[[Probe], list[Match]]] = []


@dataclass(frozen=True)
class Probe:
    phones: tuple[str, ...] = ()  # E.164
    emails: tuple[str, ...] = ()  # lower-case
    inn: str = ""
    company_name: str = ""
    exclude: tuple[str, int] | None = None  # (kind, pk) of the record being edited

    @property
    def company_key(self) -> str:
        return company_key(self.company_name)


@dataclass
class Match:
    kind: str  # «Лид», «Компания», «Контакт»
    title: str
    url: str
    reasons: list[str] = field(default_factory=list)
    owner: str = ""
    record: object = None  # lets the view ask the access gate whether to link it


# Legal forms and quotes do not make companies different: «ООО "Ромашка"» ~ «Ромашка».
_LEGAL_FORMS = r"\b(ооо|оао|зао|пао|ао|ип|нко|ano|ано|llc|ltd|inc)\b"


def search_normalize(text: str) -> str:
    """Lower case, ё as е, single spaces: how search columns are stored and queries compared."""
    return " ".join((text or "").lower().replace("ё", "е").split())


def company_key(name: str) -> str:
    name = (name or "").lower().replace("ё", "е")
    name = re.sub(_LEGAL_FORMS, " ", name)
    return re.sub(r"[^\w]+", " ", name).strip()


def register(finder: Callable[[Probe], list[Match]]) -> Callable[[Probe], list[Match]]:
    _finders.append(finder)
    return finder


def find(probe: Probe, limit: int = 10) -> list[Match]:
    if not (probe.phones or probe.emails or probe.inn or probe.company_key):
        return []
    found: list[Match] = []
    for finder in _finders:
        found.extend(finder(probe))
    return found[:limit]
