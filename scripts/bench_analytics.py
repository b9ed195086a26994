#!/usr/bin/env python3
"""Benchmark of the analytics reports (issue 15) at 1 000 000 leads with their history, on PostgreSQL.

    .venv/bin/python scripts/bench_analytics.py --db postgres --reuse DIR --port N [--no-write] [--explain]
    .venv/bin/python scripts/bench_analytics.py --db sqlite --leads 2000 --no-write   # a quick smoke run

Each report page is timed in-process (django.test.Client) as the head of sales (every report) and
as a manager (the one report he opens: his own row among the managers'), against its minimal view
(bench/views.py `minimal_report`): the same number of table rows read by primary key from a tiny
table, and the same charts (analytics.charts: as many charts, each with as many bars and series,
stacked or not, fixed figures), in the CRM's base layout as the logged-in user — the page the
report would be if its figures were ready. The rows are counted on the report's page and its
charts recorded while it renders (analytics.charts.bars' calls), before the timing, so each
report has its own yardstick. Target (issue 15): each report within 2× its minimal view. One more
column, «× bare table», compares it with a bare table of as many rows (`minimal_rows`: no layout,
no charts), for honesty about what the layout and the charts cost.

The data: a kept database (`--reuse DIR`, e.g. a copy of /work/bench-keep/pg-1m: 1 000 000 leads,
300 000 deals) or a new one filled with leads as scripts/bench_leads.py fills them. The stays are
rebuilt from the history (`manage.py rebuild_analytics`) when the database has none yet — about
20 minutes at 1M leads on the busy machine: `--reuse` a copy where that ran once (the rebuild
stays in the copy) rather than a fresh one each time.

Results are printed as markdown and replace the database's section of BENCHMARKS.md between the
markers `bench:analytics-<db>` (--no-write to only print); the raw result is kept in
bench/results/bench_analytics-<db>-<size>.json. The machinery is scripts/bench_common.py's.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_common as common
import bench_day
import bench_leads
from bench_common import DB_TITLES, Page, expect, n_

common.reexec_in_venv()
common.TARGET = 2.0  # issue 15: each report within 2× a minimal view over its result rows

# The reports timed: (name, title, path, query). The head of sales opens every one; a manager
# only «managers» (analytics.selectors.OWN_REPORTS).
REPORTS = [
    ("funnel_month", "**Funnel, this month**", "/analytics/funnel/", "period=month"),
    ("funnel_quarter", "**Funnel, this quarter**", "/analytics/funnel/", "period=quarter"),
    ("time_quarter", "**Time in status (leads and deals), quarter**", "/analytics/time/", "period=quarter"),
    ("managers_month", "**Managers, this month**", "/analytics/managers/", "period=month"),
    ("sources_month", "**Sources, this month**", "/analytics/sources/", "period=month"),
    ("sources_year", "**Sources, this year**", "/analytics/sources/", "period=year"),
    ("deals_month", "**Deals, this month**", "/analytics/deals/", "period=month"),
    ("day_numbers", "**«Мой день» numbers**", "/analytics/day-numbers/", ""),
]
MANAGER_REPORTS = ("managers_month",)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    common.add_common_arguments(parser, "leads", stored=True)
    parser.add_argument("--leads", type=int, default=100_000, help="leads to fill when the database has none")
    args = parser.parse_args(argv)
    if args.leads < 200:
        parser.error("--leads must be at least 200")
    common.check_common_arguments(parser, args)
    return args


def main() -> None:
    args = parse_args()
    if args.worker:
        worker(args)
        return
    common.run(args, script=__file__, extra_args=["--leads", str(args.leads)], render_section=render_section,
               write_section=write_section, size_key="leads")


# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------

def write_section(db: str, section: str) -> None:
    common.write_db_section("analytics-", db, section, "## Analytics: findings")


def render_section(results: list[dict]) -> str:
    results = sorted(results, key=lambda r: r["leads"])
    lines = [f"## Analytics (issue 15): {results[-1]['database_title']}", "",
             "Each report against a minimal view rendering the same number of rows (its own yardstick, "
             "the row before it); target ≤ 2×. Sizes side by side, then each size's details.", ""]
    lines += common.summary_tables(results, "leads", "лидов")
    for r in results:
        lines += common.demote(render_size(r).splitlines()) + [""]
    return "\n".join(lines).rstrip() + "\n"


def render_size(r: dict) -> str:
    f = r["fill"]
    fill = f"{f['total']:.1f} s" if "total" in f else "—"
    if "reused" in f:
        fill = f"a kept database (`--reuse`); this run: migrate, recount and ANALYZE {f['reused']:.1f} s"
    if f.get("rebuild"):
        fill += f"; `rebuild_analytics` {f['rebuild']:.0f} s"
    if f.get("touches"):
        fill += f"; tasks and touches (scripts/bench_day.py's) and their counts {f['touches']:.0f} s"
    lines = common.section_head(
        r, f"{n_(r['leads'])} leads",
        data=f"{n_(r['leads'])} leads, {n_(r['deals'])} deals; {n_(r['lead_stays'])} lead stays, "
             f"{n_(r['deal_stays'])} deal stays, {n_(r['handovers'])} handovers"
             + (f"; {n_(r['tasks'])} tasks and touches, {n_(r['bindings'])} bindings to leads." if "tasks" in r else "."),
        fill=fill + ".",
    )
    lines.insert(lines.index(f"- **Date:** {r['date']}") + 1, f"- **Code:** {r['code']}")
    for user in r["users"]:
        lines += [f"### {user['label']}", "", *report_table(user["pages"]), "",
                  common.target_line(user["pages"], "each report ≤ 2× its minimal view"), ""]
    lines += common.plans_section(r)
    lines += common.explains_section(r)
    lines += common.profiles_section(r, "Where the time goes: the reports")
    return "\n".join(lines).rstrip() + "\n"


def report_table(pages: list[dict]) -> list[str]:
    """common.page_table plus the «× bare table» column (a report's median over its bare table's)."""
    lines = common.page_table(pages, "× its minimal")
    lines[0] = lines[0].replace("| target |", "| × bare table | target |")
    lines[1] = "|---|---|---:|---:|---:|---:|---:|:---:|---:|---:|---:|"
    for i, page in enumerate(pages, start=2):
        bare = f"{page['bare_ratio']:.2f}" if page.get("bare_ratio") else "—"
        head, sep, tail = lines[i].partition(f"| {common.verdict(page)} |")
        lines[i] = f"{head}| {bare} {sep}{tail}"
    return lines


# ---------------------------------------------------------------------------------------------
# Worker: one database, in its own Django process.
# ---------------------------------------------------------------------------------------------

def worker(args: argparse.Namespace) -> None:
    migrate_time = common.setup_django(args)
    data = common.load_meta("leads") if args.reuse else None
    if data is None:
        print(f"{DB_TITLES[args.db]}: migrated in {migrate_time:.1f} s; filling {args.leads} leads…", flush=True)
        data = bench_leads.fill(args, migrate_time)
        if args.keep or args.reuse:
            common.save_meta("leads", data)
    else:
        data["fill"]["reused"] = migrate_time
    data["fill"]["rebuild"] = rebuild_if_empty()
    from accounts import demo

    users = demo.seed()
    data["fill"]["touches"] = touches_if_none(args, users)
    if args.fill_only:
        return

    from analytics.models import Handover, Stay
    from deals.models import Deal
    from leads.models import Lead
    from tasks_app.models import Binding, Task

    result = {**common.base_result(args), "leads": Lead.objects.count(), "deals": Deal.objects.count(),
              "tasks": Task.objects.count(), "bindings": Binding.objects.count(),
              "lead_stays": Stay.objects.filter(model="leads.lead").count(),
              "deal_stays": Stay.objects.filter(model="deals.deal").count(),
              "handovers": Handover.objects.count(), "fill": data["fill"], "code": common.git_state()}
    bench = Bench(args, users)
    load_before = os.getloadavg()[0]
    result["users"] = bench.run()
    result["load"] = [f"{load_before:.2f}", f"{os.getloadavg()[0]:.2f}"]
    result["plans"] = bench.explain_slow()
    if args.explain:
        bench.explain_pages()
    result["explains"] = bench.explains
    result["profiles"] = bench.profiles
    common.write_result(args, result)


def rebuild_if_empty() -> float:
    """The stays from the history when the database has none (a fill writes the timeline by
    COPY/bulk_create, not through the services that keep the stays). Returns its time."""
    from django.core.management import call_command
    from django.db import connection

    from analytics.models import Stay

    if Stay.objects.exists():
        return 0.0
    print("No stays yet: manage.py rebuild_analytics…", flush=True)
    t0 = time.perf_counter()
    call_command("rebuild_analytics", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return time.perf_counter() - t0


def touches_if_none(args, users) -> float:
    """Two tasks and touches per lead, as scripts/bench_day.py makes them (planned, overdue and done
    ones around the leads' dates), when the database has none: the managers' report counts them.
    bulk_create, not the services: their counts per day are rebuilt after (tasks_app.touch_counts).
    Returns its time."""
    from django.db import connection

    from leads.models import Lead
    from tasks_app import touch_counts
    from tasks_app.models import Task

    if Task.objects.exists():
        return 0.0
    t0 = time.perf_counter()
    fill_args = argparse.Namespace(**{**vars(args), "tasks": 2 * Lead.objects.count()})
    print(f"No tasks yet: {fill_args.tasks} tasks and touches…", flush=True)
    bench_day.TaskFiller(fill_args, argparse.Namespace(users=users)).run()
    touch_counts.rebuild()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return time.perf_counter() - t0


# A result row of a report: a row of a table's body (the header rows are in <thead>).
BODY = re.compile(r"<tbody>(.*?)</tbody>", re.S)


def result_rows(content: str) -> int:
    return sum(body.count("<tr") for body in BODY.findall(content))


class Bench(common.Bench):
    def __init__(self, args, users):
        super().__init__(args)
        self.users = users

    def run(self) -> list[dict]:
        from django.db import connection

        day = pin_reports_day()
        print(f"The reports' «today»: {day} (the data's last day)", flush=True)
        out = []
        for login, label, names in (("head", "head — руководитель отдела продаж", None),
                                    ("ivanov", "ivanov — менеджер (his own row of the managers' report)",
                                     MANAGER_REPORTS)):
            user = self.users[login]
            print(f"Timing as «{login}»…", flush=True)
            self.profile_user = "head"
            pages = self.time_pages(user, self._pages(user, names))
            medians = {p["name"]: p["median"] for p in pages}
            for page in pages:
                if f"bare_{page['name']}" in medians:
                    page["bare_ratio"] = page["median"] / medians[f"bare_{page['name']}"]
            out.append({"login": login, "label": label, "visible": self._visible(user), "pages": pages})
        connection.close()
        return out

    @staticmethod
    def _visible(user) -> int:
        from leads.selectors import visible_leads

        return visible_leads(user).count()

    def _pages(self, user, names) -> list[Page]:
        from django.test import Client

        client = Client()
        client.force_login(user)
        pages = []
        for name, title, path, query in REPORTS:
            if names is not None and name not in names:
                continue
            url = f"{path}?{query}" if query else path
            with recorded_charts() as specs:
                response = client.get(url)
            assert response.status_code == 200, f"{url}: HTTP {response.status_code}"
            content = response.content.decode()
            if name == "day_numbers":  # an htmx fragment of links, no table, no chart
                n = content.count("<a href=")
                minimal = f"/bench/minimal/report/?n={n}&fragment=1"
                marker = 'data-testid="day-numbers"'
            else:
                n = result_rows(content)
                minimal = f"/bench/minimal/report/?n={n}&charts={','.join(specs)}"
                marker = 'data-testid="report-charts"'
            drawn = sum(1 for spec in specs if "e" not in spec)
            pages += [
                Page(f"bare_{name}", f"Bare table ({n} rows)", f"/bench/minimal/rows/?n={n}",
                     expect(count={"<tr data-row=": n}), yardstick=f"bare_{name}", profile=False),
                Page(f"min_{name}", f"Minimal view ({n} rows, {len(specs)} charts)", minimal,
                     expect(count={"data-row=": n, "<svg role=\"img\"": drawn}), yardstick=f"min_{name}", profile=False),
                Page(name, title, url, expect(marker), yardstick=f"min_{name}", target=True),
            ]
        return pages


def pin_reports_day():
    """Make the reports' «today» (their presets' «this month», «this quarter»…) the last day the data
    has a lead. The fill spreads its leads over the year before the day it ran, so a kept database
    timed a month later answered an empty «this month» — nothing counted, no chart drawn — beside
    a yardstick of the same empty size: not the question a head of sales asks."""
    from django.db.models import Max
    from django.utils import timezone

    from analytics import forms, views
    from leads.models import Lead

    last = Lead.objects.aggregate(last=Max("created_at"))["last"]
    day = timezone.localdate(last) if last else forms.today()
    forms.today = views.today = lambda: day
    return day


@contextlib.contextmanager
def recorded_charts():
    """The charts a report draws, as bench/views.py's specs «LxS[flags]» (labels × series; s
    stacked, m money, d days, e empty: nothing above zero, no chart drawn)."""
    from analytics import charts

    specs: list[str] = []
    original = charts.bars

    def bars(title, labels, series, *, money=False, days=False, stacked=False, colors=None):
        svg = original(title, labels, series, money=money, days=days, stacked=stacked, colors=colors)
        flags = "s" * stacked + "m" * money + "d" * days + ("" if svg else "e")
        specs.append(f"{len(labels)}x{len(series)}{flags}")
        return svg

    charts.bars = bars
    try:
        yield specs
    finally:
        charts.bars = original


if __name__ == "__main__":
    main()
