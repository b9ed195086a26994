"""The «Импорт» page: the user's import jobs and «Новый импорт» (upload with options), the job's page
(the columns' mapping with the first rows, «Проверить» — the dry run in the worker —, its summary
and first report lines, «Импортировать», the progress bar that follows the worker by htmx, the
report to download). Only for users who may import some kind of record (accounts.access): 403 for
the others. Thin: parameters through exchange/forms.py, reads through selectors, changes through
services; the work itself is exchange/tasks.py's, in the worker, so closing the page stops nothing.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import selectors, services
from .forms import ListForm, MappingForm, UploadForm
from .models import ImportJob

PER_PAGE = 20
POLL_SECONDS = 1
# No word from the worker for this long: the page says the worker may be stopped.
SILENT = timedelta(minutes=5)
# Where the imported records are listed.
LISTS = {"lead": "leads:list", "deal": "deals:board", "contact": "clients:contact_list",
         "company": "clients:company_list"}


def _importer(request) -> list[str]:
    """The kinds of record the user may import; none → 403."""
    entities = selectors.importable(request.user)
    if not entities:
        raise PermissionDenied(_("Нет прав на импорт."))
    return entities


@require_http_methods(["GET", "POST"])
def import_index(request):
    """The jobs, newest first, and the form of a new import (POST: the upload)."""
    entities = _importer(request)
    query = ListForm(request.GET)
    query.is_valid()  # a bad page or entity is left out, the page still shows
    chosen = query.cleaned_data.get("entity")
    if request.method == "POST":
        form = UploadForm(request.POST, request.FILES, user=request.user)
        if form.is_valid():
            try:
                job = services.job_upload(by=request.user, entity=form.cleaned_data["entity"],
                                          upload=form.cleaned_data["file"], options=form.options())
            except services.JobError as exc:
                form.add_error("file", str(exc))
            else:
                return redirect(job)
    else:
        # Lead databases are what is brought in every week: leads unless a list asked for another kind.
        default = chosen if chosen in entities else ("lead" if "lead" in entities else entities[0])
        form = UploadForm(user=request.user, initial={"entity": default})
    page = Paginator(selectors.jobs(request.user), PER_PAGE).get_page(query.cleaned_data.get("page") or 1)
    return render(request, "exchange/import_index.html", {
        "form": form, "page": page, "page_range": page.paginator.get_elided_page_range(page.number),
        "others": any(job.created_by_id != request.user.pk for job in page),
    }, status=400 if form.errors else 200)


@require_GET
def import_job(request, pk: int):
    _importer(request)
    job = selectors.job_or_404(request.user, pk)
    form = MappingForm(job=job) if job.state == ImportJob.State.UPLOADED and _mine(request, job) else None
    return _job_page(request, job, form)


@require_http_methods(["GET", "POST"])
def import_mapping(request, pk: int):
    """«Изменить сопоставление» (GET) and «Проверить» (POST: the mapping saved, the check queued)."""
    _importer(request)
    job = selectors.job_or_404(request.user, pk)
    if not _mine(request, job):
        raise PermissionDenied(_("Нет прав на этот импорт."))
    if job.state not in (ImportJob.State.UPLOADED, ImportJob.State.CHECKED, ImportJob.State.FAILED):
        messages.error(request, _("Импорт уже выполняется или завершён: сопоставление изменить нельзя."))
        return redirect(job)
    form = MappingForm(request.POST or None, job=job)
    if request.method == "POST" and form.is_valid():
        try:
            services.job_set_mapping(job, mapping=form.mapping(), by=request.user)
            services.job_check(job, by=request.user)
        except services.JobError as exc:
            messages.error(request, str(exc))
        return redirect(job)
    return _job_page(request, job, form, status=400 if form.errors else 200)


@require_POST
def import_start(request, pk: int):
    _importer(request)
    job = selectors.job_or_404(request.user, pk)
    try:
        services.job_start(job, by=request.user)
    except services.JobError as exc:
        messages.error(request, str(exc))
    return redirect(job)


@require_GET
def import_progress(request, pk: int):
    """The bar, polled by htmx while the worker has the job. Once it is done the page reloads
    (the summary and the buttons change). Without htmx: the job's page."""
    _importer(request)
    job = selectors.job_or_404(request.user, pk)
    if not request.htmx:
        return redirect(job)
    if not job.is_active:
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"
        return response
    return render(request, "exchange/_progress.html", {"job": job, "progress": progress(job)})


@require_GET
def import_report(request, pk: int):
    _importer(request)
    job = selectors.job_or_404(request.user, pk)
    report = job.report_file
    if report is None or not report.exists():
        raise Http404(_("Отчёт уже удалён."))
    stem = job.original_name.rsplit(".", 1)[0]
    name = _("%(file)s — отчёт проверки.csv") if job.dry_run else _("%(file)s — отчёт импорта.csv")
    return FileResponse(report.open("rb"), as_attachment=True, filename=name % {"file": stem},
                        content_type="text/csv; charset=utf-8")


def _mine(request, job: ImportJob) -> bool:
    return job.created_by_id == request.user.pk


def _job_page(request, job: ImportJob, form: MappingForm | None, status: int = 200):
    mine = _mine(request, job)
    rows = []
    if form is not None:
        # Each header beside its values in the first rows (a header twice: its first column's).
        first = {header: index for index, header in reversed(list(enumerate(job.headers)))}
        for header, field in form.rows():
            index = first[header]
            rows.append({"field": field, "values": [row[index] if index < len(row) else "" for row in job.sample]})
    return render(request, "exchange/import_job.html", {
        "job": job, "form": form, "mapping_rows": rows, "mine": mine,
        "progress": progress(job) if job.is_active else None,
        "editable": mine and job.state in (ImportJob.State.CHECKED, ImportJob.State.FAILED) and bool(job.path),
        "list_url": reverse(LISTS[job.entity]) if job.state == ImportJob.State.DONE else "",
        "report_lines": job.report_lines, "report_cut": len(job.report_lines) >= services.REPORT_LINES,
    }, status=status)


def progress(job: ImportJob) -> dict:
    """What the bar shows: rows done of the estimate, the percentage (None: unknown total — a
    moving bar), rows per second and the time left, and whether the worker has gone silent."""
    done, total = job.rows_done, job.rows_total
    percent = min(100, done * 100 // total) if total else None
    rate = left = None
    if job.started_at and job.progress_at and done:
        seconds = (job.progress_at - job.started_at).total_seconds()
        if seconds > 0:
            rate = done / seconds
            if total and total > done:
                left = duration((total - done) / rate)
    return {"done": done, "total": total, "percent": percent, "rate": round(rate) if rate else None, "left": left,
            "waiting": job.started_at is None, "silent": bool(job.progress_at and timezone.now() - job.progress_at > SILENT),
            "poll": f"every {POLL_SECONDS}s"}


def duration(seconds: float) -> str:
    seconds = int(seconds) + 1
    if seconds < 60:
        return _("%(s)d с") % {"s": seconds}
    if seconds < 3600:
        return _("%(m)d мин %(s)d с") % {"m": seconds // 60, "s": seconds % 60}
    return _("%(h)d ч %(m)d мин") % {"h": seconds // 3600, "m": seconds % 3600 // 60}
