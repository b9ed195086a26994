"""Bitrix24's field names and values ↔ ours, one `FieldMap` per kind of record.

    LEADS = FieldMap([
        Field("ID", "integer", "pk", read_only=True),
        Field("TITLE", "string", "title", title=_("Название")),
        Field("STATUS_ID", "crm_status", "status", status_type="STATUS", parse=status_from_code, render=code_of),
        Field("ASSIGNED_BY_ID", "user", "responsible_id"),
        Field("PHONE", "crm_multifield", get=phones_of),                 # read: a list of {ID, VALUE_TYPE, VALUE, TYPE_ID}
        Field("CONTACT_IDS", "crm_contact", "contacts", multiple=True),  # from_rest puts it in m2m
        Field("UF_CRM_NICHE", "crm_status", "niche", ...),
    ], prefetch=lambda objects, names: ...)

- `path` is the ORM path: the value is read by following it (`company__name`), filters and order use
  it, a write puts the parsed value under it (a path with «__» is never written). `get(obj)` reads a
  computed value instead (`reads`: the record's columns it uses, so that a list page can read its
  rows as tuples of columns); `filter(op, value) -> Q` filters one that has no path.
- `parse(value)` turns a client's scalar into ours for writes and filters (a status code into the
  status, «Y» into True); the default follows the type. A ValueError or RestError refuses the value.
- `render(value)` turns ours into Bitrix24's: ids and numbers as strings («5», «15000.00»), dates and
  times as ISO 8601 with the offset, «Y»/«N», empty as null — the default follows the type.

`describe()` answers `*.fields`; `to_rest(obj, names)` reads a record (`names`: from `select`, by
default every field but the multifields, which Bitrix24 gives only when named); `from_rest(fields)`
parses a write: unknown and read-only names are dropped as Bitrix24 does, a bad value is RestError.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from types import SimpleNamespace
from typing import Any

from django.db.models import Model, Q
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from .parsing import as_list
from .registry import RestError

# Bitrix24's VALUE_TYPEs of the multifields (bitrix24.md §1.2).
MULTIFIELD_TYPES = {
    "PHONE": ("WORK", "MOBILE", "FAX", "HOME", "PAGER", "MAILING", "OTHER"),
    "EMAIL": ("WORK", "HOME", "MAILING", "OTHER"),
    "WEB": ("WORK", "HOME", "VK", "LIVEJOURNAL", "TWITTER", "FACEBOOK", "OTHER"),
    "IM": ("TELEGRAM", "VK", "SKYPE", "VIBER", "BITRIX24", "OPENLINE", "IMOL", "FACEBOOK", "ICQ", "MSN",
           "JABBER", "OTHER"),
}


@dataclass
class Field:
    name: str
    type: str = "string"
    path: str | None = None
    title: Any = ""
    read_only: bool = False
    required: bool = False
    multiple: bool = False
    immutable: bool = False
    status_type: str | None = None  # crm_status: the dictionary (STATUS, SOURCE, DEAL_STAGE…)
    items: list[tuple[str, Any]] | None = None  # enumeration: (ID, VALUE)
    get: Callable[[Model], Any] | None = None
    reads: tuple[str, ...] = ()  # the record's columns `get` reads: a page then reads rows as tuples
    parse: Callable[[Any], Any] | None = None
    render: Callable[[Any], Any] | None = None
    filter: Callable[[str, Any], Q] | None = None  # (operator, parsed value or list) -> Q

    def __post_init__(self):
        self.name = self.name.upper()

    @property
    def is_multifield(self) -> bool:
        return self.type == "crm_multifield"

    @property
    def writable(self) -> bool:
        return not self.read_only and (self.is_multifield or (self.path is not None and "__" not in self.path))

    def read(self, obj: Model) -> Any:
        """The REST value of this field of `obj`."""
        if self.get is not None:
            raw = self.get(obj)
        else:
            raw = obj
            for part in (self.path or "").split("__"):
                raw = getattr(raw, part, None) if raw is not None else None
            if self.multiple and hasattr(raw, "all"):
                raw = [getattr(o, "pk", o) for o in raw.all()]
        if self.multiple and not self.is_multifield:
            return [self.out(v) for v in (raw or [])]
        return self.out(raw)

    def out(self, value: Any) -> Any:
        if self.render is not None:
            return self.render(value)
        return render_value(self.type, value)

    def tuple_reader(self, at: dict[str, int]) -> Callable[[tuple], Any]:
        """`read` of a row read as a tuple (`at`: a column's place in it): a plain column rendered,
        or `get` of the columns it `reads`."""
        if self.get is None:
            index, render = at[self.path], self.renderer()
            return lambda row: render(row[index])
        places = [(column, at[column]) for column in self.reads]
        get, out = self.get, self.out
        return lambda row: out(get(SimpleNamespace(**{column: row[i] for column, i in places})))

    def renderer(self) -> Callable[[Any], Any]:
        """`out` as one function, its type's branch chosen once: a page renders fifty rows of ten
        fields with it (list_page's rows read as tuples). Answers exactly what `out` does."""
        if self.render is not None:
            return self.render
        return value_renderer(self.type)

    def value(self, raw: Any) -> Any:
        """A client's scalar as ours (writes, filters); RestError names the field."""
        try:
            if self.parse is not None:
                return self.parse(raw)
            return parse_value(self.type, raw)
        except RestError:
            raise
        except (TypeError, ValueError, ArithmeticError, LookupError) as exc:
            detail = f": {exc}" if str(exc) else ""
            raise RestError.invalid(f"Invalid value of field {self.name}{detail}") from None

    def describe(self) -> dict:
        answer = {"type": self.type, "isRequired": self.required, "isReadOnly": self.read_only,
                  "isImmutable": self.immutable, "isMultiple": self.multiple or self.is_multifield,
                  "isDynamic": self.name.startswith("UF_"), "title": str(self.title or self.name)}
        if self.status_type:
            answer["statusType"] = self.status_type
        if self.items is not None:
            answer["items"] = [{"ID": str(i), "VALUE": str(v)} for i, v in self.items]
        return answer


def render_value(kind: str, value: Any) -> Any:
    """Ours → Bitrix24's, by type."""
    if value is None or value == "":
        return None if value is None or kind not in ("string", "text") else ""
    if kind == "char":
        return "Y" if value else "N"
    if kind == "boolean":
        return bool(value)
    if isinstance(value, Model):
        value = value.pk
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).isoformat(timespec="seconds") if timezone.is_aware(value) else \
            value.isoformat(timespec="seconds")
    if isinstance(value, dt.date):
        # Bitrix24 writes a date as midnight of that day with the portal's offset.
        midnight = timezone.make_aware(dt.datetime.combine(value, dt.time()))
        return midnight.isoformat(timespec="seconds")
    if kind in ("double", "money") and not isinstance(value, str):
        return f"{Decimal(value):.2f}"
    if kind == "crm_multifield":
        return list(value)
    return str(value)


def value_renderer(kind: str) -> Callable[[Any], Any]:
    """render_value(kind, ·) for the values a column reads, the common types' branch taken here
    (the current zone read once); anything else goes through render_value itself."""
    if kind in ("string", "text"):
        return lambda value: value if value is None or type(value) is str else render_value(kind, value)
    if kind in ("integer", "user", "crm_company", "crm_contact", "crm_lead", "crm_deal", "crm_category",
                "crm_entity", "crm_status", "crm_currency", "enumeration"):
        return lambda value: None if value is None or value == "" else (
            str(value) if type(value) in (int, str) else render_value(kind, value))
    if kind == "datetime":
        zone = timezone.get_current_timezone()

        def moment(value):
            if type(value) is dt.datetime and value.tzinfo is not None:
                return value.astimezone(zone).isoformat(timespec="seconds")
            return render_value(kind, value)

        return moment
    if kind in ("double", "money"):
        return lambda value: f"{value:.2f}" if type(value) is Decimal else render_value(kind, value)
    return lambda value: render_value(kind, value)


def parse_value(kind: str, raw: Any) -> Any:
    """A client's value → ours, by type. Numbers and flags come as strings in forms (fast-bitrix24's
    batch sends str(value): None as «None», True as «True»)."""
    if isinstance(raw, (dict, list)):
        raise ValueError("a single value expected")
    text = "" if raw is None else str(raw).strip()
    if kind in ("string", "text", "crm_status", "crm_currency", "enumeration"):
        return "" if raw is None else str(raw)
    if text == "" or text == "None":
        return None
    if kind in ("integer", "user", "crm_company", "crm_contact", "crm_lead", "crm_deal", "crm_category",
                "crm_entity", "file"):
        if isinstance(raw, float) and not raw.is_integer():
            raise ValueError("an integer expected")
        number = int(Decimal(text)) if "." in text and Decimal(text) == int(Decimal(text)) else int(text)
        if abs(number) > 2**63 - 1:
            raise ValueError("out of range")
        return number
    if kind in ("double", "money"):
        try:
            number = Decimal(text.replace(",", "."))
        except InvalidOperation:
            raise ValueError("a number expected") from None
        if not number.is_finite() or abs(number) >= Decimal(10) ** 15:
            raise ValueError("out of range")
        return number
    if kind in ("char", "boolean"):
        if text.upper() in ("Y", "1", "TRUE"):
            return True
        if text.upper() in ("N", "0", "FALSE"):
            return False
        raise ValueError("Y or N expected")
    if kind == "date":
        day = parse_date(text[:10]) if len(text) >= 10 else None
        if day is None:
            raise ValueError("a date YYYY-MM-DD expected")
        return day
    if kind == "datetime":
        moment = parse_datetime(text.replace(" ", "T", 1)) if len(text) > 10 else None
        if moment is None:
            day = parse_date(text)
            if day is None:
                raise ValueError("a date and time in ISO 8601 expected")
            moment = dt.datetime.combine(day, dt.time())
        return timezone.make_aware(moment) if timezone.is_naive(moment) else moment
    return raw


def multifield_items(name: str, raw) -> list[dict]:
    """A multifield write as a list of {"ID": int | None, "VALUE": str, "VALUE_TYPE": str, "DELETE": bool}:
    an item without ID is added, with ID changed, with ID and an empty VALUE (or DELETE=Y) deleted."""
    allowed = MULTIFIELD_TYPES.get(name, ("WORK", "OTHER"))
    items = []
    for item in as_list(raw):
        if not isinstance(item, dict):
            item = {"VALUE": item}
        item = {str(k).upper(): v for k, v in item.items()}
        ident = item.get("ID")
        if ident not in (None, ""):
            try:
                ident = int(str(ident))
            except ValueError:
                raise RestError.invalid(f"Invalid ID of a {name} value") from None
        else:
            ident = None
        value = "" if item.get("VALUE") is None else str(item.get("VALUE")).strip()
        value_type = str(item.get("VALUE_TYPE") or "WORK").upper()
        if value_type not in allowed:
            raise RestError.invalid(f"Invalid VALUE_TYPE of {name}: {value_type} (one of {', '.join(allowed)})")
        delete = str(item.get("DELETE", "")).upper() in ("Y", "TRUE", "1") or (ident is not None and value == "")
        if ident is None and value == "":
            continue  # an empty new value: nothing to add
        items.append({"ID": ident, "VALUE": value, "VALUE_TYPE": value_type, "DELETE": delete})
    return items


class FieldMap:
    def __init__(self, fields: Iterable[Field], *, prefetch: Callable[[list, set[str]], None] | None = None):
        self.fields = list(fields)
        self.by_name = {f.name: f for f in self.fields}
        self.prefetch = prefetch  # (objects of a page, names selected) → None: loads what the getters read

    def field(self, name: str) -> Field | None:
        return self.by_name.get(str(name).upper())

    def describe(self) -> dict:
        return {f.name: f.describe() for f in self.fields}

    def default_names(self) -> list[str]:
        """`*`: every field but the multifields and the user fields (as Bitrix24's lists)."""
        return [f.name for f in self.fields if not f.is_multifield and not f.name.startswith("UF_")]

    def select(self, select) -> list[str]:
        """The names a `select` asks for: `*`, `UF_*` and names (any case); none means `*`.
        An unknown name is RestError."""
        asked = [str(s).strip() for s in as_list(select) if str(s).strip()]
        if not asked:
            return self.default_names()
        names: list[str] = []
        for name in asked:
            upper = name.upper()
            if upper == "*":
                chosen = self.default_names()
            elif upper == "UF_*":
                chosen = [f.name for f in self.fields if f.name.startswith("UF_")]
            elif upper in self.by_name:
                chosen = [upper]
            else:
                raise RestError.invalid(f"Unknown field in select: {name}")
            names.extend(n for n in chosen if n not in names)
        if "ID" in self.by_name and "ID" not in names:
            names.insert(0, "ID")  # the lists page by ID; Bitrix24 answers it always
        return names

    def to_rest(self, obj: Model, names: Iterable[str] | None = None) -> dict:
        """One record in Bitrix24's names and formats (`names`: the selected fields, by default
        every field — multifields included, as `*.get` answers)."""
        chosen = [self.by_name[n] for n in names] if names is not None else self.fields
        return {f.name: f.read(obj) for f in chosen}

    def to_rest_values(self, rows: Iterable[tuple], names: list[str], paths: list[str]) -> list[dict]:
        """Rows read as tuples of `paths` (FieldMap.paths of `names`) → what `to_rest` answers for
        the same records: each field's reader built once per page, no model instance per row."""
        at = {path: i for i, path in enumerate(paths)}
        readers = [self.by_name[name].tuple_reader(at) for name in names]
        return [dict(zip(names, [read(row) for read in readers], strict=True)) for row in rows]

    def paths(self, names: list[str]) -> list[str] | None:
        """The columns `names` read, for values_list — each field a plain column of the record
        itself, or computed from such columns it declares (`reads`) —, else None."""
        found: list[str] = []
        for name in names:
            field = self.by_name.get(name)
            if field is None or field.multiple and not field.is_multifield:
                return None
            if field.get is not None:
                if not field.reads:
                    return None
                columns = field.reads
            elif not field.path or "__" in field.path or field.is_multifield:
                return None
            else:
                columns = (field.path,)
            found.extend(c for c in columns if c not in found)
        return found

    def to_rest_many(self, objects: list, names: list[str] | None = None) -> list[dict]:
        if self.prefetch is not None and objects:
            self.prefetch(objects, set(names if names is not None else self.by_name))
        return [self.to_rest(obj, names) for obj in objects]

    def from_rest(self, fields, *, adding: bool = False) -> tuple[dict, dict, dict]:
        """A write's `fields` → (data: {path: value}, m2m: {path: [values]}, comms: {NAME: [items]}).
        Unknown and read-only names are dropped (Bitrix24 does the same); a bad value is RestError;
        adding, a required field missing is RestError naming it."""
        if fields in (None, ""):
            fields = {}
        if not isinstance(fields, dict):
            raise RestError.invalid("Parameter fields must be an object")
        data: dict = {}
        m2m: dict = {}
        comms: dict = {}
        for key, raw in fields.items():
            field = self.field(key)
            if field is None or not field.writable:
                continue
            if field.is_multifield:
                comms[field.name] = multifield_items(field.name, raw)
            elif field.multiple:
                m2m[field.path] = [v for v in (field.value(x) for x in as_list(raw)) if v not in (None, "")]
            else:
                data[field.path] = field.value(raw)
        if adding:
            missing = [f.name for f in self.fields if f.required and f.writable and not _given(f, data, m2m, comms)]
            if missing:
                raise RestError.invalid(f"Required fields are not filled: {', '.join(missing)}")
        return data, m2m, comms


def _given(field: Field, data: dict, m2m: dict, comms: dict) -> bool:
    if field.is_multifield:
        return bool(comms.get(field.name))
    if field.multiple:
        return bool(m2m.get(field.path))
    return data.get(field.path) not in (None, "")
