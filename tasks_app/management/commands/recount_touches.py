"""manage.py recount_touches [--check]: compare the touches' counts per responsible and day
(tasks_app.touch_counts) with the tasks, print the differences, and (without --check) rebuild
them. With --check the exit code is 1 when something drifted — for a cron job or a deploy check."""

from django.core.management.base import BaseCommand

from tasks_app import touch_counts


def _show(value) -> str:
    return "нет" if value is None else f"срок {value[0]}, из них открыто {value[1]}, выполнено {value[2]}"


class Command(BaseCommand):
    help = "Сверяет счётчики дел по ответственным и дням (отчёт «Менеджеры») с задачами и пересчитывает их."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="Только сверить: код выхода 1, если есть расхождения.")

    def handle(self, *args, check: bool = False, **options):
        found = touch_counts.differences()
        for (responsible, day), kept, fresh in found:
            self.stdout.write(f"Ответственный {responsible}, {day:%d.%m.%Y}: счётчик {_show(kept)}, по задачам {_show(fresh)}")
        if not found:
            self.stdout.write("Расхождений нет.")
        elif check:
            self.stderr.write(f"Расхождений: {len(found)}. Пересчитайте: manage.py recount_touches")
            raise SystemExit(1)
        else:
            touch_counts.rebuild()
            self.stdout.write("Счётчики дел пересчитаны.")
