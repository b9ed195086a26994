"""The timeline of any CRM record (lead, deal, company, contact): one partial and two endpoints,
so every card has the same comments, pinned comment and history. Access goes through the gate
with the record's own model."""

from __future__ import annotations

from django.apps import apps
from django.contrib import messages
from django.db import IntegrityError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import access
from accounts.models import Action

from . import timeline
from .forms import CommentForm, PinForm
from .models import TimelineEntry


def kind_of(record) -> str:
    return record._meta.label_lower  # «leads.lead», «deals.deal», …


def _record(request, kind: str, pk: int, action: str = Action.VIEW):
    try:
        model = apps.get_model(kind)
    except (LookupError, ValueError) as exc:
        raise Http404 from exc
    if not hasattr(model, "access_entity"):
        raise Http404
    return access.get_or_404(request.user, model.objects.all(), action, pk=pk)


def timeline_context(request, record, comment_form: CommentForm | None = None, limit: int = 200) -> dict:
    entries = list(timeline.entries(record)[:limit])
    for entry in entries:
        entry.shown = timeline.render(entry)  # the sentences in the reader's language
    return {
        "record": record,
        "timeline_kind": kind_of(record),
        "entries": entries,
        "pinned": next((e for e in entries if e.is_pinned), None),
        "can_change": access.can(request.user, Action.CHANGE, record),
        "comment_form": comment_form or CommentForm(),
    }


def _back(request, record):
    if request.htmx:
        return None
    return redirect(record.get_absolute_url())


@require_POST
def comment_add(request, kind: str, pk: int):
    record = _record(request, kind, pk)
    form = CommentForm(request.POST)
    if form.is_valid():
        pin = form.cleaned_data["pin"] and access.can(request.user, Action.CHANGE, record)
        timeline.add_comment(record, request.user, form.cleaned_data["text"], pin_it=pin)
        form = CommentForm()
    elif not request.htmx:
        messages.error(request, " ".join(e for errs in form.errors.values() for e in errs))
    return _back(request, record) or render(request, "crm/_timeline.html", timeline_context(request, record, form))


@require_POST
def comment_pin(request, kind: str, pk: int, entry: int):
    """Pin a comment (the previously pinned one is unpinned) or unpin it."""
    record = _record(request, kind, pk, Action.CHANGE)
    item = get_object_or_404(timeline.entries(record), pk=entry, kind=TimelineEntry.Kind.COMMENT)
    form = PinForm(request.POST)
    wanted = form.cleaned_data["pin"] if form.is_valid() else None
    error = ""
    try:
        timeline.set_pinned(item, wanted)
    except IntegrityError:
        # The record's lock serialises pins; should another writer slip past it, say so, not 500.
        error = _("Закреплённый комментарий только что изменили: посмотрите ленту и повторите.")
        if not request.htmx:
            messages.error(request, error)
    return _back(request, record) or render(request, "crm/_timeline.html",
                                            {**timeline_context(request, record), "timeline_error": error})
