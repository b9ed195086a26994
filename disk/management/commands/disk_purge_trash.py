from django.core.management.base import BaseCommand

from disk import services


class Command(BaseCommand):
    help = "Удаляет навсегда то, что лежит в корзине диска дольше DISK_TRASH_DAYS дней."

    def handle(self, *args, **options):
        count = services.purge_expired()
        self.stdout.write(f"{count}")
