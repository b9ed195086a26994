"""The leads' export rows read as tuples (`values_list`), each column formatted by a function built
once per export: the same cells as `exchange.columns.export_value` gives for a model instance (the
tests compare both), at a fraction of the cost (BENCHMARKS.md «Импорт и экспорт»).

What made the instance path slow, and what is done instead:
- a model instance per lead with ten joined relations → a tuple of the lead's own columns and the
  ids of its links;
- `get_FOO_display` per cell (Django rebuilds its choices' dict at every call) → a dict of labels;
- `gettext` per cell («да»/«нет») → translated once;
- phones parsed again by phonenumbers to be shown → a stored Russian E.164 number is formatted by
  slicing (anything else still goes through `crm.phones.display`);
- the reference lists and the users joined per row → read once per export into dicts of names;
- the M2M prefetch (a model instance per link) → one query of id pairs per chunk and relation.

The rules stay the export's: the rows are the queryset's (the selector's scope with Action.EXPORT,
the list's filters and order), and a linked company or contact the user may not see is not
named (as `exports._forget_hidden`)."""

from __future__ import annotations

from collections.abc import Callable
from operator import itemgetter
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import access
from accounts.models import Action
from crm import phones, timeline

from . import columns

DATETIME_FORMAT = "%d.%m.%Y %H:%M:%S"


def phone_display(e164: str) -> str:
    """`crm.phones.display` without parsing the usual shape: «+7» and ten digits, the first not 0
    (phonenumbers would drop a leading 0 of the national number and format it otherwise)."""
    if len(e164) == 12 and e164[:2] == "+7" and e164[2] != "0" and e164[2:].isdigit():
        return f"+7 ({e164[2:5]}) {e164[5:8]}-{e164[8:10]}-{e164[10:]}"
    return phones.display(e164)


class _Names:
    """id → name of every record of a small table (a reference list, the users), read once."""

    def __init__(self, model, name: Callable[[Any], str] = str):
        self.model, self.name, self.names = model, name, None

    def load(self) -> None:
        if self.names is None:
            self.names = {obj.pk: self.name(obj) for obj in self.model._base_manager.all()}

    def get(self, pk) -> str:
        if pk is None:
            return ""
        if pk not in self.names:  # added while the export runs
            obj = self.model._base_manager.filter(pk=pk).first()
            self.names[pk] = self.name(obj) if obj is not None else ""
        return self.names[pk]


class LeadRows:
    """`fields` for `values_list`, then `prepare_chunk(tuples)` and `rows_of(tuple)` as
    `exports.Export` calls them."""

    def __init__(self, user):
        from leads.models import Lead

        self.user = user
        self.model = Lead
        cols = columns.columns("lead")
        self.headers = [str(c.header) for c in cols]
        self.fields: list[str] = ["pk"]
        self.tables: list[_Names] = []
        self.links: dict[str, dict] = {}  # record columns: field → {id: name or "" if hidden}
        self.m2m: dict[str, dict] = {}  # refs columns: field → {lead id: joined names}
        self.m2m_names: dict[str, _Names] = {}
        self.pinned: dict[int, str] = {}
        self.cells = [self._formatter(col) for col in cols]

    def _index(self, field: str) -> int:
        self.fields.append(field)
        return len(self.fields) - 1

    def _table(self, model, name: Callable[[Any], str] = str) -> _Names:
        table = _Names(model, name)
        self.tables.append(table)
        return table

    def _formatter(self, col: columns.Column) -> Callable[[tuple], Any]:
        kind, meta = col.kind, self.model._meta
        if kind == "pinned":
            pinned = self.pinned
            return lambda t: pinned.get(t[0], "")
        if kind == "refs":
            found = self.m2m[col.field] = {}
            self.m2m_names[col.field] = self._table(meta.get_field(col.field).related_model)
            return lambda t: found.get(t[0], "")
        if kind in ("ref", "user", "record"):
            i = self._index(f"{col.field}_id")
            if kind == "ref":
                get = self._table(meta.get_field(col.field).related_model).get
                return lambda t: get(t[i])
            if kind == "user":
                get = self._table(get_user_model(), columns.user_name).get
                return lambda t: get(t[i])
            names = self.links[col.field] = {}
            return lambda t: names.get(t[i], "") if t[i] is not None else ""
        i = self._index(col.field)
        if kind in ("status", "choice"):
            labels = {code: str(label) for code, label in meta.get_field(col.field).flatchoices}
            if kind == "status":
                return lambda t: labels.get(t[i], str(t[i]))
            return lambda t: labels.get(t[i], str(t[i])) if t[i] else ""
        if kind == "bool":
            yes, no = _("да"), _("нет")
            return lambda t: yes if t[i] else no
        if kind == "phone":
            return lambda t: phone_display(t[i]) if t[i] else ""
        if kind == "datetime":
            zone = timezone.get_current_timezone()
            return lambda t: t[i].astimezone(zone).strftime(DATETIME_FORMAT) if t[i] else None
        return itemgetter(i)

    def prepare_chunk(self, chunk: list[tuple]) -> None:
        for table in self.tables:
            table.load()
        pks = [t[0] for t in chunk]
        self._read_m2m(pks)
        self._read_pinned(pks)
        self._read_links(chunk)

    def _read_m2m(self, pks: list[int]) -> None:
        for field, found in self.m2m.items():
            m2m = self.model._meta.get_field(field)
            names = self.m2m_names[field]
            lists: dict[int, list[str]] = {}
            pairs = m2m.remote_field.through._base_manager.filter(**{f"{m2m.m2m_field_name()}_id__in": pks})
            for lead_id, target_id in pairs.values_list(f"{m2m.m2m_field_name()}_id",
                                                        f"{m2m.m2m_reverse_field_name()}_id"):
                lists.setdefault(lead_id, []).append(names.get(target_id))
            found.clear()
            found.update((lead_id, ", ".join(sorted(values))) for lead_id, values in lists.items())

    def _read_pinned(self, pks: list[int]) -> None:
        self.pinned.clear()
        self.pinned.update(timeline.pinned_texts(self.model, pks))

    def _read_links(self, chunk: list[tuple]) -> None:
        for field, names in self.links.items():
            i = self.fields.index(f"{field}_id")
            missing = {t[i] for t in chunk if t[i] is not None and t[i] not in names}
            if not missing:
                continue
            linked = self.model._meta.get_field(field).related_model
            for pk, record in linked._base_manager.in_bulk(missing).items():
                # As on the card: a linked record the user may not see is not named.
                names[pk] = columns._record_name(record) if access.can(self.user, Action.VIEW, record) else ""

    def rows_of(self, values: tuple) -> list[list]:
        return [[cell(values) for cell in self.cells]]
