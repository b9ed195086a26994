"""«Экспорт» on the lists: `/exchange/export/<list>/?<the list's query>&format=csv|xlsx` gives the
records of that list as the user sees them with those filters (exchange.exports), as a file
«Лиды 2026-11-29.csv». Both formats are streamed: 100 000 rows start downloading at once, a
worker's timeout counts between two chunks, not for the whole file, and nothing is held in memory
or in a temporary file.

XLSX too (`writers.xlsx_chunks`: the zip written as the rows come) rather than handed to the
background worker: the user gets the file from the same click, as with CSV, and a job would need a
model, a page and a notification for what a stream does alone."""

from __future__ import annotations

from collections.abc import Iterator

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from . import exports, writers

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_TYPE = "text/csv; charset=utf-8"
LIST_URLS = {
    "lead": "leads:list", "company": "clients:company_list", "contact": "clients:contact_list",
    "deal": "deals:list", "task": "tasks:list",
}


class FormatForm(forms.Form):
    format = forms.ChoiceField(
        choices=[("csv", "CSV"), ("xlsx", "Excel (XLSX)")], required=False,
        error_messages={"invalid_choice": gettext_lazy("Неизвестный формат «%(value)s»: выберите CSV или Excel.")},
    )


def list_url(entity: str, query) -> str:
    """The list page with the same filters (where a refused export sends the user back)."""
    params = exports.filter_params(query)
    return reverse(LIST_URLS[entity]) + (f"?{params.urlencode()}" if params else "")


@require_GET
def export(request: HttpRequest, entity: str) -> HttpResponse:
    if entity not in exports.ENTITIES:
        raise Http404
    if not exports.may_export(request.user, entity):
        raise PermissionDenied(_("Нет прав на экспорт этого списка."))
    form = FormatForm(request.GET)
    try:
        if not form.is_valid():
            raise exports.ExportError(form.errors["format"])
        export = exports.prepare(entity, request.user, request.GET)
    except exports.ExportError as exc:
        # Back to the list with the same filters: its panel marks the refused value.
        messages.error(request, _("Файл не выгружен: %(reasons)s") % {"reasons": " ".join(exc.messages)})
        return redirect(list_url(entity, request.GET))
    return respond(export, form.cleaned_data["format"] or "csv")


def respond(export: exports.Export, fmt: str) -> HttpResponse:
    """The export as a download (the list's page and the admin's action)."""
    name = exports.file_name(export.entity, fmt)
    if fmt == "csv":
        chunks = writers.csv_chunks(export.headers, export.rows())
        content_type = CSV_TYPE
    else:
        chunks = writers.xlsx_chunks(export.headers, export.rows(), title=str(exports.TITLES[export.entity]),
                                     records=export.count())
        content_type = XLSX_TYPE
    response = StreamingHttpResponse(_as_in_request(chunks), content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, name)
    return response


def _as_in_request(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """A streamed body is produced after the view and its middleware have returned: the user's
    time zone and language (times and labels in the cells) are carried into it."""
    zone, language = timezone.get_current_timezone(), translation.get_language()

    def produce():
        with timezone.override(zone), translation.override(language):
            yield from chunks

    return produce()
