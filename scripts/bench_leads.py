#!/usr/bin/env python3
"""Benchmark of the leads pages with 100 000 realistic leads, on SQLite and PostgreSQL.

    .venv/bin/python scripts/bench_leads.py [--db sqlite|postgres|both] [--leads 100000] [--repeat 20]

For each database it makes a throwaway one (SQLite: a file in a temp dir; PostgreSQL: a cluster
initdb'd in a temp dir on a free port, as scripts/test does, stopped and removed at the end, on
errors too), migrates it, fills it with leads, and times in-process (django.test.Client) the list,
the kanban, a kanban column's «Показать ещё» and the lead card against a minimal Django view that
reads the same 50 rows (bench/views.py). The developer's db.sqlite3 is never opened.

Results are printed as markdown and replace that database's section of BENCHMARKS.md
(--no-write to only print). Each database runs in a child process of its own (a Django process
has one set of settings); the parent owns the temp dirs and the PostgreSQL cluster.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import html
import json
import math
import os
import platform
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "BENCHMARKS.md"
TARGET = 3.0  # the list and the board within 3× the minimal view
SLOW_QUERY = 0.001  # queries faster than this are not worth an EXPLAIN
DB_TITLES = {"sqlite": "SQLite", "postgres": "PostgreSQL"}

# Re-run under the project's virtualenv when started with another Python.
_venv_python = ROOT / ".venv" / "bin" / "python"
if _venv_python.exists() and Path(sys.prefix).resolve() != (ROOT / ".venv").resolve() and not os.environ.get(
    "BENCH_NO_REEXEC"
):
    os.environ["BENCH_NO_REEXEC"] = "1"
    os.execv(str(_venv_python), [str(_venv_python), *sys.argv])


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--leads", type=int, default=100_000, help="how many leads to create (default 100000)")
    parser.add_argument("--repeat", type=int, default=20, help="timed requests per page and user (default 20)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed requests per page and user first (default 3)")
    parser.add_argument("--batch", type=int, default=5_000, help="leads per bulk_create batch (default 5000)")
    parser.add_argument("--seed", type=int, default=2026, help="random seed of the generated data")
    parser.add_argument("--no-write", action="store_true", help="print the results, leave BENCHMARKS.md alone")
    # Internal: the child process that does the work for one database.
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.leads < 200:
        parser.error("--leads must be at least 200 (the pages need several pages of leads)")
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    return args


# ---------------------------------------------------------------------------------------------
# Parent: throwaway databases, the child process, the report.
# ---------------------------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pg_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"),
                   key=lambda p: [int(x) for x in re.findall(r"\d+", p.parent.parent.name)] or [0])
    if not found:
        sys.exit("PostgreSQL's binaries are not installed (apt-get install postgresql): cannot benchmark PostgreSQL.")
    return found[-1].parent


@contextlib.contextmanager
def throwaway_database(db: str):
    """Yields (DATABASE_URL, temp dir). Everything is removed on exit, errors included."""
    if db == "sqlite":
        tmp = Path(tempfile.mkdtemp(prefix="crm-bench-sqlite."))
        try:
            yield f"sqlite:///{tmp / 'bench.sqlite3'}", tmp
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return

    pgbin = _pg_bin()
    tmp = Path(tempfile.mkdtemp(prefix="crm-bench-pg."))
    (tmp / "sock").mkdir()
    as_postgres: list[str] = []
    if os.geteuid() == 0:  # initdb refuses root
        shutil.chown(tmp, "postgres", "postgres")
        shutil.chown(tmp / "sock", "postgres", "postgres")
        as_postgres = ["runuser", "-u", "postgres", "--"]
    data = tmp / "data"
    started = False
    try:
        subprocess.run([*as_postgres, str(pgbin / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust",
                        "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"], check=True, stdout=subprocess.DEVNULL)
        port = _free_port()
        # fsync & co. off only speed up the fill (writes); the timed pages only read.
        options = (f"-k {tmp / 'sock'} -p {port} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off")
        subprocess.run([*as_postgres, str(pgbin / "pg_ctl"), "-D", str(data), "-l", str(tmp / "server.log"),
                        "-w", "-t", "30", "-o", options, "start"], check=True, stdout=subprocess.DEVNULL)
        started = True
        subprocess.run([*as_postgres, str(pgbin / "createdb"), "-h", str(tmp / "sock"), "-p", str(port),
                        "-U", "postgres", "crm"], check=True)
        print(f"PostgreSQL: a throwaway cluster in {tmp}, port {port}.", flush=True)
        yield f"postgres://postgres@127.0.0.1:{port}/crm", tmp
    finally:
        if started:
            subprocess.run([*as_postgres, str(pgbin / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        shutil.rmtree(tmp, ignore_errors=True)


def run_database(db: str, args: argparse.Namespace) -> dict:
    with throwaway_database(db) as (url, tmp):
        result_file = tmp / "result.json"
        env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "config.settings.dev", "DEBUG": "False",
               "BENCH_NO_REEXEC": "1", "PYTHONUNBUFFERED": "1"}
        cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", "--db", db, "--leads", str(args.leads),
               "--repeat", str(args.repeat), "--warmup", str(args.warmup), "--batch", str(args.batch),
               "--seed", str(args.seed), "--result", str(result_file)]
        child = subprocess.Popen(cmd, env=env, cwd=ROOT)
        try:
            code = child.wait()
        finally:
            if child.poll() is None:
                child.terminate()
                try:
                    child.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    child.kill()
                    child.wait()
        if code != 0:
            raise SystemExit(f"The {DB_TITLES[db]} benchmark failed (exit code {code}).")
        return json.loads(result_file.read_text())


def main() -> None:
    args = parse_args()
    if args.worker:
        worker(args)
        return
    # SIGTERM ends the run like Ctrl-C: the finally blocks stop the cluster and remove temp dirs.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    dbs = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    for db in dbs:
        result = run_database(db, args)
        section = render_section(result)
        print()
        print(section)
        if not args.no_write:
            write_section(db, section)
            print(f"\n{DB_TITLES[db]}: results written to {REPORT.relative_to(ROOT)}.", flush=True)


# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------

REPORT_HEAD = """# Benchmarks

## How to run

```bash
.venv/bin/python scripts/bench_leads.py                 # both databases, 100 000 leads, 20 timed rounds
.venv/bin/python scripts/bench_leads.py --db sqlite     # or --db postgres
.venv/bin/python scripts/bench_leads.py --leads 5000 --repeat 5 --no-write   # a quick smoke run (~30 s)
```

Options: `--db sqlite|postgres|both` (default both), `--leads N` (100000), `--repeat N` timed rounds
(20), `--warmup N` untimed rounds first (3), `--batch N` leads per `bulk_create` (5000), `--seed N`,
`--no-write` (print only). A run with the defaults takes about 4 minutes per database on 2 cores.

SQLite goes to a temp file; PostgreSQL to a throwaway cluster (`initdb` in a temp dir, a free port,
as `scripts/test` does; needs PostgreSQL's binaries in `/usr/lib/postgresql/*/bin`); both are
removed at the end, on errors too. The developer's `db.sqlite3` is never opened. Each run replaces
its own database's section below (between the `bench:…` markers); the findings at the end are
written by hand.

## What is measured

- **Data.** `migrate` (seeds the reference lists and roles), `accounts.demo.seed()` (departments and
  the users admin, head, ivanov, petrova, sidorov), then 100 000 leads by `bulk_create` in batches:
  Russian company names (ООО/АО/ИП), E.164 phones, e-mails, ИНН with valid checksums (60 %),
  КПП/ОГРН, contacts, sources/niches/CRM systems/client types/sales channels/junk reasons from
  the seeded lists, amounts in RUB/USD/EUR; statuses by age (fresh leads mostly «Не обработан»,
  old ones often closed); `created_at` spread over a year, primary keys growing with it; 92 % of
  the leads owned by the three managers, 5 % by the head, 3 % by the admin (outside the head's
  department tree, so the head sees 97 071). `bulk_create` would stamp `auto_now`/`auto_now_add`
  fields with the current time: the script switches those flags off on the model fields for its
  own process during the fill, so `created_at`, `updated_at` and `status_changed_at` are written
  in the same INSERT (no UPDATE pass). `company_key` is computed as `Lead.save()` would. The
  timeline gets «Лид создан» for every lead and one status entry for every lead past «Не
  обработан» (~170 000 rows); the card's lead (the newest «Выход на ЛПР» lead of ivanov) gets
  products and five comments through `crm.timeline.add_comment`, one pinned. PostgreSQL gets
  `VACUUM ANALYZE` after the fill (autovacuum would); SQLite gets `ANALYZE` (as demo_data and
  imports run after bulk loads).
- **Yardstick.** `bench/views.py`: a plain view reading `Lead.objects.select_related(*ROW_RELATED)
  .order_by("-created_at", "-pk")[:50]` — the rows the list shows by default (the script asserts
  that, for the admin, both show the same 50 ids) — into a 9-column table rendered by Django's
  template engine from a string, without context processors. It is served through
  `bench/urls.py` (the project's URLs plus `/bench/minimal/`), set as `ROOT_URLCONF` by the script
  only.
- **Timing.** In-process `django.test.Client` with `force_login`, `config.settings.dev` with
  DEBUG off (no query log; plain static storage since the manifest needs `collectstatic`), the
  same process and connection for all pages. 3 warm-up rounds, then 20 timed rounds, each round
  requesting every page once (so a drift of the machine weighs on every page alike). Each
  response is checked: HTTP 200 and its content (the total «Найдено лидов: N», 50 rows and the
  expected first row, the active page number, the number of kanban cards, the card's title and
  pinned comment). Queries are counted on one more request per page with
  `CaptureQueriesContext`; «SQL ms» is the database time of that request.
- **Target.** The list (`/leads/`) and the board (`/leads/kanban/`) within 3× the minimal view's
  median, as the head of sales and as the admin. The other pages are reported against the same
  yardstick for information.

"""


def _marker(db: str) -> tuple[str, str]:
    return f"<!-- bench:{db}:start -->", f"<!-- bench:{db}:end -->"


def write_section(db: str, section: str) -> None:
    start, end = _marker(db)
    block = f"{start}\n{section.rstrip()}\n{end}"
    text = REPORT.read_text(encoding="utf-8") if REPORT.exists() else REPORT_HEAD
    if start in text and end in text:
        before, rest = text.split(start, 1)
        _old, after = rest.split(end, 1)
        text = before + block + after
    else:
        # SQLite's section goes before PostgreSQL's; both before the hand-written findings.
        anchor = None
        if db == "sqlite" and _marker("postgres")[0] in text:
            anchor = _marker("postgres")[0]
        elif "\n## Findings" in text:
            anchor = "## Findings"
        if anchor:
            before, after = text.split(anchor, 1)
            text = before + block + "\n\n" + anchor + after
        else:
            text = text.rstrip() + "\n\n" + block + "\n"
    REPORT.write_text(text, encoding="utf-8")


def _n(number: int) -> str:
    return f"{number:,}".replace(",", "\N{NO-BREAK SPACE}")


def _ms(seconds: float) -> str:
    value = seconds * 1000
    return f"{value:.1f}" if value < 100 else f"{value:.0f}"


def render_section(r: dict) -> str:
    m = r["machine"]
    lines = [
        f"## {r['database_title']}",
        "",
        f"- **Date:** {r['date']}",
        f"- **Machine:** {m['nproc']} CPU ({m['cpu']}), {m['ram_gb']} GB RAM, {m['os']}; Python {m['python']}, "
        f"Django {m['django']}, SQLite {m['sqlite']}"
        + (f", PostgreSQL {m['postgresql']}" if m.get("postgresql") else "")
        + (f" (psycopg {m['psycopg']})" if m.get("psycopg") else ""),
        f"- **Database:** {r['database_note']}",
        f"- **Load average** (1 min) at the start and the end of the timing: {r['load'][0]} → {r['load'][1]} "
        "(other work on the machine shows in the p95 more than in the median).",
        f"- **Data:** {_n(r['leads'])} leads ({r['status_spread']}); {_n(r['timeline_entries'])} timeline "
        f"entries; the card's lead #{r['card_pk']} has {r['card_comments']} comments (one pinned).",
        f"- **Fill:** {r['fill']['total']:.1f} s (migrate {r['fill']['migrate']:.1f} s, leads {r['fill']['leads']:.1f} s, "
        f"timeline {r['fill']['timeline']:.1f} s, {r['fill']['analyze_label']} {r['fill']['analyze']:.1f} s).",
        f"- **Timing:** in-process `django.test.Client`, DEBUG=False, {r['warmup']} warm-up rounds then "
        f"{r['repeat']} timed rounds (each round requests every page once); median and p95 (nearest rank) "
        "of the wall time of `client.get()`. Queries: one more untimed request per page, "
        "`CaptureQueriesContext`; «SQL ms» is the time spent in the database during that request.",
        "",
    ]
    for user in r["users"]:
        lines += [
            f"### {user['label']}",
            "",
            "| Page | URL | median ms | p95 ms | min ms | × minimal | ≤ 3× | queries | SQL ms | slowest query ms |",
            "|---|---|---:|---:|---:|---:|:---:|---:|---:|---:|",
        ]
        for page in user["pages"]:
            ratio = page["ratio"]
            verdict = "—" if page["name"] == "minimal" else ("✅" if ratio <= TARGET else "❌")
            if page["target"]:
                verdict = f"**{verdict}**"
            url = page["url"] if len(page["url"]) <= 60 else page["url"][:57] + "…"
            lines.append(
                f"| {page['title']} | `{url}` | {_ms(page['median'])} | {_ms(page['p95'])} | {_ms(page['min'])} "
                f"| {ratio:.2f} | {verdict} "
                f"| {page['queries']} | {_ms(page['sql_time'])} | {_ms(page['slowest']['time'])} |"
            )
        misses = [p["title"].replace("*", "") for p in user["pages"] if p["target"] and p["ratio"] > TARGET]
        lines += ["", ("**Target (list and board ≤ 3× minimal): met.**" if not misses else
                       f"**Target (list and board ≤ 3× minimal): missed by {', '.join(misses)}.**"), ""]
    over = any(p["name"] != "minimal" and p["ratio"] > TARGET for u in r["users"] for p in u["pages"])
    if over:
        lines += [
            "#### Slowest queries of the pages over 3×",
            "",
            "The two slowest queries of each page whose median is over 3× the minimal view's (those taking at "
            f"least {SLOW_QUERY * 1000:.0f} ms and 10% of the page's median), with the database's plan ("
            + ("`EXPLAIN (ANALYZE, BUFFERS)`" if r["db"] == "postgres" else "`EXPLAIN QUERY PLAN`") + ").",
            "",
        ]
        if not r["plans"]:
            lines += ["None: no query of those pages takes 1 ms; their time is spent in Python.", ""]
        for plan in r["plans"]:
            lines += [
                f"<details><summary>{html.escape(plan['pages'])}: {_ms(plan['time'])} ms — "
                f"<code>{html.escape(_short_sql(plan['sql']))}</code></summary>",
                "",
                "```sql",
                _abbreviate_select(plan["sql"]),
                "```",
                "",
                "```",
                plan["plan"].rstrip(),
                "```",
                "",
                "</details>",
                "",
            ]
    if r.get("profiles"):
        lines += [
            "#### Where the time goes: the minimal view, the list and the board",
            "",
            "Ten more requests of each with instruments on: the time in the database, the own time of each "
            "template and `{% block %}` (without the templates rendered inside it and the queries run from it), "
            "the rest; then cProfile by own time. The instruments add overhead, so these totals are higher than "
            "the medians above; compare the parts, not the totals.",
            "",
        ]
    for prof in r.get("profiles", []):
        lines += [
            f"<details><summary>Where the time of «{html.escape(prof['page'])}» goes (as {prof['user']})</summary>",
            "",
            "```",
            prof["text"],
            "```",
            "",
            "</details>",
            "",
        ]
    return "\n".join(lines).rstrip() + "\n"


def _abbreviate_select(sql: str) -> str:
    """«SELECT <46 columns> FROM …»: the column list of a select_related query says nothing."""
    m = re.match(r"(SELECT )(.*?)( FROM .*)", sql, re.S)
    if m and m.group(2).count(",") >= 8:
        return f"{m.group(1)}/* {m.group(2).count(',') + 1} columns */{m.group(3)}"
    return sql


def _short_sql(sql: str) -> str:
    sql = " ".join(sql.split())
    m = re.match(r"SELECT (.{0,40}).*? FROM (\S+)(.*)", sql)
    if not m:
        return sql[:100]
    rest = m.group(3)
    tail = []
    for word in ("WHERE", "GROUP BY", "ORDER BY", "LIMIT", "OFFSET"):
        if f" {word} " in rest:
            tail.append(word)
    select = m.group(1)
    if "COUNT(" in select.upper():
        select = "COUNT(*)"
    elif len(select) >= 40:
        select = "…"
    return f"SELECT {select} FROM {m.group(2)}" + (" … " + ", ".join(tail) if tail else "")


# ---------------------------------------------------------------------------------------------
# Worker: one database, in its own Django process.
# ---------------------------------------------------------------------------------------------

def worker(args: argparse.Namespace) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    db_name = str(settings.DATABASES["default"]["NAME"])
    assert Path(db_name).resolve() != (ROOT / "db.sqlite3").resolve(), "refusing to touch the developer's db.sqlite3"
    assert connection.vendor == ("sqlite" if args.db == "sqlite" else "postgresql"), connection.vendor
    # Timing conditions: no query logging, the bench URLconf (the project's URLs + the minimal
    # view), the test client's host allowed, plain static storage (the manifest storage of the
    # settings needs collectstatic when DEBUG is off).
    settings.DEBUG = False
    settings.ROOT_URLCONF = "bench.urls"
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    settings.STORAGES = {**settings.STORAGES,
                         "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}

    t0 = time.perf_counter()
    call_command("migrate", verbosity=0)
    migrate_time = time.perf_counter() - t0
    print(f"{DB_TITLES[args.db]}: migrated in {migrate_time:.1f} s; filling {args.leads} leads…", flush=True)

    fill = Filler(args)
    fill.run()
    fill.times["migrate"] = migrate_time
    fill.times["total"] = sum(v for k, v in fill.times.items() if k not in ("total", "analyze_label"))
    print(f"{DB_TITLES[args.db]}: filled in {fill.times['total']:.1f} s "
          f"(migrate {migrate_time:.1f} s, leads {fill.times['leads']:.1f} s, timeline {fill.times['timeline']:.1f} s, "
          f"{fill.times['analyze_label']} {fill.times['analyze']:.1f} s).", flush=True)

    result = {
        "db": args.db,
        "database_title": DB_TITLES[args.db] + (f" {_pg_version()}" if args.db == "postgres" else f" {_sqlite_version()}"),
        "database_note": _database_note(args.db),
        "date": dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "machine": machine_info(args.db),
        "leads": fill.count,
        "status_spread": fill.status_spread(),
        "timeline_entries": fill.timeline_count,
        "card_pk": fill.card.pk,
        "card_comments": len(fill.card_comments),
        "fill": fill.times,
        "warmup": args.warmup,
        "repeat": args.repeat,
    }
    bench = Bench(args, fill)
    load_before = os.getloadavg()[0]
    result["users"] = bench.run()
    result["load"] = [f"{load_before:.2f}", f"{os.getloadavg()[0]:.2f}"]
    result["plans"] = bench.explain_slow()
    result["profiles"] = bench.profiles
    Path(args.result).write_text(json.dumps(result, ensure_ascii=False, indent=1, default=str))


def _sqlite_version() -> str:
    import sqlite3

    return sqlite3.sqlite_version


def _pg_version() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return cursor.fetchone()[0]


def _database_note(db: str) -> str:
    from django.db import connection

    if db == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode")
            journal = cursor.fetchone()[0]
        return (f"a temp file, Django's default connection settings (journal_mode={journal}); "
                "`ANALYZE` after the fill, as the project's bulk loads do (planner statistics)")
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('shared_buffers'), current_setting('work_mem')")
        shared_buffers, work_mem = cursor.fetchone()
    return (f"a throwaway cluster over TCP 127.0.0.1 (initdb defaults: shared_buffers={shared_buffers}, "
            f"work_mem={work_mem}; fsync off for the fill); `VACUUM ANALYZE` after the fill, as autovacuum "
            "would do; the test client keeps one connection open (as CONN_MAX_AGE > 0 or a pool would)")


def machine_info(db: str) -> dict:
    import django

    info = {
        "nproc": os.cpu_count(),
        "cpu": "?",
        "ram_gb": "?",
        "os": platform.platform(terse=True),
        "python": platform.python_version(),
        "django": django.get_version(),
        "sqlite": _sqlite_version(),
    }
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = " ".join(line.split(":", 1)[1].split())
                break
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                info["ram_gb"] = round(int(line.split()[1]) / 1024 / 1024, 1)
    if db == "postgres":
        import psycopg

        info["postgresql"] = _pg_version()
        info["psycopg"] = f"{psycopg.__version__}, {psycopg.pq.__impl__}"
    return info


# --- Realistic data -------------------------------------------------------------------------

CITIES = [
    ("Москва", ["ул. Тверская", "Ленинградский пр-т", "ул. Новый Арбат", "Варшавское ш.", "ул. Профсоюзная"], "495"),
    ("Санкт-Петербург", ["Невский пр-т", "пр-т Косыгина", "ул. Садовая", "Московский пр-т"], "812"),
    ("Екатеринбург", ["ул. Малышева", "пр-т Ленина", "ул. 8 Марта"], "343"),
    ("Казань", ["ул. Баумана", "ул. Пушкина", "пр-т Победы"], "843"),
    ("Новосибирск", ["Красный пр-т", "ул. Ленина", "ул. Кирова"], "383"),
    ("Нижний Новгород", ["ул. Большая Покровская", "ул. Рождественская"], "831"),
    ("Самара", ["ул. Ленинградская", "Московское ш."], "846"),
    ("Краснодар", ["ул. Красная", "ул. Северная"], "861"),
    ("Ростов-на-Дону", ["ул. Пушкинская", "ул. Большая Садовая"], "863"),
    ("Уфа", ["ул. Ленина", "пр-т Октября"], "347"),
    ("Пермь", ["ул. Ленина", "Комсомольский пр-т"], "342"),
    ("Воронеж", ["пр-т Революции", "ул. Плехановская"], "473"),
    ("Тюмень", ["ул. Республики", "ул. Мельникайте"], "345"),
    ("Томск", ["пр-т Ленина", "ул. Советская"], "382"),
]
MOBILE_CODES = ["912", "916", "921", "926", "903", "905", "915", "950", "952", "960", "977", "999"]
WORDS_A = ["Северный", "Южный", "Зелёный", "Новый", "Первый", "Городской", "Народный", "Сибирский", "Уральский",
           "Волжский", "Столичный", "Быстрый", "Точный", "Русский", "Добрый", "Золотой", "Белый", "Честный",
           "Умный", "Большой", "Домашний", "Лесной", "Морской", "Цифровой", "Торговый", "Технический"]
WORDS_B = ["ветер", "сад", "дом", "мастер", "двор", "рынок", "маркет", "сервис", "торг", "строй", "парк", "альянс",
           "стиль", "квартал", "мир", "вкус", "хлеб", "текстиль", "металл", "пласт", "капитал", "партнёр", "проект",
           "склад", "инструмент", "климат", "свет", "лес"]
SUFFIXES = ["", "", "", " Плюс", " Групп", " Трейд", " Про", "-М", " 2000", " Регион", " Сервис"]
LEGAL_FORMS = ["ООО"] * 8 + ["АО", "ПАО"]
NEEDS = ["Битрикс24", "тайный покупатель", "обучение менеджеров", "интеграция с 1С", "внедрение CRM",
         "аудит портала", "консультация", "продление лицензии", "тренинг по продажам", "настройка воронки"]
SURNAMES = [("Иванов", "Иванова"), ("Смирнов", "Смирнова"), ("Кузнецов", "Кузнецова"), ("Попов", "Попова"),
            ("Соколов", "Соколова"), ("Лебедев", "Лебедева"), ("Козлов", "Козлова"), ("Новиков", "Новикова"),
            ("Морозов", "Морозова"), ("Волков", "Волкова"), ("Фёдоров", "Фёдорова"), ("Никитин", "Никитина"),
            ("Лактионов", "Лактионова"), ("Орлов", "Орлова"), ("Егоров", "Егорова"), ("Павлов", "Павлова")]
MALE = [("Дмитрий", "Олегович"), ("Игорь", "Петрович"), ("Сергей", "Николаевич"), ("Андрей", "Викторович"),
        ("Алексей", "Игоревич"), ("Павел", "Сергеевич"), ("Михаил", "Андреевич")]
FEMALE = [("Анна", "Игоревна"), ("Елена", "Сергеевна"), ("Ольга", "Андреевна"), ("Мария", "Павловна"),
          ("Татьяна", "Викторовна"), ("Наталья", "Олеговна"), ("Ирина", "Дмитриевна")]
POSITIONS = ["Генеральный директор", "Коммерческий директор", "Собственник", "Руководитель отдела продаж",
             "Директор по развитию", "Исполнительный директор", "Менеджер по закупкам"]
COMMENTS = ["", "", "", "Пришёл с вебинара", "Просили перезвонить после обеда", "Интересует демо портала",
            "Нашли нас через поиск", "Рекомендация от партнёра", "Был клиентом в 2023 году"]
TRANSLIT = dict(zip("абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
                    ["a", "b", "v", "g", "d", "e", "e", "zh", "z", "i", "y", "k", "l", "m", "n", "o", "p", "r", "s",
                     "t", "u", "f", "h", "ts", "ch", "sh", "sch", "", "y", "", "e", "yu", "ya"], strict=True))

# Statuses by the lead's age: fresh leads are mostly unprocessed, old ones mostly closed.
STATUS_WEIGHTS = [  # (max age in days, {status: weight})
    (7, {"new": 70, "first_call": 20, "qualification": 5, "reconnaissance": 2, "decision_maker": 1, "converted": 0,
         "junk": 2}),
    (60, {"new": 38, "first_call": 20, "qualification": 14, "reconnaissance": 8, "decision_maker": 6, "converted": 3,
          "junk": 11}),
    (10_000, {"new": 28, "first_call": 12, "qualification": 10, "reconnaissance": 6, "decision_maker": 5,
              "converted": 10, "junk": 29}),
]
# The responsible: the three managers do most of the work; the head and the admin own a few.
OWNERS = [("ivanov", 31), ("petrova", 31), ("sidorov", 30), ("head", 5), ("admin", 3)]
PATH = ["new", "first_call", "qualification", "reconnaissance", "decision_maker", "converted"]


def translit(text: str) -> str:
    return "".join(TRANSLIT.get(ch, ch) for ch in text.lower() if ch.isalnum() or ch == " ").replace(" ", "")


def inn_for(rng: random.Random, digits: int) -> str:
    """A random ИНН with a valid checksum (10 digits: an organisation, 12: an individual)."""
    w10, w11, w12 = (2, 4, 10, 3, 5, 9, 4, 6, 8), (7, 2, 4, 10, 3, 5, 9, 4, 6, 8), (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
    check = lambda ds, ws: sum(d * w for d, w in zip(ds, ws, strict=False)) % 11 % 10  # noqa: E731
    ds = [rng.randrange(1, 10)] + [rng.randrange(10) for _ in range(digits - 3 if digits == 12 else digits - 2)]
    if digits == 10:
        ds.append(check(ds, w10))
    else:
        ds.append(check(ds, w11))
        ds.append(check(ds, w12))
    return "".join(map(str, ds))


class Filler:
    """Creates the users, reference values are already seeded by the migrations; then the leads
    in bulk_create batches, one «created» and (past «Не обработан») one status entry per lead
    in the timeline, and a few comments on the card's lead."""

    def __init__(self, args):
        self.args = args
        self.rng = random.Random(args.seed)
        self.times: dict = {}
        self.count = 0
        self.timeline_count = 0
        self.by_status: dict[str, int] = {}

    def status_spread(self) -> str:
        from leads.models import Status

        return ", ".join(f"{Status(s).label} {n * 100 / self.count:.0f}%" for s, n in self.by_status.items())

    @contextlib.contextmanager
    def explicit_timestamps(self):
        """bulk_create would stamp auto_now/auto_now_add fields with the current time. The fill
        switches those flags off on the model fields (this process only) for its inserts, so
        created_at/updated_at/status_changed_at are written as generated, in the same INSERT."""
        from crm.models import TimelineEntry
        from leads.models import Lead

        fields = [Lead._meta.get_field(n) for n in ("created_at", "updated_at", "status_changed_at")]
        fields.append(TimelineEntry._meta.get_field("created_at"))
        saved = [(f, f.auto_now, f.auto_now_add) for f in fields]
        for f in fields:
            f.auto_now = f.auto_now_add = False
        try:
            yield
        finally:
            for f, auto_now, auto_now_add in saved:
                f.auto_now, f.auto_now_add = auto_now, auto_now_add

    def run(self) -> None:
        from django.db import connection

        from accounts import demo
        from crm import models as ref

        self.users = demo.seed()
        self.refs = {
            "source": list(ref.Source.objects.all()),
            "niche": list(ref.Niche.objects.all()),
            "client_type": list(ref.ClientType.objects.all()),
            "crm_system": list(ref.CrmSystem.objects.all()),
            "sales_channel": list(ref.SalesChannel.objects.all()),
            "junk_reason": list(ref.JunkReason.objects.all()),
            "product": list(ref.Product.objects.all()),
            "used_product": list(ref.UsedProduct.objects.filter(means_none=False)),
        }
        # Sources are not equally common: cold calls and the website bring most leads.
        self.source_weights = [30, 20, 12, 14, 8, 3, 4, 4, 2, 2, 1][: len(self.refs["source"])]
        self.source_weights += [1] * (len(self.refs["source"]) - len(self.source_weights))
        self.owners = [self.users[login] for login, _w in OWNERS]
        self.owner_weights = [w for _login, w in OWNERS]
        self.now = dt.datetime.now(dt.UTC).replace(microsecond=0)

        t0 = time.perf_counter()
        with self.explicit_timestamps():
            self._leads()
            self.times["leads"] = time.perf_counter() - t0
            t0 = time.perf_counter()
            self._timeline()
        self._card()
        self.times["timeline"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("VACUUM ANALYZE")
                self.times["analyze_label"] = "VACUUM ANALYZE"
            else:
                # What `manage.py demo_data` and bulk imports do after loading (planner statistics).
                cursor.execute("ANALYZE")
                self.times["analyze_label"] = "ANALYZE"
        self.times["analyze"] = time.perf_counter() - t0

    def _company(self):
        rng = self.rng
        city, streets, area = rng.choice(CITIES)
        address = f"{city}, {rng.choice(streets)}, {rng.randrange(1, 180)}"
        if rng.random() < 0.12:
            male = rng.random() < 0.6
            last = rng.choice(SURNAMES)[0 if male else 1]
            first = rng.choice(MALE if male else FEMALE)
            name = f"ИП {last} {first[0][0]}. {first[1][0]}."
            core = last
            inn = inn_for(rng, 12)
        else:
            core = f"{rng.choice(WORDS_A)} {rng.choice(WORDS_B)}{rng.choice(SUFFIXES)}"
            name = f"{rng.choice(LEGAL_FORMS)} «{core}»"
            inn = inn_for(rng, 10)
        return name, core, address, area, inn

    def _phone(self, area: str) -> str:
        code = area if self.rng.random() < 0.55 else self.rng.choice(MOBILE_CODES)
        return f"+7{code}{self.rng.randrange(10**6, 10**7)}"

    def _status(self, age_days: float) -> str:
        for max_age, weights in STATUS_WEIGHTS:
            if age_days <= max_age:
                return self.rng.choices(list(weights), list(weights.values()))[0]
        raise AssertionError

    def _lead(self, created):
        from crm.duplicates import company_key
        from leads.models import Lead

        rng = self.rng
        age = (self.now - created).total_seconds() / 86400
        status = self._status(age)
        stage = PATH.index(status) if status in PATH else rng.randrange(0, 4)  # junk: closed at some stage
        responsible = rng.choices(self.owners, self.owner_weights)[0]
        name, core, address, area, inn = self._company()
        domain = translit(core) + rng.choice([".ru", ".ru", ".ru", ".com", ".рф"])
        ascii_domain = domain if domain.isascii() else translit(core) + ".ru"
        amount = 0
        if stage >= 1 or rng.random() < 0.3:
            amount = rng.choice([15_000, 25_000, 40_000, 60_000, 90_000, 150_000, 250_000, 320_000, 600_000,
                                 1_200_000]) + rng.choice([0, 0, 0, 500, 5_000])
        status_changed = created if status == "new" else created + dt.timedelta(
            seconds=rng.uniform(0, min(age, 90) * 86400))
        updated = min(self.now, status_changed + dt.timedelta(seconds=rng.uniform(0, min(age, 30) * 86400)))
        lead = Lead(
            title=f"{core} — {rng.choice(NEEDS)}",
            source=rng.choices(self.refs["source"], self.source_weights)[0],
            amount=amount,
            currency=rng.choices(["RUB", "USD", "EUR"], [95, 3, 2])[0],
            responsible=responsible,
            created_by=responsible,
            comment=rng.choice(COMMENTS),
            company_name=name,
            company_key=company_key(name),
            company_phone=self._phone(area),
            company_email=f"{rng.choice(['info', 'sales', 'office', 'zakaz'])}@{ascii_domain}" if rng.random() < 0.7 else "",
            company_address=address,
            company_website=domain if rng.random() < 0.5 else "",
            inn=inn if rng.random() < 0.6 else "",
            status=status,
            status_changed_at=status_changed,
            created_at=created,
            updated_at=updated,
            version=1 + stage + rng.randrange(0, 3),
        )
        if lead.inn and len(lead.inn) == 10:
            lead.kpp = f"{lead.inn[:4]}01001"
            lead.ogrn = f"1{rng.randrange(10**11, 10**12)}" + str(rng.randrange(10))
            lead.legal_name = name.replace("ООО", "Общество с ограниченной ответственностью", 1)
            lead.legal_address = address
        if stage >= 1 or rng.random() < 0.4:
            male = rng.random() < 0.5
            first, middle = rng.choice(MALE if male else FEMALE)
            lead.contact_last_name = rng.choice(SURNAMES)[0 if male else 1]
            lead.contact_first_name, lead.contact_middle_name = first, middle
            lead.contact_position = rng.choice(POSITIONS)
            lead.contact_phone = f"+7{rng.choice(MOBILE_CODES)}{rng.randrange(10**6, 10**7)}"
            lead.contact_phone_type = "mobile"
            lead.contact_email = f"{translit(first)[:1]}.{translit(lead.contact_last_name)}@{ascii_domain}"
        if stage >= 2:
            lead.niche = rng.choice(self.refs["niche"])
            lead.client_type = rng.choice(self.refs["client_type"])
            lead.crm_system = rng.choice(self.refs["crm_system"])
        if stage >= 3:
            lead.next_touch = rng.choice(["Бесплатный аудит портала", "Демо в четверг", "Отправить КП"])
            lead.next_touch_date = (self.now + dt.timedelta(days=rng.randrange(-20, 30))).date()
        if stage >= 4:
            lead.sales_channel = rng.choice(self.refs["sales_channel"])
            lead.employees_count = rng.choice([8, 25, 60, 140, 400])
            lead.talked_to_decision_maker = lead.usp_acknowledged = True
            lead.training_info = "Внутренние тренинги для новых продавцов раз в квартал"
        if status == "junk":
            lead.junk_reason = rng.choice(self.refs["junk_reason"])
        return lead

    def _leads(self) -> None:
        from django.db import transaction

        from leads.models import Lead

        n, batch = self.args.leads, self.args.batch
        year = 365 * 86400
        # Oldest first, so primary keys grow with created_at as in a real database.
        offsets = sorted((self.rng.uniform(60, year) for _ in range(n)), reverse=True)
        started = time.perf_counter()
        for i in range(0, n, batch):
            leads = [self._lead(self.now - dt.timedelta(seconds=s)) for s in offsets[i:i + batch]]
            with transaction.atomic():
                Lead.objects.bulk_create(leads, batch_size=batch)
            for lead in leads:
                self.by_status[lead.status] = self.by_status.get(lead.status, 0) + 1
            self.count += len(leads)
            print(f"  leads: {self.count}/{n} ({time.perf_counter() - started:.0f} s)", flush=True)
        self.by_status = {s: self.by_status.get(s, 0) for s in PATH + ["junk"]}

    def _timeline(self) -> None:
        """What leads.services writes: «Лид создан» for each lead, and a status entry for each lead
        that has moved on (one per lead, to its current status)."""
        from django.contrib.contenttypes.models import ContentType
        from django.db import transaction

        from crm.models import TimelineEntry
        from leads.models import Lead, Status

        ct = ContentType.objects.get_for_model(Lead)
        rows = Lead.objects.order_by("pk").values_list("pk", "responsible_id", "created_at", "status",
                                                      "status_changed_at")
        entries = []

        def flush():
            with transaction.atomic():
                TimelineEntry.objects.bulk_create(entries, batch_size=self.args.batch)
            self.timeline_count += len(entries)
            entries.clear()

        for pk, owner, created, status, changed in list(rows):
            entries.append(TimelineEntry(content_type=ct, object_id=pk, kind="created", author_id=owner,
                                         created_at=created, text="Лид создан"))
            if status != Status.NEW:
                entries.append(TimelineEntry(
                    content_type=ct, object_id=pk, kind="status", author_id=owner, created_at=changed,
                    data={"from": "new", "to": status, "from_label": str(Status.NEW.label),
                          "to_label": str(Status(status).label)},
                ))
            if len(entries) >= self.args.batch:
                flush()
        if entries:
            flush()

    def _card(self) -> None:
        """The card's lead: the newest «Выход на ЛПР» lead of a manager, with products and a
        handful of comments, one pinned (crm.timeline.add_comment, as the card's form does)."""
        from crm import timeline
        from leads.models import Lead

        manager = self.users["ivanov"]
        self.card = (Lead.objects.filter(status="decision_maker", responsible=manager).order_by("-created_at").first()
                     or Lead.objects.filter(responsible=manager).order_by("-created_at").first())
        self.card.products_to_sell.set(self.rng.sample(self.refs["product"], 2))
        self.card.used_products.set([self.rng.choice(self.refs["used_product"])])
        texts = [
            "Позвонил, секретарь дала почту ЛПР. Перезвонить во вторник.",
            "Отправил презентацию и кейсы по рознице.",
            "ЛПР попросил КП на внедрение и обучение.",
            "Разведка: сеть из 12 магазинов, портал Битрикс24 куплен, но не внедрён. ЛПР — собственник.",
            "Договорились о бесплатном аудите портала в четверг.",
        ]
        self.card_comments = [timeline.add_comment(self.card, manager, text, pin_it=(i == 3))
                              for i, text in enumerate(texts)]
        self.pinned_text = texts[3]
        self.timeline_count += len(texts)


# --- Timing ---------------------------------------------------------------------------------

class Page:
    def __init__(self, name, title, url, check, target=False, headers=None):
        self.name, self.title, self.url, self.check, self.target = name, title, url, check, target
        self.headers = headers or {}


class QueryTimer:
    """connection.execute_wrapper: each query's SQL, parameters and time. Given template_timer's
    stack, a query run while a template renders is not counted in that template's own time."""

    def __init__(self, stack: list[float] | None = None):
        self.calls: list[tuple[str, object, float]] = []
        self.stack = stack

    def __call__(self, execute, sql, params, many, context):
        t0 = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            elapsed = time.perf_counter() - t0
            self.calls.append((sql, params, elapsed))
            if self.stack:
                self.stack[-1] += elapsed


@contextlib.contextmanager
def template_timer():
    """Time every template render (pages, includes, form widgets) and every {% block %} (whose
    content belongs to the template that fills it, not to the one it extends). Yields
    ({name: [renders, inclusive s, own s]}, stack): own time leaves out the templates and blocks
    rendered inside, and the queries run inside (QueryTimer(stack) adds them to the stack)."""
    from django.template import base, loader_tags

    stats: dict[str, list] = {}
    stack: list[float] = []

    def timed(original, name_of):
        def wrapper(self, context):
            stack.append(0.0)
            t0 = time.perf_counter()
            try:
                return original(self, context)
            finally:
                elapsed = time.perf_counter() - t0
                children = stack.pop()
                if stack:
                    stack[-1] += elapsed
                entry = stats.setdefault(name_of(self, context), [0, 0.0, 0.0])
                entry[0] += 1
                entry[1] += elapsed
                entry[2] += elapsed - children
        return wrapper

    def template_name(template, context) -> str:
        name = getattr(template.origin, "template_name", None) or template.origin.name
        return "bench/views.py (the minimal view's template)" if name == "<unknown source>" else str(name)

    def block_name(node, context) -> str:
        # The block that rendered is the child template's (the last one pushed), not base.html's.
        blocks = context.render_context.get(loader_tags.BLOCK_CONTEXT_KEY)
        origin = getattr((blocks and blocks.get_block(node.name)) or node, "origin", None)
        where = getattr(origin, "template_name", None) or getattr(origin, "name", "?")
        return f"{where} {{% block {node.name} %}}"

    originals = [(base.Template, "_render", base.Template._render, template_name),
                 (loader_tags.BlockNode, "render", loader_tags.BlockNode.render, block_name)]
    for cls, attr, original, name_of in originals:
        setattr(cls, attr, timed(original, name_of))
    try:
        yield stats, stack
    finally:
        for cls, attr, original, _name_of in originals:
            setattr(cls, attr, original)


def _rows(content: str) -> int:
    return content.count('<tr data-lead="')


class Bench:
    def __init__(self, args, fill: Filler):
        self.args, self.fill = args, fill
        self.slow: list[dict] = []  # the slowest queries of the pages over the target
        self.profiles: list[dict] = []  # cProfile of the list and the board (as the first user)

    def run(self) -> list[dict]:
        from django.db import connection

        from leads.selectors import visible_leads

        users = []
        for login, label in (("head", "head — руководитель отдела продаж (видит своё и «Отдел продаж» с подотделами)"),
                             ("admin", "admin — администратор CRM (видит все лиды)")):
            user = self.fill.users[login]
            visible = visible_leads(user).count()
            print(f"Timing as «{login}» ({visible} visible leads)…", flush=True)
            pages = self._pages(user, visible)
            users.append({"login": login, "label": f"{label}: {_n(visible)} лидов",
                          "visible": visible, "pages": self._time(user, pages)})
        connection.close()
        return users

    def _pages(self, user, visible: int) -> list[Page]:
        from django.test import Client
        from django.urls import reverse
        from django.utils.html import escape
        from django.utils.http import urlencode

        from crm import phones
        from leads import views_kanban
        from leads.models import CLOSED, ORDER
        from leads.selectors import visible_leads

        mine = visible_leads(user)
        per_page = 50
        num_pages = math.ceil(visible / per_page)
        deep = min(1000, num_pages)
        # A lead to search for by its phone, typed as people do: «8 (912) 345-67-89».
        candidates = mine.filter(company_phone__startswith="+7912").order_by("pk")
        n = candidates.count()
        target = candidates[n // 2] if n else mine.order_by("pk")[visible // 2]
        phone_query = phones.display(target.company_phone)
        top_amount = mine.order_by("-amount", "-pk").values_list("pk", flat=True).first()
        newest = mine.order_by("-created_at", "-pk").values_list("pk", flat=True).first()
        card = self.fill.card
        counts = {s: mine.filter(status=s).count() for s in ORDER}
        board_cards = sum(min(counts[s], views_kanban.PAGE_SIZE) for s in ORDER if s not in CLOSED)

        # The «Показать ещё» link of the «Не обработан» column, as the board renders it.
        client = Client()
        client.force_login(user)
        board = client.get(reverse("leads:kanban")).content.decode()
        more = re.search(r'href="([^"]*/kanban/column/new/[^"]*after=[^"]*)"', board)
        assert more, "the board has no «Показать ещё» link in the «Не обработан» column"
        more_url = html.unescape(more.group(1))
        more_cards = min(views_kanban.PAGE_SIZE, counts["new"] - views_kanban.PAGE_SIZE)

        if user.is_superuser:
            # The yardstick must read the very rows the list shows.
            ids = [re.findall(r'<tr data-lead="(\d+)"', client.get(url).content.decode())
                   for url in (reverse("bench_minimal"), reverse("leads:list"))]
            assert ids[0] == ids[1] and len(ids[0]) == per_page, "the minimal view and the list show different rows"

        def expect(*needles, rows=None, cards=None):
            def check(content: str) -> None:
                for needle in needles:
                    assert needle in content, f"{needle!r} is not on the page"
                if rows is not None:
                    assert _rows(content) == rows, f"{_rows(content)} rows instead of {rows}"
                if cards is not None:
                    n = content.count('data-testid="kanban-card"')
                    assert n == cards, f"{n} kanban cards instead of {cards}"
            return check

        total = f'data-testid="lead-total">Найдено лидов: {visible}<'
        return [
            Page("minimal", "Minimal view (50 rows)", reverse("bench_minimal"), expect(rows=50)),
            Page("list", "**List**, default", reverse("leads:list"),
                 expect(total, f'<tr data-lead="{newest}"', rows=per_page), target=True),
            Page("list_search", "List, search by phone", f"{reverse('leads:list')}?{urlencode({'q': phone_query})}",
                 expect(escape(target.title), f'<tr data-lead="{target.pk}"')),
            Page("list_amount", "List, sorted by amount", f"{reverse('leads:list')}?sort=-amount",
                 expect(total, f'<tr data-lead="{top_amount}"', rows=per_page)),
            Page("list_deep", f"List, page {deep}", f"{reverse('leads:list')}?page={deep}",
                 expect(total, f'aria-current="page"><span class="page-link">{deep}</span>',
                        rows=per_page if deep < num_pages else visible - per_page * (num_pages - 1))),
            Page("kanban", "**Kanban**", reverse("leads:kanban"),
                 expect('data-testid="kanban-board"', cards=board_cards), target=True),
            Page("kanban_totals", "Kanban column totals (htmx, right after the board)",
                 f"{reverse('leads:kanban')}?part=totals",
                 expect(f'data-testid="kanban-count-new" hx-swap-oob="true">{counts["new"]}<'),
                 headers={"HTTP_HX_REQUEST": "true"}),
            Page("kanban_more", "Kanban, «Показать ещё» (htmx)", more_url,
                 expect(cards=more_cards), headers={"HTTP_HX_REQUEST": "true"}),
            Page("card", "Lead card", reverse("leads:detail", args=[card.pk]),
                 expect(escape(card.title), 'data-testid="timeline"', escape(self.fill.pinned_text))),
        ]

    def _time(self, user, pages: list[Page]) -> list[dict]:
        from django.db import connection
        from django.test import Client
        from django.test.utils import CaptureQueriesContext

        client = Client()
        client.force_login(user)

        def get(page: Page):
            t0 = time.perf_counter()
            response = client.get(page.url, **page.headers)
            elapsed = time.perf_counter() - t0
            assert response.status_code == 200, f"{page.url}: HTTP {response.status_code}"
            page.check(response.content.decode())
            return elapsed

        for _ in range(self.args.warmup):
            for page in pages:
                get(page)
        times: dict[str, list[float]] = {p.name: [] for p in pages}
        # Rounds over all pages rather than page after page: a slow drift of the machine then
        # weighs on every page alike.
        for _ in range(self.args.repeat):
            for page in pages:
                times[page.name].append(get(page))

        results = []
        for page in pages:
            timer = QueryTimer()
            with CaptureQueriesContext(connection) as captured, connection.execute_wrapper(timer):
                get(page)
            ordered = sorted(timer.calls, key=lambda c: c[2], reverse=True)
            sample = sorted(times[page.name])
            results.append({
                "name": page.name, "title": page.title, "url": page.url, "target": page.target,
                "median": statistics.median(sample),
                "p95": sample[max(0, math.ceil(0.95 * len(sample)) - 1)],
                "min": sample[0],
                "queries": len(captured.captured_queries),
                "sql_time": sum(c[2] for c in timer.calls),
                "slowest": {"sql": ordered[0][0], "time": ordered[0][2]},
                "_top": ordered[:2],
            })
        minimal = results[0]["median"]
        for r in results:
            r["ratio"] = r["median"] / minimal
            top = r.pop("_top")
            if r["name"] != "minimal" and r["ratio"] > TARGET:
                for sql, params, elapsed in top:
                    if elapsed < max(SLOW_QUERY, 0.1 * r["median"]):
                        continue
                    self.slow.append({"page": f"{r['title'].replace('*', '')} ({user.username})", "sql": sql,
                                      "params": params, "time": elapsed})
            if (r["target"] or r["name"] == "minimal") and user.username == "head":
                page = next(p for p in pages if p.name == r["name"])
                self.profiles.append({"page": r["title"].replace("*", ""), "user": user.username,
                                      "text": self._profile(page, get)})
            print(f"  {r['title']:<40} median {r['median'] * 1000:8.1f} ms  p95 {r['p95'] * 1000:8.1f} ms  "
                  f"×{r['ratio']:.2f}  {r['queries']} queries, SQL {r['sql_time'] * 1000:.1f} ms", flush=True)
        return results

    def _profile(self, page: Page, get, requests: int = 10) -> str:
        """Where a page's time goes: the database, each template (own time, without the templates
        it includes), the rest; then cProfile's functions by own time. Measured over a few more
        requests with the instruments on (they add some overhead of their own)."""
        import cProfile
        import io
        import pstats

        from django.db import connection

        with template_timer() as (templates, stack):
            sql = QueryTimer(stack)
            with connection.execute_wrapper(sql):
                t0 = time.perf_counter()
                for _ in range(requests):
                    get(page)
                total = time.perf_counter() - t0
        sql_time = sum(c[2] for c in sql.calls)
        template_time = sum(own for _n, _incl, own in templates.values())
        per = 1000 / requests
        out = io.StringIO()
        out.write(f"{requests} requests of {page.url}, per request:\n"
                  f"  total {total * per:7.1f} ms\n"
                  f"  SQL   {sql_time * per:7.1f} ms  ({len(sql.calls) // requests} queries)\n"
                  f"  templates {template_time * per:7.1f} ms  (own time of each template and block, below)\n"
                  f"  other {max(0.0, total - sql_time - template_time) * per:7.1f} ms  "
                  "(view code, middleware, the test client)\n\n")
        out.write(f"{'template / block':<62} {'renders':>7} {'own ms':>7} {'incl. ms':>8}\n")
        for name, (calls, inclusive, own) in sorted(templates.items(), key=lambda kv: -kv[1][2])[:14]:
            out.write(f"{name[:62]:<62} {calls / requests:7.0f} {own * per:7.1f} {inclusive * per:8.1f}\n")

        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(requests):
            get(page)
        profiler.disable()
        stream = io.StringIO()
        stats = pstats.Stats(profiler, stream=stream)
        stats.strip_dirs().sort_stats("tottime").print_stats(15)
        text = stream.getvalue()
        text = re.sub(r"\n\s*(Ordered by|List reduced)[^\n]*", "", text)
        out.write(f"\ncProfile, {requests} requests, by own time:\n" + re.sub(r"\n{3,}", "\n\n", text).strip("\n"))
        return out.getvalue().strip()

    def explain_slow(self) -> list[dict]:
        """EXPLAIN the slowest queries of the pages over the target (each distinct statement once)."""
        from django.db import connection

        plans: dict[str, dict] = {}
        for item in self.slow:
            key = item["sql"] + repr(item["params"])
            if key in plans:
                plans[key]["pages"].append(item["page"])
                plans[key]["time"] = max(plans[key]["time"], item["time"])
                continue
            with connection.cursor() as cursor:
                if connection.vendor == "postgresql":
                    cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + item["sql"], item["params"])
                    plan = "\n".join(row[0] for row in cursor.fetchall())
                    sql = cursor.mogrify(item["sql"], item["params"])  # psycopg's ClientCursor
                else:
                    cursor.execute("EXPLAIN QUERY PLAN " + item["sql"], item["params"])
                    depth: dict[int, int] = {0: -1}
                    lines = []
                    for node, parent, _unused, detail in cursor.fetchall():
                        depth[node] = depth.get(parent, -1) + 1
                        lines.append("  " * depth[node] + detail)
                    plan = "\n".join(lines)
                    sql = connection.ops.last_executed_query(cursor, item["sql"], item["params"])
            plans[key] = {"pages": [item["page"]], "sql": sql, "plan": plan, "time": item["time"]}
        connection.close()
        out = sorted(plans.values(), key=lambda p: p["time"], reverse=True)
        for p in out:
            p["pages"] = ", ".join(dict.fromkeys(p["pages"]))
        return out


if __name__ == "__main__":
    main()
