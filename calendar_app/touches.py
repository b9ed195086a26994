"""A meeting bound to CRM records is their planned touch, and their timelines tell its story.

`calendar_app.services` call these inside their transactions. An event bound to records (a lead,
deal, contact or company) gets a linked touch: a tasks_app Task of kind «Встреча» bound to the same
records, the organizer responsible, its deadline the event's next start (`Event.touch`). Moving
the event moves the deadline, cancelling it deletes the touch — so the lead's «Дата следующего
касания», the boards' badges, «Дела» and «Мой день» follow the meeting with no code of their own.

Cancelling deletes the touch rather than completing it: a completed touch reads «Выполнено:
встреча» in the record's history and in «Дела», and the meeting did not take place (Bitrix24
deletes the CRM activity of a deleted calendar meeting too). A touch the manager completed (the
meeting happened) is history and stays whatever becomes of the event.

The tasks' services run with `by=None` (the system): the calendar's services have checked the
user's rights to the event and to the records (`check_records`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts import access
from accounts.models import Action, User
from crm import deletion, timeline
from tasks_app import reminders as task_reminders
from tasks_app import services as task_services
from tasks_app.models import Kind, Task

from . import recurrence
from .models import Event, EventBinding

# How far ahead a repeating meeting's next occurrence is looked for.
HORIZON = dt.timedelta(days=400)
PRIVATE_TITLE = gettext_noop("Частная встреча")


@task_reminders.reminded_elsewhere
def _is_a_meeting(task_id: int) -> bool:
    """A meeting's touch is reminded of by its event (the reminders its organizer chose), not by the
    tasks' «Скоро крайний срок» / «Крайний срок прошёл» at the meeting's start."""
    return Event.objects.filter(touch_id=task_id).exists()


def check_records(records: Iterable[models.Model], by: User | None) -> None:
    """The records an event may be bound to, as for a task: a lead, deal, contact or company, and a
    record whose «Дата следующего касания» the meeting will move only by whom may change it."""
    for record in records:
        if record._meta.label_lower not in task_services.BINDABLE:
            raise ValidationError(_("Событие можно привязать только к лиду, сделке, контакту или компании."))
        if by is not None and getattr(type(record), "touch_date_field", None) and not access.can(
                by, Action.CHANGE, record):
            raise PermissionDenied(_("Планировать встречи по записи может тот, кто вправе её изменять."))


def may_plan(user: User, record: models.Model) -> bool:
    """Whether the card offers «Запланировать встречу» (what `check_records` and the services allow)."""
    return access.can_add(user, Event) and (not getattr(type(record), "touch_date_field", None)
                                           or access.can(user, Action.CHANGE, record))


def bound_records(event: Event) -> list[models.Model]:
    """The records the event is bound to (whoever may see them: the services act for the event)."""
    by_type: dict[int, list[int]] = {}
    for ct_id, object_id in event.bindings.values_list("content_type_id", "object_id"):
        by_type.setdefault(ct_id, []).append(object_id)
    records = []
    for ct_id, ids in by_type.items():
        model = ContentType.objects.get_for_id(ct_id).model_class()
        if model is not None:
            records.extend(model._base_manager.filter(pk__in=ids).order_by("pk"))
    return records


def _start_of(occurrence_or_event) -> dt.datetime:
    """A timed start as is; an all-day one on its day at the touches' default hour (a touch needs a time)."""
    if occurrence_or_event.all_day:
        day = getattr(occurrence_or_event, "start_date", None) or occurrence_or_event.start
        return task_services.deadline_at(day)
    return occurrence_or_event.start


def next_start(event: Event, now: dt.datetime | None = None) -> dt.datetime | None:
    """When the meeting takes place next: a single event's start (past or not); a repeating one's
    occurrence under way or to come (None when the series is over)."""
    if not event.is_recurring:
        return _start_of(event)
    now = now or timezone.now()
    found = recurrence.occurrences(event, now, now + HORIZON)
    return _start_of(found[0]) if found else None


def _title(event: Event) -> str:
    # Whoever sees the organizer's tasks or the records sees the touch and the history: a private
    # event's title is for its participants only.
    return _(PRIVATE_TITLE) if event.is_private else event.title


def _title_param(event: Event):
    return timeline.message(PRIVATE_TITLE) if event.is_private else event.title


def _when(event: Event, start: dt.datetime | dt.date) -> dict:
    if event.all_day:
        return timeline.moment(start.date() if isinstance(start, dt.datetime) else start)
    return timeline.moment(start)


def _tell(event: Event, records: list[models.Model], by: User | None, msgid: str, **params) -> None:
    for record in records:
        timeline.log(record, timeline.Kind.SYSTEM, by, timeline.message(msgid, title=_title_param(event), **params),
                     event=event.pk)


# --- what the services call ---

def planned(event: Event, by: User | None) -> None:
    """A new event: its records' timelines and the touch."""
    records = bound_records(event)
    if not records:
        return
    start = event.start_date if event.all_day else event.start
    _tell(event, records, by, gettext_noop("Запланирована встреча «%(title)s» на %(start)s"), start=_when(event, start))
    follow(event, records, new=True)


def changed(event: Event, by: User | None, old: dt.datetime | dt.date | None = None,
            new: dt.datetime | dt.date | None = None) -> None:
    """The event (or one occurrence: `old` → `new` its start) was edited; `old` != `new` is a move."""
    records = bound_records(event)
    if old is not None and new is not None and old != new:
        _tell(event, records, by, gettext_noop("Встреча «%(title)s» перенесена: %(old)s → %(new)s"),
              old=_when(event, old), new=_when(event, new))
    else:
        _tell(event, records, by, gettext_noop("Встреча «%(title)s» изменена"))
    follow(event, records)


def cancelled(event: Event, by: User | None, occurrence: dt.datetime | None = None) -> None:
    """The event, or one `occurrence` of a repeating one, was cancelled."""
    records = bound_records(event)
    if occurrence is not None:
        _tell(event, records, by, gettext_noop("Отменено одно из повторений встречи «%(title)s»: %(start)s"),
              start=_when(event, occurrence))
    else:
        _tell(event, records, by, gettext_noop("Встреча «%(title)s» отменена"))
    follow(event, records)


DECLINED = gettext_noop("%(actor)s не примет участия во встрече «%(title)s»")


def declined(event: Event, user: User) -> None:
    records = bound_records(event)
    _tell(event, records, user, DECLINED, actor=str(user))


def hand_over(old: Event, new: Event) -> None:
    """A series split at an occurrence (services._split): its touch goes to the new series, which
    holds that occurrence; the old series gets one again only if it still has a meeting to come."""
    new.touch_id, old.touch_id = old.touch_id, None


def follow(event: Event, records: list[models.Model] | None = None, *, new: bool = False) -> None:
    """Make the event's touch what the event is now: created, moved, renamed or deleted. A touch
    whose records were deleted since still follows its meeting: it stays the organizer's plan."""
    records = bound_records(event) if records is None else records
    touch = Task.objects.filter(pk=event.touch_id).first() if event.touch_id else None
    if touch is None and not records:
        return
    if event.is_cancelled:
        if touch is not None and touch.is_active:
            _drop(event, touch)
        return
    start = next_start(event)
    if start is None:
        return
    if touch is not None and touch.is_active:
        if touch.title != _title(event):
            touch = task_services.task_update(touch, data={"title": _title(event)}, by=None)
        if touch.deadline != start:
            task_services.task_set_deadline(touch, start, by=None)
        return
    # No touch (never made, or deleted by hand) or a completed one (that meeting took place): a
    # new one for a meeting still to come; a new event in the past gets one too — overdue, it asks
    # for the meeting's result.
    if records and (new or start > timezone.now()):
        touch = task_services.task_create(
            data={"kind": Kind.MEETING, "title": _title(event), "responsible": event.organizer,
                  "creator": event.organizer, "deadline": start}, by=None, records=records, announce=False)
        event.touch = touch
        Event.objects.filter(pk=event.pk).update(touch=touch)


def _drop(event: Event, touch: Task) -> None:
    event.touch = None
    Event.objects.filter(pk=event.pk).update(touch=None)
    task_services.task_delete(touch, by=None)


@deletion.on_deleted
def drop_bindings(content_type, pk: int) -> None:
    """A deleted lead or deal takes its events' bindings along (they are generic: nothing cascades);
    the events stay, as the tasks do."""
    EventBinding.objects.filter(content_type=content_type, object_id=pk).delete()
