"""The only ways an event changes. The calendar pages (next session), the admin and the API call these.

The organizer and a supervisor whose level covers him (the access gate's CHANGE) edit, move and
cancel an event; a participant only answers the invitation. A repeating event is edited with a
scope, as in Bitrix24 and every calendar:
  THIS — one occurrence: an EventException (moved, renamed or cancelled);
  FOLLOWING — this and the following ones: the series ends the day before, a new series starts
              here with the changes (its participants, reminders and links copied);
  ALL — the series itself.
Every change is one transaction; a refusal (ValidationError, PermissionDenied, EventError) saves
nothing. Participants hear of an invitation, a move or a change, and a cancellation. An event bound
to CRM records is their planned touch and writes to their timelines (calendar_app.touches).
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts import access
from accounts.models import Action, User
from crm import timeline
from notifications import services as notifications
from notifications.models import Kind as N

from . import recurrence, reminders, touches
from .models import Answer, CalendarToken, Event, EventBinding, EventException, EventReminder, Freq, Participant

THIS, FOLLOWING, ALL = "this", "following", "all"
SCOPES = (THIS, FOLLOWING, ALL)
MAX_PARTICIPANTS = 100
MAX_REMINDERS = 5
MAX_REMINDER_MINUTES = 60 * 24 * 28  # four weeks
MAX_BINDINGS = 20
# What the series itself holds; an occurrence (THIS) overrides only its time, title and place.
FIELDS = ("title", "description", "location", "all_day", "start", "end", "start_date", "end_date", "tz",
          "availability", "importance", "is_private", "freq", "interval", "weekdays", "until", "count")
RULE_FIELDS = ("freq", "interval", "weekdays", "until", "count")


class EventError(Exception):
    """A refusal with a message for the user (in Russian)."""


class StaleEdit(EventError):
    def __init__(self):
        super().__init__(_("Событие уже изменил другой пользователь. Обновите страницу: ваши изменения не сохранены, "
                           "чтобы не затереть чужие."))


# --- validation ---

def _check(event: Event) -> None:
    errors: dict[str, str] = {}
    if not (event.title or "").strip():
        errors["title"] = _("Укажите название события.")
    try:
        ZoneInfo(event.tz or "")
    except (ZoneInfoNotFoundError, ValueError):
        errors["tz"] = _("Неизвестный часовой пояс.")
    if event.all_day:
        if event.start_date is None or event.end_date is None:
            errors["start_date"] = _("Укажите даты начала и окончания.")
        elif event.end_date < event.start_date:
            errors["end_date"] = _("Событие не может закончиться раньше, чем началось.")
        event.start = event.end = None
    else:
        if event.start is None or event.end is None:
            errors["start"] = _("Укажите время начала и окончания.")
        elif timezone.is_naive(event.start) or timezone.is_naive(event.end):
            errors["start"] = _("Время события должно быть указано с часовым поясом.")
        elif event.end < event.start:
            errors["end"] = _("Событие не может закончиться раньше, чем началось.")
        event.start_date = event.end_date = None
    if event.freq not in Freq.values:
        errors["freq"] = _("Неизвестный вид повторения.")
    elif event.freq:
        if not 1 <= (event.interval or 0) <= 999:
            errors["interval"] = _("Интервал повторения — от 1 до 999.")
        weekdays = event.weekdays or []
        if not isinstance(weekdays, list) or any(not isinstance(d, int) or not 0 <= d <= 6 for d in weekdays):
            errors["weekdays"] = _("Дни недели указаны неверно.")
        elif event.freq != Freq.WEEKLY and weekdays:
            errors["weekdays"] = _("Дни недели задаются только для еженедельного повторения.")
        else:
            event.weekdays = sorted(set(weekdays))
        if event.until is not None and event.count is not None:
            errors["count"] = _("Укажите либо дату окончания повторений, либо их количество.")
        elif event.count is not None and not 1 <= event.count <= recurrence.MAX_COUNT:
            errors["count"] = _("Количество повторений — от 1 до %(n)s.") % {"n": recurrence.MAX_COUNT}
        elif event.until is not None and "start" not in errors and "start_date" not in errors:
            first_day = event.start_date if event.all_day else event.start.astimezone(event.zone).date()
            if event.until < first_day:
                errors["until"] = _("Повторения не могут закончиться раньше, чем началось событие.")
    else:
        event.interval, event.weekdays, event.until, event.count = 1, [], None, None
    if errors:
        raise ValidationError(errors)


def _people(users: Iterable[User | int]) -> list[User]:
    """The invited users: each must exist and be active."""
    given = list(users)
    ids = {u.pk if isinstance(u, User) else u for u in given}
    if len(ids) > MAX_PARTICIPANTS:
        raise ValidationError(_("Участников не больше %(n)s.") % {"n": MAX_PARTICIPANTS})
    try:
        found = {u.pk: u for u in User.objects.filter(pk__in=ids)}
    except (ValueError, TypeError) as exc:
        raise ValidationError(_("Участник указан неверно.")) from exc
    if len(found) != len(ids):
        raise ValidationError(_("Среди участников есть неизвестный пользователь."))
    inactive = [str(u) for u in found.values() if not u.is_active]
    if inactive:
        raise ValidationError(_("Нельзя пригласить неактивного пользователя: %(names)s.") % {"names": ", ".join(inactive)})
    return list(found.values())


def _minutes(values: Iterable[int]) -> list[int]:
    result = set()
    for value in values:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValidationError(_("Напоминание указано неверно."))
        if value < 0:
            raise ValidationError(_("Напоминание не может прийти после начала события."))
        if value > MAX_REMINDER_MINUTES:
            raise ValidationError(_("Напоминание — не раньше чем за четыре недели до события."))
        result.add(value)
    if len(result) > MAX_REMINDERS:
        raise ValidationError(_("Напоминаний не больше %(n)s.") % {"n": MAX_REMINDERS})
    return sorted(result)


def _lock(event: Event, version: int | None) -> Event:
    locked = Event.objects.select_for_update().get(pk=event.pk)
    if version is not None and locked.version != version:
        raise StaleEdit()
    return locked


def _may_change(event: Event, by: User | None) -> None:
    if by is not None and not access.can(by, Action.CHANGE, event):
        raise PermissionDenied(_("Нет прав на изменение этого события."))


def default_zone() -> str:
    return timezone.get_current_timezone_name() if settings.USE_TZ else settings.TIME_ZONE


# --- notifications ---

def _audience(event: Event, by: User | None) -> list[User]:
    """Who hears of a change: the participants who have not declined, and the organizer."""
    people = [p.user for p in event.participants.select_related("user") if p.answer != Answer.DECLINED]
    if all(u.pk != event.organizer_id for u in people):
        people.append(event.organizer)
    return [u for u in people if by is None or u.pk != by.pk]


def _tell(users: Iterable[User], kind: str, msgid: str, event: Event, by: User | None, key: str = "") -> None:
    for user in users:
        notifications.notify(user, kind, timeline.message(msgid, record=event.title), record=event, actor=by,
                             key=f"{key}:{user.pk}" if key else "")


# --- create / update ---

@transaction.atomic
def event_create(*, data: dict[str, Any], by: User | None, participants: Iterable[User | int] = (),
                 reminder_minutes: Iterable[int] = (), records: Iterable[models.Model] = ()) -> Event:
    """Create an event. `by` None is the system; the organizer defaults to `by` and always takes part
    (accepted). The others are invited and notified."""
    if by is not None and not access.can_add(by, Event):
        raise PermissionDenied(_("Нет прав на создание событий."))
    data = {k: v for k, v in data.items() if k in FIELDS or k == "organizer"}
    event = Event(**data)
    if event.organizer_id is None:
        event.organizer = by
    if event.organizer_id is None:
        raise ValidationError(_("Укажите организатора события."))
    if not data.get("tz"):
        event.tz = default_zone()
    _check(event)
    people = _people(participants)
    minutes = _minutes(reminder_minutes)
    records = list(records)
    if len(records) > MAX_BINDINGS:
        raise ValidationError(_("Событие можно привязать не больше чем к %(n)s записям.") % {"n": MAX_BINDINGS})
    touches.check_records(records, by)  # first: what is no CRM record has no access rule to ask
    access.check_new_links(by, [], records)
    event.save()
    Participant.objects.create(event=event, user=event.organizer, answer=Answer.ACCEPTED)
    Participant.objects.bulk_create([Participant(event=event, user=u) for u in people if u.pk != event.organizer_id])
    EventReminder.objects.bulk_create([EventReminder(event=event, minutes=m) for m in minutes])
    _bind(event, records)
    invited = [u for u in people if u.pk != event.organizer_id]
    _tell(invited, N.EVENT_INVITED, gettext_noop("Вас пригласили на событие: %(record)s"), event, by,
          key=f"event_invited:{event.pk}")
    touches.planned(event, by)
    reminders.schedule(event)
    return event


def _bind(event: Event, records: Iterable[models.Model]) -> None:
    EventBinding.objects.bulk_create(
        [EventBinding(event=event, content_type=ContentType.objects.get_for_model(r), object_id=r.pk) for r in records],
        ignore_conflicts=True)


@transaction.atomic
def event_update(event: Event, *, data: dict[str, Any], by: User | None, scope: str = ALL,
                 occurrence: dt.datetime | None = None, version: int | None = None,
                 participants: Iterable[User | int] | None = None,
                 reminder_minutes: Iterable[int] | None = None) -> Event:
    """Edit an event. For a repeating one, `occurrence` is the original start of the occurrence the
    user edits (Occurrence.original_start) and `scope` says how far the change goes. Returns the
    event that holds the change (for FOLLOWING, the new series)."""
    if scope not in SCOPES:
        raise ValidationError(_("Неизвестный вариант изменения повторяющегося события."))
    _may_change(event, by)
    locked = _lock(event, version)
    data = {k: v for k, v in data.items() if k in FIELDS}
    if locked.is_recurring and scope != ALL:
        if occurrence is None or not recurrence.is_occurrence(locked, occurrence):
            raise ValidationError(_("Такого повторения у события нет."))
        if scope == THIS:
            return _update_one(locked, occurrence, data, by)
        if occurrence != recurrence.first_key(locked):
            return _split(locked, occurrence, data, by, participants, reminder_minutes)
    before = (locked.start, locked.end, locked.start_date, locked.end_date)
    # The dialog sends every field; only a value that really changes counts (a new title must not
    # drop the cancelled and moved occurrences).
    changed = {name for name, value in data.items() if getattr(locked, name) != value}
    for name, value in data.items():
        setattr(locked, name, value)
    _check(locked)
    if changed & {*RULE_FIELDS, "start", "start_date", "all_day", "tz"}:
        # The occurrences the exceptions named may no longer exist, or be other ones.
        locked.exceptions.all().delete()
    new_people = _people(participants) if participants is not None else None
    minutes = _minutes(reminder_minutes) if reminder_minutes is not None else None
    locked.version += 1
    locked.save()
    invited = _set_people(locked, new_people) if new_people is not None else []
    if minutes is not None:
        locked.reminders.all().delete()
        EventReminder.objects.bulk_create([EventReminder(event=locked, minutes=m) for m in minutes])
    _tell([u for u in _audience(locked, by) if u not in invited], N.EVENT_CHANGED,
          gettext_noop("Событие перенесено или изменено: %(record)s") if before != (
              locked.start, locked.end, locked.start_date, locked.end_date)
          else gettext_noop("Событие изменено: %(record)s"), locked, by)
    _tell(invited, N.EVENT_INVITED, gettext_noop("Вас пригласили на событие: %(record)s"), locked, by,
          key=f"event_invited:{locked.pk}")
    if changed or invited:
        touches.changed(locked, by, _first_start(before), _first_start(
            (locked.start, locked.end, locked.start_date, locked.end_date)))
    reminders.schedule(locked)
    return locked


def _first_start(times: tuple) -> dt.datetime | dt.date:
    """The start among (start, end, start_date, end_date): the time, or the date of an all-day event."""
    return times[0] if times[0] is not None else times[2]


def _set_people(event: Event, people: list[User]) -> list[User]:
    """Make the participants `people` (plus the organizer); returns the newly invited."""
    wanted = {u.pk: u for u in people if u.pk != event.organizer_id}
    current = set(event.participants.exclude(user_id=event.organizer_id).values_list("user_id", flat=True))
    event.participants.exclude(user_id=event.organizer_id).exclude(user_id__in=wanted).delete()
    new = [u for pk, u in wanted.items() if pk not in current]
    Participant.objects.bulk_create([Participant(event=event, user=u) for u in new])
    Participant.objects.get_or_create(event=event, user_id=event.organizer_id, defaults={"answer": Answer.ACCEPTED})
    return new


def _occurrence_times(event: Event, occurrence: dt.datetime, data: dict) -> tuple[dt.datetime, dt.datetime]:
    """The new start/end of one occurrence (as EventException stores them) from the edit's data."""
    if event.all_day:
        start_day = data.get("start_date") or occurrence.date()
        end_day = data.get("end_date") or start_day + event.duration
        if end_day < start_day:
            raise ValidationError({"end_date": _("Событие не может закончиться раньше, чем началось.")})
        return recurrence.day_key(start_day), recurrence.day_key(end_day)
    start = data.get("start") or occurrence
    end = data.get("end") or start + event.duration
    if timezone.is_naive(start) or timezone.is_naive(end):
        raise ValidationError({"start": _("Время события должно быть указано с часовым поясом.")})
    if end < start:
        raise ValidationError({"end": _("Событие не может закончиться раньше, чем началось.")})
    return start, end


def _update_one(event: Event, occurrence: dt.datetime, data: dict, by: User | None) -> Event:
    new_start, new_end = _occurrence_times(event, occurrence, data)
    title = (data.get("title") or "").strip()
    exc, _created = EventException.objects.get_or_create(event=event, original_start=occurrence)
    was = exc.new_start if exc.new_start is not None and not exc.is_cancelled else occurrence
    exc.is_cancelled = False
    moved = (new_start, new_end) != (occurrence, occurrence + event.duration)
    exc.new_start, exc.new_end = (new_start, new_end) if moved else (None, None)
    exc.title = "" if title == event.title else title[:255]
    exc.location = data.get("location", exc.location) or ""
    if exc.location == event.location:
        exc.location = ""
    exc.save()
    event.version += 1
    event.save(update_fields=["version", "updated_at"])
    _tell(_audience(event, by), N.EVENT_CHANGED, gettext_noop("Событие перенесено или изменено: %(record)s"), event, by)
    touches.changed(event, by, was, exc.new_start or occurrence)
    reminders.schedule(event)
    return event


def _split(event: Event, occurrence: dt.datetime, data: dict, by: User | None,
           participants, reminder_minutes) -> Event:
    """End the series before `occurrence` and start a new one there with the changes."""
    old_people = list(event.participants.exclude(user_id=event.organizer_id).values_list("user_id", flat=True))
    old_minutes = list(event.reminders.values_list("minutes", flat=True))
    old_links = list(event.bindings.values_list("content_type_id", "object_id"))
    local = occurrence.astimezone(event.zone) if not event.all_day else occurrence
    new_data = {name: getattr(event, name) for name in FIELDS}
    if event.all_day:
        new_data["start_date"], new_data["end_date"] = occurrence.date(), occurrence.date() + event.duration
    else:
        new_data["start"], new_data["end"] = occurrence, occurrence + event.duration
    if event.count is not None:
        # How many occurrences the old series keeps (a count numbers them from the first).
        local_occurrence = recurrence.local_of(event, occurrence)
        before = sum(1 for d in recurrence.rule(event, count=event.count) if d < local_occurrence)
        new_data["count"] = max(1, event.count - before)
    new_data.update(data)
    new = Event(organizer=event.organizer, **new_data)
    _check(new)
    # The old series: its last occurrence is the one before, so it ends the day before this one.
    if event.count is not None:
        event.count = before
    else:
        event.until = local.date() - dt.timedelta(days=1)
    later = list(event.exceptions.filter(original_start__gte=occurrence))
    touches.hand_over(event, new)
    event.version += 1
    event.save()
    people = _people(participants) if participants is not None else _people(old_people)
    minutes = _minutes(reminder_minutes) if reminder_minutes is not None else old_minutes
    new.save()
    # The later occurrences' exceptions go with them to the new series when its rule still has them
    # (a rename of the following ones); a new time or rule makes them other occurrences.
    kept = [e.pk for e in later if recurrence.is_occurrence(new, e.original_start)]
    EventException.objects.filter(pk__in=kept).update(event=new)
    EventException.objects.filter(pk__in=[e.pk for e in later if e.pk not in kept]).delete()
    Participant.objects.create(event=new, user=new.organizer, answer=Answer.ACCEPTED)
    answers = dict(event.participants.values_list("user_id", "answer"))
    Participant.objects.bulk_create([Participant(event=new, user=u, answer=answers.get(u.pk, Answer.INVITED))
                                     for u in people if u.pk != new.organizer_id])
    EventReminder.objects.bulk_create([EventReminder(event=new, minutes=m) for m in minutes])
    EventBinding.objects.bulk_create([EventBinding(event=new, content_type_id=ct, object_id=pk) for ct, pk in old_links])
    _tell(_audience(new, by), N.EVENT_CHANGED, gettext_noop("Событие перенесено или изменено: %(record)s"), new, by)
    touches.follow(event)  # the old series: a touch again only if a meeting of it is still to come
    touches.changed(new, by, occurrence if not event.all_day else occurrence.date(),
                    new.start if not new.all_day else new.start_date)
    reminders.schedule(event)
    reminders.schedule(new)
    return new


@transaction.atomic
def event_move(event: Event, *, start: dt.datetime | dt.date, by: User | None,
               occurrence: dt.datetime | None = None, version: int | None = None) -> Event:
    """Drag and drop: the event (or, for a repeating one, the `occurrence`) starts at `start` and keeps
    its duration. An all-day event moves by dates."""
    if event.all_day:
        if not isinstance(start, dt.date) or isinstance(start, dt.datetime):
            raise ValidationError(_("Событие на весь день переносится на дату."))
    elif not isinstance(start, dt.datetime) or timezone.is_naive(start):
        raise ValidationError(_("Время события должно быть указано с часовым поясом."))
    data = {"start_date": start, "end_date": start + event.duration} if event.all_day else {
        "start": start, "end": start + event.duration}
    if event.is_recurring:
        if occurrence is None:
            raise ValidationError(_("Укажите, какое повторение перенести."))
        return event_update(event, data=data, by=by, scope=THIS, occurrence=occurrence, version=version)
    return event_update(event, data=data, by=by, version=version)


@transaction.atomic
def event_cancel(event: Event, *, by: User | None, occurrence: dt.datetime | None = None,
                 version: int | None = None) -> Event:
    """Cancel the event, or one `occurrence` of a repeating one. The event stays (feeds tell
    subscribed calendars it was cancelled); participants are told."""
    _may_change(event, by)
    locked = _lock(event, version)
    if occurrence is not None and locked.is_recurring:
        if not recurrence.is_occurrence(locked, occurrence):
            raise ValidationError(_("Такого повторения у события нет."))
        EventException.objects.update_or_create(event=locked, original_start=occurrence,
                                                defaults={"is_cancelled": True, "new_start": None, "new_end": None})
        msgid = gettext_noop("Одно из повторений события отменено: %(record)s")
    else:
        if locked.is_cancelled:
            raise EventError(_("Событие уже отменено."))
        locked.is_cancelled = True
        msgid = gettext_noop("Событие отменено: %(record)s")
    locked.version += 1
    locked.save()
    _tell(_audience(locked, by), N.EVENT_CANCELLED, msgid, locked, by)
    touches.cancelled(locked, by, occurrence if not locked.is_cancelled else None)
    # The new version voids the queued reminders: the remaining occurrences get theirs again.
    reminders.schedule(locked)
    return locked


@transaction.atomic
def participant_answer(event: Event, *, user: User, answer: str) -> Participant:
    """The participant's answer to the invitation; the organizer learns of a decline."""
    if answer not in (Answer.ACCEPTED, Answer.DECLINED):
        raise ValidationError(_("Ответ на приглашение указан неверно."))
    participant = Participant.objects.select_for_update().filter(event=event, user=user).first()
    if participant is None:
        raise PermissionDenied(_("Вы не приглашены на это событие."))
    if user.pk == event.organizer_id and answer == Answer.DECLINED:
        raise EventError(_("Организатор не может отказаться от своего события: отмените его."))
    if participant.answer != answer:
        participant.answer = answer
        participant.save(update_fields=["answer"])
        if answer == Answer.DECLINED:
            notifications.notify(event.organizer, N.EVENT_CHANGED,
                                 timeline.message(gettext_noop("%(actor)s не примет участия в событии: %(record)s"),
                                                  actor=str(user), record=event.title), record=event, actor=user)
            touches.declined(event, user)
    return participant


# --- the iCalendar feed's secret address ---

@transaction.atomic
def calendar_token_create(user: User) -> CalendarToken:
    """A new secret address for the user's feed; the old ones stop working."""
    calendar_token_revoke(user)
    return CalendarToken.objects.create(user=user, token=secrets.token_urlsafe(32))


def calendar_token_revoke(user: User) -> int:
    return CalendarToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())
