from django.core.management.base import CommandError
from django.utils.translation import gettext as _

from exchange import importers

from ._importing import ImportCommand


class Command(ImportCommand):
    def ignored(self, name: str, why: str) -> None:
        self.stdout.write(_("Файл «%(name)s» пропущен: %(why)s.") % {"name": name, "why": why.rstrip(".")})

    help = ("Импорт папки выгрузок Битрикс24 (компании, контакты, лиды, сделки — в таком порядке): сделки и "
            "сконвертированные лиды связываются с компаниями и контактами по ID Битрикс24. Последняя строка — итог.")

    def add_arguments(self, parser):
        parser.add_argument("folder", metavar="FOLDER", help=_("Папка с выгрузками Битрикс24 (CSV, XLSX, .xls)."))
        super().add_arguments(parser)

    def handle(self, *args, **options):
        from pathlib import Path

        from exchange.readers import TableError

        by, opts = self.options_from(options)
        if not Path(options["folder"]).is_dir():
            raise CommandError(_("Папки «%(name)s» нет.") % {"name": options["folder"]})

        def bar(entity, table):
            return self.progress(table.estimated_rows, desc=table.name)

        try:
            outcomes = importers.run_bitrix24_folder(options["folder"], by=by, options=opts, progress_factory=bar,
                                                     on_ignored=self.ignored)
        except (importers.ImportRefused, TableError) as exc:
            raise CommandError(str(exc)) from exc
        total = importers.Outcome()
        total.dry_run = opts.dry_run
        for entity, outcome in outcomes.items():
            name = importers.cols.model(entity)._meta.verbose_name_plural
            self.print_outcome(outcome, title=f"{name}: ")
            self.stdout.write(f"{name}: {outcome.summary()}")
            for counter in ("created", "updated", "skipped", "rejected"):
                setattr(total, counter, getattr(total, counter) + getattr(outcome, counter))
            total.rolled_back = total.rolled_back or outcome.rolled_back
        if options.get("report"):
            importers.write_report(_joined(outcomes), options["report"])
        self.stdout.write(total.summary())


def _joined(outcomes: dict) -> importers.Outcome:
    """One report for the folder: each line's column names the file it came from."""
    joined = importers.Outcome()
    for entity, outcome in outcomes.items():
        name = str(importers.cols.model(entity)._meta.verbose_name_plural)
        for line in outcome.all_lines():
            joined.add(line.row, f"{name}: {line.column}" if line.column else name, line.value, line.message, line.outcome)
    return joined
