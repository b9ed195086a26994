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
import gc
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


def add_common_arguments(parser, what: str = "records", *, stored: bool = False) -> None:
    """The options every benchmark has; `stored`: also --keep/--reuse/--port/--fill-only/--explain
    (bench_leads.py, bench_deals.py)."""
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--repeat", type=int, default=20, help="timed requests per page and user (default 20)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed requests per page and user first (default 3)")
    parser.add_argument("--batch", type=int, default=5_000, help=f"{what} per bulk_create batch (default 5000)")
    parser.add_argument("--seed", type=int, default=2026, help="random seed of the generated data")
    parser.add_argument("--no-write", action="store_true", help="print the results, leave BENCHMARKS.md alone")
    # Internal: the child process that does the work for one database.
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    parser.set_defaults(keep=None, reuse=None, port=None, fill_only=False, explain=False, json=None,
                        no_profile=False)
    if not stored:
        return
    kept = parser.add_mutually_exclusive_group()
    kept.add_argument("--keep", metavar="DIR", type=Path,
                      help="fill a new database and keep it: PostgreSQL a cluster directory DIR (left stopped), "
                           "SQLite a file DIR; needs --db sqlite or postgres")
    kept.add_argument("--reuse", metavar="DIR", type=Path,
                      help="start a kept database (--keep), migrate it, ANALYZE, skip the fill (or fill only what "
                           "it lacks: bench_deals.py fills deals into a kept leads database) and measure")
    parser.add_argument("--port", type=int, help="PostgreSQL's port for --keep/--reuse (default: a free one)")
    parser.add_argument("--fill-only", action="store_true",
                        help="with --keep or --reuse: fill (what is missing) and stop, no timing")
    parser.add_argument("--json", metavar="FILE", help="also write the raw result (JSON) to FILE")
    parser.add_argument("--no-profile", action="store_true",
                        help="skip the profiles of the target pages (a quick run: tests/test_bench_scripts.py)")
    parser.add_argument("--explain", action="store_true",
                        help="EXPLAIN (ANALYZE, BUFFERS) the slowest query of every page into the report "
                             "(EXPLAIN QUERY PLAN on SQLite)")


def check_common_arguments(parser, args) -> None:
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    stored = args.keep or args.reuse
    if stored and args.db == "both":
        parser.error("--keep and --reuse need one database: --db sqlite or --db postgres")
    if args.fill_only and not stored:
        parser.error("--fill-only needs --keep or --reuse (a throwaway database filled and not measured is lost)")
    if args.keep and not args.worker and args.keep.exists() and (args.keep.is_file() or any(args.keep.iterdir())):
        parser.error(f"--keep {args.keep}: it exists already (use --reuse {args.keep})")
    if args.reuse and not args.worker:
        if args.db == "postgres" and not (args.reuse / "PG_VERSION").is_file():
            parser.error(f"--reuse {args.reuse}: not a PostgreSQL cluster directory (no PG_VERSION)")
        if args.db == "sqlite" and not args.reuse.is_file():
            parser.error(f"--reuse {args.reuse}: no such SQLite file")


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


def _as_postgres() -> list[str]:
    """initdb and postgres refuse root: run them as the postgres user then."""
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


def _chown_postgres(*paths: Path) -> None:
    if os.geteuid() == 0:
        for path in paths:
            shutil.chown(path, "postgres", "postgres")


def pg_start(data: Path, port: int, sock: Path, log: Path) -> None:
    """Start the cluster in `data` on 127.0.0.1:`port` (its socket in `sock`). fsync & co. off and
    a large WAL only speed up the fill and migrations (writes); the timed pages only read."""
    options = (f"-k {sock} -p {port} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "
               "-c full_page_writes=off -c max_wal_size=4GB")
    subprocess.run([*_as_postgres(), str(_pg_bin() / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", "300",
                    "-o", options, "start"], check=True, stdout=subprocess.DEVNULL)


def pg_stop(data: Path) -> None:
    subprocess.run([*_as_postgres(), str(_pg_bin() / "pg_ctl"), "-D", str(data), "-m", "fast", "-t", "300", "stop"],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)


def pg_initdb(data: Path) -> None:
    subprocess.run([*_as_postgres(), str(_pg_bin() / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust",
                    "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"], check=True, stdout=subprocess.DEVNULL)


@contextlib.contextmanager
def database(db: str, keep: Path | None = None, reuse: Path | None = None, port: int | None = None):
    """Yields (DATABASE_URL, temp dir) for one run. By default a throwaway database, removed on
    exit, errors included. `keep`: a new database that stays (SQLite: that file; PostgreSQL: a
    cluster initdb'd in that directory, stopped at the end). `reuse`: such a kept database,
    started again (PostgreSQL) and stopped at the end. The temp dir (the result, the socket, the
    server's log) is always removed."""
    tmp = Path(tempfile.mkdtemp(prefix=f"crm-bench-{db}."))
    stored = keep or reuse
    try:
        if db == "sqlite":
            if keep:
                keep.parent.mkdir(parents=True, exist_ok=True)
            yield f"sqlite:///{(stored or tmp / 'bench.sqlite3').resolve()}", tmp
            return
        (tmp / "sock").mkdir()
        _chown_postgres(tmp, tmp / "sock")
        data = stored.resolve() if stored else tmp / "data"
        started = False
        try:
            if not reuse:
                if keep:
                    data.mkdir(parents=True, exist_ok=True)
                    _chown_postgres(data)
                pg_initdb(data)
            port = port or _free_port()
            pg_start(data, port, tmp / "sock", tmp / "server.log")
            started = True
            if not reuse:
                subprocess.run([*_as_postgres(), str(_pg_bin() / "createdb"), "-h", str(tmp / "sock"), "-p", str(port),
                                "-U", "postgres", "crm"], check=True)
            what = "a kept cluster" if reuse else ("a new kept cluster" if keep else "a throwaway cluster")
            print(f"PostgreSQL: {what} in {data}, port {port}.", flush=True)
            yield f"postgres://postgres@127.0.0.1:{port}/crm", tmp
        finally:
            if started:
                pg_stop(data)
            if keep or reuse:
                if started:
                    write_cluster_readme(data)
                print(f"PostgreSQL: the cluster in {data} is stopped and kept.", flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


CLUSTER_README = """A PostgreSQL cluster kept by scripts/bench_leads.py / scripts/bench_deals.py (--keep).
It is stopped. PostgreSQL {version} binaries: {pgbin}. Superuser «postgres», no password (trust),
database «crm». What it holds: the table bench_meta (one row per script: counts, the card's pk, the
fill's times).

Use a copy, never this directory (a reuse migrates it to the branch measured):
    cp -a {data} /tmp/me-pg          # while it is stopped; as root (keeps the owner postgres)
Measure the copy with the benchmarks (they start it on --port, migrate, ANALYZE, time, stop it):
    .venv/bin/python scripts/bench_leads.py --db postgres --reuse /tmp/me-pg --port 5441 --no-write
    .venv/bin/python scripts/bench_deals.py --db postgres --reuse /tmp/me-pg --port 5441 --no-write
Start the copy by hand on a port of your own (as root: through runuser; as the user postgres: directly):
    runuser -u postgres -- {pgbin}/pg_ctl -D /tmp/me-pg -l /tmp/me-pg.log -w -t 300 \\
        -o "-k /tmp -p 5441 -c listen_addresses=127.0.0.1" start
    DATABASE_URL=postgres://postgres@127.0.0.1:5441/crm .venv/bin/python manage.py migrate
    psql -h 127.0.0.1 -p 5441 -U postgres crm -c 'ANALYZE'
    ... EXPLAIN (ANALYZE, BUFFERS) …, time your pages ...
    runuser -u postgres -- {pgbin}/pg_ctl -D /tmp/me-pg -m fast stop
    rm -rf /tmp/me-pg
(If not root and the copy is yours: `chmod 700 /tmp/me-pg` and pg_ctl without runuser.)
"""


def write_cluster_readme(data: Path) -> None:
    pgbin = _pg_bin()
    version = pgbin.parent.name
    (data / "README.txt").write_text(CLUSTER_README.format(version=version, pgbin=pgbin, data=data))
    _chown_postgres(data / "README.txt")


def run_database(db: str, args, script: str | Path, extra_args: list[str]) -> dict | None:
    """Run `script --worker` for one database in a child process (a Django process has one set of
    settings); the parent owns the temp dir and the PostgreSQL cluster."""
    with database(db, args.keep, args.reuse, args.port) as (url, tmp):
        result_file = tmp / "result.json"
        env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "config.settings.dev", "DEBUG": "False",
               "BENCH_NO_REEXEC": "1", "PYTHONUNBUFFERED": "1"}
        stored = []
        if args.keep or args.reuse:
            stored = ["--keep" if args.keep else "--reuse", str((args.keep or args.reuse).resolve())]
        flags = [f for f, on in (("--fill-only", args.fill_only), ("--explain", args.explain),
                                 ("--no-profile", args.no_profile)) if on]
        cmd = [sys.executable, str(Path(script).resolve()), "--worker", "--db", db, *extra_args, *stored, *flags,
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
        if args.fill_only:
            return None
        return json.loads(result_file.read_text())


RESULTS = ROOT / "bench" / "results"


def run(args, *, script: str | Path, extra_args: list[str], render_section: Callable,
        write_section: Callable[[str, str], None], size_key: str | None = None) -> None:
    """The parent's work: each database in turn, its section printed and written. With
    `size_key` (bench_leads.py: "leads"), results are kept by size in bench/results/ and
    `render_section` gets every kept result of the database (the report puts 100k and 1M side by
    side); otherwise it gets this run's result."""
    # SIGTERM ends the run like Ctrl-C: the finally blocks stop the cluster and remove temp dirs.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    dbs = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    for db in dbs:
        result = run_database(db, args, script, extra_args)
        if result is None:  # --fill-only
            continue
        if getattr(args, "json", None):
            Path(args.json).write_text(json.dumps(result, ensure_ascii=False, indent=1))
        results = result
        if size_key:
            stored = RESULTS / f"{Path(script).stem}-{db}-{size_label(result[size_key])}.json"
            if not args.no_write:
                stored.parent.mkdir(exist_ok=True)
                stored.write_text(json.dumps(result, ensure_ascii=False, indent=1))
            results = [result] if args.no_write else [
                json.loads(path.read_text()) for path in sorted(RESULTS.glob(f"{Path(script).stem}-{db}-*.json"))]
        section = render_section(results)
        print()
        print(section)
        if not args.no_write:
            write_section(db, section)
            print(f"\n{DB_TITLES[db]}: results written to {REPORT.relative_to(ROOT)}.", flush=True)


def size_label(n: int) -> str:
    """1000 → 1k, 100000 → 100k, 1000000 → 1M."""
    if n >= 1_000_000 and n % 100_000 == 0:
        return f"{n / 1_000_000:g}M"
    if n >= 1_000 and n % 1_000 == 0:
        return f"{n // 1_000}k"
    return str(n)


def summary_tables(results: list[dict], size_key: str, noun: str, group: str | None = None,
                   visible: str | None = None) -> list[str]:
    """Per persona, a table of the pages with the kept sizes side by side: the median, the ratio
    to the yardstick (✅/❌ against the page's target) and the query count at each size (⚠ when
    they differ: a page's queries must not grow with the data)."""
    results = sorted(results, key=lambda r: r[size_key])
    sizes = [size_label(r[size_key]) for r in results]
    lines: list[str] = []
    for user in results[-1]["users"]:
        login = user["login"]
        by_size = [{p["name"]: p for u in r["users"] if u["login"] == login for p in u["pages"]} for r in results]
        pages = [p for p in user["pages"] if group is None or p["group"] == group]
        head = " | ".join(f"{size} ms | {size} ×" for size in sizes)
        lines += [
            f"**{login}**" + (f" ({group})" if group else "") + " — " + ", ".join(
                f"{size}: {visible_of(r, login, visible)} {noun}" for size, r in zip(sizes, results, strict=True)),
            "",
            f"| Page | target | {head} | queries ({' / '.join(sizes)}) |",
            "|---|:---:|" + "---:|---:|" * len(sizes) + "---:|",
        ]
        for page in pages:
            cells, queries = [], []
            for found in by_size:
                p = found.get(page["name"])
                if p is None:
                    cells.append("— | —")
                    queries.append("—")
                    continue
                mark = "" if not p["target"] else (" ❌" if over_limit(p) else " ✅")
                warn = " ⚠" if p.get("failed") else ""
                cells.append(f"{ms(p['median'])} | {p['ratio']:.2f}{mark}{warn}")
                queries.append(str(p["queries"]))
            differ = " ⚠" if len({q for q in queries if q != "—"}) > 1 else ""
            limit = "—" if not page["target"] else f"≤ {page.get('limit') or TARGET:g}×"
            title = re.sub(r"\b(page|the last page) \(?\d+\)?", r"\1 N", page["title"]) if len(sizes) > 1 else page["title"]
            lines.append(f"| {title} | {limit} | {' | '.join(cells)} | {' / '.join(queries)}{differ} |")
        lines.append("")
    return lines


def visible_of(r: dict, login: str, key: str | None = None) -> str:
    """How many records `login` sees (`key` of a dict of counts: bench_deals.py's)."""
    for u in r["users"]:
        if u["login"] == login:
            v = u["visible"]
            return n_(v if isinstance(v, int) else v[key or next(iter(v))])
    return "?"


def demote(lines: list[str]) -> list[str]:
    """Markdown headings one level down (a size's details under the database's heading)."""
    return [("#" + line) if line.startswith("#") else line for line in lines]


def explains_section(r: dict) -> list[str]:
    """--explain: the plan of each page's slowest query, as each persona saw it."""
    if not r.get("explains"):
        return []
    how = "`EXPLAIN (ANALYZE, BUFFERS)`" if r["db"] == "postgres" else "`EXPLAIN QUERY PLAN`"
    lines = ["#### The main query of each page", "",
             f"The slowest query of each page's counted request, with its plan ({how}, run right after the timing).", ""]
    for item in r["explains"]:
        lines += [
            f"<details><summary>{html.escape(item['page'])} ({item['user']}): {ms(item['time'])} ms — "
            f"<code>{html.escape(short_sql(item['sql']))}</code></summary>",
            "", "```sql", abbreviate_select(item["sql"]), "```", "", "```", item["plan"].rstrip(), "```", "",
            "</details>", "",
        ]
    return lines


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


def write_db_section(prefix: str, db: str, section: str, findings: str, new_report: str = "# Benchmarks\n") -> None:
    """A script's section of one database in BENCHMARKS.md, between the markers
    `bench:<prefix><db>`: in place of the old one; a new one goes before the same script's
    PostgreSQL section (SQLite's), else before the hand-written `findings` heading, else at the end."""
    def marker(name: str) -> tuple[str, str]:
        return f"<!-- bench:{prefix}{name}:start -->", f"<!-- bench:{prefix}{name}:end -->"

    def place(text: str, block: str) -> str:
        if db == "sqlite" and marker("postgres")[0] in text:
            return insert_before(text, marker("postgres")[0], block)
        if f"\n{findings}" in text:
            return insert_before(text, findings, block)
        return text.rstrip() + "\n\n" + block + "\n"

    text = REPORT.read_text(encoding="utf-8") if REPORT.exists() else new_report
    REPORT.write_text(replace_block(text, *marker(db), section, place), encoding="utf-8")


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


def over_limit(page: dict) -> bool:
    return not page["yardstick"] and page["ratio"] > (page.get("limit") or TARGET)


def verdict(page: dict) -> str:
    if page["yardstick"] or not page["target"]:
        return "—"
    limit = page.get("limit") or TARGET
    return f"**{'❌' if page['ratio'] > limit else '✅'} ≤ {limit:g}×**"


def page_table(pages: list[dict], ratio_header: str = "× minimal") -> list[str]:
    lines = [
        f"| Page | URL | median ms | p95 ms | min ms | {ratio_header} | target | queries | SQL ms "
        "| slowest query ms |",
        "|---|---|---:|---:|---:|---:|:---:|---:|---:|---:|",
    ]
    for page in pages:
        url = page["url"] if len(page["url"]) <= 60 else page["url"][:57] + "…"
        title = page["title"] + (f" ⚠ **wrong result:** {html.escape(page['failed'])}" if page.get("failed") else "")
        lines.append(
            f"| {title} | `{url}` | {ms(page['median'])} | {ms(page['p95'])} | {ms(page['min'])} "
            f"| {page['ratio']:.2f} | {verdict(page)} "
            f"| {page['queries']} | {ms(page['sql_time'])} | {ms(page['slowest']['time'])} |"
        )
    return lines


def target_line(pages: list[dict], what: str) -> str:
    misses = [p["title"].replace("*", "") for p in pages if p["target"] and over_limit(p)]
    return f"**Target ({what}): met.**" if not misses else f"**Target ({what}): missed by {', '.join(misses)}.**"


def plans_section(r: dict) -> list[str]:
    over = any(over_limit(p) for u in r["users"] for p in u["pages"])
    if not over:
        return []
    share = r.get("slow_share", 0.1)
    lines = [
        "#### Slowest queries of the pages over their target",
        "",
        f"The two slowest queries of each page whose median is over its target (or {TARGET:g}× the minimal view's "
        "for a page without one; those taking at "
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
    if args.reuse:
        # The kept data's counters and planner statistics, after what the migrations of the code
        # measured may have added (columns, indexes, tables).
        recount()
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return time.perf_counter() - t0


# --- A kept database (--keep / --reuse) -----------------------------------------------------

META_TABLE = "bench_meta"


def save_meta(name: str, data: dict) -> None:
    """What a fill knows and a reuse needs (the card's pk, the counts …), in a table of the kept
    database itself (Django's models and migrations never see it), so a copy carries it along."""
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE IF NOT EXISTS {META_TABLE} (name varchar(50) PRIMARY KEY, data text NOT NULL)")
        cursor.execute(f"DELETE FROM {META_TABLE} WHERE name = %s", [name])
        cursor.execute(f"INSERT INTO {META_TABLE} (name, data) VALUES (%s, %s)",
                       [name, json.dumps(data, ensure_ascii=False, default=str)])


def load_meta(name: str) -> dict | None:
    """The fill's metadata saved by save_meta, None when this database has not been filled with it."""
    from django.db import connection

    if META_TABLE not in connection.introspection.table_names():
        return None
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT data FROM {META_TABLE} WHERE name = %s", [name])
        row = cursor.fetchone()
    return json.loads(row[0]) if row else None


def insert(model, objs: list, batch: int, *, pks: bool = False) -> None:
    """Insert unsaved instances of `model` by its manager's bulk_create (a model's own bulk_create
    derives columns, e.g. Lead's search column; the fill has switched auto_now off, so every field
    is written as set). PostgreSQL: Django's bulk_create underneath is replaced, for this call, by
    COPY — several times faster than the multi-row INSERT, whose huge statements the server spends
    most of a fill parsing; with `pks`, the primary keys are taken from the table's sequence first
    and set on the instances (bulk_create's RETURNING)."""
    from django.db import connection, transaction
    from django.db.models import QuerySet

    if not objs:
        return
    if connection.vendor != "postgresql":
        with transaction.atomic():
            model.objects.bulk_create(objs, batch_size=batch)
        return

    def copy(queryset, rows, *args, **kwargs):
        rows = list(rows)
        _copy(queryset.model, rows, pks)
        return rows

    original = QuerySet.bulk_create
    QuerySet.bulk_create = copy
    try:
        with transaction.atomic():
            model.objects.bulk_create(objs, batch_size=batch)
    finally:
        QuerySet.bulk_create = original


def _copy(model, objs: list, pks: bool) -> None:
    from django.db import connection

    meta = model._meta
    qn = connection.ops.quote_name
    fields = [f for f in meta.concrete_fields if not (f.primary_key and not pks)]
    with connection.cursor() as cursor:
        if pks:
            cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                           [meta.db_table, meta.pk.column, len(objs)])
            for obj, (pk,) in zip(objs, cursor.fetchall(), strict=True):
                obj.pk = pk
        columns = ", ".join(qn(f.column) for f in fields)
        with cursor.cursor.copy(f"COPY {qn(meta.db_table)} ({columns}) FROM STDIN") as copy:
            for obj in objs:
                copy.write_row([f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields])
    for obj in objs:
        obj._state.adding, obj._state.db = False, "default"


@contextlib.contextmanager
def indexes_after_fill(models: list, times: dict):
    """PostgreSQL: the secondary indexes of these models' tables, when the tables are empty, are
    dropped for the fill and made again after it (one sorted build each instead of millions of
    random inserts); primary keys and unique constraints stay. `times["indexes"]` gets the build's
    seconds. SQLite: nothing (its fill is 100 000 rows)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        yield
        return
    tables = [m._meta.db_table for m in models if not m.objects.exists()]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = current_schema() "
            "AND i.tablename = ANY(%s) AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
            [tables])
        indexes = cursor.fetchall()
        for name, _definition in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
    try:
        yield
    finally:
        t0 = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("SET maintenance_work_mem = '512MB'")
            for _name, definition in indexes:
                cursor.execute(definition)
        times["indexes"] = times.get("indexes", 0.0) + time.perf_counter() - t0
        print(f"  {len(indexes)} indexes of {', '.join(tables)} made again in {time.perf_counter() - t0:.0f} s",
              flush=True)


def base_result(args) -> dict:
    return {
        "db": args.db,
        "database_title": DB_TITLES[args.db] + (f" {pg_version()}" if args.db == "postgres" else f" {sqlite_version()}"),
        "database_note": database_note(args.db, "--reuse" if args.reuse else ("--keep" if args.keep else "")),
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


def database_note(db: str, kept: str = "") -> str:
    """How the database was made; `kept`: «--keep» or «--reuse» when it is a kept one."""
    from django.db import connection

    where = {"--keep": "a new kept ", "--reuse": "a kept "}.get(kept, "a throwaway ")
    after = "; `ANALYZE` again after this run's `migrate`" if kept == "--reuse" else ""
    if db == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode")
            journal = cursor.fetchone()[0]
        return (f"{where}file, Django's default connection settings (journal_mode={journal}); "
                f"`ANALYZE` after the fill, as the project's bulk loads do (planner statistics){after}")
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('shared_buffers'), current_setting('work_mem')")
        shared_buffers, work_mem = cursor.fetchone()
    return (f"{where}cluster over TCP 127.0.0.1 (initdb defaults: shared_buffers={shared_buffers}, "
            f"work_mem={work_mem}; fsync off); `VACUUM ANALYZE` after the fill, as autovacuum "
            f"would do{after}; the test client keeps one connection open (as CONN_MAX_AGE > 0 or a pool would)")


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


def recount() -> None:
    """The fills write rows by bulk_create/COPY, not through the services that keep the counters
    (crm/tallies.py): when the code measured has the command that rebuilds them, run it."""
    from django.core.management import call_command, get_commands

    if "recount_tallies" in get_commands():
        t0 = time.perf_counter()
        call_command("recount_tallies")
        print(f"  recount_tallies: {time.perf_counter() - t0:.1f} s", flush=True)


def analyze() -> tuple[str, float]:
    """The counters (recount) and planner statistics after the bulk load: `VACUUM ANALYZE` on
    PostgreSQL (autovacuum would), `ANALYZE` on SQLite (what `manage.py demo_data` and bulk
    imports do). (label, seconds of the statistics)."""
    from django.db import connection

    recount()
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
    a yardstick); `check(content)` asserts the response shows what it should; `limit`: its target,
    at most this many times the yardstick's median (a target page without a limit: TARGET);
    `profile`: profiled as the profiled user (default: target pages and yardsticks)."""

    def __init__(self, name, title, url, check, target=False, headers=None, yardstick="minimal", profile=None,
                 group="", limit=None, soft=False):
        # soft: a failed check is reported with the page's numbers (a search that finds nothing
        # yet is a finding) instead of ending the run.
        self.soft = soft
        target = target or limit is not None
        self.limit = (limit or TARGET) if target else None
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
        self.explains: list[dict] = []  # --explain: the plan of every page's slowest query

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
            try:
                page.check(response.content.decode())
            except AssertionError as error:
                if not page.soft:
                    raise
                failed.setdefault(page.name, str(error))
            return elapsed

        failed: dict[str, str] = {}

        # What the process holds before the first request (the migration graph `--reuse` loaded, a
        # fill's leftovers) moves out of the garbage collector's reach, as a server worker forked
        # after loading does: otherwise each full collection walks it, and they land on whichever
        # page allocates most — a manager's report timed 2.36× its yardstick in a run after the
        # head's pages where alternating the two in a fresh process gave 1.82–1.86×.
        gc.collect()
        gc.freeze()
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
            # Counted right after an untimed request of the same page: a cached figure that expired
            # since the rounds (the day's norms expire at midnight) is filled again first, so the
            # count is the page's steady one whatever the clock (a run across midnight counted one more).
            get(page)
            timer = QueryTimer()
            with CaptureQueriesContext(connection) as captured, connection.execute_wrapper(timer):
                get(page)
            ordered = sorted(timer.calls, key=lambda c: c[2], reverse=True)
            sample = sorted(times[page.name])
            results.append({
                "name": page.name, "title": page.title, "url": page.url, "target": page.target, "limit": page.limit,
                "yardstick": page.yardstick is None, "group": page.group, "failed": failed.get(page.name),
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
            if self.args.explain and top:
                sql, params, elapsed = top[0]
                self.explains.append({"page": r["title"].replace("*", ""), "user": user.username, "sql": sql,
                                      "params": params, "time": elapsed})
            if not r["yardstick"] and r["ratio"] > (page.limit or TARGET):
                for sql, params, elapsed in top:
                    if elapsed < max(SLOW_QUERY, self.slow_share * r["median"]):
                        continue
                    self.slow.append({"page": f"{r['title'].replace('*', '')} ({user.username})", "sql": sql,
                                      "params": params, "time": elapsed})
            if page.profile and user.username == self.profile_user and not self.args.no_profile:
                self.profiles.append({"page": r["title"].replace("*", ""), "user": user.username,
                                      "text": self.profile(page, get)})
            if r["failed"]:
                print(f"  {r['title']}: the check failed: {r['failed']}", flush=True)
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
            sql, plan = explain(item["sql"], item["params"])
            plans[key] = {"pages": [item["page"]], "sql": sql, "plan": plan, "time": item["time"]}
        connection.close()
        out = sorted(plans.values(), key=lambda p: p["time"], reverse=True)
        for p in out:
            p["pages"] = ", ".join(dict.fromkeys(p["pages"]))
        return out


    def explain_pages(self) -> None:
        """--explain: the plan of every page's slowest query (as each user saw it), in place of
        its parameters in self.explains."""
        for item in self.explains:
            item["sql"], item["plan"] = explain(item.pop("sql"), item.pop("params"))


def explain(sql: str, params) -> tuple[str, str]:
    """(the statement with its parameters, its plan): `EXPLAIN (ANALYZE, BUFFERS)` on PostgreSQL
    (the query runs again), `EXPLAIN QUERY PLAN` on SQLite (as a tree)."""
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
            return cursor.mogrify(sql, params), plan  # psycopg's ClientCursor
        cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        depth: dict[int, int] = {0: -1}
        lines = []
        for node, parent, _unused, detail in cursor.fetchall():
            depth[node] = depth.get(parent, -1) + 1
            lines.append("  " * depth[node] + detail)
        return connection.ops.last_executed_query(cursor, sql, params), "\n".join(lines)


def name_word(name: str) -> str:
    """A word of a company's name people would type: «Северный» of ООО «Северный ветер Плюс»,
    the surname of «ИП Иванов И. О.»."""
    if "«" in name:
        return name.split("«", 1)[1].split()[0].strip("»")
    words = name.split()
    return words[1] if len(words) > 1 and words[0] == "ИП" else words[0]


def check_total(content: str, testid: str, n: int) -> None:
    """The list's «Найдено …: N» shows this user's N — or a capped count («более 10 000»), which a
    list may show instead of counting a million rows."""
    m = re.search(rf'data-testid="{testid}"[^>]*>([^<]*)<', content)
    assert m, f"no {testid} on the page"
    text = html.unescape(m.group(1))
    digits = re.sub(r"\D", "", text)
    assert digits == str(n) or "более" in text, f"{text!r}: expected the total {n}"


def expect(*needles, count: dict[str, int] | None = None) -> Callable[[str], None]:
    """A response check: each needle is on the page; each marker of `count` occurs that many times."""
    def check(content: str) -> None:
        for needle in needles:
            assert needle in content, f"{needle!r} is not on the page"
        for marker, n in (count or {}).items():
            found = content.count(marker)
            assert found == n, f"{found} × {marker!r} instead of {n}"
    return check
