"""The timeline of any CRM record (lead, deal, company, contact): one partial and two endpoints,
so every card has the same comments, pinned comment and history. Access goes through the gate
with the record's own model."""

from __future__ import annotations

from django.apps import apps
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
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
    files = timeline.comment_files()
    found = files.of(request.user, record, entries) if files else {}
    for entry in entries:
        entry.shown = timeline.render(entry)  # the sentences in the reader's language
        entry.files = found.get(entry.pk, [])
    return {
        "record": record,
        "timeline_kind": kind_of(record),
        "entries": entries,
        "pinned": next((e for e in entries if e.is_pinned), None),
        "can_change": access.can(request.user, Action.CHANGE, record),
        "comment_form": comment_form or CommentForm(),
        "comment_files": files,
    }


def _back(request, record):
    if request.htmx:
        return None
    return redirect(record.get_absolute_url())


@csrf_exempt
@require_POST
def comment_add(request, kind: str, pk: int):
    """A comment, with files when the disk registered them (timeline.comment_files): its handler
    reads the body first — files streamed to temporary files, cut off at the size limit — so the
    CSRF check comes after it (the disk's upload views do the same), and the right to see the
    record is checked before a byte of the body is read. A refusal keeps the typed text in the form."""
    record = _record(request, kind, pk)
    handler = timeline.comment_files()
    files, problem = handler.read(request) if handler else ([], "")
    return csrf_protect(_comment_add)(request, record, handler, files, problem)


def _comment_add(request, record, handler, files: list, problem: str):
    # Files refused before the form (too large) still make an empty text no second complaint.
    form = CommentForm(request.POST, with_files=bool(files or problem))
    added = False
    if problem:
        form.add_error(None, problem)
    if form.is_valid():
        pin = form.cleaned_data["pin"] and access.can(request.user, Action.CHANGE, record)
        text = form.cleaned_data["text"]
        try:
            if files:
                handler.add(record, request.user, text, files, pin)
            else:
                timeline.add_comment(record, request.user, text, pin_it=pin)
        except ValidationError as exc:
            form.add_error(None, " ".join(exc.messages))
        else:
            added, form = True, CommentForm()
    if not added and not request.htmx:
        messages.error(request, " ".join(e for errs in form.errors.values() for e in errs))
    response = _back(request, record) or render(request, "crm/_timeline.html", timeline_context(request, record, form))
    if added and files and request.htmx:
        response["HX-Trigger"] = "crm:commented"  # the card's files panel lists the comment's files too
    return response


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
