"""Writing and reading a record's timeline (comments, the pinned comment, history)."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.db.models import QuerySet

from .models import TimelineEntry

Kind = TimelineEntry.Kind


def entries(record: models.Model) -> QuerySet[TimelineEntry]:
    return TimelineEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(record), object_id=record.pk
    ).select_related("author")


def log(record: models.Model, kind: str, by, text: str = "", **data) -> TimelineEntry:
    return TimelineEntry.objects.create(
        content_type=ContentType.objects.get_for_model(record), object_id=record.pk,
        kind=kind, author=by, text=text, data=data,
    )


def pinned(record: models.Model) -> TimelineEntry | None:
    return entries(record).filter(is_pinned=True).first()


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


def add_comment(record: models.Model, by, text: str, pin_it: bool = False) -> TimelineEntry:
    with transaction.atomic():
        entry = log(record, Kind.COMMENT, by, text.strip())
        if pin_it:
            set_pinned(entry, True)
    return entry
