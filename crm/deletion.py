"""Deleting a CRM record: the one path under every app's `<kind>_delete` service.

Access is checked with the same rule as the CRM (`Action.DELETE`), what PROTECTs the record
refuses the deletion with a message naming only what the user may see, the record's timeline
and phones go with it (they are bound generically, so the database would keep them as orphans),
and a `DeletionRecord` keeps who deleted what and when, with a snapshot of the record's fields
and its timeline. Callers hold a transaction and have locked the row.
"""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models.deletion import Collector, ProtectedError, RestrictedError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts import access
from accounts.models import Action

from . import tallies, timeline
from .models import Communication, DeletionRecord, TimelineEntry

# Internal columns that only repeat other fields (the search text, a normalised name key).
SKIPPED_FIELDS = {"search_text", "company_key"}
TIMELINE_LIMIT = 500  # a snapshot keeps the newest entries; a record rarely has more


class DeletionRefused(Exception):
    """A deletion that must not happen (something depends on the record); the message is for the
    user, in Russian."""


def check(obj: models.Model, by) -> None:
    # As for changes: a record the user may not see (a hidden deal pipeline) he may not delete,
    # whatever an entity-wide «delete» level says.
    if by is not None and not (access.can(by, Action.VIEW, obj) and access.can(by, Action.DELETE, obj)):
        raise PermissionDenied(_("Нет прав на удаление этой записи."))


def blockers(obj: models.Model, by) -> list[str]:
    """What keeps `obj` from being deleted (PROTECT/RESTRICT references), one line per record the
    user may see and one line counting the rest, so a refusal reveals no title the user could not
    read in the CRM."""
    collector = Collector(using=obj._state.db or "default")
    try:
        collector.collect([obj])
    except ProtectedError as exc:
        found = exc.protected_objects
    except RestrictedError as exc:
        found = exc.restricted_objects
    else:
        return []
    shown, hidden = [], 0
    for other in found:
        if by is None or not hasattr(other, "access_entity") or access.can(by, Action.VIEW, other):
            shown.append(f"{other._meta.verbose_name} «{other}»")
        else:
            hidden += 1
    if hidden:
        shown.append(_("записи, которых вам не видно: %(n)s") % {"n": hidden})
    return shown


def snapshot(obj: models.Model) -> dict:
    """The record's fields as the card showed them: values, and for links their names too."""
    fields: dict[str, object] = {}
    for f in obj._meta.concrete_fields:
        if f.name in SKIPPED_FIELDS or f.primary_key:
            continue
        value = f.value_from_object(obj)
        if f.is_relation and value is not None:
            value = {"id": value, "name": str(getattr(obj, f.name))}
        elif f.choices and value not in (None, ""):
            value = {"value": value, "name": str(getattr(obj, f"get_{f.name}_display")())}
        fields[f.name] = value
    for f in obj._meta.many_to_many:
        fields[f.name] = [{"id": o.pk, "name": str(o)} for o in getattr(obj, f.name).all()]
    content_type = ContentType.objects.get_for_model(obj)
    communications = Communication.objects.filter(content_type=content_type, object_id=obj.pk)
    entries = TimelineEntry.objects.filter(content_type=content_type, object_id=obj.pk).select_related("author")
    return {
        "fields": fields,
        "communications": [{"kind": c.kind, "type": c.type, "value": c.value, "ext": c.ext} for c in communications],
        "timeline": [{"when": e.created_at, "author": str(e.author) if e.author else "", "kind": e.kind,
                      "text": e.text, "data": e.data, "pinned": e.is_pinned}
                     for e in entries[:TIMELINE_LIMIT]],
    }


# What feature apps drop with a deleted record (notifications about it, task bindings to it): they
# are bound generically, so the database cannot cascade. Each hook gets (content_type, pk).
_deleted_hooks: list = []


def on_deleted(hook):
    if hook not in _deleted_hooks:
        _deleted_hooks.append(hook)
    return hook


def delete_record(obj: models.Model, *, by, title: str = "", related=()) -> DeletionRecord:
    """Delete `obj` (already locked by the caller's transaction) and record it; each of `related`
    (the records it was linked to: a deal's company, a lead's contact…) gets a line in its
    timeline, so the deletion shows where people look. Raises PermissionDenied or
    DeletionRefused; nothing is deleted then."""
    check(obj, by)
    blocking = blockers(obj, by)
    if blocking:
        raise DeletionRefused(_("Запись «%(record)s» нельзя удалить: от неё зависят: %(list)s. Сначала отвяжите или удалите их.")
                              % {"record": title or obj, "list": "; ".join(blocking)})
    record = DeletionRecord(
        entity=obj.access_entity, object_id=obj.pk, title=(title or str(obj))[:500], scope=access.record_scope(obj),
        responsible_id=getattr(obj, f"{obj.access_owner_field}_id"), deleted_by=by, snapshot=snapshot(obj),
    )
    content_type = ContentType.objects.get_for_model(obj)
    pk = obj.pk
    with tallies.atomic():
        obj.delete()
        TimelineEntry.objects.filter(content_type=content_type, object_id=pk).delete()
        Communication.objects.filter(content_type=content_type, object_id=pk).delete()
        for hook in _deleted_hooks:
            hook(content_type, pk)
        record.save()
        note = timeline.message(gettext_noop("Удалена связанная запись: %(entity)s «%(title)s»"),
                                entity={"model": obj._meta.label_lower}, title=record.title)
        for other in related:
            if other is not None and other.pk is not None:
                timeline.log(other, timeline.Kind.SYSTEM, by, note, deleted=record.pk)
    return record
