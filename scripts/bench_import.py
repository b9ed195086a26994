#!/usr/bin/env python3
"""Benchmark of imports and exports (issue 12): generated leads imported from Bitrix24's CSV and
from XLSX through `exchange.importers.run`, next to a bare `bulk_create` of the same rows; the peak
memory of a million-row import; an export of the leads through `exchange.exports` next to a bare
`csv.writer` over `values_list`.

    .venv/bin/python scripts/bench_import.py [--db postgres|sqlite|both] [--rows 100000] [--million 1000000]

1. Files. `--rows` leads as Bitrix24's «Экспорт в CSV» writes them (every cell quoted, `;` after each,
   UTF-8 with BOM, its Russian headers: ID, Название лида, Статус, Источник, Сумма, Валюта,
   Ответственный, …, Фамилия, Имя, Мобильный телефон, Частный e-mail, Дата создания — 21 columns),
   the same rows as XLSX (openpyxl's write-only mode, what our export writes), and `--million` rows
   of the same CSV. Every row is a new lead (its own ID, phones, e-mails, ИНН): no duplicates.
2. Bare. The same rows as `Lead` objects (the source and the responsible resolved from a dict)
   inserted by `bulk_create` in batches of `--batch` (1000, the engine's batch), one transaction
   per batch: no validation, no history, no file. Then the table is emptied.
3. Imports. Each in a child process of its own (so its peak RSS is its own): `open_table` +
   `importers.run("lead", …, Options())` as the supervisor «admin» — the readers, the mapping,
   validation, duplicate search, the batched inserts and the history entries «Импорт: file».
   Rows per second = data rows / wall time; peak RSS = the child's `ru_maxrss` (Django and the
   project loaded included). The tables written are emptied after each.
4. Export. With the CSV's leads in the database: `exports.prepare("lead", admin).rows()` written
   by `writers.write_csv` to a file, against `csv.writer` over `Lead.objects.values_list(…)` of the
   same columns (the foreign keys' names through joins; the m2m columns and the pinned comment,
   which need their own queries, left out of the bare path) to a file; best of 3 each, alternating.

5. --export-only: no files, no import. The leads are filled by the bare `bulk_create` (2.), then
   the leads' export is measured as in 4.; then as many deals are filled (a third with one or two
   product rows) and the deals' export is measured the same way against `values_list` of the deal's
   own fields and linked names. Its own block («Экспорт») in BENCHMARKS.md.

Targets (issue 12): import ≥ ⅓ of the bare rate; < 300 MB peak for a million rows; export ≤ 2× the
bare writer. Results replace that database's block of the «Импорт и экспорт» part of BENCHMARKS.md
(--no-write to only print). The throwaway databases and the child process per database are
scripts/bench_common.py's.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_common as common
from bench_common import DB_TITLES, REPORT, n_

common.reexec_in_venv()

HEADERS = ["ID", "Название лида", "Статус", "Источник", "Сумма", "Валюта", "Ответственный", "Комментарий",
           "Название компании", "Рабочий телефон", "Рабочий e-mail", "Корпоративный сайт", "Адрес", "ИНН",
           "Фамилия", "Имя", "Отчество", "Должность", "Мобильный телефон", "Частный e-mail", "Дата создания"]
RESPONSIBLE = [("Иванов Пётр", "ivanov", 31), ("Петрова Мария", "petrova", 31), ("Сидоров Алексей", "sidorov", 30),
               ("Смирнова Ольга", "head", 5), ("Администратор Системный", "admin", 3)]
SOURCES = ["Контур.Компас", "Холодный звонок", "Входящий звонок", "Сайт", "Электронная почта", "Рекомендация", "Выставка"]
COMMENTS = ["", "", "", "Пришёл с вебинара", "Просили перезвонить после обеда", "Интересует демо портала",
            "Нашли нас через поиск", "Рекомендация от партнёра"]
TARGET_IMPORT = 1 / 3
TARGET_MEMORY_MB = 300
TARGET_EXPORT = 2.0


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    common.add_common_arguments(parser, "leads")
    parser.set_defaults(batch=1000, repeat=1)
    parser.add_argument("--rows", type=int, default=100_000, help="leads of the CSV and XLSX imports (default 100000)")
    parser.add_argument("--million", type=int, default=0,
                        help="rows of the memory run, e.g. 1000000 (default 0: none)")
    parser.add_argument("--million-only", action="store_true",
                        help="only the memory run (its own block in BENCHMARKS.md)")
    parser.add_argument("--export-only", action="store_true",
                        help="only the exports: --rows leads filled by the bare bulk_create, then as many deals "
                             "(their own block in BENCHMARKS.md)")
    # Internal: one measured step in a process of its own.
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    common.check_common_arguments(parser, args)
    return args


def main() -> None:
    global MILLION_ONLY, EXPORT_ONLY
    args = parse_args()
    MILLION_ONLY, EXPORT_ONLY = args.million_only, args.export_only
    if args.million_only and not args.million:
        sys.exit("--million-only needs --million N")
    if args.million_only and args.export_only:
        sys.exit("--million-only and --export-only are two different runs")
    if args.phase:
        phase(args)
    elif args.worker:
        worker(args)
    else:
        extra = (["--rows", str(args.rows), "--million", str(args.million)] + (["--million-only"] * args.million_only)
                 + (["--export-only"] * args.export_only))
        render = render_million if args.million_only else render_exports if args.export_only else render_section
        common.run(args, script=__file__, extra_args=extra, render_section=render, write_section=write_section)


# ---------------------------------------------------------------------------------------------
# The generated leads
# ---------------------------------------------------------------------------------------------

def inn10(i: int) -> str:
    """A valid 10-digit ИНН unique to the row (a random one repeats among a million rows)."""
    digits = [int(d) for d in f"{66 + i % 30:02d}{i:07d}"]
    weights = (2, 4, 10, 3, 5, 9, 4, 6, 8)
    return "".join(map(str, digits)) + str(sum(d * w for d, w in zip(digits, weights, strict=True)) % 11 % 10)


def lead_rows(n: int, seed: int):
    """The rows of the file, as lists of cells in HEADERS' order."""
    rng = random.Random(seed)
    names, weights = [r[0] for r in RESPONSIBLE], [r[2] for r in RESPONSIBLE]
    created = dt.datetime(2026, 1, 15, 9, 0)
    for i in range(n):
        name, core, address, area, _inn = common.random_company(rng)
        domain = common.translit(core) + ".ru"
        last, first, middle = common.random_person(rng)
        amount = rng.choice(["", "", "15000", "40000", "150000", "150000.50", "320000", "1200000"])
        row = [
            str(100_000 + i),
            f"{core} — {rng.choice(common.NEEDS)}",
            "Не обработан",
            rng.choice(SOURCES),
            amount,
            "RUB" if amount else "",
            rng.choices(names, weights)[0],
            rng.choice(COMMENTS),
            name,
            f"+7 ({area}) {i // 10000 % 1000:03d}-{i // 100 % 100:02d}-{i % 100:02d}",
            f"info{i}@{domain}" if rng.random() < 0.7 else "",
            f"www.{domain}" if rng.random() < 0.4 else "",
            address,
            inn10(i) if rng.random() < 0.6 else "",
            last, first, middle,
            rng.choice(common.POSITIONS),
            f"+7 (9{i // 10_000_000 % 10}{i // 1_000_000 % 10}) {i // 10000 % 100:02d}{i // 1000 % 10}-"
            f"{i // 100 % 10}{i // 10 % 10}-{i % 10}{rng.randrange(10)}",
            f"{common.translit(first)[:1]}.{common.translit(last)}{i}@mail.ru" if rng.random() < 0.5 else "",
            (created + dt.timedelta(minutes=i)).strftime("%d.%m.%Y %H:%M:%S"),
        ]
        yield row


def write_bitrix_csv(path: Path, n: int, seed: int) -> None:
    def line(cells):
        return "".join('"' + c.replace('"', '""') + '";' for c in cells) + "\n"

    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        f.write(line(HEADERS))
        for row in lead_rows(n, seed):
            f.write(line(row))


def write_xlsx(path: Path, n: int, seed: int) -> None:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Лиды")
    ws.append(HEADERS)
    for row in lead_rows(n, seed):
        ws.append(row)
    wb.save(path)


# ---------------------------------------------------------------------------------------------
# Worker: one database
# ---------------------------------------------------------------------------------------------

def worker(args) -> None:
    migrate_time = common.setup_django(args)
    from accounts import demo

    demo.seed()
    common.analyze()
    if args.export_only:
        export_worker(args)
        return
    work = Path(args.result).parent
    files = {"csv": work / "leads.csv", "xlsx": work / "leads.xlsx", "million": work / "leads-1m.csv"}
    t0 = time.perf_counter()
    if not args.million_only:
        write_bitrix_csv(files["csv"], args.rows, args.seed)
        write_xlsx(files["xlsx"], args.rows, args.seed)
    if args.million:
        write_bitrix_csv(files["million"], args.million, args.seed)
    print(f"{DB_TITLES[args.db]}: migrated in {migrate_time:.1f} s; files written in {time.perf_counter() - t0:.0f} s "
          f"({', '.join(f'{k} {p.stat().st_size / 2**20:.0f} MB' for k, p in files.items() if p.exists())}).",
          flush=True)

    empty = _empty_tables()
    result = {**common.base_result(args), "rows": args.rows, "million": args.million, "batch": args.batch,
              "git": common.git_state(), "columns": len(HEADERS),
              "sizes": {k: p.stat().st_size for k, p in files.items() if p.exists()}}
    load_before = os.getloadavg()[0]
    if not args.million_only:
        result["bare"] = run_phase(args, "bare", None)
        _flush(empty)
        result["csv"] = run_phase(args, "import", files["csv"])
        result["export"] = run_phase(args, "export", None)
        _flush(empty)
        result["xlsx"] = run_phase(args, "import", files["xlsx"])
        _flush(empty)
    if args.million:
        result["million_csv"] = run_phase(args, "import", files["million"])
        _flush(empty)
    result["load"] = [f"{load_before:.2f}", f"{os.getloadavg()[0]:.2f}"]
    common.write_result(args, result)


def export_worker(args) -> None:
    """--export-only: the leads filled by the bare `bulk_create` (no import: minutes saved), the
    leads' export measured, then the deals filled and theirs."""
    result = {**common.base_result(args), "rows": args.rows, "batch": args.batch, "git": common.git_state()}
    load_before = os.getloadavg()[0]
    result["bare"] = run_phase(args, "bare", None)
    common.analyze()
    result["export"] = run_phase(args, "export", None)
    result["deal_export"] = run_phase(args, "deal-export", None)
    result["load"] = [f"{load_before:.2f}", f"{os.getloadavg()[0]:.2f}"]
    common.write_result(args, result)


def run_phase(args, name: str, file: Path | None) -> dict:
    """One measured step in a child process (the same database): its own peak RSS."""
    out = Path(args.result).parent / f"phase-{name}.json"
    cmd = [sys.executable, str(Path(__file__).resolve()), "--phase", name, "--db", args.db, "--rows", str(args.rows),
           "--batch", str(args.batch), "--seed", str(args.seed), "--repeat", str(args.repeat), "--result", str(out)]
    if file:
        cmd += ["--file", str(file)]
    print(f"{DB_TITLES[args.db]}: {name} {file.name if file else ''}…", flush=True)
    subprocess.run(cmd, check=True, cwd=common.ROOT)
    result = json.loads(out.read_text())
    print(f"{DB_TITLES[args.db]}: {name}: {json.dumps(result, ensure_ascii=False)}", flush=True)
    return result


def _tables() -> list[str]:
    from django.db import connection

    with connection.cursor() as cursor:
        return [t for t in connection.introspection.table_names(cursor) if t != "django_migrations"]


def _count(table: str) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")
        return cursor.fetchone()[0]


def _empty_tables() -> set[str]:
    return {t for t in _tables() if _count(t) == 0}


def _flush(empty: set[str]) -> None:
    """Empty what a step wrote: the tables empty after the fill (leads, history, notifications…)."""
    from django.core.management.color import no_style
    from django.db import connection

    written = [t for t in empty if _count(t)]
    statements = connection.ops.sql_flush(no_style(), written, reset_sequences=True, allow_cascade=True)
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)
    common.analyze()


# ---------------------------------------------------------------------------------------------
# The measured steps (each in its own process)
# ---------------------------------------------------------------------------------------------

def phase(args) -> None:
    sys.path.insert(0, str(common.ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
    import django

    django.setup()
    from django.conf import settings

    settings.DEBUG = False
    result = {"bare": phase_bare, "import": phase_import, "export": phase_export,
              "deal-export": phase_deal_export}[args.phase](args)
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    Path(args.result).write_text(json.dumps(result, ensure_ascii=False))


def phase_bare(args) -> dict:
    from decimal import Decimal

    from django.db import transaction

    from accounts.models import User
    from crm.duplicates import company_key
    from crm.models import Source
    from leads.models import Lead

    users = {name: User.objects.get(username=login) for name, login, _w in RESPONSIBLE}
    sources = {s.name: s for s in Source.objects.all()}
    admin = users["Администратор Системный"]
    rows = list(lead_rows(args.rows, args.seed))  # generated before the clock starts, as the file was
    ix = {h: i for i, h in enumerate(HEADERS)}

    def lead(r):
        # The values as the import stores them: phones in E.164, the amount a Decimal.
        return Lead(
            external_id=r[ix["ID"]], title=r[ix["Название лида"]], status="new", source=sources.get(r[ix["Источник"]]),
            amount=Decimal(r[ix["Сумма"]] or 0), currency=r[ix["Валюта"]] or "RUB",
            responsible=users[r[ix["Ответственный"]]], created_by=admin, comment=r[ix["Комментарий"]],
            company_name=r[ix["Название компании"]], company_key=company_key(r[ix["Название компании"]]),
            company_phone="+7" + "".join(ch for ch in r[ix["Рабочий телефон"]][2:] if ch.isdigit()),
            company_email=r[ix["Рабочий e-mail"]], company_website=r[ix["Корпоративный сайт"]],
            company_address=r[ix["Адрес"]], inn=r[ix["ИНН"]], contact_last_name=r[ix["Фамилия"]],
            contact_first_name=r[ix["Имя"]], contact_middle_name=r[ix["Отчество"]],
            contact_position=r[ix["Должность"]],
            contact_phone="+7" + "".join(ch for ch in r[ix["Мобильный телефон"]][2:] if ch.isdigit()),
            contact_email=r[ix["Частный e-mail"]],
        )

    t0 = time.perf_counter()
    for i in range(0, len(rows), args.batch):
        with transaction.atomic():
            Lead.objects.bulk_create([lead(r) for r in rows[i:i + args.batch]])
    seconds = time.perf_counter() - t0
    assert Lead.objects.count() == len(rows)
    return {"rows": len(rows), "seconds": seconds, "rate": len(rows) / seconds}


def phase_import(args) -> dict:
    from accounts.models import User
    from exchange import importers
    from exchange.progress import progress
    from exchange.readers import open_table

    admin = User.objects.get(username="admin")
    path = Path(args.file)
    t0 = time.perf_counter()
    table = open_table(path)
    opened = time.perf_counter() - t0
    with progress(table.estimated_rows, desc=f"  {path.name}", stream=sys.stdout, interval=30) as bar:
        outcome = importers.run("lead", table, by=admin, options=importers.Options(), source=path.name,
                                progress=bar.set)
    seconds = time.perf_counter() - t0
    rows = outcome.created + outcome.updated + outcome.skipped + outcome.rejected
    lines = [f"{line.row}: {line.column}: {line.message}" for line in list(outcome.all_lines())[:5]]
    return {"file": path.name, "format": table.format, "rows": rows, "created": outcome.created,
            "skipped": outcome.skipped, "rejected": outcome.rejected, "report": lines, "seconds": seconds,
            "open_seconds": opened, "rate": rows / seconds, "estimated_rows": table.estimated_rows}


def phase_export(args) -> dict:
    from leads.models import Lead

    # The export's columns that are the lead's own fields or a linked record's name; the m2m
    # columns and the pinned comment need queries of their own and are left to the real export.
    bare_fields = ["external_id", "title", "status", "source__name", "amount", "currency", "responsible__last_name",
                   "responsible__first_name", "comment", "company_name", "company_phone", "company_email",
                   "company_website", "company_address", "inn", "kpp", "ogrn", "legal_name", "legal_address",
                   "contact_last_name", "contact_first_name", "contact_middle_name", "contact_birth_date",
                   "contact_position", "contact_phone", "contact_phone_type", "contact_phone_ext", "contact_email",
                   "crm_system__name", "niche__name", "client_type__name", "sales_channel__name", "employees_count",
                   "talked_to_decision_maker", "usp_acknowledged", "next_touch", "next_touch_date",
                   "training_info", "junk_reason__name", "created_at"]
    return _timed_export(args, "lead", Lead.objects.order_by("-created_at", "-pk"), bare_fields)


def fill_deals(n: int, seed: int) -> None:
    """`n` deals in the default pipeline's stages, a third of them with one or two product rows
    (a file row per product row), by `bulk_create`; not timed."""
    from decimal import Decimal

    from django.db import transaction

    from accounts.models import User
    from crm.models import Product, Source
    from deals.models import Deal, DealProduct, Pipeline

    rng = random.Random(seed)
    users = [User.objects.get(username=login) for _name, login, _w in RESPONSIBLE]
    sources = list(Source.objects.all())
    pipeline = Pipeline.objects.order_by("sort", "pk").first()
    stages = list(pipeline.stages.order_by("sort", "pk"))
    products = list(Product.objects.all()) or [Product.objects.create(name=f"Продукт {i}") for i in range(1, 6)]
    for start in range(0, n, 1000):
        deals = []
        for i in range(start, min(n, start + 1000)):
            core = common.random_company(rng)[1]
            deals.append(Deal(title=f"{core} — {rng.choice(common.NEEDS)}", pipeline=pipeline,
                              stage=rng.choice(stages).pk, amount=Decimal(rng.choice([0, 15000, 40000, 150000])),
                              source=rng.choice(sources), responsible=rng.choice(users), created_by=users[-1],
                              external_id=str(500_000 + i), comment=rng.choice(COMMENTS)))
        with transaction.atomic():
            Deal.objects.bulk_create(deals)
            DealProduct.objects.bulk_create([
                DealProduct(deal=deal, product=rng.choice(products), quantity=Decimal(rng.randint(1, 5)),
                            price=Decimal(rng.choice([5000, 12000, 49900])))
                for deal in deals if rng.random() < 1 / 3 for _k in range(rng.randint(1, 2))])
    common.analyze()


def phase_deal_export(args) -> dict:
    from deals.models import Deal

    fill_deals(args.rows, args.seed)
    # The deal's own fields and its linked records' names (joins); the contacts (m2m) and the
    # product rows need queries of their own and are left to the real export.
    bare_fields = ["pk", "external_id", "title", "pipeline__name", "stage__name", "amount", "currency",
                   "company__name", "source__name", "start_date", "close_date", "responsible__last_name",
                   "responsible__first_name", "comment", "loss_reason__name", "lead__title", "created_at"]
    return _timed_export(args, "deal", Deal.objects.order_by("-created_at", "-pk"), bare_fields)


def _timed_export(args, entity: str, bare_queryset, bare_fields: list[str]) -> dict:
    """`exports.prepare(entity)` + `writers.write_csv` against a bare `csv.writer` over
    `values_list`, alternating, `--repeat` rounds each."""
    import statistics
    import tempfile

    from accounts.models import User
    from exchange import exports, writers

    admin = User.objects.get(username="admin")
    count = bare_queryset.count()
    times: dict[str, list[float]] = {"export": [], "bare": []}
    columns = lines = 0
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "out.csv"

        def bare():
            with open(target, "w", encoding="utf-8-sig", newline="") as f:
                writer = csv.writer(f, delimiter=";")
                writer.writerow(bare_fields)
                writer.writerows(bare_queryset.values_list(*bare_fields).iterator(chunk_size=exports.CHUNK))

        def export():
            nonlocal columns, lines
            job = exports.prepare(entity, admin, "")
            columns = len(job.headers)
            writers.write_csv(str(target), job.headers, job.rows())
            with open(target, "rb") as f:
                lines = sum(1 for _line in f) - 1

        for _ in range(args.repeat):
            for name, fn in (("bare", bare), ("export", export)):
                t0 = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - t0)
        size = target.stat().st_size
    best = {k: min(v) for k, v in times.items()}
    return {"entity": entity, "rows": count, "lines": lines, "columns": columns, "bare_columns": len(bare_fields),
            "times": times, "export_seconds": best["export"], "bare_seconds": best["bare"],
            "ratio": best["export"] / best["bare"],
            "median_ratio": statistics.median(times["export"]) / statistics.median(times["bare"]), "size": size}


# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------

HEADING = "# Импорт и экспорт (issue 12): 100 000 leads from Bitrix24's CSV and XLSX, a million rows, an export"


MILLION_ONLY = False
EXPORT_ONLY = False


def _marker(db: str) -> tuple[str, str]:
    name = f"import-million-{db}" if MILLION_ONLY else f"export-{db}" if EXPORT_ONLY else f"import-{db}"
    return f"<!-- bench:{name}:start -->", f"<!-- bench:{name}:end -->"


def write_section(db: str, section: str) -> None:
    def place(text: str, block: str) -> str:
        # After the blocks already there: SQLite's, PostgreSQL's, then the million rows'.
        for other in ("<!-- bench:export-postgres:end -->", "<!-- bench:export-sqlite:end -->",
                      "<!-- bench:import-postgres:end -->", "<!-- bench:import-sqlite:end -->"):
            if other in text and other != _marker(db)[1]:
                before, after = text.split(other, 1)
                return before + other + "\n\n" + block + after
        if HEADING in text:
            before, after = text.split(HEADING, 1)
            head, sep, rest = after.partition("\n## ")
            return before + HEADING + head.rstrip() + "\n\n" + block + "\n\n" + sep.lstrip("\n") + rest
        return text.rstrip() + "\n\n" + HEADING + "\n\n" + block + "\n"

    start, end = _marker(db)
    text = REPORT.read_text()
    REPORT.write_text(common.replace_block(text, start, end, section, place))


def _verdict(ok: bool) -> str:
    return "✅" if ok else "❌"


def _head(r: dict, title: str) -> list[str]:
    m = r["machine"]
    return [
        f"## {title}: {r['database_title']}",
        "",
        f"- **Date:** {r['date']}; {r['git']}",
        f"- **Machine:** {m['nproc']} CPU ({m['cpu']}), {m['ram_gb']} GB RAM, {m['os']}; Python {m['python']}, "
        f"Django {m['django']}" + (f", PostgreSQL {m['postgresql']} (psycopg {m['psycopg']})" if m.get("postgresql")
                                   else f", SQLite {m['sqlite']}"),
        f"- **Database:** {r['database_note']}",
        f"- **Load average** (1 min) at the start and the end: {r['load'][0]} → {r['load'][1]} (2 cores shared with "
        "other work: the rates move with it).",
    ]


def render_million(r: dict) -> str:
    run = r["million_csv"]
    lines = _head(r, "Импорт: a million rows")
    lines += [
        f"- **File:** {n_(r['million'])} leads as Bitrix24's CSV export writes them "
        f"({r['sizes']['million'] / 2**20:.0f} MB, {r['columns']} columns), imported into an empty database.",
        "",
        "| Run | rows | s | rows/s | peak RSS MB | target | created / skipped / rejected |",
        "|---|---:|---:|---:|---:|:---:|---|",
        f"| import, CSV (`{run['file']}`) | {n_(run['rows'])} | {run['seconds']:.0f} | {n_(round(run['rate']))} "
        f"| {run['peak_rss_mb']} | {_verdict(run['peak_rss_mb'] < TARGET_MEMORY_MB)} < {TARGET_MEMORY_MB} MB "
        f"| {n_(run['created'])} / {n_(run['skipped'])} / {n_(run['rejected'])} |",
    ]
    if run.get("report"):
        lines += ["", "First report lines: " + "; ".join(run["report"])]
    return "\n".join(lines)


def _export_table(e: dict, what: str) -> list[str]:
    extra = f" ({n_(e['lines'])} file rows: one per product row)" if e.get("lines", e["rows"]) != e["rows"] else ""
    return [
        f"Export of {n_(e['rows'])} {what} to CSV{extra} (best of {len(e['times']['export'])}, alternating with the "
        "bare writer):",
        "",
        "| Run | columns | s | rows/s | × bare | target |",
        "|---|---:|---:|---:|---:|:---:|",
        f"| bare `csv.writer` over `values_list` | {e['bare_columns']} | {e['bare_seconds']:.2f} "
        f"| {n_(round(e['rows'] / e['bare_seconds']))} | 1 | — |",
        f"| `exports.prepare(\"{e.get('entity', 'lead')}\")` + `writers.write_csv` | {e['columns']} "
        f"| {e['export_seconds']:.2f} | {n_(round(e['rows'] / e['export_seconds']))} | {e['ratio']:.2f} "
        f"| {_verdict(e['ratio'] <= TARGET_EXPORT)} ≤ {TARGET_EXPORT:g}× |",
    ]


def render_exports(r: dict) -> str:
    lines = _head(r, "Экспорт")
    bare = r["bare"]
    lines += [
        f"- **Data:** {n_(r['rows'])} generated leads inserted by the bare `bulk_create` ({bare['seconds']:.0f} s; "
        "no import, so no history entries), then as many deals in the default pipeline's stages, a third "
        "with one or two product rows; `ANALYZE` after each fill.",
        "",
        *_export_table(r["export"], "leads"),
        "",
        *_export_table(r["deal_export"], "deals"),
    ]
    return "\n".join(lines)


def render_section(r: dict) -> str:
    bare = r["bare"]
    lines = _head(r, "Импорт и экспорт")
    lines += [
        f"- **Files:** {n_(r['rows'])} leads, {r['columns']} columns, as Bitrix24's CSV export writes them "
        f"({r['sizes']['csv'] / 2**20:.0f} MB) and as XLSX ({r['sizes']['xlsx'] / 2**20:.0f} MB, write-only openpyxl: "
        "inline strings, no dimension)"
        + (f"; {n_(r['million'])} rows of the same CSV ({r['sizes']['million'] / 2**20:.0f} MB)" if r.get("million")
           else "") + ".",
        "",
        "| Run | rows | s | rows/s | × bare | target | peak RSS MB | created / skipped / rejected |",
        "|---|---:|---:|---:|---:|:---:|---:|---|",
        f"| bare `bulk_create` (batches of {r['batch']}) | {n_(bare['rows'])} | {bare['seconds']:.1f} "
        f"| {n_(round(bare['rate']))} | 1 | — | {bare['peak_rss_mb']} | — |",
    ]
    for key, title in (("csv", "import, Bitrix24 CSV"), ("xlsx", "import, XLSX"), ("million_csv", "import, CSV")):
        run = r.get(key)
        if not run:
            continue
        share = run["rate"] / bare["rate"]
        if key == "million_csv":
            target = f"{_verdict(run['peak_rss_mb'] < TARGET_MEMORY_MB)} < {TARGET_MEMORY_MB} MB"
        else:
            target = f"{_verdict(share >= TARGET_IMPORT)} ≥ ⅓"
        lines.append(
            f"| {title} (`{run['file']}`) | {n_(run['rows'])} | {run['seconds']:.1f} | {n_(round(run['rate']))} "
            f"| {share:.2f} | {target} | {run['peak_rss_mb']} "
            f"| {n_(run['created'])} / {n_(run['skipped'])} / {n_(run['rejected'])} |")
    lines += ["", *_export_table(r["export"], "leads"), ""]
    for key in ("csv", "xlsx", "million_csv"):
        run = r.get(key)
        if run and run.get("report"):
            lines.append(f"First report lines of `{run['file']}`: " + "; ".join(run["report"]))
    return "\n".join(lines).rstrip()


if __name__ == "__main__":
    main()
