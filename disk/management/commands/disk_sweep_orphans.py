"""`manage.py disk_sweep_orphans [--dry-run] [--older-than HOURS]`: removes the store's blobs that
no file version names (services.sweep_orphans). Run it daily from cron, like disk_purge_trash."""

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.template.defaultfilters import filesizeformat

from disk import services


class Command(BaseCommand):
    help = ("Удаляет из хранилища диска файлы, на которые не ссылается ни одна версия файла "
            "(остатки загрузок, чья транзакция откатилась), старше --older-than часов.")

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Только показать, ничего не удалять.")
        parser.add_argument("--older-than", type=float, default=24, metavar="HOURS",
                            help="Не трогать файлы моложе этого числа часов (загрузка может ещё идти); по умолчанию 24.")

    def handle(self, *args, dry_run: bool = False, older_than: float = 24, **options):
        if older_than < 0:
            raise CommandError("--older-than не может быть отрицательным.")
        found = services.sweep_orphans(timedelta(hours=older_than), dry_run=dry_run)
        verb = "найден" if dry_run else "удалён"
        for key, size in found:
            self.stdout.write(f"{verb}: {key} ({filesizeformat(size)})")
        total = filesizeformat(sum(size for _key, size in found))
        if dry_run:
            self.stdout.write(f"Найдено сирот: {len(found)}, {total}; ничего не удалено (--dry-run).")
        else:
            self.stdout.write(f"Удалено сирот: {len(found)}, {total}.")
