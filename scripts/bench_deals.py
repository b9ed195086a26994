#!/usr/bin/env python3
"""Benchmark of the deals, companies and contacts pages with 100 000 (or 300 000) realistic deals in
the three pipelines, 5 000 companies and 8 000 contacts, on SQLite and PostgreSQL.

    .venv/bin/python scripts/bench_deals.py [--db sqlite|postgres|both] [--deals 100000] [--repeat 20]
    .venv/bin/python scripts/bench_deals.py --db postgres --deals 300000 --companies 15000 --contacts 24000 \\
        --reuse DIR --fill-only          # deals into a database kept by scripts/bench_leads.py --keep DIR
    .venv/bin/python scripts/bench_deals.py --db postgres --reuse DIR [--port 5440] [--explain]

For each database it makes a throwaway one (as scripts/bench_leads.py does: a temp SQLite file or
a temp PostgreSQL cluster, removed at the end, on errors too), or uses a kept one (`--keep DIR`,
`--reuse DIR`: as for the leads; `--reuse` on a kept leads database that has no deals fills them,
so one database serves both scripts), migrates it, fills it, and times in-process
(django.test.Client), as the head (his department tree) and as a manager (his own deals), the deal
list (default, one pipeline, sorted by amount, page 1000 and the last page), the board of each
pipeline with its column totals, a column's «Показать ещё», the deal card, the search by the
company's phone in three formats, e-mail, ИНН and a word of its name, the companies and contacts
lists and a company card, against minimal Django views that read the same 50 rows as the deal list
and the company list (bench/views.py). The developer's db.sqlite3 is never opened.

Results are printed as markdown; the raw result is kept in bench/results/ by size and the
database's section of the «Deals» part of BENCHMARKS.md is rendered from every kept size, side by
side (--no-write to only print). The machinery is scripts/bench_common.py's.
"""

from __future__ import annotations

import argparse
import bisect
import datetime as dt
import html
import math
import os
import random
import re
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_common as common
from bench_common import (
    DB_TITLES,
    NEEDS,
    OWNERS,
    POSITIONS,
    REPORT,
    Page,
    expect,
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
    common.add_common_arguments(parser, "records", stored=True)
    parser.add_argument("--deals", type=int, default=100_000, help="how many deals to create (default 100000)")
    parser.add_argument("--companies", type=int, default=5_000, help="how many companies (default 5000)")
    parser.add_argument("--contacts", type=int, default=8_000, help="how many contacts (default 8000)")
    args = parser.parse_args(argv)
    if args.deals < 1_000:
        parser.error("--deals must be at least 1000 (the boards need several pages of cards)")
    if args.companies < 100 or args.contacts < 100:
        parser.error("--companies and --contacts must be at least 100 (the lists need several pages)")
    common.check_common_arguments(parser, args)
    return args


def main() -> None:
    args = parse_args()
    if args.worker:
        worker(args)
        return
    common.run(args, script=__file__,
               extra_args=["--deals", str(args.deals), "--companies", str(args.companies),
                           "--contacts", str(args.contacts)],
               render_section=render_section, write_section=write_section, size_key="deals")


# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------

PART_HEADING = "# Deals, companies and contacts"
FINDINGS_HEADING = "## Deals: findings"
PART_HEAD = f"""{PART_HEADING}

## Deals: how to run

```bash
.venv/bin/python scripts/bench_deals.py                 # both databases, 100 000 deals, 20 timed rounds
.venv/bin/python scripts/bench_deals.py --db sqlite     # or --db postgres
.venv/bin/python scripts/bench_deals.py --deals 5000 --companies 500 --contacts 800 --repeat 5 --no-write  # smoke run
```

Options: `--db sqlite|postgres|both` (default both), `--deals N` (100000), `--companies N` (5000),
`--contacts N` (8000), `--repeat N` timed rounds (20), `--warmup N` untimed rounds first (3),
`--batch N` records per `bulk_create` (5000), `--seed N`, `--no-write` (print only). The
databases are made and removed as for the leads (`scripts/bench_common.py` is shared by both
scripts); each run replaces its own database's section below (between the `bench:deals-…`
markers); the findings at the end are written by hand.

## Deals: what is measured

- **Data.** `migrate` (the reference lists, the roles, the three pipelines with their stages, stage
  rules and loss reasons), `accounts.demo.seed()` (the users admin, head, ivanov, petrova,
  sidorov), then, by `bulk_create` in batches:
  - 5 000 companies created over three years: ООО/АО/ПАО names and 12 % ИП, 80 % with a valid
    unique ИНН (КПП, ОГРН and the full legal name for organisations), niches, client types, sites;
    0–2 phones (E.164) and 70 % an e-mail each as `crm.Communication` rows (content type + object
    id); `search_text` filled by the model's own `refresh_search_text` (name, legal name, ИНН,
    phones also as dialled with 8, e-mails), `company_key` as `Company.save()` computes it;
  - 8 000 contacts: ФИО, position, a mobile (90 %) and an e-mail (75 %), one company (85 %), two
    (7 %) or none; `search_text` likewise;
  - 100 000 deals created over two years (primary keys growing with `created_at`): 20 % «Общая
    воронка», 45 % cold, 35 % inbound; the stage by age, as a funnel (fresh deals mostly in the
    first stages; of the deals older than 90 days about 14 % still open, 30 % won, 56 % lost with a
    loss reason, mostly at an early stage); 88 % linked to a company, skewed (a few accounts have
    hundreds of deals, most a handful), 70 % of those owned by the company's responsible; owners
    overall as for the leads (three managers, 5 % the head, 3 % the admin, who is outside the
    head's department tree); sources that feed the pipeline (cold or inbound); every deal that
    reached the stage from which «Сумма» and product rows are required (the seeded
    `StageRequirement`) has 1–3 product rows (`DealProduct`) and their total as its amount, as
    `deals.services` keeps it; 45 % of the others an estimated amount; 60 % of the deals with a
    company have one of its contacts, 10 % two; `search_text` as `Deal.save()` computes it;
    `created_at`, `updated_at`, `stage_changed_at` written in the INSERT (the `auto_now` flags
    are switched off for the fill, as in the leads benchmark);
  - the timeline: «создан(а)» for every company, contact and deal, and a stage entry (from the
    first stage to the current one, «Причина: …» when lost) for every deal past its first stage,
    as the services write them;
  - the card's deal: ivanov's newest deal at «КП отправлено» in the cold pipeline that has product
    rows, a company and a contact, given five comments through `crm.timeline.add_comment`, one
    pinned; the company card's company: ivanov's company with the most deals.

  Then `ANALYZE` (SQLite) or `VACUUM ANALYZE` (PostgreSQL).
- **Yardsticks.** `bench/views.py`: `minimal_deals` (`/bench/minimal/deals/`) reads
  `Deal.objects.select_related("pipeline", "company", "source", "responsible")
  .annotate(stage_name=F("stage__name")).order_by("-created_at", "-pk")[:50]` (one query) into an
  8-column table; `minimal_companies` (`/bench/minimal/companies/`) reads
  `Company.objects.select_related("responsible", "niche", "client_type")
  .prefetch_related("communications").order_by("name", "pk")[:50]` (two queries) into a 6-column
  table; both rendered by Django's template engine from a string, without context processors.
  For the admin the script asserts that they show the same 50 ids as `/deals/list/` and
  `/clients/companies/`. The deal pages are compared with the first, the companies and contacts
  pages with the second (the contact list too: a list of the same shape; there is no minimal
  contacts view).
- **Pages**, as the head (`head`, his department tree) and as a manager (`ivanov`, his own deals):
  the deal list by default, filtered by the cold pipeline (`?pipeline=<id>`), sorted by amount
  (`?sort=-amount`), page 1000 (or the last one when there are fewer) and the last page; the board
  of each pipeline (`/deals/?pipeline=<id>`: the in-process columns with their first 10 cards, won
  and lost collapsed) and its column totals (`?pipeline=<id>&part=totals` with `HX-Request: true`,
  as the board asks for them right after it is shown); «Показать ещё» of the fullest in-process
  column the user sees (the link as the board renders it, with `HX-Request`); the deal card; the
  deal list searched for the phone of a deal's company in three formats, its e-mail, its ИНН and a
  word of its name (the deal: the newest the user sees whose company he sees and has them all);
  the company list; the contact list; the company card.
- **Checks.** Every response: HTTP 200 and its content — lists: «Найдено сделок/компаний/контактов:
  N» with this user's N (or a capped «более …»), the number of rows and the expected first row;
  boards: the pipeline, the number of cards (the sum over the in-process columns of min(count, 10))
  and the newest deal of the first column; totals: the first column's count; «Показать ещё»: the
  number of cards; the deal card: its title, the products section with its first product, the
  company, the timeline with the pinned comment; searches: the deal's row (a search that does not
  find it is reported «⚠ wrong result»); the company card: its name, the contacts and deals sections
  with its newest deal the user sees, the timeline.
- **Timing** as for the leads (the same code): in-process `django.test.Client` with `force_login`,
  DEBUG off, 3 warm-up rounds then 20 timed rounds over all pages, queries counted on one more
  request per page; `--explain` as for the leads.
- **Targets** (issue 13), against the minimal deals view: the deal list ≤ 1.5×; the boards, their
  totals, «Показать ещё» and any page number ≤ 2×; every search ≤ 3×; the deal card ≤ 1.5×. The
  other pages are reported against their yardstick for information.
"""


def _marker(db: str) -> tuple[str, str]:
    return f"<!-- bench:deals-{db}:start -->", f"<!-- bench:deals-{db}:end -->"


def write_section(db: str, section: str) -> None:
    def place(text: str, block: str) -> str:
        if f"\n{PART_HEADING}\n" not in f"\n{text}":
            text = text.rstrip() + "\n\n" + PART_HEAD
        # SQLite's section goes before PostgreSQL's; both before the hand-written findings.
        if db == "sqlite" and _marker("postgres")[0] in text:
            return common.insert_before(text, _marker("postgres")[0], block)
        if f"\n{FINDINGS_HEADING}\n" in text:
            return common.insert_before(text, FINDINGS_HEADING + "\n", block)
        return text.rstrip() + "\n\n" + block + "\n"

    text = REPORT.read_text(encoding="utf-8") if REPORT.exists() else "# Benchmarks\n"
    REPORT.write_text(common.replace_block(text, *_marker(db), section, place), encoding="utf-8")


def render_section(results: list[dict]) -> str:
    """The database's section: every kept size side by side, then each size's details."""
    results = sorted(results, key=lambda r: r["deals"])
    lines = [f"## Deals: {results[-1]['database_title']}", "",
             "Median ms and × the yardstick of each page at each size measured (✅/❌: within the page's "
             "target or not; ⚠ by a ratio: the page showed a wrong result, see the size's table; ⚠ by the "
             "queries: they differ between sizes). Each size's details follow.", ""]
    lines += common.summary_tables(results, "deals", "сделок", group="deals", visible="deals")
    lines += common.summary_tables(results, "deals", "компаний", group="clients", visible="companies")
    for r in results:
        lines += common.demote(render_size(r).splitlines()) + [""]
    return "\n".join(lines).rstrip() + "\n"


def render_size(r: dict) -> str:
    f = r["fill"]
    data = (
        f"{n_(r['deals'])} deals ({r['pipeline_spread']}; {r['outcome_spread']}), {n_(r['deal_products'])} product "
        f"rows on {n_(r['deals_with_products'])} deals, {n_(r['deal_contacts'])} deal–contact links; "
        f"{n_(r['companies'])} companies and {n_(r['contacts'])} contacts ({n_(r['contact_links'])} contact–company "
        f"links) with {n_(r['communications'])} phones and e-mails; {n_(r['timeline_entries'])} timeline entries. "
        f"The deal card: #{r['card_pk']} ({r['card_note']}); the company card: #{r['company_pk']} "
        f"({r['company_note']})."
    )
    fill = (f"{f['total']:.1f} s (migrate {f['migrate']:.1f} s, companies and contacts {f['clients']:.1f} s, "
            f"deals {f['deals']:.1f} s, indexes {f.get('indexes', 0):.1f} s, {f['analyze_label']} {f['analyze']:.1f} s)")
    if "reused" in f:
        fill = (f"a kept database (`--reuse`), filled earlier on {r.get('filled_on', '?')} in {fill}; this run: "
                f"migrate, recount and ANALYZE {f['reused']:.1f} s")
    lines = common.section_head(r, f"{n_(r['deals'])} deals", data=data, fill=fill + ".")
    lines.insert(lines.index(f"- **Date:** {r['date']}") + 1, f"- **Code:** {r['code']}")
    for user in r["users"]:
        deals = [p for p in user["pages"] if p["group"] == "deals"]
        clients = [p for p in user["pages"] if p["group"] == "clients"]
        lines += [
            f"### {user['label']}",
            "",
            *common.page_table(deals, "× minimal deals"),
            "",
            common.target_line(deals, "each page within its target"),
            "",
            *common.page_table(clients, "× minimal companies"),
            "",
        ]
    lines += common.plans_section(r)
    lines += common.explains_section(r)
    lines += common.profiles_section(r, "Where the time goes: the minimal deals view, the deal list, the boards, "
                                        "the companies and contacts lists")
    return "\n".join(lines).rstrip() + "\n"


# ---------------------------------------------------------------------------------------------
# Worker: one database, in its own Django process.
# ---------------------------------------------------------------------------------------------

def worker(args: argparse.Namespace) -> None:
    migrate_time = common.setup_django(args)
    from clients.models import Company
    from deals.models import Deal

    filler = Filler(args)
    data = common.load_meta("deals") if args.reuse else None
    if data is None:
        print(f"{DB_TITLES[args.db]}: migrated in {migrate_time:.1f} s; filling {args.companies} companies, "
              f"{args.contacts} contacts, {args.deals} deals…", flush=True)
        filler.run()
        f = filler.times
        f["migrate"] = migrate_time
        f["total"] = sum(v for k, v in f.items() if k not in ("total", "analyze_label"))
        print(f"{DB_TITLES[args.db]}: filled in {f['total']:.1f} s (migrate {migrate_time:.1f} s, "
              f"companies and contacts {f['clients']:.1f} s, deals {f['deals']:.1f} s, indexes {f.get('indexes', 0):.1f} s, "
              f"{f['analyze_label']} {f['analyze']:.1f} s).", flush=True)
        data = {**filler.summary(), "pinned_text": filler.pinned_text, "fill": f, "filled_on": common.git_state()}
        if args.keep or args.reuse:
            common.save_meta("deals", data)
    else:
        # A kept database: the pipelines' shapes are read again; the cards are the fill's.
        filler.prepare()
        filler.card = Deal.objects.get(pk=data["card_pk"])
        filler.company = Company.objects.get(pk=data["company_pk"])
        filler.pinned_text = data["pinned_text"]
        data["fill"]["reused"] = migrate_time
        print(f"{DB_TITLES[args.db]}: a kept database with {data['deals']} deals (filled in {data['fill']['total']:.0f} s "
              f"on {data['filled_on']}); migrate and ANALYZE {migrate_time:.1f} s.", flush=True)
    if args.fill_only:
        return

    result = {**common.base_result(args), **data, "code": common.git_state()}
    bench = Bench(args, filler)
    load_before = os.getloadavg()[0]
    result["users"] = bench.run()
    result["load"] = [f"{load_before:.2f}", f"{os.getloadavg()[0]:.2f}"]
    result["plans"] = bench.explain_slow()
    result["explains"] = bench.explains
    result["slow_share"] = bench.slow_share
    result["profiles"] = bench.profiles
    common.write_result(args, result)


# --- Realistic data -------------------------------------------------------------------------

YEAR = 365 * 86400
# Share of the deals per pipeline (by Pipeline.default_for): cold calling brings most.
PIPELINE_SHARE = {"other": 20, "cold": 45, "inbound": 35}
# Where a deal stands by its age: (max age in days, weights of the in-process stages in their
# order, won, lost). Fresh deals sit in the first stages; most old ones are closed, some stall.
FUNNEL = [
    (14, [46, 24, 12, 8, 5, 3], 1, 4),
    (90, [16, 12, 10, 8, 6, 5], 15, 28),
    (10_000, [3, 3, 2, 2, 2, 2], 30, 56),
]
# At which in-process stage a lost deal was lost (most early).
LOST_AT = [30, 24, 18, 12, 9, 7]
PRICES = [15_000, 25_000, 40_000, 60_000, 90_000, 150_000, 250_000, 320_000, 600_000]
QUANTITIES = [1, 1, 1, 1, 2, 3, 5]
DEAL_COMMENTS = ["", "", "", "", "Клиент просит перезвонить после планёрки.", "ЛПР — собственник, решение за ним.",
                 "Интересует интеграция с 1С и телефонией.", "Сравнивают с amoCRM.", "Бюджет согласуют в следующем месяце."]
CLIENT_COMMENTS = ["", "", "", "", "Постоянный клиент", "Работают через дилера", "Просили не звонить по пятницам"]
MAIL_BOXES = ["info", "sales", "office", "zakaz"]


def _weighted(rng: random.Random, cum: list[float]) -> int:
    """Index drawn by cumulative weights (bisect: O(log n) for thousands of choices)."""
    return bisect.bisect_right(cum, rng.random() * cum[-1])


class Filler:
    """The demo users (accounts.demo.seed()); then companies with their phones and e-mails,
    contacts linked to them, deals over the three seeded pipelines with product rows, contacts and
    a timeline («created» and, past the first stage, the stage move), all by bulk_create in
    batches; a few comments on the card's deal; then planner statistics."""

    def __init__(self, args):
        self.args = args
        self.rng = random.Random(args.seed)
        self.times: dict = {}
        self.counts = {"deals": 0, "deal_products": 0, "deals_with_products": 0, "deal_contacts": 0,
                       "companies": 0, "contacts": 0, "contact_links": 0, "communications": 0,
                       "timeline_entries": 0}
        self.by_pipeline: dict[int, int] = {}
        self.by_outcome = {"process": 0, "success": 0, "failure": 0}

    # --- summary ---

    def summary(self) -> dict:
        total = self.counts["deals"]
        pct = lambda n: f"{n * 100 / total:.0f} %"  # noqa: E731
        names = {p.pk: p.name for p in self.pipelines}
        return {
            **self.counts,
            "pipeline_spread": ", ".join(f"{names[p.pk]} {pct(self.by_pipeline.get(p.pk, 0))}"
                                         for p in self.pipelines),
            "outcome_spread": (f"in process {pct(self.by_outcome['process'])}, won {pct(self.by_outcome['success'])}, "
                               f"lost {pct(self.by_outcome['failure'])} with a loss reason"),
            "card_pk": self.card.pk,
            "card_note": self.card_note,
            "company_pk": self.company.pk,
            "company_note": self.company_note,
        }

    # --- the fill ---

    def prepare(self) -> None:
        """The users, the reference lists, the pipelines and their stages (a fill's and a reuse's)."""
        from accounts import demo
        from crm import models as ref
        from deals.models import LossReason, Pipeline, StageRequirement

        self.users = demo.seed()
        self.owners = [self.users[login] for login, _w in OWNERS]
        self.owner_cum = []
        for _login, w in OWNERS:
            self.owner_cum.append((self.owner_cum[-1] if self.owner_cum else 0) + w)
        self.refs = {
            "niche": list(ref.Niche.objects.filter(is_active=True)),
            "client_type": list(ref.ClientType.objects.filter(is_active=True)),
            "product": list(ref.Product.objects.filter(is_active=True)),
            "loss_reason": list(LossReason.objects.filter(is_active=True)),
        }
        sources = list(ref.Source.objects.filter(is_active=True))
        self.pipelines = list(Pipeline.objects.order_by("sort", "pk"))
        assert len(self.pipelines) == 3, f"expected the three seeded pipelines, found {len(self.pipelines)}"
        self.pipeline_cum = []
        for p in self.pipelines:
            share = PIPELINE_SHARE.get(p.default_for, 20)
            self.pipeline_cum.append((self.pipeline_cum[-1] if self.pipeline_cum else 0) + share)
        # Per pipeline: its in-process stages in order, its won and lost stages, the first stage
        # from which «Сумма» and product rows are required, and the sources that feed it.
        self.shape = {}
        for p in self.pipelines:
            stages = list(p.stages.order_by("sort", "pk"))
            process = [s for s in stages if s.semantics == "process"]
            money = {r.stage_id for r in StageRequirement.objects.filter(stage__pipeline=p, key="products")}
            money_at = next((i for i, s in enumerate(process) if s.pk in money), len(process))
            kind = {"cold": "cold", "inbound": "inbound"}.get(p.default_for)
            self.shape[p.pk] = {
                "process": process,
                "success": next(s for s in stages if s.semantics == "success"),
                "failure": next(s for s in stages if s.semantics == "failure"),
                "money_at": money_at,
                "sources": [s for s in sources if kind is None or s.kind == kind] or sources,
            }
        self.now = dt.datetime.now(dt.UTC).replace(microsecond=0)

    def run(self) -> None:
        from clients.models import Company, Contact
        from crm.models import Communication, TimelineEntry
        from deals.models import Deal, DealProduct

        self.prepare()
        fields = [Deal._meta.get_field(n) for n in ("created_at", "updated_at", "stage_changed_at")]
        fields += [m._meta.get_field(n) for m in (Company, Contact) for n in ("created_at", "updated_at")]
        fields.append(TimelineEntry._meta.get_field("created_at"))
        tables = [Company, Contact, Contact.companies.through, Communication, Deal, DealProduct, Deal.contacts.through,
                  TimelineEntry]
        with common.indexes_after_fill(tables, self.times), common.explicit_timestamps(fields):
            t0 = time.perf_counter()
            self._companies()
            self._contacts()
            self.times["clients"] = time.perf_counter() - t0
            t0 = time.perf_counter()
            self._deals()
            self.times["deals"] = time.perf_counter() - t0
        self._cards()
        self.times["analyze_label"], self.times["analyze"] = common.analyze()

    def _owner(self):
        return self.owners[_weighted(self.rng, self.owner_cum)]

    def _stamps(self, created: dt.datetime) -> tuple[dt.datetime, int]:
        """updated_at and version of a record created at `created`."""
        age = (self.now - created).total_seconds() / 86400
        updated = min(self.now, created + dt.timedelta(seconds=self.rng.uniform(0, min(age, 60) * 86400)))
        return updated, 1 + self.rng.randrange(0, 4)

    def _flush(self, model, rows: list) -> None:
        common.insert(model, rows, self.args.batch, pks=True)

    def _timeline(self, entries: list) -> None:
        from crm.models import TimelineEntry

        self._flush(TimelineEntry, entries)
        self.counts["timeline_entries"] += len(entries)

    def _communications(self, records: list, items: list[list[tuple[str, str, str]]]) -> None:
        from django.contrib.contenttypes.models import ContentType

        from crm.models import Communication

        ct = ContentType.objects.get_for_model(records[0])
        rows = [Communication(content_type=ct, object_id=record.pk, kind=kind, type=type_, value=value)
                for record, its in zip(records, items, strict=True) for kind, type_, value in its]
        self._flush(Communication, rows)
        self.counts["communications"] += len(rows)

    def _created_entries(self, records: list, text: str) -> list:
        from django.contrib.contenttypes.models import ContentType

        from crm.models import TimelineEntry

        ct = ContentType.objects.get_for_model(records[0])
        return [TimelineEntry(content_type=ct, object_id=r.pk, kind="created", author_id=r.responsible_id,
                              created_at=r.created_at, text=text, data={"msgid": text, "params": {}}) for r in records]

    def _companies(self) -> None:
        """Companies (ООО/АО/ИП with valid unique ИНН for most), 1–2 phones and an e-mail each,
        search_text as clients.services keeps it (Company.refresh_search_text)."""
        from clients.models import Company
        from crm.duplicates import company_key
        from crm.models import Communication

        rng, n = self.rng, self.args.companies
        offsets = sorted((rng.uniform(30 * 86400, 3 * YEAR) for _ in range(n)), reverse=True)
        self.company_ids: list[int] = []
        self.company_owner: dict[int, int] = {}
        self.company_core: dict[int, str] = {}
        seen_inn: set[str] = set()
        for i in range(0, n, self.args.batch):
            companies, comms = [], []
            for s in offsets[i:i + self.args.batch]:
                created = self.now - dt.timedelta(seconds=s)
                name, core, address, area, inn = random_company(rng)
                if inn in seen_inn or rng.random() < 0.2:
                    inn = ""
                seen_inn.add(inn)
                domain = translit(core) + rng.choice([".ru", ".ru", ".ru", ".com"])
                owner = self._owner()
                updated, version = self._stamps(created)
                company = Company(
                    name=name, company_key=company_key(name), inn=inn, address=address,
                    website=domain if rng.random() < 0.5 else "",
                    niche=rng.choice(self.refs["niche"]) if rng.random() < 0.7 else None,
                    client_type=rng.choice(self.refs["client_type"]) if rng.random() < 0.6 else None,
                    responsible=owner, created_by=owner, comment=rng.choice(CLIENT_COMMENTS),
                    created_at=created, updated_at=updated, version=version,
                )
                if len(inn) == 10:
                    company.kpp = f"{inn[:4]}01001"
                    company.ogrn = f"1{rng.randrange(10**11, 10**12)}{rng.randrange(10)}"
                    company.legal_name = name.replace("ООО", "Общество с ограниченной ответственностью", 1)
                    company.legal_address = address
                its = [("phone", "work", random_phone(rng, area))
                       for _ in range(rng.choices([0, 1, 2], [5, 70, 25])[0])]
                if rng.random() < 0.7:
                    its.append(("email", "work", f"{rng.choice(MAIL_BOXES)}@{domain}"))
                company.refresh_search_text([Communication(kind=k, type=t, value=v) for k, t, v in its])
                company.bench_core = core
                companies.append(company)
                comms.append(its)
            self._flush(Company, companies)
            self._communications(companies, comms)
            self._timeline(self._created_entries(companies, "Компания создана"))
            for c in companies:
                self.company_ids.append(c.pk)
                self.company_owner[c.pk] = c.responsible_id
                self.company_core[c.pk] = c.bench_core
            self.counts["companies"] += len(companies)
            print(f"  companies: {self.counts['companies']}/{n}", flush=True)
        # Accounts are not equal: a few companies have hundreds of deals, most a handful.
        order = self.company_ids[:]
        rng.shuffle(order)
        self.company_order = order
        self.company_cum = []
        for rank in range(len(order)):
            self.company_cum.append((self.company_cum[-1] if self.company_cum else 0) + 1 / (rank + 8) ** 0.9)

    def _contacts(self) -> None:
        """Contacts: ФИО, position, a mobile and an e-mail, one company (sometimes two or none)."""
        from clients.models import Contact
        from crm.models import Communication

        rng, n = self.rng, self.args.contacts
        offsets = sorted((rng.uniform(20 * 86400, 3 * YEAR) for _ in range(n)), reverse=True)
        self.contacts_of: dict[int, list[int]] = {}
        Link = Contact.companies.through
        for i in range(0, n, self.args.batch):
            contacts, comms, companies = [], [], []
            for s in offsets[i:i + self.args.batch]:
                created = self.now - dt.timedelta(seconds=s)
                last, first, middle = random_person(rng)
                linked = rng.sample(self.company_ids, rng.choices([0, 1, 2], [8, 85, 7])[0])
                owner = (self.users_by_pk(self.company_owner[linked[0]]) if linked and rng.random() < 0.7
                         else self._owner())
                updated, version = self._stamps(created)
                contact = Contact(
                    last_name=last, first_name=first, middle_name=middle if rng.random() < 0.8 else "",
                    position=rng.choice(POSITIONS) if rng.random() < 0.8 else "",
                    birth_date=dt.date(rng.randrange(1960, 2000), rng.randrange(1, 13), rng.randrange(1, 29))
                    if rng.random() < 0.2 else None,
                    responsible=owner, created_by=owner, comment=rng.choice(CLIENT_COMMENTS),
                    created_at=created, updated_at=updated, version=version,
                )
                its = []
                if rng.random() < 0.9:
                    its.append(("phone", "mobile", random_mobile(rng)))
                if rng.random() < 0.75:
                    domain = (translit(self.company_core[linked[0]]) + ".ru") if linked else rng.choice(
                        ["mail.ru", "yandex.ru", "gmail.com"])
                    its.append(("email", "work", f"{translit(first)[:1]}.{translit(last)}@{domain}"))
                contact.refresh_search_text([Communication(kind=k, type=t, value=v) for k, t, v in its])
                contacts.append(contact)
                comms.append(its)
                companies.append(linked)
            self._flush(Contact, contacts)
            self._communications(contacts, comms)
            self._timeline(self._created_entries(contacts, "Контакт создан"))
            links = [Link(contact_id=c.pk, company_id=pk) for c, linked in zip(contacts, companies, strict=True)
                     for pk in linked]
            self._flush(Link, links)
            for link in links:
                self.contacts_of.setdefault(link.company_id, []).append(link.contact_id)
            self.counts["contacts"] += len(contacts)
            self.counts["contact_links"] += len(links)
            print(f"  contacts: {self.counts['contacts']}/{n}", flush=True)

    def users_by_pk(self, pk: int):
        if not hasattr(self, "_users_by_pk"):
            self._users_by_pk = {u.pk: u for u in self.users.values()}
        return self._users_by_pk[pk]

    def _outcome(self, shape: dict, age: float) -> tuple[str, int]:
        """(semantics, index of the furthest in-process stage reached)."""
        rng = self.rng
        k = len(shape["process"])
        for max_age, process, won, lost in FUNNEL:
            if age <= max_age:
                weights = [*process[:k], won, lost]
                break
        pick = rng.choices(range(k + 2), weights)[0]
        if pick < k:
            return "process", pick
        if pick == k:
            return "success", k
        return "failure", rng.choices(range(k), LOST_AT[:k])[0]

    def _deal(self, created: dt.datetime):
        """A deal (unsaved), its product rows (product, quantity, price) and its contacts' ids."""
        from crm.duplicates import search_normalize
        from deals.models import Deal

        rng = self.rng
        age = (self.now - created).total_seconds() / 86400
        pipeline = self.pipelines[_weighted(rng, self.pipeline_cum)]
        shape = self.shape[pipeline.pk]
        semantics, reached = self._outcome(shape, age)
        stage = shape["process"][reached] if semantics == "process" else shape[semantics]
        company_id = self.company_order[_weighted(rng, self.company_cum)] if rng.random() < 0.88 else None
        if company_id is not None and rng.random() < 0.7:
            owner = self.users_by_pk(self.company_owner[company_id])
        else:
            owner = self._owner()
        core = self.company_core[company_id] if company_id else random_company(rng)[1]
        products = []
        if reached >= shape["money_at"]:
            products = [(rng.choice(self.refs["product"]), Decimal(rng.choice(QUANTITIES)), Decimal(rng.choice(PRICES)))
                        for _ in range(rng.choices([1, 2, 3], [60, 30, 10])[0])]
            amount = sum((q * p for _product, q, p in products), Decimal(0))
        else:
            amount = Decimal(rng.choice(PRICES)) if rng.random() < 0.45 else Decimal(0)
        moved = created if stage.pk == shape["process"][0].pk else created + dt.timedelta(
            seconds=rng.uniform(0, min(age, 120) * 86400))
        updated = min(self.now, moved + dt.timedelta(seconds=rng.uniform(0, min(age, 30) * 86400)))
        title = f"{core} — {rng.choice(NEEDS)}"
        comment = rng.choice(DEAL_COMMENTS)
        deal = Deal(
            title=title, pipeline=pipeline, stage_id=stage.pk, amount=amount,
            currency=rng.choices(["RUB", "USD", "EUR"], [95, 3, 2])[0],
            company_id=company_id,
            source=rng.choice(shape["sources"]) if rng.random() < 0.9 else None,
            start_date=created.date(),
            close_date=(created + dt.timedelta(days=rng.randrange(7, 120))).date() if rng.random() < 0.85 else None,
            responsible=owner, created_by=owner, comment=comment,
            loss_reason=rng.choice(self.refs["loss_reason"]) if semantics == "failure" else None,
            version=1 + reached + rng.randrange(0, 3),
            search_text=search_normalize(" ".join(p for p in (title, comment[:200]) if p)),
            stage_changed_at=moved, created_at=created, updated_at=updated,
        )
        people = self.contacts_of.get(company_id, []) if company_id else []
        contacts = rng.sample(people, min(len(people), rng.choices([0, 1, 2], [30, 60, 10])[0])) if people else []
        self.by_pipeline[pipeline.pk] = self.by_pipeline.get(pipeline.pk, 0) + 1
        self.by_outcome[semantics] += 1
        return deal, products, contacts

    def _deals(self) -> None:
        from django.contrib.contenttypes.models import ContentType

        from crm.models import TimelineEntry
        from deals.models import Deal, DealProduct

        rng, n, batch = self.rng, self.args.deals, self.args.batch
        ct = ContentType.objects.get_for_model(Deal)
        Link = Deal.contacts.through
        stage_names = {s.pk: s for shape in self.shape.values()
                       for s in [*shape["process"], shape["success"], shape["failure"]]}
        # Oldest first, so primary keys grow with created_at as in a real database.
        offsets = sorted((rng.uniform(60, 2 * YEAR) for _ in range(n)), reverse=True)
        started = time.perf_counter()
        for i in range(0, n, batch):
            made = [self._deal(self.now - dt.timedelta(seconds=s)) for s in offsets[i:i + batch]]
            deals = [d for d, _p, _c in made]
            self._flush(Deal, deals)
            rows = [DealProduct(deal_id=d.pk, product=product, quantity=q, price=p)
                    for d, products, _c in made for product, q, p in products]
            self._flush(DealProduct, rows)
            links = [Link(deal_id=d.pk, contact_id=c) for d, _p, contacts in made for c in contacts]
            self._flush(Link, links)
            entries = []
            for d in deals:
                entries.append(TimelineEntry(content_type=ct, object_id=d.pk, kind="created", author_id=d.responsible_id,
                                             created_at=d.created_at, text="Сделка создана",
                                             data={"msgid": "Сделка создана", "params": {}}))
                first = self.shape[d.pipeline_id]["process"][0]
                if d.stage_id != first.pk:
                    to = stage_names[d.stage_id]
                    reason = {"msgid": "Причина: %(reason)s", "params": {"reason": str(d.loss_reason)}}
                    failed = to.semantics == "failure"
                    entries.append(TimelineEntry(
                        content_type=ct, object_id=d.pk, kind="status", author_id=d.responsible_id,
                        created_at=d.stage_changed_at, text=f"Причина: {d.loss_reason}" if failed else "",
                        data={"field": "stage", "from": first.pk, "to": to.pk, "from_label": first.name,
                              "to_label": to.name, **(reason if failed else {})},
                    ))
            self._timeline(entries)
            self.counts["deals"] += len(deals)
            self.counts["deal_products"] += len(rows)
            self.counts["deals_with_products"] += sum(1 for _d, products, _c in made if products)
            self.counts["deal_contacts"] += len(links)
            print(f"  deals: {self.counts['deals']}/{n} ({time.perf_counter() - started:.0f} s)", flush=True)

    def _cards(self) -> None:
        """The deal card's deal: the newest deal of a manager in the cold pipeline at «КП
        отправлено» (so it has product rows, a company and contacts), with five comments, one
        pinned (crm.timeline.add_comment, as the card's form does). The company card's company:
        that manager's company with the most deals."""
        from django.db.models import Count

        from clients.models import Company
        from crm import timeline
        from deals.models import Deal

        manager = self.users["ivanov"]
        mine = Deal.objects.filter(responsible=manager, company__isnull=False, products__isnull=False,
                                   contacts__isnull=False).distinct()
        cold = next((p for p in self.pipelines if p.default_for == "cold"), self.pipelines[0])
        shape = self.shape[cold.pk]
        stage = shape["process"][min(shape["money_at"], len(shape["process"]) - 1)]
        self.card = (mine.filter(stage=stage.pk).order_by("-created_at").first()
                     or mine.order_by("-created_at").first())
        texts = [
            "Позвонил, секретарь дала почту ЛПР. Перезвонить во вторник.",
            "Провели бесплатный аудит портала, клиент доволен.",
            "ЛПР попросил КП на внедрение и обучение.",
            "Разведка: сеть из 12 магазинов, портал Битрикс24 куплен, но не внедрён. ЛПР — собственник.",
            "КП отправлено, ждём ответа до пятницы.",
        ]
        self.card_comments = [timeline.add_comment(self.card, manager, text, pin_it=(i == 3))
                              for i, text in enumerate(texts)]
        self.pinned_text = texts[3]
        self.counts["timeline_entries"] += len(texts)
        plural = lambda n, word: f"{n} {word}" + ("" if n == 1 else "s")  # noqa: E731
        self.card_note = (f"{cold.name}, stage «{Deal.objects.get(pk=self.card.pk).current_stage.name}», "
                          f"{plural(self.card.products.count(), 'product row')}, "
                          f"{plural(self.card.contacts.count(), 'contact')}, "
                          f"{timeline.entries(self.card).count()} timeline entries, "
                          "one comment pinned")
        self.company = (Company.objects.filter(responsible=manager).annotate(n=Count("deals"))
                        .order_by("-n", "pk").first())
        self.company_note = (f"{plural(self.company.n, 'deal')}, {plural(self.company.contacts.count(), 'contact')}, "
                             "the most deals of a manager's companies; the card lists the newest 50")


# --- Timing ---------------------------------------------------------------------------------

class Bench(common.Bench):
    # Every query of 1 ms or more among the two slowest of a page over the target is EXPLAINed,
    # even when the page's time is mostly spent in Python.
    slow_share = 0.0

    def __init__(self, args, fill: Filler):
        super().__init__(args)
        self.fill = fill

    def run(self) -> list[dict]:
        from django.db import connection

        from clients.selectors import visible_companies, visible_contacts
        from deals.selectors import visible_deals

        self._same_rows_as_minimal()
        users = []
        for login, label in (("head", "head — руководитель отдела продаж (видит своё и «Отдел продаж» с подотделами)"),
                             ("ivanov", "ivanov — менеджер (видит свои сделки)")):
            user = self.fill.users[login]
            visible = {"deals": visible_deals(user).count(), "companies": visible_companies(user).count(),
                       "contacts": visible_contacts(user).count()}
            print(f"Timing as «{login}» ({visible['deals']} deals, {visible['companies']} companies, "
                  f"{visible['contacts']} contacts visible)…", flush=True)
            pages = self._pages(user, visible)
            users.append({"login": login, "visible": visible, "pages": self.time_pages(user, pages),
                          "label": f"{label}: {n_(visible['deals'])} сделок, {n_(visible['companies'])} компаний, "
                                   f"{n_(visible['contacts'])} контактов"})
        self.explain_pages()
        connection.close()
        return users

    def _same_rows_as_minimal(self) -> None:
        """The yardsticks must read the very rows the lists show (for the admin, who sees all)."""
        from django.test import Client
        from django.urls import reverse

        client = Client()
        client.force_login(self.fill.users["admin"])
        for minimal, listed, marker in (("bench_minimal_deals", "deals:list", "deal"),
                                        ("bench_minimal_companies", "clients:company_list", "company")):
            ids = [re.findall(rf'<tr data-{marker}="(\d+)"', client.get(reverse(name)).content.decode())
                   for name in (minimal, listed)]
            assert ids[0] == ids[1] and len(ids[0]) == 50, f"{minimal} and {listed} show different rows"

    def _search_target(self, user, deals):
        """The deal searched for: the newest the user sees whose company he sees too (a hidden
        company's phone finds nothing) and has a phone, an e-mail and an ИНН; with them. The
        search finds it on the first page: the list is newest first."""
        from django.contrib.contenttypes.models import ContentType

        from clients.models import Company
        from clients.selectors import visible_companies
        from crm.models import Communication

        ct = ContentType.objects.get_for_model(Company)
        candidates = (deals.filter(company__in=visible_companies(user)).exclude(company__inn="")
                      .select_related("company").order_by("-created_at", "-pk"))
        for deal in candidates[:500]:
            comms = dict(Communication.objects.filter(content_type=ct, object_id=deal.company_id)
                         .order_by("-pk").values_list("kind", "value"))
            if "phone" in comms and "email" in comms:
                return deal, comms["phone"], comms["email"]
        raise AssertionError(f"no deal of {user} has a company with a phone, an e-mail and an ИНН")

    def _pages(self, user, visible: dict) -> list[Page]:
        from django.db.models import Count
        from django.test import Client
        from django.urls import reverse
        from django.utils.html import escape
        from django.utils.http import urlencode

        from clients.filters import COMPANY_SORTS, CONTACT_SORTS
        from clients.selectors import visible_companies, visible_contacts
        from crm import phones
        from deals import views_board
        from deals.selectors import visible_deals

        page_size = getattr(views_board, "PAGE_SIZE", 10)
        per_page = 50
        deals = visible_deals(user)
        fill = self.fill
        newest = deals.order_by("-created_at", "-pk").values_list("pk", flat=True).first()
        top_amount = deals.order_by("-amount", "-pk").values_list("pk", flat=True).first()
        cold = next((p for p in fill.pipelines if p.default_for == "cold"), fill.pipelines[0])
        in_cold = deals.filter(pipeline=cold)
        cold_total = in_cold.count()
        cold_newest = in_cold.order_by("-created_at", "-pk").values_list("pk", flat=True).first()
        counts = dict(deals.order_by().values_list("stage").annotate(n=Count("pk")))
        client = Client()
        client.force_login(user)

        row = '<tr data-deal="'
        list_url = reverse("deals:list")
        n_deals = visible["deals"]
        num_pages = math.ceil(n_deals / per_page)
        deep = min(1000, num_pages)

        def listed(n: int, *needles, rows: int, testid: str = "deal-total"):
            check = expect(*needles, count={row: rows})

            def both(content: str) -> None:
                common.check_total(content, testid, n)
                check(content)
            return both

        def page_of(number: int) -> tuple[int, int]:
            """(rows on that page, the pk of its first row) of the default list."""
            first = deals.order_by("-created_at", "-pk").values_list("pk", flat=True)[(number - 1) * per_page]
            return min(per_page, n_deals - (number - 1) * per_page), first

        def search(q: str) -> str:
            return f"{list_url}?{urlencode({'q': q})}"

        target, phone, email = self._search_target(user, deals)
        digits = phone[2:]  # the ten digits after +7
        found = expect(f'{row}{target.pk}"')
        word = common.name_word(target.company.name)
        deep_rows, deep_first = page_of(deep)
        last_rows, last_first = page_of(num_pages)
        pages = [
            Page("minimal_deals", "Minimal deals view (50 rows)", reverse("bench_minimal_deals"),
                 expect(count={row: per_page}), yardstick=None, group="deals"),
            Page("list", "**Deal list**, default", list_url,
                 listed(n_deals, f'{row}{newest}"', rows=per_page),
                 limit=1.5, yardstick="minimal_deals", group="deals"),
            Page("list_pipeline", "Deal list, one pipeline", f"{list_url}?pipeline={cold.pk}",
                 listed(cold_total, f'{row}{cold_newest}"', rows=min(per_page, cold_total)),
                 yardstick="minimal_deals", group="deals"),
            Page("list_amount", "Deal list, sorted by amount", f"{list_url}?sort=-amount",
                 listed(n_deals, f'{row}{top_amount}"', rows=per_page), yardstick="minimal_deals", group="deals"),
            Page("list_deep", f"Deal list, page {deep}", f"{list_url}?page={deep}",
                 listed(n_deals, f'{row}{deep_first}"', rows=deep_rows), limit=2, yardstick="minimal_deals",
                 group="deals"),
            Page("list_last", f"Deal list, the last page ({num_pages})", f"{list_url}?page={num_pages}",
                 listed(n_deals, f'{row}{last_first}"', rows=last_rows), limit=2, yardstick="minimal_deals",
                 group="deals"),
            Page("search_phone", "Search: the company's phone «+7 (XXX) XXX-XX-XX»", search(phones.display(phone)),
                 found, limit=3, soft=True, yardstick="minimal_deals", group="deals"),
            Page("search_phone8", "Search: the company's phone «8XXXXXXXXXX»", search("8" + digits),
                 found, limit=3, soft=True, yardstick="minimal_deals", group="deals"),
            Page("search_phone_spaces", "Search: the company's phone «XXX XXX XX XX»",
                 search(f"{digits[:3]} {digits[3:6]} {digits[6:8]} {digits[8:]}"),
                 found, limit=3, soft=True, yardstick="minimal_deals", group="deals"),
            Page("search_email", "Search: the company's e-mail", search(email), found, limit=3, soft=True,
                 yardstick="minimal_deals", group="deals"),
            Page("search_inn", "Search: the company's ИНН", search(target.company.inn), found, limit=3, soft=True,
                 yardstick="minimal_deals", group="deals"),
            Page("search_word", f"Search: a word of a company's name («{word}»)", search(word),
                 expect(row), limit=3, soft=True, yardstick="minimal_deals", group="deals"),
        ]
        board_url = reverse("deals:board")
        for i, pipeline in enumerate(fill.pipelines, start=1):
            process = fill.shape[pipeline.pk]["process"]
            first = process[0]
            cards = sum(min(counts.get(s.pk, 0), page_size) for s in process)
            newest_first = (deals.filter(stage=first.pk).order_by("-created_at", "-pk")
                            .values_list("pk", flat=True).first())
            pages.append(Page(
                f"board_{i}", f"**Board {i}** «{pipeline.name}»", f"{board_url}?pipeline={pipeline.pk}",
                expect('data-testid="deals-board"', f'data-pipeline="{pipeline.pk}"', f'id="board-card-{newest_first}"',
                       count={'data-testid="board-card"': cards}),
                limit=2, yardstick="minimal_deals", group="deals"))
            pages.append(Page(
                f"totals_{i}", f"Board {i} column totals (htmx)", f"{board_url}?pipeline={pipeline.pk}&part=totals",
                expect(f'data-testid="board-count-{first.pk}" hx-swap-oob="true">{counts.get(first.pk, 0)}<'),
                headers={"HTTP_HX_REQUEST": "true"}, limit=2, yardstick="minimal_deals", group="deals"))
        # «Показать ещё» of the fullest in-process column the user sees (at 100k: the first column
        # of the cold board), the link as the board renders it.
        column = max((s for p in fill.pipelines for s in fill.shape[p.pk]["process"]),
                     key=lambda s: (counts.get(s.pk, 0), -s.pk))
        more_index = next(i for i, p in enumerate(fill.pipelines, start=1) if p.pk == column.pipeline_id)
        if counts.get(column.pk, 0) > page_size:  # else no column has more (a small fill)
            board = client.get(f"{board_url}?pipeline={column.pipeline_id}").content.decode()
            more = re.search(rf'href="([^"]*/board/column/{column.pk}/[^"]*after=[^"]*)"', board)
            assert more, f"the board has no «Показать ещё» link in the «{column.name}» column ({counts[column.pk]} deals)"
            pages.append(Page(
                "board_more", f"Board {more_index}, «Показать ещё» (htmx)", html.unescape(more.group(1)),
                expect(count={'data-testid="board-card"': min(page_size, counts[column.pk] - page_size)}),
                headers={"HTTP_HX_REQUEST": "true"}, limit=2, yardstick="minimal_deals", group="deals"))
        card = fill.card
        first_product = card.products.select_related("product").order_by("pk").first().product
        # The card names its company only to a user who may see it (the head; not a manager
        # when a colleague is the company's responsible).
        company_name = [escape(card.company.name)] if visible_companies(user).filter(pk=card.company_id).exists() else []
        pages.append(Page(
            "card", "Deal card", reverse("deals:detail", args=[card.pk]),
            expect(f'data-testid="deal-title">{escape(card.title)}<', 'data-testid="deal-products"',
                   escape(first_product.name), *company_name, 'data-testid="timeline"',
                   escape(fill.pinned_text)),
            limit=1.5, yardstick="minimal_deals", group="deals"))

        companies = visible_companies(user)
        first_company = companies.order_by(*COMPANY_SORTS["name"], "pk").values_list("pk", flat=True).first()
        contacts = visible_contacts(user)
        first_contact = contacts.order_by(*CONTACT_SORTS["name"], "pk").values_list("pk", flat=True).first()
        company = fill.company
        company_deal = (deals.filter(company=company).order_by("-created_at", "-pk").first())
        crow, prow = '<tr data-company="', '<tr data-contact="'

        def totalled(testid: str, n: int, check):
            # The lists print their total grouped («14 558») or capped («более 10 000»).
            def both(content: str) -> None:
                common.check_total(content, testid, n)
                check(content)
            return both
        pages += [
            Page("minimal_companies", "Minimal companies view (50 rows)", reverse("bench_minimal_companies"),
                 expect(count={crow: per_page}), yardstick=None, profile=False, group="clients"),
            Page("company_list", "Company list, default", reverse("clients:company_list"),
                 totalled("client-total", visible["companies"],
                          expect(f'{crow}{first_company}"', count={crow: min(per_page, visible["companies"])})),
                 yardstick="minimal_companies", profile=True, group="clients"),
            Page("contact_list", "Contact list, default", reverse("clients:contact_list"),
                 totalled("client-total", visible["contacts"],
                          expect(f'{prow}{first_contact}"', count={prow: min(per_page, visible["contacts"])})),
                 yardstick="minimal_companies", profile=True, group="clients"),
            Page("company_card", "Company card", reverse("clients:company_detail", args=[company.pk]),
                 expect(f'data-testid="company-title">{escape(company.name)}<', 'data-testid="card-contacts"',
                        'data-testid="card-deals"', escape(company_deal.title), 'data-testid="timeline"'),
                 yardstick="minimal_companies", group="clients"),
        ]

        return pages


if __name__ == "__main__":
    main()
