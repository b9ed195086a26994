"""`manage.py purge_imports [--days N]`: removes the uploaded files and reports of import jobs older
than IMPORT_KEEP_DAYS (the jobs stay, as the history of who imported what), and marks failed a job
whose worker went silent that long. Run it daily (cron); running it twice changes nothing more."""

from django.conf import settings
from django.core.management.base import BaseCommand

from exchange import services


class Command(BaseCommand):
    help = "Удаляет файлы и отчёты старых импортов (старше IMPORT_KEEP_DAYS дней)."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=None,
                            help=f"Сколько дней хранить файлы (по умолчанию {settings.IMPORT_KEEP_DAYS}).")

    def handle(self, *args, days=None, **options):
        if days is not None and days < 0:
            self.stderr.write("Число дней не может быть отрицательным.")
            raise SystemExit(2)
        removed = services.purge_old_files(days)
        self.stdout.write(f"Удалены файлы импортов: {removed}.")
