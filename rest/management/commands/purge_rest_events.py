"""`manage.py purge_rest_events [--days N]`: removes the outgoing events' deliveries older than
REST_EVENTS_KEEP_DAYS from the log (delivered, given up or cancelled; one still waiting stays).
Run it daily (cron); running it twice changes nothing more."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from rest.events import services


class Command(BaseCommand):
    help = "Удаляет из журнала исходящих событий отправки старше REST_EVENTS_KEEP_DAYS дней."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=None,
                            help=f"Сколько дней хранить журнал (по умолчанию {settings.REST_EVENTS_KEEP_DAYS}).")

    def handle(self, *args, days=None, **options):
        if days is not None and days < 0:
            raise CommandError("Число дней не может быть отрицательным.")
        removed = services.purge_deliveries(days)
        self.stdout.write(f"Удалены отправки событий: {removed}.")
