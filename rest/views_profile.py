"""«Вебхуки» — the user's own incoming webhooks (the profile links here): the list with the last
use and «Отозвать», and «Новый вебхук». The code of a new one is shown once: it is kept in the
session for the one page after the redirect, never stored (only its hash is)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from . import selectors, services
from .forms import WebhookForm

SHOWN_ONCE = "rest_new_webhook"


def webhooks(request):
    form = WebhookForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            webhook, code = services.webhook_create(request.user, name=form.cleaned_data["name"],
                                                    scopes=form.cleaned_data["scopes"])
            request.session[SHOWN_ONCE] = {"id": webhook.pk, "path": services.base_path(request.user.pk, code)}
            return redirect("rest:webhooks")
    new = request.session.pop(SHOWN_ONCE, None)
    rows = list(selectors.webhooks_of(request.user))
    return render(request, "rest/webhooks.html", {
        "form": form, "webhooks": rows,
        "new": new and {**new, "url": request.build_absolute_uri(new["path"])},
    }, status=400 if request.method == "POST" else 200)


@require_POST
def webhook_revoke(request, pk: int):
    webhook = selectors.own_webhook(request.user, pk)
    if webhook is None:
        raise Http404
    if services.webhook_revoke(webhook):
        messages.success(request, _("Вебхук «%(name)s» отозван: его адрес больше не работает.") % {"name": webhook})
    return redirect("rest:webhooks")
