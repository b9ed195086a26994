"""What the five export commands share: `export_leads FILE --as USER [--filter QUERY]` writes the
list as USER sees it with the list's own query string (as in the browser's address bar), CSV or
XLSX by the file's extension, with a progress bar; the last line is «Выгружено: N».

The file is written next to its final place and renamed at the end: an export that fails (a
refused filter, a full disk) leaves no half-written file behind, nor spoils an older one."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from accounts.middleware import zone_of
from exchange import exports, writers
from exchange.progress import progress


class ExportCommand(BaseCommand):
    entity = ""  # set by each command: "lead", "company", …

    def add_arguments(self, parser):
        parser.add_argument("file", help="Куда выгрузить: файл .csv (UTF-8 с BOM, «;») или .xlsx.")
        parser.add_argument("--as", dest="as_user", required=True, metavar="USER",
                            help="Логин пользователя, чьи права и фильтры «Мои»/«Мой отдел» применяются.")
        parser.add_argument("--filter", default="", metavar="QUERY",
                            help="Фильтры списка в синтаксисе его адресной строки, например "
                                 "\"status=new&responsible=3\" или \"q=Ромашка&sort=-created_at\".")

    def handle(self, *args, **options):
        path = Path(options["file"])
        fmt = path.suffix.lower().lstrip(".")
        if fmt not in exports.FORMATS:
            raise CommandError(f"Не понимаю формат файла «{path.name}»: укажите имя с расширением .csv или .xlsx.")
        if not path.parent.is_dir():
            raise CommandError(f"Папки «{path.parent}» нет: укажите существующую папку.")
        user = self._user(options["as_user"])
        if not exports.may_export(user, self.entity):
            raise CommandError(f"У пользователя «{user.username}» нет права на экспорт: "
                               f"«{exports.TITLES[self.entity]}» выгружать нельзя.")
        # Times in the user's time zone, as on his pages.
        with timezone.override(zone_of(user) or timezone.get_default_timezone()):
            try:
                export = exports.prepare(self.entity, user, options["filter"])
            except exports.ExportError as exc:
                raise CommandError("Фильтр не принят: " + " ".join(exc.messages)) from exc
            count = self._write(export, path, fmt)
        self.stdout.write(f"Выгружено: {count}")

    def _user(self, username: str):
        User = get_user_model()
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"Пользователя «{username}» нет: укажите логин в --as.")
        if not user.is_active:
            raise CommandError(f"Пользователь «{username}» отключён: его правами выгружать нельзя.")
        return user

    def _write(self, export: exports.Export, path: Path, fmt: str) -> int:
        done, total = 0, export.count()
        with progress(total, desc=str(exports.TITLES[self.entity]),
                      stream=self.stderr._out) as bar:  # the raw stream: tqdm redraws its line
            def advance(count: int) -> None:
                nonlocal done
                bar.set(count)
                done = count

            handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".export-", suffix=path.suffix)
            try:
                with os.fdopen(handle, "wb") as file:
                    rows = export.rows(progress=advance)
                    if fmt == "csv":
                        writers.write_csv(file, export.headers, rows)
                    else:
                        writers.write_xlsx(file, export.headers, rows, title=str(exports.TITLES[self.entity]),
                                           records=total)
                os.chmod(temporary, 0o644)
                os.replace(temporary, path)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        return done
