"""manage.py rebuild_analytics [--check] [--only stays|funnel|taken|closed|open|ended|sources|managers]: compare what the writers
keep for the reports with what the history makes, print the differences, and (without --check)
replace them. With --check the exit code is 1 when something differs.
- the stays (analytics.models.Stay) against the history (crm.TimelineEntry «created» and «status»);
- the funnel's marks and counts (FunnelMark, FunnelCount) against the stays;
- the managers' «Взято в работу» per period (TakenMark, TakenCount) against the handovers;
- the deals' report's won and lost deals per period (ClosedMark, ClosedCount) against the deal stays;
- the records' open stays per state, owner and day (OpenStayCount: the stuck records' count)
  against the open stays;
- time in status per period (EndedStayCount: the ended stays per state, owner and rounded
  duration) against the ended stays;
- the sources' month rollups and the managers' moves per day (analytics.source_counts) against the
  leads, deals and stays;
- the managers' figures per period (ManagerCount) against the taken, funnel and move counts it
  projects (a rebuild of any of these rebuilds it too).
In this order: the six before the last are made from the stays and handovers, the last from three of them.
`--only` does one of them — `funnel`, `taken` and `sources` the managers' figures after them (at a million
leads the sources take seconds, the funnel minutes, the stays much longer)."""

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
        parser.add_argument("--only", choices=["stays", "funnel", "taken", "closed", "open", "ended", "sources", "managers"],
                            help="Только пребывания в статусах (stays), воронку по периодам (funnel), «Взято в "
                                 "работу» по периодам (taken), выигранные и проигранные сделки по периодам "
                                 "(closed), открытые пребывания по дням (open), длительности пребываний по периодам (ended), счётчики "
                                 "«Источников» и переводов статуса (sources) или показатели менеджеров по "
                                 "периодам (managers; после funnel, taken и sources — тоже).")

    def handle(self, *args, check: bool = False, only: str | None = None, **options):
        differing = 0
        if only in (None, "stays"):
            differing += self._stays(check)
        if only in (None, "funnel"):
            differing += self._funnel(check)
        if only in (None, "taken"):
            differing += self._taken(check)
        if only in (None, "closed"):
            differing += self._closed(check)
        if only in (None, "open"):
            differing += self._open(check)
        if only in (None, "ended"):
            differing += self._ended(check)
        if only in (None, "sources"):
            differing += sources(self, check)
        if only in (None, "funnel", "taken", "sources", "managers"):  # a projection of those three
            differing += self._managers(check)
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
        return self._rollup(check, "воронка", "по пребываниям", history.funnel_differences(), history.rebuild_funnel,
                            lambda kind, start, owner, source, niche, reason, mask:
                            f"{kind} с {start:%Y-%m-%d}, ответственный {owner}, источник {source or '—'}, "
                            f"ниша {niche or '—'}, причина {reason or '—'}, статусы {mask:07b}", marks="отметок лидов")

    def _taken(self, check: bool) -> int:
        return self._rollup(check, "взято в работу", "по передачам", history.taken_differences(), history.rebuild_taken,
                            lambda kind, start, owner: f"{kind} с {start:%Y-%m-%d}, ответственный {owner}",
                            marks="отметок")

    def _closed(self, check: bool) -> int:
        marks, counts = history.closed_differences()
        return self._rollup(check, "закрытые сделки", "по пребываниям",
                            (marks, [(key, f"{n} на {total}", f"{m} на {t}") for key, (n, total), (m, t) in counts]),
                            history.rebuild_closed,
                            lambda kind, start, scope, won, owner, currency, reason:
                            f"{kind} с {start:%Y-%m-%d}, воронка {scope or 'любая'}, {'выиграно' if won else 'проиграно'}, "
                            f"ответственный {owner}, валюта {currency or '—'}, причина {reason or '—'}",
                            marks="отметок сделок")

    def _open(self, check: bool) -> int:
        return self._rollup(check, "открытые пребывания", "по пребываниям", (None, history.open_differences()),
                            history.rebuild_open, lambda model, scope, state, owner, day:
                            f"{model} воронка {scope or '—'}, статус {state}, ответственный {owner}, с {day:%Y-%m-%d}")

    def _ended(self, check: bool) -> int:
        return self._rollup(check, "длительности пребываний", "по пребываниям", (None, history.ended_differences()),
                            history.rebuild_ended, lambda model, scope, kind, start, state, owner, tenths:
                            f"{model} воронка {scope or '—'}, {kind} с {start:%Y-%m-%d}, статус {state}, "
                            f"ответственный {owner}, {tenths / 10:.1f} дн.")

    def _managers(self, check: bool) -> int:
        return self._rollup(check, "менеджеры", "по счётчикам", (None, history.managers_differences()),
                            history.rebuild_managers, lambda kind, start, owner, by:
                            f"{kind} с {start:%Y-%m-%d}, ответственный {owner}"
                            f"{f', переводы сделал {by}' if by else ''} (взято, переведено, конвертировано, "
                            f"забраковано)")

    def _rollup(self, check: bool, name: str, against: str, found: tuple, rebuild, describe, marks: str = "") -> int:
        """A rollup's differences — `found`: (how many of its marks differ, or None for a rollup without
        marks; [(key, kept, fresh)…] of its counts) — listed with `describe(*key)`, then (without
        --check) `rebuild()`. Returns how many differ."""
        differing_marks, counts = found
        for key, kept, fresh in counts[:SHOWN]:
            self.stdout.write(f"{name} {describe(*key)}: записано {kept}; {against} {fresh}")
        if len(counts) > SHOWN:
            self.stdout.write(f"{name}: и ещё {len(counts) - SHOWN}")
        if not differing_marks and not counts:
            self.stdout.write(f"{name}: расхождений нет.")
            return 0
        if differing_marks is None:
            self.stdout.write(f"{name}: счётчиков расходится {len(counts)}.")
        else:
            self.stdout.write(f"{name}: {marks} расходится {differing_marks}, счётчиков {len(counts)}.")
        if not check:
            self.stdout.write(f"{name}: пересобрано, {'счётчиков' if differing_marks is None else 'отметок'}: {rebuild()}.")
        return (differing_marks or 0) + len(counts)


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
