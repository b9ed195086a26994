"""The .ics of an invitation's e-mail (registered into notifications when the app is ready): a mail
program shows «Принять / Отклонить» and puts the meeting into its calendar; the letters of a
change carry the new version (the same UID, a higher SEQUENCE) so that copy moves with it, and
those of a cancellation remove it."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType

from notifications.models import Kind as N
from notifications.services import on_email

from . import ical
from .models import Event

METHODS = {N.EVENT_INVITED: "REQUEST", N.EVENT_CHANGED: "REQUEST", N.EVENT_CANCELLED: "CANCEL"}


@on_email
def invitation_ics(notification) -> list[tuple[str, bytes, str]]:
    method = METHODS.get(notification.kind)
    if method is None or notification.content_type_id != ContentType.objects.get_for_model(Event).pk:
        return []
    event = (Event.objects.select_related("organizer").prefetch_related("exceptions", "reminders", "participants__user")
             .filter(pk=notification.object_id).first())
    # The organizer's own letters (a participant declined) need no copy of his event.
    if event is None or event.organizer_id == notification.recipient_id:
        return []
    return [("invite.ics", ical.event_to_ical(event, method=method), f"text/calendar; method={method}")]
