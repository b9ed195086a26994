"""What the benchmarks share (scripts/bench_leads.py, scripts/bench_deals.py): throwaway databases,
the child process per database, Django's timing conditions, realistic Russian company data, the
timed rounds of pages against a minimal view, EXPLAIN of slow queries, profiles, and the sections of
BENCHMARKS.md between `bench:…` markers.

A benchmark script:
- calls `reexec_in_venv()` first and builds its parser with `add_common_arguments`;
- in the parent, `run(args, script=__file__, extra_args=[...], render_section=…, write_section=…)`
  makes each database, runs the script again with `--worker` in a child process and writes the
  result into BENCHMARKS.md;
- in the worker, `setup_django(args)` (settings, migrate), its own fill, `base_result(args)`, a
  `Bench` subclass that builds the `Page`s and calls `time_pages`, then `explain_slow`.
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
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "BENCHMARKS.md"
TARGET = 3.0  # the target pages within 3× the minimal view (a script may set its own: bench_day.py 2×)
SLOW_QUERY = 0.001  # queries faster than this are not worth an EXPLAIN
DB_TITLES = {"sqlite": "SQLite", "postgres": "PostgreSQL"}


def reexec_in_venv() -> None:
    """Re-run under the project's virtualenv when started with another Python."""
    venv_python = ROOT / ".venv" / "bin" / "python"
    if venv_python.exists() and Path(sys.prefix).resolve() != (ROOT / ".venv").resolve() and not os.environ.get(
        "BENCH_NO_REEXEC"
    ):
        os.environ["BENCH_NO_REEXEC"] = "1"
        os.execv(str(venv_python), [str(venv_python), *sys.argv])


def add_common_arguments(parser, what: str = "records") -> None:
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--repeat", type=int, default=20, help="timed requests per page and user (default 20)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed requests per page and user first (default 3)")
    parser.add_argument("--batch", type=int, default=5_000, help=f"{what} per bulk_create batch (default 5000)")
    parser.add_argument("--seed", type=int, default=2026, help="random seed of the generated data")
    parser.add_argument("--no-write", action="store_true", help="print the results, leave BENCHMARKS.md alone")
    # Internal: the child process that does the work for one database.
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)


def check_common_arguments(parser, args) -> None:
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")


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


def run_database(db: str, args, script: str | Path, extra_args: list[str]) -> dict:
    """Run `script --worker` for one database in a child process (a Django process has one set of
    settings); the parent owns the temp dir and the PostgreSQL cluster."""
    with throwaway_database(db) as (url, tmp):
        result_file = tmp / "result.json"
        env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "config.settings.dev", "DEBUG": "False",
               "BENCH_NO_REEXEC": "1", "PYTHONUNBUFFERED": "1"}
        cmd = [sys.executable, str(Path(script).resolve()), "--worker", "--db", db, *extra_args,
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


def run(args, *, script: str | Path, extra_args: list[str], render_section: Callable[[dict], str],
        write_section: Callable[[str, str], None]) -> None:
    """The parent's work: each database in turn, its section printed and written."""
    # SIGTERM ends the run like Ctrl-C: the finally blocks stop the cluster and remove temp dirs.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    dbs = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    for db in dbs:
        result = run_database(db, args, script, extra_args)
        section = render_section(result)
        print()
        print(section)
        if not args.no_write:
            write_section(db, section)
            print(f"\n{DB_TITLES[db]}: results written to {REPORT.relative_to(ROOT)}.", flush=True)


def replace_block(text: str, start: str, end: str, section: str, place: Callable[[str, str], str]) -> str:
    """`section` between the markers `start` and `end`: in place of the old block, or, when the
    markers are missing, where `place(text, block)` puts it."""
    block = f"{start}\n{section.rstrip()}\n{end}"
    if start in text and end in text:
        before, rest = text.split(start, 1)
        _old, after = rest.split(end, 1)
        return before + block + after
    return place(text, block)


def insert_before(text: str, anchor: str, block: str) -> str:
    before, after = text.split(anchor, 1)
    return before + block + "\n\n" + anchor + after


# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------

def n_(number: int) -> str:
    return f"{number:,}".replace(",", "\N{NO-BREAK SPACE}")


def ms(seconds: float) -> str:
    value = seconds * 1000
    return f"{value:.1f}" if value < 100 else f"{value:.0f}"


def section_head(r: dict, title: str, data: str, fill: str) -> list[str]:
    """A database's heading and the bullets every section has (machine, database, load, timing)."""
    m = r["machine"]
    return [
        f"## {title}",
        "",
        f"- **Date:** {r['date']}",
        f"- **Machine:** {m['nproc']} CPU ({m['cpu']}), {m['ram_gb']} GB RAM, {m['os']}; Python {m['python']}, "
        f"Django {m['django']}, SQLite {m['sqlite']}"
        + (f", PostgreSQL {m['postgresql']}" if m.get("postgresql") else "")
        + (f" (psycopg {m['psycopg']})" if m.get("psycopg") else ""),
        f"- **Database:** {r['database_note']}",
        f"- **Load average** (1 min) at the start and the end of the timing: {r['load'][0]} → {r['load'][1]} "
        "(other work on the machine shows in the p95 more than in the median).",
        f"- **Data:** {data}",
        f"- **Fill:** {fill}",
        f"- **Timing:** in-process `django.test.Client`, DEBUG=False, {r['warmup']} warm-up rounds then "
        f"{r['repeat']} timed rounds (each round requests every page once); median and p95 (nearest rank) "
        "of the wall time of `client.get()`. Queries: one more untimed request per page, "
        "`CaptureQueriesContext`; «SQL ms» is the time spent in the database during that request.",
        "",
    ]


def page_table(pages: list[dict], ratio_header: str = "× minimal") -> list[str]:
    lines = [
        f"| Page | URL | median ms | p95 ms | min ms | {ratio_header} | ≤ {TARGET:g}× | queries | SQL ms "
        "| slowest query ms |",
        "|---|---|---:|---:|---:|---:|:---:|---:|---:|---:|",
    ]
    for page in pages:
        ratio = page["ratio"]
        verdict = "—" if page["yardstick"] else ("✅" if ratio <= TARGET else "❌")
        if page["target"]:
            verdict = f"**{verdict}**"
        url = page["url"] if len(page["url"]) <= 60 else page["url"][:57] + "…"
        lines.append(
            f"| {page['title']} | `{url}` | {ms(page['median'])} | {ms(page['p95'])} | {ms(page['min'])} "
            f"| {ratio:.2f} | {verdict} "
            f"| {page['queries']} | {ms(page['sql_time'])} | {ms(page['slowest']['time'])} |"
        )
    return lines


def target_line(pages: list[dict], what: str) -> str:
    misses = [p["title"].replace("*", "") for p in pages if p["target"] and p["ratio"] > TARGET]
    return f"**Target ({what}): met.**" if not misses else f"**Target ({what}): missed by {', '.join(misses)}.**"


def plans_section(r: dict) -> list[str]:
    over = any(not p["yardstick"] and p["ratio"] > TARGET for u in r["users"] for p in u["pages"])
    if not over:
        return []
    share = r.get("slow_share", 0.1)
    lines = [
        f"#### Slowest queries of the pages over {TARGET:g}×",
        "",
        f"The two slowest queries of each page whose median is over {TARGET:g}× the minimal view's (those taking at "
        f"least {SLOW_QUERY * 1000:.0f} ms" + (f" and {share:.0%} of the page's median" if share else "")
        + "), with the database's plan ("
        + ("`EXPLAIN (ANALYZE, BUFFERS)`" if r["db"] == "postgres" else "`EXPLAIN QUERY PLAN`") + ").",
        "",
    ]
    if not r["plans"]:
        lines += [f"None: no query of those pages takes {SLOW_QUERY * 1000:.0f} ms"
                  + (f" and {share:.0%} of the page's median" if share else "")
                  + "; their time is spent in Python.", ""]
    for plan in r["plans"]:
        lines += [
            f"<details><summary>{html.escape(plan['pages'])}: {ms(plan['time'])} ms — "
            f"<code>{html.escape(short_sql(plan['sql']))}</code></summary>",
            "",
            "```sql",
            abbreviate_select(plan["sql"]),
            "```",
            "",
            "```",
            plan["plan"].rstrip(),
            "```",
            "",
            "</details>",
            "",
        ]
    return lines


def profiles_section(r: dict, heading: str) -> list[str]:
    lines: list[str] = []
    if r.get("profiles"):
        lines += [
            f"#### {heading}",
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
    return lines


def abbreviate_select(sql: str) -> str:
    """«SELECT <46 columns> FROM …»: the column list of a select_related query says nothing."""
    m = re.match(r"(SELECT )(.*?)( FROM .*)", sql, re.S)
    if m and m.group(2).count(",") >= 8:
        return f"{m.group(1)}/* {m.group(2).count(',') + 1} columns */{m.group(3)}"
    return sql


def short_sql(sql: str) -> str:
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

def setup_django(args) -> float:
    """Django set up for timing, the database migrated. Returns the time of `migrate`."""
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
    # views), the test client's host allowed, plain static storage (the manifest storage of the
    # settings needs collectstatic when DEBUG is off).
    settings.DEBUG = False
    settings.ROOT_URLCONF = "bench.urls"
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    settings.STORAGES = {**settings.STORAGES,
                         "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}

    t0 = time.perf_counter()
    call_command("migrate", verbosity=0)
    return time.perf_counter() - t0


def base_result(args) -> dict:
    return {
        "db": args.db,
        "database_title": DB_TITLES[args.db] + (f" {pg_version()}" if args.db == "postgres" else f" {sqlite_version()}"),
        "database_note": database_note(args.db),
        "date": dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "machine": machine_info(args.db),
        "warmup": args.warmup,
        "repeat": args.repeat,
    }


def git_state() -> str:
    """The commit measured and whether the product's files differ from it (the benchmarks' own
    files aside), e.g. «7593a00 (2026-11-27 06:06 UTC), no uncommitted changes»."""
    def git(*cmd) -> str:
        return subprocess.run(["git", "-C", str(ROOT), *cmd], capture_output=True, text=True, check=True,
                              env={**os.environ, "TZ": "UTC"}).stdout

    try:
        commit, when = git("log", "-1", "--format=%h %cd", "--date=format-local:%Y-%m-%d %H:%M").split(" ", 1)
        changed = [line[3:] for line in git("status", "--porcelain", "--untracked-files=no").splitlines()]
    except (OSError, subprocess.CalledProcessError, ValueError):
        return "unknown (not a git checkout)"
    own = ("BENCHMARKS.md", "bench/", "scripts/bench_")
    product = [path for path in changed if not path.startswith(own)]
    return f"commit {commit} ({when.strip()} UTC), " + (
        f"with uncommitted changes in {len(product)} files" if product else "no uncommitted changes")


def write_result(args, result: dict) -> None:
    Path(args.result).write_text(json.dumps(result, ensure_ascii=False, indent=1, default=str))


def sqlite_version() -> str:
    import sqlite3

    return sqlite3.sqlite_version


def pg_version() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return cursor.fetchone()[0]


def database_note(db: str) -> str:
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
        "sqlite": sqlite_version(),
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

        info["postgresql"] = pg_version()
        info["psycopg"] = f"{psycopg.__version__}, {psycopg.pq.__impl__}"
    return info


@contextlib.contextmanager
def explicit_timestamps(fields):
    """bulk_create would stamp auto_now/auto_now_add fields with the current time. The fill
    switches those flags off on these model fields (this process only) for its inserts, so the
    timestamps are written as generated, in the same INSERT (no UPDATE pass)."""
    saved = [(f, f.auto_now, f.auto_now_add) for f in fields]
    for f in fields:
        f.auto_now = f.auto_now_add = False
    try:
        yield
    finally:
        for f, auto_now, auto_now_add in saved:
            f.auto_now, f.auto_now_add = auto_now, auto_now_add


def analyze() -> tuple[str, float]:
    """Planner statistics after the bulk load: `VACUUM ANALYZE` on PostgreSQL (autovacuum would),
    `ANALYZE` on SQLite (what `manage.py demo_data` and bulk imports do). (label, seconds)."""
    from django.db import connection

    t0 = time.perf_counter()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("VACUUM ANALYZE")
            label = "VACUUM ANALYZE"
        else:
            cursor.execute("ANALYZE")
            label = "ANALYZE"
    return label, time.perf_counter() - t0


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
TRANSLIT = dict(zip("абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
                    ["a", "b", "v", "g", "d", "e", "e", "zh", "z", "i", "y", "k", "l", "m", "n", "o", "p", "r", "s",
                     "t", "u", "f", "h", "ts", "ch", "sh", "sch", "", "y", "", "e", "yu", "ya"], strict=True))
# The responsible: the three managers do most of the work; the head and the admin own a few
# (the admin is outside the head's department tree, so the head sees about 97 % of the records).
OWNERS = [("ivanov", 31), ("petrova", 31), ("sidorov", 30), ("head", 5), ("admin", 3)]


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


def random_company(rng: random.Random) -> tuple[str, str, str, str, str]:
    """(name, core of the name, address, the city's phone area code, ИНН): an ООО/АО/ПАО or an ИП."""
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


def random_phone(rng: random.Random, area: str) -> str:
    """A company's phone in E.164: the city's landline or a mobile."""
    code = area if rng.random() < 0.55 else rng.choice(MOBILE_CODES)
    return f"+7{code}{rng.randrange(10**6, 10**7)}"


def random_mobile(rng: random.Random) -> str:
    return f"+7{rng.choice(MOBILE_CODES)}{rng.randrange(10**6, 10**7)}"


def random_person(rng: random.Random) -> tuple[str, str, str]:
    """(last name, first name, patronymic)."""
    male = rng.random() < 0.5
    first, middle = rng.choice(MALE if male else FEMALE)
    return rng.choice(SURNAMES)[0 if male else 1], first, middle


# --- Timing ---------------------------------------------------------------------------------

class Page:
    """A timed page. `yardstick` names the page it is compared with (None or its own name: it is
    a yardstick); `check(content)` asserts the response shows what it should; `profile`: profiled
    as the profiled user (default: target pages and yardsticks)."""

    def __init__(self, name, title, url, check, target=False, headers=None, yardstick="minimal", profile=None,
                 group=""):
        self.name, self.title, self.url, self.check, self.target = name, title, url, check, target
        self.headers = headers or {}
        self.yardstick = None if yardstick == name else yardstick
        self.profile = (target or self.yardstick is None) if profile is None else profile
        self.group = group


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


class Bench:
    """Timed rounds of pages for one user, the slowest queries of the pages over the target, and
    profiles of the target pages. Subclasses build the pages (`run`)."""

    profile_user = "head"
    # A query of a page over the target is EXPLAINed when it takes this share of the page's median.
    slow_share = 0.1

    def __init__(self, args):
        self.args = args
        self.slow: list[dict] = []  # the slowest queries of the pages over the target
        self.profiles: list[dict] = []  # cProfile of the target pages (as profile_user)

    def time_pages(self, user, pages: list[Page]) -> list[dict]:
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
                "yardstick": page.yardstick is None, "group": page.group,
                "median": statistics.median(sample),
                "p95": sample[max(0, math.ceil(0.95 * len(sample)) - 1)],
                "min": sample[0],
                "queries": len(captured.captured_queries),
                "sql_time": sum(c[2] for c in timer.calls),
                "slowest": {"sql": ordered[0][0], "time": ordered[0][2]} if ordered else {"sql": "", "time": 0.0},
                "_top": ordered[:2],
            })
        medians = {r["name"]: r["median"] for r in results}
        for page, r in zip(pages, results, strict=True):
            r["ratio"] = r["median"] / medians[page.yardstick or page.name]
            top = r.pop("_top")
            if not r["yardstick"] and r["ratio"] > TARGET:
                for sql, params, elapsed in top:
                    if elapsed < max(SLOW_QUERY, self.slow_share * r["median"]):
                        continue
                    self.slow.append({"page": f"{r['title'].replace('*', '')} ({user.username})", "sql": sql,
                                      "params": params, "time": elapsed})
            if page.profile and user.username == self.profile_user:
                self.profiles.append({"page": r["title"].replace("*", ""), "user": user.username,
                                      "text": self.profile(page, get)})
            print(f"  {r['title']:<40} median {r['median'] * 1000:8.1f} ms  p95 {r['p95'] * 1000:8.1f} ms  "
                  f"×{r['ratio']:.2f}  {r['queries']} queries, SQL {r['sql_time'] * 1000:.1f} ms", flush=True)
        return results

    def profile(self, page: Page, get, requests: int = 10) -> str:
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


def expect(*needles, count: dict[str, int] | None = None) -> Callable[[str], None]:
    """A response check: each needle is on the page; each marker of `count` occurs that many times."""
    def check(content: str) -> None:
        for needle in needles:
            assert needle in content, f"{needle!r} is not on the page"
        for marker, n in (count or {}).items():
            found = content.count(marker)
            assert found == n, f"{found} × {marker!r} instead of {n}"
    return check
