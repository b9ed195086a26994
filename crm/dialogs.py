"""The move dialogs' answers, shared by the leads and deals cards and boards.

The contract with the pages (static/js/board.js, crm.js): a dialog is rendered into the shared
modal (#crm-modal-content) for htmx and as a page of its own without JavaScript; a done move
answers HX-Trigger with `crm:close-modal` and the app's move event (`lead-moved`, `deal-moved`)
carrying the record's id, the column it left and entered and the message to announce."""

from __future__ import annotations

import json

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render

from .redirects import safe_next


def dialog(request, template: str, context: dict, *, record, stylesheets: tuple[str, ...] = (), status: int = 200):
    """Render a dialog: into the page's modal for htmx, as a page of its own (headed by `record`)
    without JavaScript."""
    if request.htmx:
        response = render(request, template, context, status=status)
        response["HX-Retarget"] = "#crm-modal-content"
        response["HX-Reswap"] = "innerHTML"
        return response
    page = {**context, "dialog_template": template, "dialog_record": record, "dialog_stylesheets": stylesheets}
    return render(request, "crm/dialog_page.html", page, status=status)


def refused(request, record, message: str, *, title: str, context: dict | None = None,
            stylesheets: tuple[str, ...] = ()):
    """Why a move was not done: a dialog for htmx, a message on the record's card otherwise."""
    if request.htmx:
        return dialog(request, "crm/_refused.html", {**(context or {}), "message": message, "refused_title": title},
                      record=record, stylesheets=stylesheets)
    messages.error(request, message)
    return redirect(record.get_absolute_url())


def moved(request, record, *, event: str, source, to, message: str, extra: dict | None = None):
    """A done move: the event for the page that asked (htmx), or back to `next` (a local URL
    only) or the record's card."""
    if request.htmx:
        response = HttpResponse(status=200)
        response["HX-Reswap"] = "none"
        response["HX-Trigger"] = json.dumps({
            "crm:close-modal": None,
            event: {"id": record.pk, "from": source, "to": to, "message": message, **(extra or {})},
        })
        return response
    messages.success(request, message)
    return safe_next(request, record.get_absolute_url())
