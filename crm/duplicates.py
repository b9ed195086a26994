"""Duplicate search across CRM records. Apps register finders (leads, companies and contacts
in their own apps), so this module knows none of them.

A finder takes the user and the normalised probe and returns `Match`es, built by `match()` so
that every finder follows one policy (README, «Доступ»):
- a record the user may see is shown in full, with a link;
- a record he may not see is shown only as «Такой клиент уже есть в CRM у <ответственный>,
  <отдел>» (no title, no link), and only to a user who may add records of that kind — the
  one who is about to create a duplicate; everyone else gets nothing for it, so the check is
  no oracle for «is this number in our CRM, and whose is it»."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db.models import Model, QuerySet
from django.utils.translation import gettext as _

from accounts import access
from accounts.models import Action, Level

_finders: list[Callable[..., list[Match]]] = []


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
    can_open: bool = False  # the user may open the record: the title is a link
    hidden: bool = False  # a record the user may not see: `title` is the masked notice
    # The record itself, only when the user may see it (the REST API answers with its id).
    record: Model | None = field(default=None, repr=False, compare=False)


def candidates(user, queryset: QuerySet) -> QuerySet:
    """Where a finder looks: every record of the kind for a user who may add such records
    (those he may not see are masked by `match`), else only the records he may see."""
    return queryset if access.can_add(user, queryset.model) else access.scope(user, queryset)


def may_check(user, model: type[Model]) -> bool:
    """Whether the user has a form of this kind to check at all: he may add such records or change
    some of them. The duplicate endpoints answer nobody else."""
    return access.can_add(user, model) or access.level(user, model.access_entity, Action.CHANGE) > Level.NONE


def hidden_notice(record: Model) -> str:
    owner = getattr(record, record.access_owner_field, None)
    if owner is None:
        return _("Такой клиент уже есть в CRM")
    if owner.department_id:
        return _("Такой клиент уже есть в CRM у %(owner)s, %(department)s") % {
            "owner": owner, "department": owner.department}
    return _("Такой клиент уже есть в CRM у %(owner)s") % {"owner": owner}


def match(user, record: Model, *, kind: str, title: str, url: str, reasons: list[str]) -> Match | None:
    """The one policy for what a duplicate warning tells this user about `record` (see the module
    docstring). The record's owner should come with its department (select_related)."""
    if access.can(user, Action.VIEW, record):
        owner = getattr(record, record.access_owner_field, None)
        return Match(kind=kind, title=title, url=url, reasons=reasons, owner=str(owner or ""), can_open=bool(url),
                     record=record)
    if access.can_add(user, type(record)):
        return Match(kind=kind, title=hidden_notice(record), url="", reasons=reasons, hidden=True)
    return None


# Legal forms and quotes do not make companies different: «ООО "Ромашка"» ~ «Ромашка».
_LEGAL_FORMS = r"\b(ооо|оао|зао|пао|ао|ип|нко|ano|ано|llc|ltd|inc)\b"


def search_normalize(text: str) -> str:
    """Lower case, ё as е, single spaces: how search columns are stored and queries compared."""
    return " ".join((text or "").lower().replace("ё", "е").split())


def company_key(name: str) -> str:
    name = (name or "").lower().replace("ё", "е")
    name = re.sub(_LEGAL_FORMS, " ", name)
    return re.sub(r"[^\w]+", " ", name).strip()


def register(finder: Callable[..., list[Match]]) -> Callable[..., list[Match]]:
    _finders.append(finder)
    return finder


def find(user, probe: Probe, limit: int = 10) -> list[Match]:
    """What the user may be told about the records matching `probe`: those he may open first,
    each masked record once per notice (several records of one owner must not be counted)."""
    if not (probe.phones or probe.emails or probe.inn or probe.company_key):
        return []
    found: list[Match] = []
    seen: set[tuple] = set()
    for finder in _finders:
        for m in finder(user, probe):
            if m.hidden:
                key = (m.kind, m.title, tuple(m.reasons))
                if key in seen:
                    continue
                seen.add(key)
            found.append(m)
    found.sort(key=lambda m: m.hidden)  # stable: each finder's order is kept
    return found[:limit]


def as_data(matches: list[Match]) -> list[dict]:
    """Matches as stored in a timeline entry: masked ones stay masked there too."""
    return [{"kind": str(m.kind), "title": str(m.title), "url": m.url if m.can_open else "",
             "reasons": [str(r) for r in m.reasons]} for m in matches]
