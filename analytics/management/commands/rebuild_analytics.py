"""manage.py rebuild_analytics [--check]: compare the stays (analytics.models.Stay) with the ones
the history makes (crm.TimelineEntry «created» and «status»), print the differences, and (without
--check) replace them. With --check the exit code is 1 when something differs.
The sources' month rollups and the managers' moves per day (analytics.source_counts) are compared
with the leads, deals and stays and rebuilt too (`sources` below, after the stays);
--only-sources: only them (seconds at a million leads)."""

from django.core.management.base import BaseCommand
from django.db import transaction

from analytics import history, source_counts
from analytics.models import Handover


def _show(stay) -> str:
    if stay is None:
        return "нет"
    if isinstance(stay, Handover):
        return f"передача ответственному {stay.owner} (от {stay.previous or '—'}) {stay.at:%Y-%m-%d %H:%M:%S}"
    return (f"{stay.state} с {stay.entered_at:%Y-%m-%d %H:%M:%S} по "
            f"{'сейчас' if stay.left_at is None else format(stay.left_at, '%Y-%m-%d %H:%M:%S')}, ответственный {stay.owner}")


SHOWN = 50  # differences listed; the rest are counted


class Command(BaseCommand):
    help = "Сверяет историю статусов для аналитики с историей записей и пересобирает её."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="Только сверить: код выхода 1, если есть расхождения.")
        parser.add_argument("--only-sources", action="store_true",
                            help="Только счётчики отчёта «Источники» и переводов статуса (без истории статусов).")

    def handle(self, *args, check: bool = False, only_sources: bool = False, **options):
        if only_sources:
            if sources(self, check) and check:
                self.stderr.write("Есть расхождения. Пересоберите: manage.py rebuild_analytics --only-sources")
                raise SystemExit(1)
            return
        differing = 0
        for label in history.COPIED:
            found = 0
            for kept, fresh in history.iter_differences(label):
                found += 1
                if found <= SHOWN:
                    object_id = (kept or fresh).object_id
                    self.stdout.write(f"{label} #{object_id}: записано {_show(kept)}; по истории {_show(fresh)}")
            differing += found
            if found > SHOWN:
                self.stdout.write(f"{label}: и ещё {found - SHOWN}")
            if found and not check:
                self.stdout.write(f"{label}: пересобрано, пребываний: {history.rebuild(label)}.")
            elif not found:
                self.stdout.write(f"{label}: расхождений нет.")
        differing += sources(self, check)  # after the stays: the moves are counted from them
        if check and differing:
            self.stderr.write(f"Расхождений: {differing}. Пересоберите: manage.py rebuild_analytics")
            raise SystemExit(1)


def sources(command: BaseCommand, check: bool) -> int:
    """The sources' month rollups and the moves per day (analytics.source_counts) against the
    leads, deals and stays: the differences listed, then (without --check) rebuilt set-based.
    Returns how many differ."""
    found = source_counts.differences()
    for table, key, kept, fresh in found[:SHOWN]:
        command.stdout.write(f"источники ({table}) {key}: записано {kept}; по записям {fresh}")
    if len(found) > SHOWN:
        command.stdout.write(f"источники: и ещё {len(found) - SHOWN}")
    if found and not check:
        with transaction.atomic():
            rows = source_counts.rebuild()
        command.stdout.write(f"источники и переводы: пересобрано, строк: {' + '.join(map(str, rows))}.")
    elif not found:
        command.stdout.write("источники: расхождений нет.")
    return len(found)
