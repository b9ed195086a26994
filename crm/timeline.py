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


@transaction.atomic
def pin(entry: TimelineEntry) -> None:
    """Pin a comment; the previously pinned one of the same record is unpinned."""
    TimelineEntry.objects.filter(
        content_type_id=entry.content_type_id, object_id=entry.object_id, is_pinned=True
    ).exclude(pk=entry.pk).update(is_pinned=False)
    entry.is_pinned = True
    entry.save(update_fields=["is_pinned"])


def unpin(entry: TimelineEntry) -> None:
    entry.is_pinned = False
    entry.save(update_fields=["is_pinned"])


def add_comment(record: models.Model, by, text: str, pin_it: bool = False) -> TimelineEntry:
    with transaction.atomic():
        entry = log(record, Kind.COMMENT, by, text.strip())
        if pin_it:
            pin(entry)
    return entry
