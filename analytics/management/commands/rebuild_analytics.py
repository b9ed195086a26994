"""manage.py rebuild_analytics [--check] [--only stays|funnel|taken|open|sources]: compare what the writers
keep for the reports with what the history makes, print the differences, and (without --check)
replace them. With --check the exit code is 1 when something differs.
- the stays (analytics.models.Stay) against the history (crm.TimelineEntry «created» and «status»);
- the funnel's marks and counts (FunnelMark, FunnelCount) against the stays;
- the managers' «Взято в работу» per period (TakenMark, TakenCount) against the handovers;
- the records' open stays per state, owner and day (OpenStayCount: the stuck records' count)
  against the open stays;
- the sources' month rollups and the managers' moves per day (analytics.source_counts) against the
  leads, deals and stays.
In this order: the last four are made from the stays and handovers. `--only` does one of them (at a million leads
the sources take seconds, the funnel minutes, the stays much longer)."""

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
        parser.add_argument("--only", choices=["stays", "funnel", "taken", "open", "sources"],
                            help="Только пребывания в статусах (stays), воронку по периодам (funnel), «Взято в "
                                 "работу» по периодам (taken), открытые пребывания по дням (open) или счётчики "
                                 "«Источников» и переводов статуса (sources).")

    def handle(self, *args, check: bool = False, only: str | None = None, **options):
        differing = 0
        if only in (None, "stays"):
            differing += self._stays(check)
        if only in (None, "funnel"):
            differing += self._funnel(check)
        if only in (None, "taken"):
            differing += self._taken(check)
        if only in (None, "open"):
            differing += self._open(check)
        if only in (None, "sources"):
            differing += sources(self, check)
        if check and differing:
            self.stderr.write(f"Расхождений: {differing}. Пересоберите: manage.py rebuild_analytics")
            raise SystemExit(1)

    def _stays(self, check: bool) -> int:
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
        return differing

    def _funnel(self, check: bool) -> int:
        marks, counts = history.funnel_differences()
        for (kind, start, owner, source, niche, reason, mask), kept, fresh in counts[:SHOWN]:
            self.stdout.write(f"воронка {kind} с {start:%Y-%m-%d}, ответственный {owner}, источник {source or '—'}, "
                              f"ниша {niche or '—'}, причина {reason or '—'}, статусы {mask:07b}: "
                              f"записано {kept}; по пребываниям {fresh}")
        if len(counts) > SHOWN:
            self.stdout.write(f"воронка: и ещё {len(counts) - SHOWN}")
        if marks or counts:
            self.stdout.write(f"воронка: отметок лидов расходится {marks}, счётчиков {len(counts)}.")
            if not check:
                self.stdout.write(f"воронка: пересобрано, отметок: {history.rebuild_funnel()}.")
        else:
            self.stdout.write("воронка: расхождений нет.")
        return marks + len(counts)

    def _taken(self, check: bool) -> int:
        marks, counts = history.taken_differences()
        for (kind, start, owner), kept, fresh in counts[:SHOWN]:
            self.stdout.write(f"взято в работу {kind} с {start:%Y-%m-%d}, ответственный {owner}: "
                              f"записано {kept}; по передачам {fresh}")
        if len(counts) > SHOWN:
            self.stdout.write(f"взято в работу: и ещё {len(counts) - SHOWN}")
        if marks or counts:
            self.stdout.write(f"взято в работу: отметок расходится {marks}, счётчиков {len(counts)}.")
            if not check:
                self.stdout.write(f"взято в работу: пересобрано, отметок: {history.rebuild_taken()}.")
        else:
            self.stdout.write("взято в работу: расхождений нет.")
        return marks + len(counts)

    def _open(self, check: bool) -> int:
        counts = history.open_differences()
        for (model, scope, state, owner, day), kept, fresh in counts[:SHOWN]:
            self.stdout.write(f"открытые пребывания {model} воронка {scope or '—'}, статус {state}, ответственный {owner}, "
                              f"с {day:%Y-%m-%d}: записано {kept}; по пребываниям {fresh}")
        if len(counts) > SHOWN:
            self.stdout.write(f"открытые пребывания: и ещё {len(counts) - SHOWN}")
        if counts:
            self.stdout.write(f"открытые пребывания: счётчиков расходится {len(counts)}.")
            if not check:
                self.stdout.write(f"открытые пребывания: пересобрано, счётчиков: {history.rebuild_open()}.")
        else:
            self.stdout.write("открытые пребывания: расхождений нет.")
        return len(counts)


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
