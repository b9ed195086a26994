"""The attachments panel's views (disk/cards.py renders the panel on the cards).

- `attachments` (GET): the panel's list, for htmx's refresh after disk.js uploaded.
- `attach_upload` (POST, disk.js): one file streamed into the record's CRM folder and attached;
  201 with the file's name, or 4xx with {"error": "<Russian message>"} (disk.js shows it beside
  the file). The body is read through `uploads.parse` (spooled to a temporary file, cut off at the
  size limit as it arrives) — so the CSRF check comes after the handlers are set (Django's
  pattern: csrf_exempt outside, csrf_protect inside), and the right to change the record is
  checked before a byte of the body is read.
- `detach`, `link_create`, `link_revoke` (POST): «Открепить», a file's public link created and
  revoked; htmx gets the list back, a plain form goes back to the card.

The record comes through the access gate (404 for one the user may not see, 403 for one he may
not change), named by its model's label and pk as the touches' dialogs do (`deals.deal/12`)."""

from __future__ import annotations

from django.apps import apps
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_POST

from accounts import access
from accounts.models import Action

from . import selectors, services, uploads
from .cards import panel_context
from .services import ATTACHABLE

NO_RIGHT = gettext_lazy("Прикреплять и откреплять файлы может тот, кто вправе изменять запись.")


def _record(request, kind: str, pk: int, action: str = Action.VIEW) -> models.Model:
    if kind not in ATTACHABLE:
        raise Http404
    if kind == "calendar_app.event":
        # A private event is read in full only by its participants (its card is a 404 for the others).
        from calendar_app.selectors import event_for

        record = event_for(request.user, pk)
    else:
        model = apps.get_model(kind)
        record = access.get_or_404(request.user, model._default_manager.all(), Action.VIEW, pk=pk)
    if action != Action.VIEW and not access.can(request.user, action, record):
        raise PermissionDenied(NO_RIGHT)
    return record


def _list(request, record: models.Model, problem: str = "", status: int = 200) -> HttpResponse:
    context = {"p": panel_context(request.user, record), "attach_problem": problem}
    return render(request, "disk/_attachments_list.html", context, status=status)


def _text(exc: Exception) -> str:
    return " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)


def _done(request, record: models.Model, problem: str = "", notice: str = "") -> HttpResponse:
    """htmx: the refreshed list (with the refusal in it); a plain form: back to the card."""
    if request.htmx:
        return _list(request, record, problem)  # htmx swaps only a 2xx: the refusal is shown in the list
    if problem:
        messages.error(request, problem)
    elif notice:
        messages.success(request, notice)
    return redirect(record.get_absolute_url())


@require_GET
def attachments(request, kind: str, pk: int):
    return _list(request, _record(request, kind, pk))


@csrf_exempt
@require_POST
def attach_upload(request, kind: str, pk: int):
    try:
        record = _record(request, kind, pk, Action.CHANGE)
    except PermissionDenied as exc:
        return JsonResponse({"error": str(exc) or str(NO_RIGHT)}, status=403)
    try:
        uploads.parse(request)
    except Exception:  # the client broke the body off: nobody is left to read an answer
        return JsonResponse({"error": _("Загрузка прервалась.")}, status=400)
    return csrf_protect(_attach_upload)(request, record)


def _attach_upload(request, record: models.Model):
    uploaded = request.FILES.get("file")
    if getattr(request, "disk_upload_too_large", False):
        # The same words as the service's refusal (services._limits).
        message = _("Файл больше %(size)s: такой загрузить нельзя.") % {"size": filesizeformat(settings.DISK_MAX_FILE_SIZE)}
        return JsonResponse({"error": message}, status=413)
    if uploaded is None:
        return JsonResponse({"error": _("Выберите файл.")}, status=400)
    try:
        attachment = services.attach_upload(record, uploaded, uploaded.name, request.user)
    except ValidationError as exc:
        return JsonResponse({"error": _text(exc)}, status=400)
    except PermissionDenied as exc:
        return JsonResponse({"error": str(exc) or str(NO_RIGHT)}, status=403)
    return JsonResponse({"name": attachment.file.name, "size": attachment.file.size}, status=201)


@require_POST
def detach(request, kind: str, pk: int, attachment: int):
    record = _record(request, kind, pk, Action.CHANGE)
    found = selectors.record_attachment(record, attachment)
    name = found.file.name
    try:
        services.detach(found, request.user)
    except (ValidationError, PermissionDenied) as exc:
        return _done(request, record, _text(exc))
    return _done(request, record, notice=_("Файл «%(name)s» откреплён.") % {"name": name})


@require_POST
def link_create(request, kind: str, pk: int, attachment: int):
    record = _record(request, kind, pk, Action.CHANGE)
    found = selectors.record_attachment(record, attachment)
    try:
        services.public_link_create(found.file, request.user)
    except (ValidationError, PermissionDenied) as exc:
        return _done(request, record, _text(exc))
    return _done(request, record, notice=_("Публичная ссылка на «%(name)s» создана.") % {"name": found.file.name})


@require_POST
def link_revoke(request, kind: str, pk: int, attachment: int, link: int):
    record = _record(request, kind, pk, Action.CHANGE)
    found = selectors.record_attachment(record, attachment)
    public = selectors.file_link(found.file, link)
    try:
        services.public_link_revoke(public, request.user)
    except (ValidationError, PermissionDenied) as exc:
        return _done(request, record, _text(exc))
    return _done(request, record, notice=_("Ссылка на «%(name)s» отозвана.") % {"name": found.file.name})
