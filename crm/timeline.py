"""Writing and reading a record's timeline (comments, the pinned comment, history).

The history keeps what happened, not sentences: a status move keeps the codes (a deal's stage
its id and the stage's name then — names are data), a change keeps the field's name and its raw
values (`change`), a note from the system keeps its msgid and parameters (`message`). `render`
makes the sentences when shown, in the reader's language and formats (crm.display), so an English
user reads English history and a date reads «02.12.2026» in Russian. Entries written before
this keep their Russian labels and texts and are shown as they were. Comments stay as typed."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol

from django.apps import apps
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist
from django.db import models, transaction
from django.db.models import F, QuerySet
from django.utils import formats, timezone, translation
from django.utils.translation import gettext, gettext_noop

from . import display, hooks, phones
from .lookups import AnyOf
from .models import TimelineEntry
from .money import format_money, format_number

Kind = TimelineEntry.Kind
# History entries that mean the record itself was added or changed (crm.hooks.changed); comments,
# duplicates' notes and the system's lines (a task planned on it) are not changes of the record.
CHANGED = {Kind.CREATED: "add", Kind.CHANGE: "update", Kind.STATUS: "update"}

# Changes that are no single field of the record: their labels (msgids).
OTHER_FIELDS = {"communications": gettext_noop("Телефоны и e-mail"), "products": gettext_noop("Товары/услуги")}


def entries(record: models.Model) -> QuerySet[TimelineEntry]:
    return TimelineEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(record), object_id=record.pk
    ).select_related("author")


def comment(pk: int) -> TimelineEntry | None:
    """One comment by its id, on whatever record (the REST API's crm.timeline.comment.get): the
    caller checks that the reader may see that record before showing it."""
    return TimelineEntry.objects.filter(pk=pk, kind=Kind.COMMENT).first()


def message(msgid: str, **params) -> dict:
    """A sentence of the history kept as its msgid (mark it with gettext_noop where it is written)
    and parameters, translated when shown. A parameter is a name kept as text (names are data),
    another `message`, {"model": "app.model"} (that model's name), `moment(datetime)` (shown in the reader's
    zone and format), `moment(date)` or a list of these (joined by «; »)."""
    return {"msgid": msgid, "params": params}


def moment(value: datetime | date) -> dict:
    """A time as a `message` parameter: kept ISO (a meeting moved «с 07.12.2026 10:00 на …»), shown
    in the reader's zone and SHORT_DATETIME_FORMAT (a date: SHORT_DATE_FORMAT) when rendered."""
    if isinstance(value, datetime):
        return {"at": value.isoformat()}
    return {"day": value.isoformat()}


# How the change came, when not through the pages: "rest" while a REST call runs (rest.dispatch).
# Kept in the entry's data["via"] and shown beside its author («через REST»).
_via: ContextVar[str | None] = ContextVar("timeline_via", default=None)
VIA_LABELS = {"rest": gettext_noop("через REST")}


@contextmanager
def via(source: str) -> Iterator[None]:
    """Every entry logged inside is marked as made through `source` ("rest")."""
    token = _via.set(source)
    try:
        yield
    finally:
        _via.reset(token)


def via_label(entry: TimelineEntry) -> str:
    """«через REST» for an entry made through the API, "" otherwise."""
    source = (entry.data or {}).get("via")
    return gettext(VIA_LABELS[source]) if source in VIA_LABELS else ""


def log(record: models.Model, kind: str, by, text: str | dict = "", **data) -> TimelineEntry:
    """`text` is what the user typed (a comment) or a `message`. A message's source sentence goes
    in `text` too, in the site's language: for search, the admin's lists and the deletion snapshot."""
    if _via.get() and "via" not in data:
        data["via"] = _via.get()
    if isinstance(text, dict):
        data = {**data, "msgid": text["msgid"], "params": text["params"]}
        with translation.override(settings.LANGUAGE_CODE):
            text = say(text)
    if kind == Kind.CHANGE and hasattr(record, "currency"):
        data.setdefault("currency", record.currency)  # money in the history reads in the record's currency
    entry = TimelineEntry.objects.create(
        content_type=ContentType.objects.get_for_model(record), object_id=record.pk,
        kind=kind, author=by, text=text, data=data,
    )
    if kind in CHANGED:
        hooks.changed(record, by, CHANGED[kind])
    return entry


def log_many(records, kind: str, by, text: dict) -> list[TimelineEntry]:
    """The same `message` on many records' timelines in one insert (an import's «Импорт: file.csv»
    on each record it created): what `log` writes for each, without a query per record."""
    records = list(records)
    if not records:
        return []
    with translation.override(settings.LANGUAGE_CODE):
        sentence = say(text)
    content_type = ContentType.objects.get_for_model(records[0])
    data = {"msgid": text["msgid"], "params": text["params"]}
    if _via.get():
        data["via"] = _via.get()
    entries = TimelineEntry.objects.bulk_create([
        TimelineEntry(content_type=content_type, object_id=record.pk, kind=kind, author=by, text=sentence,
                      data=dict(data))
        for record in records])
    if kind in CHANGED:
        hooks.changed_many(records, by, CHANGED[kind])
    return entries


def pinned(record: models.Model) -> TimelineEntry | None:
    if hasattr(record, "_pinned_entry"):  # read with its neighbours by preload_pinned
        return record._pinned_entry
    return entries(record).filter(is_pinned=True).first()


def pinned_texts(model: type[models.Model], pks: list[int]) -> dict[int, str]:
    """The pinned comment's text of each of these records of `model` (an export's chunk), in one
    query: {record pk: text}; a record with none is absent."""
    return dict(TimelineEntry.objects.filter(AnyOf(F("object_id"), pks), is_pinned=True,
                                             content_type=ContentType.objects.get_for_model(model))
                .values_list("object_id", "text"))


def preload_pinned(records: list[models.Model]) -> None:
    """The pinned entries of many records of one model in one query (a chunk of an export):
    `pinned(record)` then answers without a query per record."""
    if not records:
        return
    found = {entry.object_id: entry for entry in TimelineEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(records[0]), object_id__in=[r.pk for r in records],
        is_pinned=True).select_related("author")}
    for record in records:
        record._pinned_entry = found.get(record.pk)


def _lock_record_of(entry: TimelineEntry) -> None:
    """Serialise the pin changes of one record: its row is the lock. Locking the pinned entries
    would not do — with none pinned there is nothing to lock, and two requests would each pin
    one and break the «one pinned per record» constraint (a 500 under 20 clients at once)."""
    model = ContentType.objects.get_for_id(entry.content_type_id).model_class()
    list(model._base_manager.select_for_update().filter(pk=entry.object_id).values_list("pk"))


@transaction.atomic
def set_pinned(entry: TimelineEntry, pinned: bool | None = None) -> bool:
    """Pin the comment (unpinning the record's previously pinned one) or unpin it; with nothing
    asked, the opposite of its state read under the record's lock (not of the page the user
    clicked on). Returns whether it is pinned now."""
    _lock_record_of(entry)
    if pinned is None:
        pinned = not TimelineEntry.objects.filter(pk=entry.pk, is_pinned=True).exists()
    if pinned:
        TimelineEntry.objects.filter(
            content_type_id=entry.content_type_id, object_id=entry.object_id, is_pinned=True
        ).exclude(pk=entry.pk).update(is_pinned=False)
    entry.is_pinned = pinned
    entry.save(update_fields=["is_pinned"])
    return pinned


# What other apps do when a comment is added (notifications register theirs): the kernel names
# none of them, as with crm.cards and crm.duplicates.
_comment_hooks: list[Callable[[models.Model, object, str], None]] = []


def on_comment(hook: Callable[[models.Model, object, str], None]) -> Callable[[models.Model, object, str], None]:
    if hook not in _comment_hooks:  # a module imported twice (ready() and a test) registers once
        _comment_hooks.append(hook)
    return hook


def add_comment(record: models.Model, by, text: str, pin_it: bool = False) -> TimelineEntry:
    with transaction.atomic():
        entry = log(record, Kind.COMMENT, by, text.strip())
        if pin_it:
            set_pinned(entry, True)
        for hook in _comment_hooks:
            hook(record, by, entry.text)
    return entry


# Files on comments: the disk registers how they are read from the form, saved with the comment and
# listed under it; the kernel never imports the disk (as with on_comment and crm.cards).
class CommentFiles(Protocol):
    field_template: str  # the file field inside the comment form (gets `comment_files`)
    list_template: str  # a comment's files, rendered with `entry` (its `files`)

    def read(self, request) -> tuple[list, str]:
        """The request's files, read before anything touches request.POST (streamed, size-limited),
        and a refusal to show beside the kept text ("" if none)."""

    def add(self, record: models.Model, by, text: str, files: list, pin_it: bool) -> TimelineEntry:
        """The comment and its files, all or nothing; ValidationError (Russian) when refused."""

    def of(self, user, record: models.Model, entries: list[TimelineEntry]) -> dict[int, list]:
        """The files of a page's comments by entry id, for a reader of the record (one query)."""


_comment_files: list[CommentFiles] = []


def register_comment_files(handler: CommentFiles) -> CommentFiles:
    _comment_files[:] = [handler]  # one handler: registering again (a test, a reload) replaces it
    return handler


def comment_files() -> CommentFiles | None:
    return _comment_files[0] if _comment_files else None


def change(name: str, old, new) -> dict:
    """One field's change for the history: its name and raw values, JSON-able — Decimals as
    strings, dates ISO, a link as {"id", "text"} (its name then), choices as codes, many-to-many
    as the sorted names. `render` gives the label and the formats of the reader."""
    return {"name": name, "old": _raw(old), "new": _raw(new)}


def _raw(value):
    if value is None or value == "":
        return None
    if isinstance(value, models.Model):
        return {"id": value.pk, "text": str(value)}
    if isinstance(value, (set, frozenset, QuerySet)):
        return sorted(str(v) for v in value)
    if isinstance(value, (list, tuple)):
        return [_raw(v) if isinstance(v, (Decimal, date, models.Model)) else v for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, str):
        return str(value)  # a choices enum becomes its plain code
    return value


@dataclass
class Shown:
    """An entry as the reader reads it. Status moves: `heading` («Статус»), `old` → `new` and
    `text` (a reason); changes: `changes` as (label, old, new); everything else: `text`."""

    text: str = ""
    heading: str = ""
    old: str = ""
    new: str = ""
    changes: list[tuple[str, str, str]] = field(default_factory=list)
    via: str = ""  # «через REST» (via_label)

    def __str__(self) -> str:
        """One line (the admin's history column)."""
        if self.heading:
            line = f"{self.heading}: {self.old} → {self.new}"
            return f"{line} · {self.text}" if self.text else line
        if self.changes:
            return "; ".join(f"{label}: {old} → {new}" for label, old, new in self.changes)
        return self.text


def render(entry: TimelineEntry) -> Shown:
    shown = _render(entry)
    shown.via = via_label(entry)
    return shown


def _render(entry: TimelineEntry) -> Shown:
    model = ContentType.objects.get_for_id(entry.content_type_id).model_class()
    data = entry.data or {}
    text = entry.text
    if data.get("msgid"):
        try:
            text = say(data)
        except (KeyError, TypeError, ValueError, LookupError):  # a translation that lost a parameter
            pass
    if entry.kind == Kind.STATUS:
        name = data.get("field") or ("stage" if _field(model, "stage") else "status")
        status = _field(model, name)
        return Shown(text=text, heading=str(status.verbose_name) if status else gettext("Статус"),
                     old=_status_label(status, data.get("from"), data.get("from_label")),
                     new=_status_label(status, data.get("to"), data.get("to_label")))
    if entry.kind == Kind.CHANGE:
        return Shown(text=text, changes=[_shown_change(model, c, data.get("currency") or "RUB")
                                         for c in data.get("changes", [])])
    return Shown(text=text)


def say(msg: dict) -> str:
    """A `message` as a sentence in the active language (the history and notifications)."""
    params = {key: _param(value) for key, value in (msg.get("params") or {}).items()}
    return gettext(msg["msgid"]) % params if params else gettext(msg["msgid"])


def _param(value) -> str:
    if isinstance(value, list):
        return "; ".join(_param(v) for v in value)
    if isinstance(value, dict) and "msgid" in value:
        return say(value)
    if isinstance(value, dict) and "at" in value:
        at = datetime.fromisoformat(value["at"])
        return formats.date_format(timezone.localtime(at), "SHORT_DATETIME_FORMAT")
    if isinstance(value, dict) and "day" in value:
        return formats.date_format(date.fromisoformat(value["day"]), "SHORT_DATE_FORMAT")
    if isinstance(value, dict) and "model" in value:
        try:
            return str(apps.get_model(value["model"])._meta.verbose_name)
        except (LookupError, ValueError):
            return value["model"]
    return str(value)


def _field(model, name: str):
    try:
        return model._meta.get_field(name) if model else None
    except FieldDoesNotExist:
        return None


def _status_label(status, code, label) -> str:
    if status is not None and status.choices and code is not None:
        return str(dict(status.flatchoices).get(code, label or code))
    return str(label if label is not None else (code if code is not None else "—"))


def _shown_change(model, item: dict, currency: str) -> tuple[str, str, str]:
    if "name" not in item:  # written before the history kept raw values: shown as it was
        return str(item.get("field", "")), str(item.get("old", "")), str(item.get("new", ""))
    name = item["name"]
    known = None if name in OTHER_FIELDS else _field(model, name)
    label = str(known.verbose_name) if known else gettext(OTHER_FIELDS.get(name, name))
    return label, _value(model, known, name, item.get("old"), currency), _value(model, known, name, item.get("new"),
                                                                                  currency)


def _value(model, known, name: str, value, currency: str) -> str:
    if name == "communications" and isinstance(value, list):
        text = ", ".join(phones.display(v) if str(v).startswith("+") else str(v) for v in value)
    elif name == "products" and isinstance(value, list):
        text = "; ".join(gettext("%(product)s: %(quantity)s × %(price)s") % {
            "product": row["product"], "quantity": format_number(row["quantity"]),
            "price": format_money(Decimal(row["price"]), currency)} for row in value)
    elif known is None:
        text = ", ".join(map(str, value)) if isinstance(value, list) else str(value or "")
    else:
        try:
            text = display.value_text(model, name, value, currency)
        except (TypeError, ValueError, ArithmeticError):  # a field whose type changed since
            text = str(value)
    return text or "—"
