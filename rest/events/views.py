"""«Исходящие события»: a supervisor's page of handlers, each with its form and delivery log.
A handler's application token is shown once, on the page its creation (or a new token) leads to."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from . import selectors, services
from .forms import HandlerForm
from .models import ACTIONS, ENTITIES

TOKEN_KEY = "rest_events_token"


def _add_errors(form: HandlerForm, error: ValidationError) -> None:
    for field, texts in error.message_dict.items():
        form.add_error(field if field in form.fields else None, texts)


def _show_token_once(request, handler) -> None:
    request.session[TOKEN_KEY] = {"pk": handler.pk, "token": handler.application_token}


@require_http_methods(["GET", "POST"])
def handler_list(request):
    handlers = list(selectors.handlers(request.user))
    form = HandlerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            handler = services.handler_create(by=request.user, **form.cleaned_data)
        except ValidationError as error:
            _add_errors(form, error)
        else:
            _show_token_once(request, handler)
            messages.success(request, _("Обработчик «%(name)s» добавлен.") % {"name": handler.name})
            return redirect("rest_events:detail", pk=handler.pk)
    return render(request, "rest_events/list.html", {
        "handlers": handlers, "form": form, "groups": _groups(),
    }, status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
def handler_detail(request, pk: int):
    handler = selectors.handler(request.user, pk)
    initial = {"name": handler.name, "url": handler.url, "events": handler.events, "active": handler.active}
    form = HandlerForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            handler = services.handler_update(handler, data=form.cleaned_data, by=request.user)
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, _("Обработчик сохранён."))
            return redirect("rest_events:detail", pk=handler.pk)
    shown = request.session.pop(TOKEN_KEY, None)
    token = shown["token"] if shown and shown.get("pk") == handler.pk else None
    return render(request, "rest_events/detail.html", {
        "handler": handler, "form": form, "token": token, "log": selectors.log(handler),
        "groups": _groups(),
    }, status=400 if form.errors else 200)


@require_POST
def handler_token(request, pk: int):
    handler = services.handler_new_token(selectors.handler(request.user, pk), by=request.user)
    _show_token_once(request, handler)
    messages.success(request, _("Выпущен новый токен: старый больше не отправляется."))
    return redirect("rest_events:detail", pk=handler.pk)


@require_POST
def handler_delete(request, pk: int):
    handler = selectors.handler(request.user, pk)
    services.handler_delete(handler, by=request.user)
    messages.success(request, _("Обработчик «%(name)s» удалён.") % {"name": handler.name})
    return redirect("rest_events:list")


def _groups():
    """The events' checkboxes grouped by kind of record (one row per kind: add, update, delete)."""
    return [(label, [(prefix + suffix, action) for suffix, action in ACTIONS.values()]) for prefix, label in ENTITIES.values()]
