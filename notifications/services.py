"""The only writers of notifications. Producers (lead, deal and task services, comments, the
deadline reminders) call `notify` or one of the helpers below; e-mail goes out through a background task
after the commit, so a rolled-back change sends nothing. The after-commit hooks are `robust`: the
change is saved already, and a failing notification must not turn it into an error page (it is
logged instead)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.db.models import Q
from django.urls import NoReverseMatch
from django.utils import timezone
from django.utils.translation import gettext_noop

from accounts import access
from accounts.models import Action, User
from crm import timeline

from .models import OFFERED, Kind, MutedEmail, Notification

# «@Фамилия» in a comment; a hyphenated name («Римская-Корсакова») counts as one.
MENTION = re.compile(r"(?<![\w@])@([^\W\d_]+(?:-[^\W\d_]+)*)")


def notify(recipient: User | None, kind: str, message: dict, record: models.Model | None = None,
           actor: User | None = None, key: str = "", url: str = "") -> Notification | None:
    """Tell `recipient` (never the actor himself: nobody needs news of his own doing). With a
    `key`, a second call for the same recipient and key returns the first notification."""
    if recipient is None or not recipient.is_active or (actor is not None and actor.pk == recipient.pk):
        return None
    fields = {"kind": kind, "actor": actor, "message": message, "url": url}
    if record is not None:
        fields.update(content_type=ContentType.objects.get_for_model(record), object_id=record.pk, url=_url_of(record))
    if key:
        notification, created = Notification.objects.get_or_create(recipient=recipient, key=key, defaults=fields)
        if not created:
            return notification
    else:
        notification = Notification.objects.create(recipient=recipient, **fields)
    if recipient.email and wants_email(recipient, kind):
        from .tasks import send_email

        transaction.on_commit(lambda: send_email.enqueue(notification.pk), robust=True)
    return notification


def _url_of(record: models.Model) -> str:
    """The record's page; a kind of record without one (not routed in this installation) is still
    told about, its bell item opening the list instead."""
    try:
        return record.get_absolute_url() if hasattr(record, "get_absolute_url") else ""
    except NoReverseMatch:
        return ""


def record_deleted(content_type: ContentType, pk: int) -> None:
    """The record a notification is about was deleted (crm.deletion): the sentence stays — it
    happened — but no longer links to a page that would answer 404."""
    Notification.objects.filter(content_type=content_type, object_id=pk).update(content_type=None, object_id=None,
                                                                                url="")


# What other apps attach to a notification's e-mail (the calendar: an invitation's .ics), so this
# app names none of them: hook(notification) → [(filename, content, mimetype)…].
_email_hooks: list = []


def on_email(hook):
    if hook not in _email_hooks:
        _email_hooks.append(hook)
    return hook


def email_attachments(notification: Notification) -> list[tuple[str, bytes | str, str]]:
    return [item for hook in _email_hooks for item in (hook(notification) or ())]


def wants_email(user: User, kind: str) -> bool:
    return not MutedEmail.objects.filter(user=user, kind=kind).exists()


@transaction.atomic
def set_email_kinds(user: User, kinds: Iterable[str]) -> None:
    """The kinds `user` wants by e-mail; the others are muted."""
    wanted = set(kinds)
    MutedEmail.objects.filter(user=user).delete()
    MutedEmail.objects.bulk_create([MutedEmail(user=user, kind=k) for k in OFFERED if k not in wanted])


def mark_read(user: User, ids: Iterable[int] | None = None) -> int:
    """Mark `user`'s unread notifications read: those in `ids`, or all of them. Someone else's
    ids are ignored. Returns how many changed."""
    unread = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=list(ids))
    return unread.update(read_at=timezone.now())


# --- Producers ---

def assigned(record: models.Model, by: User | None) -> None:
    """The record's responsible was just set (a new record, an edit, a bulk assign): tell him,
    after the commit, so a refused change tells no one."""
    responsible_id = record.responsible_id
    if responsible_id is None or (by is not None and by.pk == responsible_id):
        return

    phrases = _phrases(record, "assigned", (gettext_noop("%(actor)s назначил(а) вас ответственным: %(record)s"),
                                            gettext_noop("Вы назначены ответственным: %(record)s")))

    def send():
        recipient = User.objects.filter(pk=responsible_id).first()
        notify(recipient, Kind.ASSIGNED, _about(record, by, *phrases), record=record, actor=by)

    transaction.on_commit(send, robust=True)


def assigned_many(records: list[models.Model], by: User | None, url: str) -> None:
    """Several records handed to one person at once (a bulk assign): one notification that counts
    them and opens `url` (his list), not one bell item and one letter per record."""
    if len(records) == 1:
        assigned(records[0], by)
        return
    responsible_id = records[0].responsible_id if records else None
    if responsible_id is None or (by is not None and by.pk == responsible_id):
        return
    message = timeline.message(gettext_noop("%(actor)s назначил(а) вас ответственным — записей: %(count)s"),
                               actor=str(by or ""), count=str(len(records)))

    def send():
        notify(User.objects.filter(pk=responsible_id).first(), Kind.ASSIGNED, message, actor=by, url=url)

    transaction.on_commit(send, robust=True)


def commented(record: models.Model, by: User | None, text: str) -> None:
    """A comment was added: the users it mentions («@Фамилия») who may see the record get a
    mention; those the record names (`record.notify_on_comment()`: a task's responsible, creator
    and co-executors; else the record's responsible), if not mentioned, get «a comment on my
    record». The author hears of neither."""
    names = {name.lower() for name in MENTION.findall(text)}
    phrases = _phrases(record, "comment", (gettext_noop("%(actor)s прокомментировал(а) вашу запись: %(record)s"),
                                           gettext_noop("Новый комментарий к вашей записи: %(record)s")))

    def send():
        mentioned = set()
        if names:
            query = Q()
            for name in names:
                query |= Q(last_name__iexact=name)
            for user in User.objects.filter(query, is_active=True):
                if access.can(user, Action.VIEW, record):
                    mentioned.add(user.pk)
                    notify(user, Kind.MENTION, _about(record, by, gettext_noop("%(actor)s упомянул(а) вас: %(record)s"),
                                                      gettext_noop("Вас упомянули: %(record)s")),
                           record=record, actor=by)
        if hasattr(record, "notify_on_comment"):
            concerned = set(record.notify_on_comment())
        else:
            concerned = {getattr(record, "responsible_id", None)} - {None}
        for user in User.objects.filter(pk__in=concerned - mentioned).order_by("pk"):
            notify(user, Kind.COMMENT, _about(record, by, *phrases), record=record, actor=by)

    transaction.on_commit(send, robust=True)


def _phrases(record: models.Model, event: str, default: tuple[str, str]) -> tuple[str, str]:
    """How a kind of record wants an event told (a task: «поставил(а) вам задачу»), through its
    `notification_phrases()`, so this app names none of the apps whose records it tells about."""
    own = getattr(record, "notification_phrases", None)
    return own().get(event, default) if own else default


def _about(record: models.Model, by: User | None, with_actor: str, without_actor: str) -> dict:
    """The message; names are data (kept as text), sentences are msgids."""
    if by is None:
        return timeline.message(without_actor, record=str(record))
    return timeline.message(with_actor, actor=str(by), record=str(record))
