"""The only writers of import jobs (the «Импорт» page and its worker task). The records themselves
are written by `exchange.importers` through the apps' services; this module keeps the job: the
uploaded file, the choices, the state and what the worker reports.

A state changes by a conditional UPDATE (`_move`), so a double click or a task delivered twice
finds the job already moved and does nothing: one check, one import per click."""

from __future__ import annotations

import logging
import time
import uuid
from datetime import timedelta
from itertools import islice
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import connection, connections, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts import access
from crm import timeline
from notifications import services as notifications
from notifications.models import Kind

from . import importers, readers
from .models import ImportJob

log = logging.getLogger(__name__)
State = ImportJob.State

SAMPLE_ROWS = 5  # shown under the mapping
REPORT_LINES = 20  # of the report, shown on the page (the whole report is downloaded)
IMPORT_DONE = Kind.IMPORT_DONE  # «Импорт завершён»: a check or an import finished, or failed


class JobError(Exception):
    """A refusal the page shows as it is (a Russian sentence)."""


# --- The page ---

def job_upload(*, by, entity: str, upload, options: dict) -> ImportJob:
    """Keep the uploaded file under IMPORT_ROOT, read its headers and first rows, suggest the
    mapping. A file that is not a table (readers.TableError) is refused with the reader's message
    and nothing is kept: no file, no job."""
    if not access.can_import(by, entity):
        raise PermissionDenied(_("Нет прав на импорт."))
    relative = Path(timezone.now().strftime("%Y/%m")) / f"{uuid.uuid4().hex}{_suffix(upload.name)}"
    target = Path(settings.IMPORT_ROOT) / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        with target.open("wb") as out:
            for chunk in upload.chunks():
                out.write(chunk)
        table = readers.open_table(target, name=upload.name)
        sample = [cells for _number, cells in islice(table.rows(), SAMPLE_ROWS)]
        if not any(table.headers):
            raise JobError(_("В первой строке файла нет названий колонок."))
        return ImportJob.objects.create(
            entity=entity, created_by=by, original_name=upload.name[:255], size=upload.size, path=str(relative),
            format=table.format or "", encoding=table.encoding or "", delimiter=table.delimiter or "",
            headers=table.headers, sample=sample, options=options, rows_total=table.estimated_rows,
            mapping=importers.suggest_mapping(entity, table.headers))
    except readers.TableError as exc:
        target.unlink(missing_ok=True)
        raise JobError(str(exc)) from exc
    except BaseException:
        target.unlink(missing_ok=True)
        raise


def _suffix(name: str) -> str:
    """The uploaded name's extension, if it is a plain one (the reader may look at it)."""
    suffix = Path(name).suffix.lower()
    return suffix if suffix[1:].isalnum() and len(suffix) <= 6 else ""


def job_set_mapping(job: ImportJob, *, mapping: dict[str, str], by) -> ImportJob:
    """New choices of columns: the job goes back to «загружен» (its check no longer holds)."""
    _own(job, by)
    fields = {"mapping": mapping, **_cleared()}
    if not _move(job, (State.UPLOADED, State.CHECKED, State.FAILED), State.UPLOADED, **fields):
        raise JobError(_("Импорт уже выполняется или завершён: сопоставление изменить нельзя."))
    return job


def job_check(job: ImportJob, *, by) -> ImportJob:
    """«Проверить»: the dry run, in the worker (a big file takes time)."""
    _own(job, by)
    _needs_file(job)
    if not _move(job, (State.UPLOADED, State.CHECKED, State.FAILED), State.CHECKING, dry_run=True, **_cleared(),
                 progress_at=timezone.now()):
        raise JobError(_("Импорт уже выполняется или завершён."))
    _enqueue(job, dry_run=True)
    return job


def job_start(job: ImportJob, *, by) -> ImportJob:
    """«Импортировать»: the real run, in the worker, once the check was seen."""
    _own(job, by)
    _needs_file(job)
    if not _move(job, (State.CHECKED,), State.QUEUED, dry_run=False, **_cleared(),
                 progress_at=timezone.now()):
        raise JobError(_("Сначала проверьте файл: импортировать можно только проверенный файл."))
    _enqueue(job, dry_run=False)
    return job


def _own(job: ImportJob, by) -> None:
    """Only the one who uploaded the file runs it (an administrator sees others' jobs, he does not
    run them: the import is made with the uploader's rights and name), and only while he still
    may import that kind of record."""
    if job.created_by_id != by.pk or not access.can_import(by, job.entity):
        raise PermissionDenied(_("Нет прав на этот импорт."))


def _needs_file(job: ImportJob) -> None:
    if not job.path or not job.file_path.exists():
        raise JobError(_("Файл этого импорта уже удалён: загрузите его снова."))


def _cleared() -> dict:
    return {"rows_done": 0, "created": 0, "updated": 0, "skipped": 0, "rejected": 0, "report_lines": [],
            "error": "", "started_at": None, "finished_at": None}


def _move(job: ImportJob, sources, to: str, **fields) -> bool:
    """The job from one of `sources` to `to`, if it is still there; the loaded object follows."""
    if not ImportJob.objects.filter(pk=job.pk, state__in=sources).update(state=to, **fields):
        return False
    for name, value in {"state": to, **fields}.items():
        setattr(job, name, value)
    return True


def _enqueue(job: ImportJob, *, dry_run: bool) -> None:
    from .tasks import run_import

    pk = job.pk
    transaction.on_commit(lambda: run_import.enqueue(pk, dry_run))


# --- The worker ---

def job_claim(job_id: int, *, dry_run: bool) -> ImportJob | None:
    """The job the task was queued for, now marked started; None if it is not waiting for this
    run any more (a task delivered twice, a mapping changed meanwhile)."""
    waiting = State.CHECKING if dry_run else State.QUEUED
    now = timezone.now()
    claimed = ImportJob.objects.filter(pk=job_id, state=waiting, dry_run=dry_run, started_at__isnull=True).update(
        state=waiting if dry_run else State.RUNNING, started_at=now, progress_at=now)
    return ImportJob.objects.select_related("created_by").get(pk=job_id) if claimed else None


class Progress:
    """`importers.run`'s progress callback: rows done written to the job (one UPDATE, at most every
    PERIOD seconds), for the page's bar.

    The engine may run inside one transaction (a dry run is rolled back at its end, `atomic`
    commits at its end): an UPDATE made in it would be seen by nobody until then — and undone
    with the dry run. So there the rows are written through a connection of their own, in
    autocommit. SQLite allows one writer: there the bar waits for the end of such a run."""

    PERIOD = 0.5

    def __init__(self, job_id: int):
        self.job_id, self.last, self.side = job_id, 0.0, None

    def __call__(self, rows: int) -> None:
        if time.monotonic() - self.last < self.PERIOD:
            return
        self.last = time.monotonic()
        if not connection.in_atomic_block:
            ImportJob.objects.filter(pk=self.job_id).update(rows_done=rows, progress_at=timezone.now())
            return
        if connection.vendor != "postgresql":
            return
        if self.side is None:
            self.side = connections.create_connection("default")
        table = ImportJob._meta.db_table
        with self.side.cursor() as cursor:
            cursor.execute(f'UPDATE "{table}" SET rows_done = %s, progress_at = %s WHERE id = %s',
                           [rows, timezone.now(), self.job_id])

    def close(self) -> None:
        if self.side is not None:
            self.side.close()
            self.side = None


def job_finish(job: ImportJob, outcome: importers.Outcome) -> None:
    """The run's outcome on the job: the counts, the report file, the first report lines."""
    relative = Path(job.path).with_suffix("").as_posix() + ("-check" if job.dry_run else "") + "-report.csv"
    importers.write_report(outcome, Path(settings.IMPORT_ROOT) / relative)
    done = outcome.created + outcome.updated + outcome.skipped + outcome.rejected
    lines = [{"row": line.row, "column": line.column, "value": line.value, "message": line.message,
              "outcome": line.outcome} for line in islice(outcome.all_lines(), REPORT_LINES)]
    ImportJob.objects.filter(pk=job.pk).update(
        state=State.CHECKED if job.dry_run else State.DONE, rows_done=done, rows_total=done,
        created=outcome.created, updated=outcome.updated, skipped=outcome.skipped, rejected=outcome.rejected,
        report_path=relative, report_lines=lines, finished_at=timezone.now(), progress_at=timezone.now())
    job.refresh_from_db()
    if job.dry_run:
        said = gettext_noop("Проверка файла «%(name)s» завершена: %(summary)s")
    else:
        said = gettext_noop("Импорт файла «%(name)s» завершён: %(summary)s")
    _tell(job, timeline.message(said, name=job.original_name, summary=outcome.summary()))


def job_fail(job_id: int, message: str) -> None:
    """A run that broke off: the job says so (never left «идёт» with no word)."""
    ImportJob.objects.filter(pk=job_id).update(state=State.FAILED, error=message[:2000], finished_at=timezone.now())
    job = ImportJob.objects.select_related("created_by").get(pk=job_id)
    _tell(job, timeline.message(gettext_noop("Импорт файла «%(name)s» прерван: %(error)s"), name=job.original_name,
                                error=message[:300]))


def _tell(job: ImportJob, message: dict) -> None:
    """The owner hears of the end. The job's state is saved already: a notification that fails is
    logged, it does not turn a finished job into a failed one."""
    try:
        notifications.notify(job.created_by, IMPORT_DONE, message, url=job.get_absolute_url(),
                             key=f"import:{job.pk}:{job.state}:{job.finished_at.isoformat() if job.finished_at else ''}")
    except Exception:
        log.exception("import job %s: the notification failed", job.pk)


# --- Housekeeping ---

def purge_old_files(days: int | None = None) -> int:
    """Remove the files (upload and report) of jobs older than `days` (IMPORT_KEEP_DAYS); the jobs
    stay as the history of who imported what. A job the worker still has is left alone, unless
    it has not moved for `days` either: its worker died, and it is marked failed. Returns how many
    jobs lost their files. Idempotent."""
    days = settings.IMPORT_KEEP_DAYS if days is None else days
    before = timezone.now() - timedelta(days=days)
    silent = Q(progress_at__lt=before) | Q(progress_at__isnull=True)
    ImportJob.objects.filter(silent, state__in=ImportJob.ACTIVE, created_at__lt=before).update(
        state=State.FAILED, error=_("Обработчик фоновых задач прервал работу; импорт не завершён."),
        finished_at=timezone.now())
    removed = 0
    old = ImportJob.objects.filter(created_at__lt=before).exclude(path="", report_path="").exclude(
        state__in=ImportJob.ACTIVE)
    for job in old.iterator():
        for file in (job.file_path, job.report_file):
            if file is not None:
                file.unlink(missing_ok=True)
        ImportJob.objects.filter(pk=job.pk).update(path="", report_path="")
        removed += 1
    _remove_empty_folders(Path(settings.IMPORT_ROOT))
    return removed


def _remove_empty_folders(root: Path) -> None:
    """The emptied month folders (YYYY/MM), then the emptied years."""
    for pattern in ("*/*", "*"):
        for folder in root.glob(pattern):
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
