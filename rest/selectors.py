"""The only readers of webhooks: a user sees and revokes his own; the admin lists all of them."""

from __future__ import annotations

from django.db.models import F, QuerySet

from .models import Webhook


def webhooks_of(user) -> QuerySet[Webhook]:
    """Live ones first (newest first), then the revoked."""
    return Webhook.objects.filter(user=user).order_by(F("revoked_at").asc(nulls_first=True), "-created_at", "-pk")


def own_webhook(user, pk) -> Webhook | None:
    return Webhook.objects.filter(user=user, pk=pk).first()


def colleagues() -> QuerySet:
    """The company's people (user.get): every employee sees the structure, as in Bitrix24."""
    from crm.lists import active_users

    return active_users().select_related("department")


def departments() -> QuerySet:
    from accounts.models import Department

    return Department.objects.all()
