"""What the import commands share: their options (the issue's exact names), the user they act as,
the progress bar and the printed report. Not a command itself (the leading underscore)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q
from django.utils.translation import gettext as _

from accounts.models import User
from exchange import importers

# Lines of the report printed by a real run; a dry run prints them all (that is what it is for).
PRINTED_LINES = 50


def find_user(raw: str, option: str) -> User:
    user = User.objects.filter(Q(username=raw) | Q(email__iexact=raw), is_active=True).first() if raw else None
    if user is None:
        raise CommandError(_("%(option)s: нет активного пользователя «%(value)s» (логин или e-mail).")
                           % {"option": option, "value": raw})
    return user


def parse_mapping(items: list[str] | None) -> dict[str, str] | None:
    if not items:
        return None
    mapping = {}
    for item in items:
        if "=" not in item:
            raise CommandError(_("--map: ожидается «Колонка=поле», а не «%(value)s».") % {"value": item})
        header, field = item.rsplit("=", 1)
        mapping[header.strip()] = field.strip()
    return mapping


class ImportCommand(BaseCommand):
    def add_arguments(self, parser):
        parser.add_argument("--as", dest="as_user", required=True, metavar="USER",
                            help=_("Чьи права использует импорт и чьё имя в истории (логин или e-mail)."))
        parser.add_argument("--map", action="append", metavar="«Колонка=поле»",
                            help=_("Сопоставить колонку полю (можно несколько раз); «Колонка=» — не импортировать."))
        parser.add_argument("--dry-run", action="store_true",
                            help=_("Показать, что будет создано, обновлено, пропущено и отклонено, ничего не записывая."))
        parser.add_argument("--on-duplicate", choices=["skip", "update", "create"], default="skip",
                            help=_("Что делать с дубликатом (по внешнему ID, ИНН, телефону, e-mail)."))
        parser.add_argument("--report", metavar="FILE.csv", help=_("Записать отчёт: строка, колонка, значение, сообщение."))
        parser.add_argument("--atomic", action="store_true", help=_("Всё или ничего: первая ошибка отменяет импорт."))
        parser.add_argument("--strict", action="store_true",
                            help=_("Отклонять строки, которым не хватает полей их статуса, а не понижать статус."))
        parser.add_argument("--create-missing", action="store_true",
                            help=_("Добавлять неизвестные значения справочников (источники, ниши…)."))
        parser.add_argument("--default-responsible", metavar="USER",
                            help=_("Ответственный для строк с неизвестным сотрудником (логин или e-mail)."))

    def options_from(self, options, headers: list[str] | None = None) -> tuple[User, importers.Options]:
        by = find_user(options["as_user"], "--as")
        default = options.get("default_responsible")
        return by, importers.Options(
            on_duplicate=options["on_duplicate"], dry_run=options["dry_run"], atomic=options["atomic"],
            strict=options["strict"], create_missing=options["create_missing"],
            default_responsible=find_user(default, "--default-responsible") if default else None,
            mapping=parse_mapping(options.get("map")),
        )

    def progress(self, total: int | None, desc: str):
        from exchange.progress import progress

        return progress(total, desc=desc, stream=self.stderr._out)  # stdout keeps the report and summary

    def print_outcome(self, outcome: importers.Outcome, title: str = "") -> None:
        limit = None if outcome.dry_run else PRINTED_LINES
        shown = 0
        total = 0
        for line in outcome.all_lines():
            total += 1
            if limit is not None and shown >= limit:
                continue
            shown += 1
            where = _("строка %(row)s") % {"row": line.row}
            if line.column:
                where += f", «{line.column}»"
            if line.value:
                where += f" = «{line.value}»"
            self.stdout.write(f"{title}{where}: {line.message}")
        if total > shown:
            self.stdout.write(_("…и ещё строк отчёта: %(count)s (полностью — в --report).") % {"count": total - shown})


class SingleImport(ImportCommand):
    entity = ""

    def add_arguments(self, parser):
        parser.add_argument("file", metavar="FILE", help=_("CSV, XLSX или «Экспорт в Excel» Битрикс24 (.xls)."))
        super().add_arguments(parser)

    def handle(self, *args, **options):
        from pathlib import Path

        from exchange.readers import TableError, open_table

        by, opts = self.options_from(options)
        if not Path(options["file"]).is_file():
            raise CommandError(_("Файла «%(name)s» нет.") % {"name": options["file"]})
        try:
            table = open_table(options["file"])
        except TableError as exc:
            raise CommandError(str(exc)) from exc
        except OSError as exc:
            raise CommandError(_("Не удалось открыть файл «%(name)s»: %(error)s.")
                               % {"name": options["file"], "error": exc.strerror or exc}) from exc
        try:
            with self.progress(table.estimated_rows, desc=table.name) as bar:
                outcome = importers.run(self.entity, table, by=by, options=opts, source=table.name,
                                        progress=bar.set)
        except (importers.ImportRefused, TableError) as exc:
            raise CommandError(str(exc)) from exc
        if options.get("report"):
            importers.write_report(outcome, options["report"])
        self.print_outcome(outcome)
        self.stdout.write(outcome.summary())
