"""Background work of the «Импорт» page (Django's tasks API; the worker is `manage.py db_worker`):
the check (dry run) and the import of an uploaded file, by the same engine as the commands.

The task never leaves a job without word: whatever stops the run is written on the job (state
«ошибка» and the message) and told to its owner."""

from __future__ import annotations

import logging

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from django_tasks import task

from accounts.models import User

from . import importers, readers, services
from .models import ImportJob

log = logging.getLogger(__name__)


@task()
def run_import(job_id: int, dry_run: bool) -> str:
    job = services.job_claim(job_id, dry_run=dry_run)
    if job is None:
        return "not waiting"  # delivered twice, or the mapping changed since: nothing to do
    progress = services.Progress(job.pk)
    # The report's messages are for the user: in the site's language (a user's is not stored).
    with translation.override(settings.LANGUAGE_CODE):
        try:
            if job.file_path is None or not job.file_path.exists():
                raise readers.TableError(_("Файл этого импорта уже удалён: загрузите его снова."))
            table = readers.open_table(job.file_path, name=job.original_name)
            outcome = importers.run(job.entity, table, by=job.created_by, options=options_of(job, dry_run=dry_run),
                                    source=job.original_name, progress=progress)
            services.job_finish(job, outcome)  # the report written (a full disk fails the job too)
        except (readers.TableError, importers.ImportRefused) as exc:
            services.job_fail(job.pk, str(exc))
            return "failed"
        except Exception as exc:
            log.exception("import job %s failed", job.pk)
            if dry_run:
                said = _("Проверка прервана из-за внутренней ошибки (%(error)s); подробности — в журнале сервера.")
            else:
                said = _("Импорт прерван из-за внутренней ошибки (%(error)s); подробности — в журнале сервера.")
            services.job_fail(job.pk, said % {"error": type(exc).__name__})
            return "failed"
        finally:
            progress.close()
    return "done"


def options_of(job: ImportJob, *, dry_run: bool) -> importers.Options:
    chosen = job.options or {}
    responsible = chosen.get("default_responsible")
    return importers.Options(
        on_duplicate=chosen.get("on_duplicate", "skip"), dry_run=dry_run, strict=bool(chosen.get("strict")),
        create_missing=bool(chosen.get("create_missing")), mapping=dict(job.mapping),
        default_responsible=User.objects.filter(pk=responsible, is_active=True).first() if responsible else None)
