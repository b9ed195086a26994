"""The only readers of notifications: a user reads his own, never anyone else's (a notification
is not a record of the access matrix: its recipient is its only reader)."""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from accounts.models import User

from .models import OFFERED, MutedEmail, Notification


def own(user: User) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=user)


def unread_count(user: User) -> int:
    return own(user).filter(read_at__isnull=True).count()


def latest(user: User) -> QuerySet[Notification]:
    """Newest first; the actor is not joined: the sentence keeps his name."""
    return own(user).order_by("-created_at", "-pk")


def get_own_or_404(user: User, pk: int) -> Notification:
    return get_object_or_404(own(user), pk=pk)


def email_kinds(user: User) -> list[tuple[str, str, bool]]:
    """(kind, label, wanted by e-mail) for the profile's form."""
    muted = set(MutedEmail.objects.filter(user=user).values_list("kind", flat=True))
    return [(kind.value, kind.label, kind.value not in muted) for kind in OFFERED]
