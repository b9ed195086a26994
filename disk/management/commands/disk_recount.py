from django.core.management.base import BaseCommand

from disk import services


class Command(BaseCommand):
    help = ("Пересчитывает счётчики диска (содержимое папок, занятое пользователями место) по самим "
            "записям и исправляет расхождения.")

    def handle(self, *args, **options):
        fixed = services.recount()
        self.stdout.write(f"folders: {fixed['folders']}, users: {fixed['users']}")
