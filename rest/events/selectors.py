"""The only readers of handlers and their log: a supervisor's (services.can_manage), nobody else's."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Max, Q, QuerySet
from django.shortcuts import get_object_or_404

from .models import Delivery, Handler
from .services import can_manage

LOG_LENGTH = 50


def _check(user) -> None:
    if not can_manage(user):
        raise PermissionDenied


def handlers(user) -> QuerySet[Handler]:
    """With their log's counts and the last event's moment, in one query."""
    _check(user)
    state = Delivery.State
    return Handler.objects.annotate(
        delivered=Count("deliveries", filter=Q(deliveries__state=state.DELIVERED)),
        failed=Count("deliveries", filter=Q(deliveries__state=state.FAILED)),
        pending=Count("deliveries", filter=Q(deliveries__state=state.PENDING)),
        last_event_at=Max("deliveries__created_at"),
    ).order_by("name", "pk")


def handler(user, pk: int) -> Handler:
    _check(user)
    return get_object_or_404(Handler, pk=pk)


def log(handler: Handler, limit: int = LOG_LENGTH) -> list[Delivery]:
    """The handler's latest deliveries, newest first."""
    return list(Delivery.objects.filter(handler=handler).order_by("-pk")[:limit])
