#!/usr/bin/env python3
"""Benchmark of the leads pages with 100 000 (or 1 000 000) realistic leads, on SQLite and PostgreSQL.

    .venv/bin/python scripts/bench_leads.py [--db sqlite|postgres|both] [--leads 100000] [--repeat 20]
    .venv/bin/python scripts/bench_leads.py --db postgres --leads 1000000 --keep DIR --fill-only
    .venv/bin/python scripts/bench_leads.py --db postgres --reuse DIR [--port 5440] [--explain]

For each database it makes a throwaway one (SQLite: a file in a temp dir; PostgreSQL: a cluster
initdb'd in a temp dir on a free port, as scripts/test does, stopped and removed at the end, on
errors too), migrates it, fills it with leads, and times in-process (django.test.Client), as the
head (his department tree) and as a manager (his own leads), the list (default, sorted by amount,
page 1000 and the last page), the kanban, its column totals, a column's «Показать ещё», the lead
card and the search by phone in three formats, by e-mail, by ИНН and by a word of a company's
name, against a minimal Django view that reads the same 50 rows (bench/views.py). Each page has
its target (issue 13: lists 1.5×, boards, totals and page numbers 2×, searches 3×, the card 1.5×).
The developer's db.sqlite3 is never opened.

A kept database: `--keep DIR` fills a new one and keeps it (PostgreSQL: a cluster directory, left
stopped, with a README.txt on how to start it; SQLite: the file DIR); `--reuse DIR` starts it on
`--port`, runs `migrate` (the branch measured may add migrations), `recount_tallies` when the code
has it, `ANALYZE`, skips the fill (the fill's facts are in the table bench_meta) and measures.
`--fill-only` stops after the fill. On a kept database that has no leads yet (one that
scripts/bench_deals.py filled), `--reuse` fills them first.

Results are printed as markdown; the raw result is kept in bench/results/ by size and the
database's section of BENCHMARKS.md is rendered from every kept size, side by side
(--no-write to only print; --json FILE for the raw result; --explain for the plan of every page's
slowest query). Each database runs in a child process of its own (a Django process has one set of
settings); the parent owns the temp dirs and the PostgreSQL cluster. The machinery is shared with
scripts/bench_deals.py (scripts/bench_common.py).
"""

from __future__ import annotations

import argparse
import datetime as dt
import html
import math
import os
import random
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_common as common
from bench_common import (
    DB_TITLES,
    NEEDS,
    OWNERS,
    POSITIONS,
    Page,
    n_,
    random_company,
    random_mobile,
    random_person,
    random_phone,
    translit,
)

common.reexec_in_venv()


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    common.add_common_arguments(parser, "leads", stored=True)
    parser.add_argument("--leads", type=int, default=100_000, help="how many leads to create (default 100000)")
    args = parser.parse_args(argv)
    if args.leads < 200:
        parser.error("--leads must be at least 200 (the pages need several pages of leads)")
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

REPORT_HEAD = """# Benchmarks

## How to run

```bash
.venv/bin/python scripts/bench_leads.py                 # both databases, 100 000 leads, 20 timed rounds
.venv/bin/python scripts/bench_leads.py --db sqlite     # or --db postgres
.venv/bin/python scripts/bench_leads.py --leads 5000 --repeat 5 --no-write   # a quick smoke run (~30 s)
```

Options: `--db sqlite|postgres|both` (default both), `--leads N` (100000), `--repeat N` timed rounds
(20), `--warmup N` untimed rounds first (3), `--batch N` leads per insert batch (5000), `--seed N`,
`--no-write` (print only), `--json FILE` (the raw result too), `--explain` (the plan of every page's
slowest query in the report). A run with the defaults takes about 4 minutes per database on 2 cores.

SQLite goes to a temp file; PostgreSQL to a throwaway cluster (`initdb` in a temp dir, a free port,
as `scripts/test` does; needs PostgreSQL's binaries in `/usr/lib/postgresql/*/bin`); both are
removed at the end, on errors too. The developer's `db.sqlite3` is never opened. Each run keeps its
result in `bench/results/bench_leads-<db>-<size>.json` and rewrites its own database's section below
(between the `bench:…` markers) from every kept size: 100k and 1M side by side, then each size's
details; the findings at the end are written by hand.

**A kept database: fill once, measure many times.** A fill of 1 000 000 leads takes about 15–30
minutes on 2 busy cores; `--keep` keeps the filled database, `--reuse` measures it again (on any
branch: it runs `migrate` first, so a branch's new columns and indexes are built on the kept rows,
then `recount_tallies` when the code has that command, then `ANALYZE`):

```bash
# PostgreSQL: DIR becomes the cluster's directory (PGDATA), left stopped; SQLite: DIR is the file.
.venv/bin/python scripts/bench_leads.py --db postgres --leads 1000000 --keep DIR --fill-only --port 5440
# Deals into the same database (bench_deals.py fills what a kept database lacks), so one cluster serves both:
.venv/bin/python scripts/bench_deals.py --db postgres --deals 300000 --companies 15000 --contacts 24000 \\
    --reuse DIR --fill-only --port 5440
# Measure (start on --port, migrate, recount, ANALYZE, time, stop); work on a copy (cp -a DIR COPY, as root):
.venv/bin/python scripts/bench_leads.py --db postgres --reuse COPY --port 5440 --explain
.venv/bin/python scripts/bench_deals.py --db postgres --reuse COPY --port 5440 --explain
```

`--reuse` skips the fill when the database holds what the script fills (its facts — the counts, the
card's record, the fill's times — are in a table `bench_meta` of the database itself, so a copy
carries them); `--fill-only` stops after the fill. The kept cluster's `README.txt` says how to start
it by hand. PostgreSQL fills go through `COPY` (the models' own `bulk_create` runs first, so what it
derives — the search column — is written too) with the tables' secondary indexes dropped for the
fill and built after it; SQLite through `bulk_create`.

Issue 13's report — 100k and 1M side by side, each page's main query EXPLAINed (every run keeps its
result in `bench/results/` and rewrites its database's section from all the kept sizes):

```bash
cp -a /work/bench-keep/pg-1m /tmp/pg-1m                     # 1 000 000 leads + 300 000 deals, kept
cp /work/bench-keep/sqlite-100k.sqlite3 /tmp/sqlite-100k.sqlite3   # 100 000 leads + 100 000 deals
.venv/bin/python scripts/bench_leads.py --db postgres --leads 100000 --explain
.venv/bin/python scripts/bench_leads.py --db postgres --reuse /tmp/pg-1m --port 5440 --explain
.venv/bin/python scripts/bench_leads.py --db sqlite --reuse /tmp/sqlite-100k.sqlite3 --explain
.venv/bin/python scripts/bench_deals.py --db postgres --deals 100000 --explain
.venv/bin/python scripts/bench_deals.py --db postgres --reuse /tmp/pg-1m --port 5440 --explain
.venv/bin/python scripts/bench_deals.py --db sqlite --reuse /tmp/sqlite-100k.sqlite3 --explain
```

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
- **Yardstick.** `bench/views.py`: a plain view reading `Lead.objects.select_related(*LEAD_RELATED)
  .order_by("-created_at", "-pk")[:50]` — the rows the list shows by default (the script asserts
  that, for the admin, both show the same 50 ids) — into a 9-column table rendered by Django's
  template engine from a string, without context processors. It is served through
  `bench/urls.py` (the project's URLs plus `/bench/minimal/`), set as `ROOT_URLCONF` by the script
  only.
- **Pages**, as the head of sales (`head`: his department tree, about 97 % of the leads) and as a
  manager (`ivanov`: his own, about 31 %): the list by default, sorted by amount, page 1000 (or the
  last one when there are fewer) and the last page; the kanban, its column totals (`?part=totals`
  with `HX-Request`, as the board asks for them right after it is shown), «Показать ещё» of the «Не
  обработан» column (the link as the board renders it); the lead card; the list searched (`?q=`) for
  the phone of a lead the user sees in three formats («+7 (912) 859-87-48», «89128598748», «912 859
  87 48»), its e-mail, its ИНН, and a word of its company's name (the lead: the newest the user sees
  with a +7 912 mobile, an e-mail and an ИНН, so it is on the first page of what the search finds).
  For the admin the script asserts that the minimal view and the list show the same 50 ids.
- **Timing.** In-process `django.test.Client` with `force_login`, `config.settings.dev` with
  DEBUG off (no query log; plain static storage since the manifest needs `collectstatic`), the
  same process and connection for all pages. 3 warm-up rounds, then 20 timed rounds, each round
  requesting every page once (so a drift of the machine weighs on every page alike). Each
  response is checked: HTTP 200 and its content (the total «Найдено лидов: N» — or a capped «более
  …» —, the number of rows and the expected first row of each page, the number of kanban cards,
  the first column's count in the totals, the card's title and pinned comment, the searched lead's
  row; a search that does not find its lead is reported «⚠ wrong result» instead of ending the run).
  Queries are counted on one more request per page with `CaptureQueriesContext`; «SQL ms» is the
  database time of that request. With `--explain`, the slowest query of that request is run again
  under `EXPLAIN (ANALYZE, BUFFERS)` (SQLite: `EXPLAIN QUERY PLAN`) and its plan is in the report.
- **Targets** (issue 13), against the minimal view's median: the list ≤ 1.5×; the kanban, its
  totals, «Показать ещё» and any page number ≤ 2×; every search ≤ 3×; the card ≤ 1.5×. The list
  sorted by amount is reported for information. The query count of each page must be the same at
  every size: `tests/test_bench_scripts.py` runs both scripts at two small sizes and compares them;
  the report puts the sizes side by side (⚠ when they differ).

"""


def write_section(db: str, section: str) -> None:
    common.write_db_section("", db, section, "## Findings", new_report=REPORT_HEAD)


def render_section(results: list[dict]) -> str:
    """The database's section: every kept size side by side, then each size's details."""
    results = sorted(results, key=lambda r: r["leads"])
    lines = [f"## {results[-1]['database_title']}", "",
             "Median ms and × the minimal view of each page at each size measured (✅/❌: within the page's "
             "target or not; ⚠ by a ratio: the page showed a wrong result, see the size's table; ⚠ by the "
             "queries: they differ between sizes). Each size's details follow.", ""]
    lines += common.summary_tables(results, "leads", "лидов")
    for r in results:
        lines += common.demote(render_size(r).splitlines()) + [""]
    return "\n".join(lines).rstrip() + "\n"


def render_size(r: dict) -> str:
    f = r["fill"]
    fill = (f"{f['total']:.1f} s (migrate {f['migrate']:.1f} s, leads {f['leads']:.1f} s, timeline "
            f"{f['timeline']:.1f} s, indexes {f.get('indexes', 0):.1f} s, {f['analyze_label']} {f['analyze']:.1f} s)")
    if "reused" in f:
        fill = (f"a kept database (`--reuse`), filled earlier on {r.get('filled_on', '?')} in {fill}; this run: "
                f"migrate, recount and ANALYZE {f['reused']:.1f} s")
    lines = common.section_head(
        r, f"{n_(r['leads'])} leads",
        data=f"{n_(r['leads'])} leads ({r['status_spread']}); {n_(r['timeline_entries'])} timeline "
             f"entries; the card's lead #{r['card_pk']} has {r['card_comments']} comments (one pinned).",
        fill=fill + ".",
    )
    if r.get("code"):
        lines.insert(lines.index(f"- **Date:** {r['date']}") + 1, f"- **Code:** {r['code']}")
    for user in r["users"]:
        lines += [f"### {user['label']}", "", *common.page_table(user["pages"]), "",
                  common.target_line(user["pages"], "each page within its target"), ""]
    lines += common.plans_section(r)
    lines += common.explains_section(r)
    lines += common.profiles_section(r, "Where the time goes: the minimal view, the list and the board")
    return "\n".join(lines).rstrip() + "\n"


# ---------------------------------------------------------------------------------------------
# Worker: one database, in its own Django process.
# ---------------------------------------------------------------------------------------------

def worker(args: argparse.Namespace) -> None:
    migrate_time = common.setup_django(args)
    data = common.load_meta("leads") if args.reuse else None
    if data is None:
        print(f"{DB_TITLES[args.db]}: migrated in {migrate_time:.1f} s; filling {args.leads} leads…", flush=True)
        data = fill(args, migrate_time)
        if args.keep or args.reuse:
            common.save_meta("leads", data)
    else:
        data["fill"]["reused"] = migrate_time
        print(f"{DB_TITLES[args.db]}: a kept database with {data['leads']} leads (filled in {data['fill']['total']:.0f} s "
              f"on {data['filled_on']}); migrate and ANALYZE {migrate_time:.1f} s.", flush=True)
    if args.fill_only:
        return

    from accounts import demo
    from leads.models import Lead

    card = Lead.objects.get(pk=data["card_pk"])
    result = {**common.base_result(args), **data, "code": common.git_state()}
    bench = Bench(args, demo.seed(), card, data["pinned_text"])
    load_before = os.getloadavg()[0]
    result["users"] = bench.run()
    result["load"] = [f"{load_before:.2f}", f"{os.getloadavg()[0]:.2f}"]
    result["plans"] = bench.explain_slow()
    result["explains"] = bench.explains
    result["profiles"] = bench.profiles
    common.write_result(args, result)


def fill(args: argparse.Namespace, migrate_time: float) -> dict:
    """Fill the leads; what the report and a later --reuse need to know about them."""
    from leads.models import Lead

    filler = Filler(args)
    filler.run()
    times = filler.times
    times["migrate"] = migrate_time
    times["total"] = sum(v for k, v in times.items() if k not in ("total", "analyze_label"))
    print(f"{DB_TITLES[args.db]}: filled in {times['total']:.1f} s "
          f"(migrate {migrate_time:.1f} s, leads {times['leads']:.1f} s, timeline {times['timeline']:.1f} s, "
          f"indexes {times.get('indexes', 0):.1f} s, {times['analyze_label']} {times['analyze']:.1f} s).", flush=True)
    return {
        "leads": Lead.objects.count(),
        "status_spread": filler.status_spread(),
        "timeline_entries": filler.timeline_count,
        "card_pk": filler.card.pk,
        "card_comments": len(filler.card_comments),
        "pinned_text": filler.pinned_text,
        "fill": times,
        "filled_on": common.git_state(),
    }


# --- Realistic data (the names, places and ИНН are bench_common's) -------------------------

COMMENTS = ["", "", "", "Пришёл с вебинара", "Просили перезвонить после обеда", "Интересует демо портала",
            "Нашли нас через поиск", "Рекомендация от партнёра", "Был клиентом в 2023 году"]

# Statuses by the lead's age: fresh leads are mostly unprocessed, old ones mostly closed.
STATUS_WEIGHTS = [  # (max age in days, {status: weight})
    (7, {"new": 70, "first_call": 20, "qualification": 5, "reconnaissance": 2, "decision_maker": 1, "converted": 0,
         "junk": 2}),
    (60, {"new": 38, "first_call": 20, "qualification": 14, "reconnaissance": 8, "decision_maker": 6, "converted": 3,
          "junk": 11}),
    (10_000, {"new": 28, "first_call": 12, "qualification": 10, "reconnaissance": 6, "decision_maker": 5,
              "converted": 10, "junk": 29}),
]
PATH = ["new", "first_call", "qualification", "reconnaissance", "decision_maker", "converted"]


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

    def explicit_timestamps(self):
        """created_at/updated_at/status_changed_at written as generated (bench_common.explicit_timestamps)."""
        from crm.models import TimelineEntry
        from leads.models import Lead

        fields = [Lead._meta.get_field(n) for n in ("created_at", "updated_at", "status_changed_at")]
        fields.append(TimelineEntry._meta.get_field("created_at"))
        return common.explicit_timestamps(fields)

    def run(self) -> None:
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

        from crm.models import TimelineEntry
        from leads.models import Lead

        t0 = time.perf_counter()
        with common.indexes_after_fill([Lead, TimelineEntry], self.times), self.explicit_timestamps():
            self._leads()
            self.times["leads"] = time.perf_counter() - t0
            t0 = time.perf_counter()
            self._timeline()
            self.times["timeline"] = time.perf_counter() - t0
        self._card()

        # What `manage.py demo_data` and bulk imports do after loading (planner statistics).
        self.times["analyze_label"], self.times["analyze"] = common.analyze()

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
        name, core, address, area, inn = random_company(rng)
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
            company_phone=random_phone(rng, area),
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
            lead.contact_last_name, first, middle = random_person(rng)
            lead.contact_first_name, lead.contact_middle_name = first, middle
            lead.contact_position = rng.choice(POSITIONS)
            lead.contact_phone = random_mobile(rng)
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

        from leads.models import Lead

        n, batch = self.args.leads, self.args.batch
        year = 365 * 86400
        # Oldest first, so primary keys grow with created_at as in a real database.
        offsets = sorted((self.rng.uniform(60, year) for _ in range(n)), reverse=True)
        started = time.perf_counter()
        for i in range(0, n, batch):
            leads = [self._lead(self.now - dt.timedelta(seconds=s)) for s in offsets[i:i + batch]]
            common.insert(Lead, leads, batch)
            for lead in leads:
                self.by_status[lead.status] = self.by_status.get(lead.status, 0) + 1
            self.count += len(leads)
            print(f"  leads: {self.count}/{n} ({time.perf_counter() - started:.0f} s)", flush=True)
        self.by_status = {s: self.by_status.get(s, 0) for s in PATH + ["junk"]}

    def _timeline(self) -> None:
        """What leads.services writes: «Лид создан» for each lead, and a status entry for each lead
        that has moved on (one per lead, to its current status)."""
        from django.contrib.contenttypes.models import ContentType

        from crm.models import TimelineEntry
        from leads.models import Lead, Status

        ct = ContentType.objects.get_for_model(Lead)
        rows = Lead.objects.order_by("pk").values_list("pk", "responsible_id", "created_at", "status",
                                                      "status_changed_at")
        entries = []

        started = time.perf_counter()

        def flush():
            common.insert(TimelineEntry, entries, self.args.batch)
            before = self.timeline_count
            self.timeline_count += len(entries)
            entries.clear()
            if self.timeline_count // 100_000 != before // 100_000:
                print(f"  timeline: {self.timeline_count} entries ({time.perf_counter() - started:.0f} s)", flush=True)

        for pk, owner, created, status, changed in list(rows):
            entries.append(TimelineEntry(content_type=ct, object_id=pk, kind="created", author_id=owner,
                                         created_at=created, text="Лид создан",
                                         data={"msgid": "Лид создан", "params": {}}))  # as crm.timeline writes it
            if status != Status.NEW:
                entries.append(TimelineEntry(
                    content_type=ct, object_id=pk, kind="status", author_id=owner, created_at=changed,
                    data={"field": "status", "from": "new", "to": status},
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

def _rows(content: str) -> int:
    return content.count('<tr data-lead="')


# The personas: the head sees his department tree (about 97 % of the records: the admin's own are
# outside it), a manager his own (about 31 %).
PERSONAS = (("head", "head — руководитель отдела продаж (видит своё и «Отдел продаж» с подотделами)"),
            ("ivanov", "ivanov — менеджер (видит свои лиды)"))


class Bench(common.Bench):
    def __init__(self, args, users: dict, card, pinned_text: str):
        super().__init__(args)
        self.users, self.card, self.pinned_text = users, card, pinned_text

    def run(self) -> list[dict]:
        from django.db import connection

        from leads.selectors import visible_leads

        self._same_rows_as_minimal()
        users = []
        for login, label in PERSONAS:
            user = self.users[login]
            visible = visible_leads(user).count()
            print(f"Timing as «{login}» ({visible} visible leads)…", flush=True)
            pages = self._pages(user, visible)
            users.append({"login": login, "label": f"{label}: {n_(visible)} лидов",
                          "visible": visible, "pages": self.time_pages(user, pages)})
        self.explain_pages()
        connection.close()
        return users

    def _same_rows_as_minimal(self) -> None:
        """The yardstick must read the very rows the list shows (for the admin, who sees all)."""
        from django.test import Client
        from django.urls import reverse

        client = Client()
        client.force_login(self.users["admin"])
        ids = [re.findall(r'<tr data-lead="(\d+)"', client.get(url).content.decode())
               for url in (reverse("bench_minimal"), reverse("leads:list"))]
        assert ids[0] == ids[1] and len(ids[0]) == 50, "the minimal view and the list show different rows"

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
        newest_first = mine.order_by("-created_at", "-pk")
        per_page = 50
        num_pages = math.ceil(visible / per_page)
        deep = min(1000, num_pages)
        # The lead searched for: the newest the user sees with a mobile +7 912…, an e-mail and an
        # ИНН, so the search finds it on the first page (the list is newest first).
        target = (newest_first.filter(company_phone__startswith="+7912").exclude(company_email="").exclude(inn="")
                  .first()) or newest_first.exclude(company_phone="").first()
        digits = target.company_phone[2:]  # the ten digits after +7
        word = common.name_word(target.company_name)
        top_amount = mine.order_by("-amount", "-pk").values_list("pk", flat=True).first()
        newest = newest_first.values_list("pk", flat=True).first()
        card = self.card
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

        def expect(*needles, rows=None, cards=None, min_rows=None):
            def check(content: str) -> None:
                for needle in needles:
                    assert needle in content, f"{needle!r} is not on the page"
                if rows is not None:
                    assert _rows(content) == rows, f"{_rows(content)} rows instead of {rows}"
                if min_rows is not None:
                    assert _rows(content) >= min_rows, f"{_rows(content)} rows, expected at least {min_rows}"
                if cards is not None:
                    n = content.count('data-testid="kanban-card"')
                    assert n == cards, f"{n} kanban cards instead of {cards}"
            return check

        def page_of(number: int) -> tuple[int, int]:
            """(rows on that page, the pk of its first row) of the default list."""
            first = newest_first.values_list("pk", flat=True)[(number - 1) * per_page]
            return min(per_page, visible - (number - 1) * per_page), first

        def total(content: str) -> None:
            common.check_total(content, "lead-total", visible)

        def both(*checks):
            return lambda content: [check(content) for check in checks]

        lst = reverse("leads:list")

        def search(q: str) -> str:
            return f"{lst}?{urlencode({'q': q})}"

        found = expect(escape(target.title), f'<tr data-lead="{target.pk}"')
        deep_rows, deep_first = page_of(deep)
        last_rows, last_first = page_of(num_pages)
        return [
            Page("minimal", "Minimal view (50 rows)", reverse("bench_minimal"), expect(rows=50)),
            Page("list", "**List**, default", lst, both(total, expect(f'<tr data-lead="{newest}"', rows=per_page)),
                 limit=1.5),
            Page("list_amount", "List, sorted by amount", f"{lst}?sort=-amount",
                 both(total, expect(f'<tr data-lead="{top_amount}"', rows=per_page))),
            Page("list_deep", f"List, page {deep}", f"{lst}?page={deep}",
                 both(total, expect(f'<tr data-lead="{deep_first}"', rows=deep_rows)), limit=2),
            Page("list_last", f"List, the last page ({num_pages})", f"{lst}?page={num_pages}",
                 both(total, expect(f'<tr data-lead="{last_first}"', rows=last_rows)), limit=2),
            Page("kanban", "**Kanban**", reverse("leads:kanban"),
                 expect('data-testid="kanban-board"', cards=board_cards), limit=2),
            Page("kanban_totals", "Kanban column totals (htmx, right after the board)",
                 f"{reverse('leads:kanban')}?part=totals",
                 expect(f'data-testid="kanban-count-new" hx-swap-oob="true">{counts["new"]}<'),
                 headers={"HTTP_HX_REQUEST": "true"}, limit=2),
            Page("kanban_more", "Kanban, «Показать ещё» (htmx)", more_url,
                 expect(cards=more_cards), headers={"HTTP_HX_REQUEST": "true"}, limit=2),
            Page("card", "Lead card", reverse("leads:detail", args=[card.pk]),
                 expect(escape(card.title), 'data-testid="timeline"', escape(self.pinned_text)), limit=1.5),
            Page("search_phone", "Search: phone «+7 (9XX) XXX-XX-XX»", search(phones.display(target.company_phone)),
                 found, limit=3, soft=True),
            Page("search_phone8", "Search: phone «89XXXXXXXXX»", search("8" + digits), found, limit=3, soft=True),
            Page("search_phone_spaces", "Search: phone «9XX XXX XX XX»",
                 search(f"{digits[:3]} {digits[3:6]} {digits[6:8]} {digits[8:]}"), found, limit=3, soft=True),
            Page("search_email", "Search: e-mail", search(target.company_email), found, limit=3, soft=True),
            Page("search_inn", "Search: ИНН", search(target.inn), found, limit=3, soft=True),
            Page("search_word", f"Search: a word of a company's name («{word}»)", search(word),
                 expect(min_rows=1), limit=3, soft=True),
        ]


if __name__ == "__main__":
    main()
