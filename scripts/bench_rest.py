#!/usr/bin/env python3
"""Benchmark of the REST API (issue 14): crm.lead.list and fast-bitrix24's get_all over 100 000 leads.

    .venv/bin/python scripts/bench_rest.py [--db postgres|sqlite|both] [--leads 100000] [--repeat 20]
    .venv/bin/python scripts/bench_rest.py --db postgres --reuse DIR      # a cluster kept by bench_leads.py --keep
    .venv/bin/python scripts/bench_rest.py --http                         # plain HTTP instead of TLS

The leads are scripts/bench_leads.py's (same generator, same seed; a kept database is reused as
bench_leads.py reuses it). A real server answers: gunicorn (`--workers`, 2 by default: the machine
has 2 cores) serving the project over TLS with a certificate made by trustme for 127.0.0.1, as the
tests' server does (the clients trust it through SSL_CERT_FILE / REQUESTS_CA_BUNDLE), with
persistent database connections (CONN_MAX_AGE) and the rate limit off (REST_RATE_LIMIT=False). The
admin's incoming webhook (scope crm: he sees every lead) calls:

- crm.lead.list pages — the first (start=0), a deep one (the middle), the last one, and a keyset
  page (order ID, filter >ID, start=-1: what b24pysdk's as_list_fast sends) —, each POSTed as JSON
  with ten fields in `select`, against the minimal view (bench/views.py minimal_rest_leads) reading
  the same 50 rows the same way (OFFSET with a count, or keyset), in the same answer's shape;
  the default select (`*`) is timed too, for information;
- fast_bitrix24.Bitrix(webhook).get_all("crm.lead.list", {"select": […]}) — all the leads, through
  its batches of 50 pages —, against a client reading all the same rows from the minimal view in
  requests of 2 500 rows (the rows one batch carries), one after another.

Each request is timed from the client (requests' session, keeping its connection) — the server's
whole cost, TLS and JSON included. gunicorn runs gthread workers (`--threads`, 25 each): fast-bitrix24
keeps up to 50 requests in flight, and one a sync worker leaves waiting 30 s fails its TLS handshake
(aiohttp's connect timeout); production puts nginx in front, which holds them instead. Target: ≤ 2× the
minimal view. Results are printed as markdown; the raw result is kept in
bench/results/bench_rest-<db>-<size>.json and the «REST» section of BENCHMARKS.md (between the
`bench:rest-…` markers) is rewritten from them (--no-write to only print).
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_common as common
import bench_leads
from bench_common import DB_TITLES, n_

common.reexec_in_venv()
common.TARGET = 2.0  # issue 14: the API's lists within 2× a minimal view reading the same rows

SELECT = ["ID", "TITLE", "STATUS_ID", "SOURCE_ID", "ASSIGNED_BY_ID", "OPPORTUNITY", "CURRENCY_ID", "COMPANY_TITLE",
          "DATE_CREATE", "DATE_MODIFY"]
CHUNK = 2_500  # rows per request of the minimal get_all: what one batch of 50 pages carries


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    common.add_common_arguments(parser, "leads", stored=True)
    parser.set_defaults(db="postgres")  # the API's database; --db sqlite or both measure SQLite too
    parser.add_argument("--leads", type=int, default=100_000, help="how many leads to create (default 100000)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--threads", type=int, default=25,
                        help="threads per gunicorn worker (gthread; default 25: fast-bitrix24 keeps up to 50 "
                             "requests in flight, and a request not taken within 30 s fails its TLS handshake)")
    parser.add_argument("--get-all-repeat", type=int, default=3,
                        help="timed get_all runs and minimal full reads (default 3; one untimed first)")
    parser.add_argument("--http", action="store_true", help="serve plain HTTP instead of TLS")
    args = parser.parse_args(argv)
    if args.leads < 200:
        parser.error("--leads must be at least 200 (the pages need several pages of leads)")
    if args.get_all_repeat < 1:
        parser.error("--get-all-repeat must be at least 1")
    common.check_common_arguments(parser, args)
    return args


def main() -> None:
    args = parse_args()
    if args.worker:
        worker(args)
        return
    extra = ["--leads", str(args.leads), "--workers", str(args.workers), "--threads", str(args.threads),
             "--get-all-repeat", str(args.get_all_repeat)]
    common.run(args, script=__file__, extra_args=[*extra, *(["--http"] if args.http else [])],
               render_section=render_section, write_section=write_section, size_key="leads")


# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------

def write_section(db: str, section: str) -> None:
    common.write_db_section("rest-", db, section, "## REST: findings")


def render_section(results: list[dict]) -> str:
    """Every kept size of the database, the largest first."""
    results = sorted(results, key=lambda r: -r["leads"])
    lines = [f"## REST: {results[0]['database_title']}", ""]
    for r in results:
        lines += render_one(r)
    return "\n".join(lines).rstrip() + "\n"


def render_one(r: dict) -> list[str]:
    m = r["machine"]
    lines = [
        f"### {n_(r['leads'])} leads",
        "",
        f"- **Date:** {r['date']}; **code:** {r['code']}",
        f"- **Machine:** {m['nproc']} CPU ({m['cpu']}), {m['ram_gb']} GB RAM, {m['os']}; Python {m['python']}, "
        f"Django {m['django']}" + (f", PostgreSQL {m['postgresql']}" if m.get("postgresql") else f", SQLite {m['sqlite']}"),
        f"- **Database:** {r['database_note']}",
        f"- **Server:** {r['server']}",
        f"- **Load average** (1 min) at the start and the end of the timing: {r['load'][0]} → {r['load'][1]}",
        f"- **Timing:** from the client, {r['warmup']} warm-up rounds then {r['repeat']} timed rounds of every "
        f"request (get_all: 1 untimed run then {r['get_all_repeat']} timed); median, p95 (nearest rank), min.",
        "",
        "| Request | what | median ms | p95 ms | min ms | × minimal | target |",
        "|---|---|---:|---:|---:|---:|:---:|",
    ]
    for p in r["pages"]:
        target = "—" if not p["target"] else f"**{'❌' if p['ratio'] > common.TARGET else '✅'} ≤ {common.TARGET:g}×**"
        ratio = "—" if p["yardstick"] else f"{p['ratio']:.2f}"
        failed = f" ⚠ **wrong result:** {p['failed']}" if p.get("failed") else ""
        lines.append(f"| {p['title']}{failed} | {p['what']} | {common.ms(p['median'])} | {common.ms(p['p95'])} "
                     f"| {common.ms(p['min'])} | {ratio} | {target} |")
    misses = [p["title"] for p in r["pages"] if p["target"] and p["ratio"] > common.TARGET]
    lines += ["", f"**Target (≤ {common.TARGET:g}× the minimal view): "
              + ("met.**" if not misses else f"missed by {', '.join(misses)}.**"), ""]
    return lines


# ---------------------------------------------------------------------------------------------
# Worker: one database, in its own Django process; the server in a gunicorn child of it.
# ---------------------------------------------------------------------------------------------

def worker(args: argparse.Namespace) -> None:
    # The parent ends this process with SIGTERM (Ctrl-C, an error): exit through the finally blocks,
    # so the gunicorn it started is stopped too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    migrate_time = common.setup_django(args)
    data = common.load_meta("leads") if args.reuse else None
    if data is None:
        print(f"{DB_TITLES[args.db]}: migrated in {migrate_time:.1f} s; filling {args.leads} leads…", flush=True)
        data = bench_leads.fill(args, migrate_time)
        if args.keep or args.reuse:
            common.save_meta("leads", data)
    else:
        data["fill"]["reused"] = migrate_time
        print(f"{DB_TITLES[args.db]}: a kept database with {data['leads']} leads.", flush=True)
    if args.fill_only:
        return

    from accounts import demo
    from rest import services as rest

    admin = demo.seed()["admin"]
    webhook, code = rest.webhook_create(admin, name="bench_rest", scopes=["crm"])
    result = {**common.base_result(args), "leads": data["leads"], "fill": data["fill"], "code": common.git_state(),
              "get_all_repeat": args.get_all_repeat}
    with Server(args) as server:
        result["server"] = server.description
        bench = Bench(args, server, rest.base_path(admin.pk, code))
        load_before = os.getloadavg()[0]
        result["pages"] = bench.run()
        result["load"] = [f"{load_before:.2f}", f"{os.getloadavg()[0]:.2f}"]
    common.write_result(args, result)


class Server:
    """gunicorn serving bench.wsgi on a free port of 127.0.0.1, over TLS with a trustme
    certificate (or plain HTTP with --http), on the worker's database."""

    def __init__(self, args):
        self.args = args
        self.tmp = Path(tempfile.mkdtemp(prefix="crm-bench-rest."))
        self.port = common._free_port()
        scheme = "http" if args.http else "https"
        self.url = f"{scheme}://127.0.0.1:{self.port}"
        self.description = (f"gunicorn {self._version()}, {args.workers} gthread workers × {args.threads} threads, "
                            f"{'plain HTTP' if args.http else 'TLS (a trustme certificate)'} on 127.0.0.1, "
                            "DEBUG off, CONN_MAX_AGE 60 s, the rate limit off")

    @staticmethod
    def _version() -> str:
        import gunicorn

        return gunicorn.__version__

    def __enter__(self) -> Server:
        cmd = [sys.executable, "-m", "gunicorn", "bench.wsgi:application", "--bind", f"127.0.0.1:{self.port}",
               "--workers", str(self.args.workers), "--worker-class", "gthread", "--threads", str(self.args.threads),
               "--timeout", "300", "--log-level", "warning"]
        if not self.args.http:
            import trustme

            ca = trustme.CA()
            ca.cert_pem.write_to_path(str(self.tmp / "ca.pem"))
            ca.issue_cert("127.0.0.1").private_key_and_cert_chain_pem.write_to_path(str(self.tmp / "server.pem"))
            cmd += ["--certfile", str(self.tmp / "server.pem"), "--keyfile", str(self.tmp / "server.pem")]
            # Both clients (requests, fast-bitrix24's aiohttp) trust the CA as the tests' do.
            os.environ["SSL_CERT_FILE"] = os.environ["REQUESTS_CA_BUNDLE"] = str(self.tmp / "ca.pem")
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.dev", "DEBUG": "False",
               "REST_RATE_LIMIT": "False", "CONN_MAX_AGE": "60", "ALLOWED_HOSTS": "127.0.0.1"}
        self.log = open(self.tmp / "gunicorn.log", "w")  # closed in __exit__
        self.process = subprocess.Popen(cmd, cwd=common.ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        try:
            self._wait()
        except BaseException:
            self.__exit__()  # a server that never answered is stopped too (__exit__ does not run after __enter__ fails)
            raise
        return self

    def _wait(self) -> None:
        import requests

        deadline, last = time.monotonic() + 120, ""
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn ended: {(self.tmp / 'gunicorn.log').read_text()[-3000:]}")
            try:
                answer = requests.get(f"{self.url}/bench/minimal/rest/?count=1", timeout=30)
            except requests.RequestException as exc:
                last = repr(exc)
            else:
                if answer.ok:
                    return
                last = f"{answer.status_code}: {answer.text[:500]}"
            time.sleep(0.3)
        raise SystemExit(f"gunicorn did not answer within 2 minutes ({last}); its log: "
                         f"{(self.tmp / 'gunicorn.log').read_text()[-3000:]}")

    def __exit__(self, *exc) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()
        import shutil

        shutil.rmtree(self.tmp, ignore_errors=True)


class Bench:
    def __init__(self, args, server: Server, base_path: str):
        import requests

        from leads.models import Lead

        self.args, self.server = args, server
        self.webhook = f"{server.url}{base_path}"
        self.session = requests.Session()
        self.total = Lead.objects.count()
        ids = list(Lead.objects.order_by("pk").values_list("pk", flat=True))
        self.ids = ids
        self.deep = (len(ids) // 2) // 50 * 50
        self.last = (len(ids) - 1) // 50 * 50
        self.after = ids[self.deep - 1]  # keyset: the same rows as the deep page

    # --- one request of each kind, checked ---

    def rest(self, params: dict) -> dict:
        return self._json(self.session.post(f"{self.webhook}crm.lead.list", json=params, timeout=300))

    def minimal(self, **query) -> dict:
        return self._json(self.session.get(f"{self.server.url}/bench/minimal/rest/", params=query, timeout=300))

    @staticmethod
    def _json(answer) -> dict:
        if not answer.ok:
            raise SystemExit(f"{answer.request.method} {answer.url} answered {answer.status_code}: {answer.text[:1000]}")
        return answer.json()

    def specs(self) -> list[dict]:
        """Each timed request: its name, title, what it sends, the call, the index of the first lead
        it must answer with, and the yardstick it is compared with (`against`) or that it is one."""
        order = {"ID": "ASC"}
        return [
            dict(name="minimal_first", title="minimal view: first page", what="`?start=0` (OFFSET 0, count)",
                 call=lambda: self.minimal(start=0), first=0, yardstick=True),
            dict(name="list_first", title="crm.lead.list: first page", what="`start=0`, order ID, 10 fields",
                 call=lambda: self.rest({"select": SELECT, "order": order, "start": 0}), first=0,
                 against="minimal_first", target=True),
            dict(name="list_star", title="crm.lead.list: first page, select *", what="no select: every field",
                 call=lambda: self.rest({"order": order, "start": 0}), first=0, against="minimal_first"),
            dict(name="minimal_deep", title="minimal view: deep page", what=f"`?start={self.deep}`",
                 call=lambda: self.minimal(start=self.deep), first=self.deep, yardstick=True),
            dict(name="list_deep", title="crm.lead.list: deep page", what=f"`start={self.deep}` (OFFSET)",
                 call=lambda: self.rest({"select": SELECT, "order": order, "start": self.deep}), first=self.deep,
                 against="minimal_deep", target=True),
            dict(name="minimal_last", title="minimal view: last page", what=f"`?start={self.last}`",
                 call=lambda: self.minimal(start=self.last), first=self.last, yardstick=True),
            dict(name="list_last", title="crm.lead.list: last page", what=f"`start={self.last}`",
                 call=lambda: self.rest({"select": SELECT, "order": order, "start": self.last}), first=self.last,
                 against="minimal_last", target=True),
            dict(name="minimal_keyset", title="minimal view: keyset page", what="`?after=<id>` (no count)",
                 call=lambda: self.minimal(after=self.after), first=self.deep, yardstick=True),
            dict(name="list_keyset", title="crm.lead.list: keyset page",
                 what="`filter[>ID]`, order ID, `start=-1` (as_list_fast)",
                 call=lambda: self.rest({"select": SELECT, "order": order, "filter": {">ID": self.after}, "start": -1}),
                 first=self.deep, against="minimal_keyset", target=True),
        ]

    def check(self, spec: dict, answer: dict) -> str:
        rows = answer.get("result")
        if not isinstance(rows, list) or not rows:
            return f"no rows: {str(answer)[:200]}"
        want = self.ids[spec["first"]:spec["first"] + 50]
        got = [int(row["ID"]) for row in rows]
        if got != want:
            return f"rows {got[:3]}… instead of {want[:3]}…"
        if spec["name"] in ("list_first", "list_deep", "list_last", "minimal_first") and answer.get("total") != self.total:
            return f"total {answer.get('total')} instead of {self.total}"
        return ""

    # --- get_all ---

    def get_all(self) -> tuple[int, str]:
        from fast_bitrix24 import Bitrix

        logging.getLogger("fast_bitrix24").setLevel(logging.WARNING)  # it logs every request and answer whole
        rows = Bitrix(self.webhook, verbose=False).get_all("crm.lead.list", {"select": SELECT})
        ids = {int(row["ID"]) for row in rows}
        return len(rows), "" if ids == set(self.ids) else f"{len(ids)} distinct leads instead of {len(self.ids)}"

    def minimal_all(self) -> tuple[int, str]:
        seen, after = [], 0
        while True:
            rows = self.minimal(after=after, count=CHUNK)["result"]
            seen += [int(row["ID"]) for row in rows]
            if len(rows) < CHUNK:
                break
            after = seen[-1]
        return len(seen), "" if seen == self.ids else f"{len(seen)} leads instead of {len(self.ids)}"

    # --- timing ---

    def run(self) -> list[dict]:
        specs = self.specs()
        times: dict[str, list[float]] = {s["name"]: [] for s in specs}
        failed: dict[str, str] = {}
        for round_ in range(self.args.warmup + self.args.repeat):
            for spec in specs:
                t0 = time.perf_counter()
                answer = spec["call"]()
                elapsed = time.perf_counter() - t0
                if round_ == 0:
                    failed[spec["name"]] = self.check(spec, answer)
                if round_ >= self.args.warmup:
                    times[spec["name"]].append(elapsed)
        pages = [self.page(s, times[s["name"]], failed[s["name"]]) for s in specs]
        print(f"{DB_TITLES[self.args.db]}: lists timed; get_all of {n_(self.total)} leads…", flush=True)

        runs = {"minimal_all": [], "get_all": []}
        problems = {}
        for round_ in range(1 + self.args.get_all_repeat):
            for name, call in (("minimal_all", self.minimal_all), ("get_all", self.get_all)):
                t0 = time.perf_counter()
                try:
                    _count, problem = call()
                except Exception as exc:  # a client that gives up is a finding, not the end of the run
                    problem = f"{type(exc).__name__}: {exc}"[:300]
                elapsed = time.perf_counter() - t0
                if problem or name not in problems:
                    problems[name] = problem
                if round_:
                    runs[name].append(elapsed)
        pages.append(self.page(dict(name="minimal_all", title=f"minimal view: all {n_(self.total)} leads",
                                    what=f"{CHUNK} rows a request (keyset), one after another", yardstick=True),
                               runs["minimal_all"], problems["minimal_all"]))
        pages.append(self.page(dict(name="get_all", title=f"fast-bitrix24 get_all: all {n_(self.total)} leads",
                                    what="`Bitrix(webhook).get_all('crm.lead.list', {select})`",
                                    against="minimal_all", target=True), runs["get_all"], problems["get_all"]))
        by_name = {p["name"]: p for p in pages}
        for page in pages:
            if not page["yardstick"]:
                page["ratio"] = page["median"] / by_name[page["against"]]["median"]
        return pages

    @staticmethod
    def page(spec: dict, times: list[float], failed: str) -> dict:
        ordered = sorted(times)
        return {"name": spec["name"], "title": spec["title"], "what": spec["what"],
                "yardstick": bool(spec.get("yardstick")), "target": bool(spec.get("target")),
                "against": spec.get("against"), "median": statistics.median(ordered),
                "p95": ordered[max(0, round(0.95 * len(ordered)) - 1)], "min": ordered[0], "ratio": 1.0,
                "failed": failed, "times": times}


if __name__ == "__main__":
    main()
