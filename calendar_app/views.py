"""The calendar's iCalendar exports (the calendar pages come next). Thin: the selectors decide
who reads what, calendar_app.ical writes the file."""

from __future__ import annotations

import hmac

from django.contrib.auth.decorators import login_not_required, login_required
from django.http import Http404, HttpResponse
from django.views.decorators.http import require_GET

from . import ical, selectors
from .models import CalendarToken

ICS = "text/calendar; charset=utf-8"


@login_not_required
@require_GET
def feed(request, token: str):
    """A user's feed at a secret address: no login (a calendar application subscribes to it), the
    token is the key. An unknown or revoked token is 404, as for a missing page."""
    found = CalendarToken.objects.select_related("user").filter(token=token[:64], revoked_at__isnull=True).first()
    # The lookup is by an index; the comparison that decides is constant-time all the same.
    if found is None or not hmac.compare_digest(found.token, token) or not found.user.is_active:
        raise Http404
    response = HttpResponse(ical.feed(found.user), content_type=ICS)
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_GET
def event_ics(request, pk: int):
    event = selectors.event_for(request.user, pk)
    response = HttpResponse(ical.event_to_ical(event), content_type=ICS)
    response["Content-Disposition"] = f'attachment; filename="event-{event.pk}.ics"'
    return response
