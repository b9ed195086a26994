"""The only ways a task (or a planned touch) changes. The task card, the lists, the deadline board,
«Мой день», the lead and deal cards, the automation rules, the admin and the API call these.

Who may do what follows Bitrix24 (`roles`, `ALLOWED`): the responsible starts, pauses and
completes; the creator edits, moves the deadline, accepts or returns the work; co-executors tick
the checklist; observers read and comment. A supervisor whose level covers the responsible's
department (the access gate's CHANGE) may do what the creator may.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts import access
from accounts.models import Action, User
from crm import hooks, tallies, timeline

from .models import ACTIVE, Binding, ChecklistItem, Kind, Status, Task
from .selectors import next_touches

MAX_CHECKLIST = 100  # items a task may have: a longer list is a project, not a task
MAX_PARTICIPANTS = 50
MAX_BINDINGS = 20  # records a task may be bound to: more is a mailing, not a task

# How the history names a kind inside a sentence («Запланировано: звонок «…»»).
KIND_NOUNS = {Kind.TASK: gettext_noop("задача"), Kind.CALL: gettext_noop("звонок"), Kind.MEETING: gettext_noop("встреча")}


class TaskError(Exception):
    """A refusal with a message for the user (in Russian)."""


class StaleEdit(TaskError):
    def __init__(self):
        super().__init__(_("Задачу уже изменил другой пользователь. Обновите страницу: ваши изменения не сохранены, "
                           "чтобы не затереть чужие."))


# --- roles ---

# Observers have no role here: they only read and comment, which access grants every participant.
RESPONSIBLE, CREATOR, COEXECUTOR, SUPERVISOR = "responsible", "creator", "coexecutor", "supervisor"

# transition → the roles that may do it
ALLOWED: dict[str, set[str]] = {
    "start": {RESPONSIBLE, SUPERVISOR},
    "pause": {RESPONSIBLE, SUPERVISOR},
    "complete": {RESPONSIBLE, CREATOR, SUPERVISOR},
    "defer": {RESPONSIBLE, CREATOR, SUPERVISOR},
    "accept": {CREATOR, SUPERVISOR},
    "send_back": {CREATOR, SUPERVISOR},
    "renew": {RESPONSIBLE, CREATOR, SUPERVISOR},
}
EDIT = {CREATOR, SUPERVISOR}  # title, description, deadline, participants, flags, bindings
CHECKLIST_EDIT = {RESPONSIBLE, CREATOR, SUPERVISOR}
CHECKLIST_TICK = {RESPONSIBLE, COEXECUTOR, CREATOR, SUPERVISOR}

# The button's label (a noun phrase in the history and messages).
TRANSITION_LABELS = {
    "start": gettext_noop("Начать выполнение"),
    "pause": gettext_noop("Приостановить"),
    "complete": gettext_noop("Завершить"),
    "defer": gettext_noop("Отложить"),
    "accept": gettext_noop("Принять работу"),
    "send_back": gettext_noop("Вернуть на доработку"),
    "renew": gettext_noop("Возобновить"),
}


def roles(task: Task, user) -> set[str]:
    """The roles `user` has in `task` (several at once: one may create a task for himself)."""
    if not getattr(user, "is_authenticated", False):
        return set()
    found = set()
    if task.responsible_id == user.pk:
        found.add(RESPONSIBLE)
    if task.creator_id == user.pk:
        found.add(CREATOR)
    if task.pk and Task.coexecutors.through.objects.filter(task_id=task.pk, user_id=user.pk).exists():
        found.add(COEXECUTOR)
    if task.responsible_id != user.pk and access.can(user, Action.CHANGE, task):
        found.add(SUPERVISOR)
    return found


def available_transitions(task: Task, user) -> list[str]:
    """The transitions `user` may do now, in the order the card shows them."""
    mine = roles(task, user)
    return [name for name in ALLOWED if mine & ALLOWED[name] and _fsm_allows(task, name)]


def _fsm_allows(task: Task, name: str) -> bool:
    from django_fsm import can_proceed

    return can_proceed(getattr(task, name))


def can_edit(task: Task, user) -> bool:
    return bool(roles(task, user) & EDIT)


def _require(task: Task, by, allowed: set[str], message: str) -> None:
    if by is not None and not roles(task, by) & allowed:
        raise PermissionDenied(message)


def _lock(task: Task) -> Task:
    try:
        return Task.objects.select_for_update().get(pk=task.pk)
    except Task.DoesNotExist as exc:
        raise TaskError(_("Задача удалена.")) from exc


# --- validation shared by create and update ---

def _check_people(responsible, coexecutors: Iterable, observers: Iterable) -> None:
    people = [responsible, *coexecutors, *observers]
    if responsible is None:
        raise ValidationError({"responsible": _("Укажите ответственного.")})
    inactive = [str(u) for u in people if u is not None and not u.is_active]
    if inactive:
        raise ValidationError(_("Пользователь уволен или отключён: %(names)s.") % {"names": ", ".join(inactive)})
    if len(list(coexecutors)) + len(list(observers)) > MAX_PARTICIPANTS:
        raise ValidationError(_("Соисполнителей и наблюдателей не больше %(n)s.") % {"n": MAX_PARTICIPANTS})


def _check_fields(task: Task) -> None:
    errors = {}
    if not (task.title or "").strip():
        errors["title"] = _("Укажите название задачи.")
    task.title = (task.title or "").strip()
    if task.deadline is not None and timezone.is_naive(task.deadline):
        task.deadline = timezone.make_aware(task.deadline)
    if task.deadline is not None and not 2000 <= task.deadline.year <= 2100:
        # Whoever sets it (the form, the board's drag, a lead's touch date, an import).
        errors["deadline"] = _("Крайний срок указан неверно: год должен быть между 2000 и 2100.")
    if errors:
        raise ValidationError(errors)


def deadline_at(day: date, at: time = time(10, 0)) -> datetime:
    """A deadline on `day` at `at`, in the site's time zone (a touch planned «на 5 декабря»)."""
    return timezone.make_aware(datetime.combine(day, at))


# --- bindings: a task bound to CRM records the user may see ---

# What a task may be bound to (the forms, the card panel and the search read this too).
BINDABLE = ("leads.lead", "deals.deal", "clients.contact", "clients.company")


def _bind(task: Task, records: Iterable[models.Model], by) -> list[models.Model]:
    added = []
    for record in records:
        if record._meta.label_lower not in BINDABLE:
            raise ValidationError(_("Задачу можно привязать только к лиду, сделке, контакту или компании."))
        if by is not None and not access.can(by, Action.VIEW, record):
            raise PermissionDenied(_("Нет доступа к записи, к которой привязывается задача."))
        # A bound touch sets the record's «Дата следующего касания» (sync_touch_dates): where that is
        # the record's own data (the lead's, an editable field), a change of the record, so only for
        # whom may change it — whichever path binds (a card, a form, the API). A deal keeps the date
        # as bookkeeping only (not editable): planning a touch on it needs no more than seeing it.
        touch = getattr(type(record), "touch_date_field", None)
        if by is not None and touch and record._meta.get_field(touch).editable and not access.can(by, Action.CHANGE, record):
            raise PermissionDenied(_("Планировать дела может тот, кто вправе изменять запись."))
        _binding, created = Binding.objects.get_or_create(
            task=task, content_type=ContentType.objects.get_for_model(record), object_id=record.pk)
        if created:
            added.append(record)
    return added


def bound_records(task: Task) -> list[models.Model]:
    """The records `task` is bound to (whatever the reader may see: selectors filter for pages)."""
    records = []
    by_type: dict[int, list[int]] = {}
    for ct_id, object_id in task.bindings.values_list("content_type_id", "object_id"):
        by_type.setdefault(ct_id, []).append(object_id)
    for ct_id, ids in by_type.items():
        model = ContentType.objects.get_for_id(ct_id).model_class()
        if model is not None:
            records.extend(model._base_manager.filter(pk__in=ids))
    return records


def sync_touch_dates(records: Iterable[models.Model]) -> None:
    """A record with a «Дата следующего касания» column (`touch_date_field`, the lead) keeps there
    the date of its earliest active touch: the column is what the requirement rules, the lists
    and imports read, and the touch is what is planned — one thing, not two that can disagree.
    Per kind of record one read of the touches, per date one locked read of the records that
    differ and one write, and one upsert of the counters, however many records a change touches."""
    groups: dict[type[models.Model], list[models.Model]] = {}
    for record in records:
        if getattr(type(record), "touch_date_field", None):
            groups.setdefault(type(record), []).append(record)
    for model, group in groups.items():
        field = model.touch_date_field
        firsts = next_touches(model, [r.pk for r in group])
        days: dict[date | None, list[int]] = {}
        for record in group:
            first = firsts.get(record.pk)
            day = timezone.localtime(first).date() if first else None
            days.setdefault(day, []).append(record.pk)
            setattr(record, field, day)
        tallied = issubclass(model, tallies.Tallied)
        changes: dict[int, tuple] = {}
        with transaction.atomic():
            for day, ids in days.items():
                # Only the rows that differ are locked and written (the objects in memory may be
                # stale), as the records' writers lock them; a date that appears or goes moves
                # its record between crm.tallies' planned and unplanned counters.
                differing = []
                for row in model._base_manager.select_for_update().filter(pk__in=ids).exclude(
                        **{field: day}).order_by("pk"):
                    old = tallies.state(row) if tallied else None
                    setattr(row, field, day)
                    if tallied:
                        changes[row.pk] = (old, tallies.state(row))
                    differing.append(row.pk)
                if differing:
                    model._base_manager.filter(pk__in=differing).update(**{field: day})
            tallies.record_many(changes.values())
        for record in group:
            # What the counters now hold for the row: the caller's next save of this object
            # moves it from there (its other values may be ahead of the row, not behind).
            if record.pk in changes:
                record._tally_loaded = changes[record.pk][1]


def _after_change(task: Task, records: Iterable[models.Model] | None = None, *, reschedule: bool = True) -> None:
    """What follows a change of a task's status, deadline or bindings: the bound records' touch
    dates, and — when the deadline moved or the task became active again (`reschedule`) — the
    deadline reminders (after the commit; a stale one notices and does nothing). A start, a pause
    or a new binding keeps the deadline, so the reminders already queued still hold: queuing
    another pair each time only grew the queue. And the touches' counts per day (touch_counts)."""
    from . import touch_counts

    sync_touch_dates(bound_records(task) if records is None else records)
    touch_counts.refresh([task.pk])
    if reschedule:
        from . import reminders

        reminders.schedule(task)


# --- create / update ---

@transaction.atomic
def task_create(*, data: dict[str, Any], by, coexecutors: Iterable[User] = (), observers: Iterable[User] = (),
                records: Iterable[models.Model] = (), checklist: Iterable[str] = (), announce: bool = True) -> Task:
    """Create a task (or a touch: `data["kind"]` a call or a meeting) bound to `records`.
    `by` None is the system (an automation rule). `announce` False: the caller writes the records'
    history itself (a calendar meeting says when it is), so «Запланировано: …» would be said twice."""
    if by is not None and not access.can_add(by, Task):
        raise PermissionDenied(_("Нет прав на создание задач."))
    coexecutors, observers, records = list(coexecutors), list(observers), list(records)
    if len(records) > MAX_BINDINGS:
        raise ValidationError(_("Не больше %(n)s привязок к записям CRM.") % {"n": MAX_BINDINGS})
    task = Task(**data)
    if task.creator_id is None and by is not None:
        task.creator = by
    _check_people(task.responsible if task.responsible_id else None, coexecutors, observers)
    _check_fields(task)
    items = [t.strip() for t in checklist if t and t.strip()]
    if len(items) > MAX_CHECKLIST:
        raise ValidationError(_("В чек-листе не больше %(n)s пунктов.") % {"n": MAX_CHECKLIST})
    task.save()
    task.coexecutors.set([u for u in coexecutors if u.pk != task.responsible_id])
    task.observers.set(observers)
    _bind(task, records, by)
    ChecklistItem.objects.bulk_create([ChecklistItem(task=task, text=t[:500], sort=i) for i, t in enumerate(items)])
    timeline.log(task, timeline.Kind.SYSTEM, by, timeline.message(gettext_noop("Задача создана")))
    hooks.changed(task, by, "add")  # its history says so as a system line, which is no «created» entry
    for record in records if announce else ():
        timeline.log(record, timeline.Kind.SYSTEM, by,
                     timeline.message(gettext_noop("Запланировано: %(kind)s «%(title)s»"),
                                      kind=_kind_param(task), title=task.title),
                     task=task.pk)
    _after_change(task, records)
    _notify_assigned(task, by)
    return task


def _kind_param(task: Task) -> dict:
    return timeline.message(KIND_NOUNS[task.kind])


@transaction.atomic
def task_update(task: Task, *, data: dict[str, Any], by, version: int | None = None,
                coexecutors: Iterable[User] | None = None, observers: Iterable[User] | None = None) -> Task:
    """Edit a task's fields (the creator or a supervisor). `version` is the one the form was built
    from: an edit made on a stale form is refused (StaleEdit)."""
    locked = _lock(task)
    _require(locked, by, EDIT, _("Изменять задачу может постановщик или руководитель ответственного."))
    if version is not None and version != locked.version:
        raise StaleEdit()
    old_responsible, old_deadline = locked.responsible_id, locked.deadline
    changes = []
    for name, value in data.items():
        old = getattr(locked, name)
        if old != value:
            changes.append(timeline.change(name, old, value))
            setattr(locked, name, value)
    co = list(coexecutors) if coexecutors is not None else list(locked.coexecutors.all())
    obs = list(observers) if observers is not None else list(locked.observers.all())
    _check_people(locked.responsible, co, obs)
    _check_fields(locked)
    locked.version += 1
    locked.save()
    for name, values in (("coexecutors", coexecutors), ("observers", observers)):
        if values is None:
            continue
        manager = getattr(locked, name)
        old, new = set(manager.all()), {u for u in values if not (name == "coexecutors" and u.pk == locked.responsible_id)}
        if old != new:
            manager.set(new)
            changes.append(timeline.change(name, old, new))
    if changes:
        timeline.log(locked, timeline.Kind.CHANGE, by, changes=changes)
    _after_change(locked, reschedule=locked.deadline != old_deadline)
    if locked.responsible_id != old_responsible:
        _notify_assigned(locked, by)
    return locked


@transaction.atomic
def task_set_deadline(task: Task, deadline: datetime | None, *, by) -> Task:
    """Move the deadline (the deadline board's drag, the card's date): the creator or a supervisor."""
    locked = _lock(task)
    _require(locked, by, EDIT, _("Крайний срок меняет постановщик задачи или руководитель ответственного."))
    if deadline is not None and timezone.is_naive(deadline):
        deadline = timezone.make_aware(deadline)
    if locked.deadline == deadline:
        return locked
    change = timeline.change("deadline", locked.deadline, deadline)
    locked.deadline = deadline
    _check_fields(locked)
    timeline.log(locked, timeline.Kind.CHANGE, by, changes=[change])
    locked.version += 1
    locked.save()
    _after_change(locked)
    return locked


@transaction.atomic
def task_transition(task: Task, name: str, *, by, result: str = "") -> Task:
    """Do transition `name` (`ALLOWED`'s keys). Raises PermissionDenied for a role that may not,
    TaskError for a status it cannot leave that way (two users completing at once: the second
    reads the first's result under the row lock and is told the task is completed already)."""
    if name not in ALLOWED:
        raise TaskError(_("Неизвестное действие с задачей."))
    locked = _lock(task)
    label = _(TRANSITION_LABELS[name])
    _require(locked, by, ALLOWED[name], _("«%(action)s» в этой задаче вам недоступно.") % {"action": label})
    if not _fsm_allows(locked, name):
        raise TaskError(_("Нельзя «%(action)s»: задача в статусе «%(status)s».")
                        % {"action": label, "status": Status(locked.status).label})
    source = locked.status
    if name == "complete" and locked.creator_id == locked.responsible_id:
        locked.needs_acceptance = False  # nobody else to accept one's own task
    getattr(locked, name)()
    if result.strip():
        locked.result = result.strip()
    locked.version += 1
    locked.save()
    timeline.log(locked, timeline.Kind.STATUS, by, result.strip(), **{"field": "status", "from": source, "to": locked.status})
    records = bound_records(locked)
    if name == "complete":
        for record in records:
            timeline.log(record, timeline.Kind.SYSTEM, by,
                         timeline.message(gettext_noop("Выполнено: %(kind)s «%(title)s»"),
                                          kind=_kind_param(locked), title=locked.title),
                         task=locked.pk, result=locked.result)
    _after_change(locked, records, reschedule=source not in ACTIVE and locked.status in ACTIVE)
    _notify_transition(locked, name, by)
    return locked


# --- checklist ---

@transaction.atomic
def checklist_add(task: Task, texts: Iterable[str], *, by) -> list[ChecklistItem]:
    locked = _lock(task)
    _require(locked, by, CHECKLIST_EDIT, _("Пункты чек-листа добавляют ответственный и постановщик."))
    items = [t.strip()[:500] for t in texts if t and t.strip()]
    if not items:
        raise ValidationError(_("Напишите текст пункта."))
    count = locked.checklist.count()
    if count + len(items) > MAX_CHECKLIST:
        raise ValidationError(_("В чек-листе не больше %(n)s пунктов.") % {"n": MAX_CHECKLIST})
    return ChecklistItem.objects.bulk_create(
        [ChecklistItem(task=locked, text=t, sort=count + i) for i, t in enumerate(items)])


@transaction.atomic
def checklist_tick(item: ChecklistItem, done: bool, *, by) -> ChecklistItem:
    locked = _lock(item.task)
    _require(locked, by, CHECKLIST_TICK, _("Отмечать пункты могут участники задачи."))
    item = ChecklistItem.objects.select_for_update().get(pk=item.pk, task=locked)
    if item.is_done != done:
        item.is_done = done
        item.done_by = by if done else None
        item.done_at = timezone.now() if done else None
        item.save()
    return item


@transaction.atomic
def checklist_delete(item: ChecklistItem, *, by) -> None:
    locked = _lock(item.task)
    _require(locked, by, CHECKLIST_EDIT, _("Пункты чек-листа удаляют ответственный и постановщик."))
    ChecklistItem.objects.filter(pk=item.pk, task=locked).delete()


# --- bindings after creation ---

@transaction.atomic
def task_bind(task: Task, records: Iterable[models.Model], *, by) -> Task:
    locked = _lock(task)
    _require(locked, by, EDIT, _("Привязки задачи меняет постановщик."))
    records = list(records)
    if locked.bindings.count() + len(records) > MAX_BINDINGS:
        raise ValidationError(_("Не больше %(n)s привязок к записям CRM.") % {"n": MAX_BINDINGS})
    added = _bind(locked, records, by)
    for record in added:
        _log_binding(locked, record, by, gettext_noop("Привязана к задаче: %(kind)s «%(title)s»"),
                     gettext_noop("Задача привязана: %(entity)s «%(record)s»"))
    _after_change(locked, added, reschedule=False)
    return locked


@transaction.atomic
def task_unbind(task: Task, record: models.Model, *, by) -> Task:
    locked = _lock(task)
    _require(locked, by, EDIT, _("Привязки задачи меняет постановщик."))
    removed, _rows = Binding.objects.filter(task=locked, content_type=ContentType.objects.get_for_model(record),
                                            object_id=record.pk).delete()
    if removed:
        _log_binding(locked, record, by, gettext_noop("Отвязана от задачи: %(kind)s «%(title)s»"),
                     gettext_noop("Задача отвязана: %(entity)s «%(record)s»"))
    _after_change(locked, [record], reschedule=False)
    return locked


def _log_binding(task: Task, record: models.Model, by, on_record: str, on_task: str) -> None:
    """A binding made or removed after creation shows in both histories, as creating one does."""
    timeline.log(record, timeline.Kind.SYSTEM, by, timeline.message(on_record, kind=_kind_param(task), title=task.title),
                 task=task.pk)
    timeline.log(task, timeline.Kind.SYSTEM, by, timeline.message(on_task, entity={"model": record._meta.label_lower},
                                                                 record=str(record)))


@transaction.atomic
def task_delete(task: Task, *, by) -> None:
    """Delete through the CRM's one deletion path (crm.deletion: the access gate's DELETE, a
    record of who deleted what); the bound records get a line in their timelines."""
    from crm import deletion

    from . import touch_counts

    locked = _lock(task)
    pk, records = locked.pk, bound_records(locked)
    deletion.delete_record(locked, by=by, related=records)
    sync_touch_dates(records)
    touch_counts.refresh([pk])  # its mark outlived it: its counts are taken back


# --- notifications ---

def _notify_assigned(task: Task, by) -> None:
    from notifications import services as notifications

    # The system acting for the creator (an automation rule, a lead's touch date) tells what he
    # set; one's own plan (the creator is the responsible) needs no notice.
    notifications.assigned(task, by if by is not None else task.creator)


def _notify_transition(task: Task, name: str, by) -> None:
    from notifications import services as notifications
    from notifications.models import Kind as N

    if name == "complete" and task.creator_id and task.creator_id != task.responsible_id:
        user_id, kind = task.creator_id, N.TASK_COMPLETED
        msg = gettext_noop("%(actor)s завершил(а) задачу: %(record)s")
    elif name == "send_back":
        user_id, kind = task.responsible_id, N.TASK_RETURNED
        msg = gettext_noop("%(actor)s вернул(а) задачу на доработку: %(record)s")
    elif name == "accept":
        user_id, kind = task.responsible_id, N.TASK_COMPLETED
        msg = gettext_noop("%(actor)s принял(а) работу по задаче: %(record)s")
    else:
        return
    message = timeline.message(msg, actor=str(by or ""), record=task.title)

    def send():
        notifications.notify(User.objects.filter(pk=user_id).first(), kind, message, record=task, actor=by)

    transaction.on_commit(send, robust=True)
