"""manage.py recount_tallies [--check]: compare every counter of crm.tallies with a fresh aggregate
of the records, print the differences, and (without --check) rebuild the counters. With --check
the exit code is 1 when something drifted — for a cron job or a deploy check."""

from django.core.management.base import BaseCommand

from crm import tallies


def _show(value) -> str:
    return "нет" if value is None else f"{value[0]} шт., {value[1]}"


class Command(BaseCommand):
    help = "Сверяет счётчики записей (количество и суммы по ответственным, колонкам и валютам) с записями и пересчитывает их."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="Только сверить: код выхода 1, если есть расхождения.")

    def handle(self, *args, check: bool = False, **options):
        drifted = 0
        for model in tallies.TALLIED:
            label = model._meta.label_lower
            found = tallies.differences(model)
            drifted += len(found)
            for (_model, owner, scope, column, currency, planned), kept, fresh in found:
                touch = ", с датой касания" if planned else ""
                self.stdout.write(f"{label}: ответственный {owner}, область {scope}, колонка {column}, {currency}{touch}: "
                                  f"счётчик {_show(kept)}, по записям {_show(fresh)}")
            if found and not check:
                tallies.rebuild(model)
                self.stdout.write(f"{label}: счётчики пересчитаны.")
            elif not found:
                self.stdout.write(f"{label}: расхождений нет.")
        if check and drifted:
            self.stderr.write(f"Расхождений: {drifted}. Пересчитайте: manage.py recount_tallies")
            raise SystemExit(1)
