#!/usr/bin/env python3
"""Benchmark of «Мой день» and the lead board with 100 000 leads and 200 000 tasks and touches
bound to them, on SQLite and PostgreSQL.

    .venv/bin/python scripts/bench_day.py [--db sqlite|postgres|both] [--leads 100000] [--tasks 200000]

The leads are scripts/bench_leads.py's (same generator, same seed); then the tasks and touches
by bulk_create with their bindings. Timed in-process (django.test.Client), as the head of sales
and as a manager: «Мой день» (the head's own and his «Отдел»), a manager's day opened by the head,
and the lead board (/leads/kanban/, with whatever touch badges it shows at the commit measured),
against the minimal view of scripts/bench_leads.py (bench/views.py). Target: within 2×.

Results are printed as markdown and replace that database's section of the «Мой день» part of
BENCHMARKS.md (--no-write to only print). The machinery is scripts/bench_common.py's.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_common as common
import bench_leads
from bench_common import DB_TITLES, Page, expect, n_

common.reexec_in_venv()
common.TARGET = 2.0  # issue 9: «Мой день» and the lead board within 2× the minimal view

# How a lead's touches look (see TaskFiller).
ACTIVE_SHARE = 0.85  # leads in work with a planned touch; the rest show in «Без запланированных дел»
KINDS = {"call": 75, "meeting": 10, "task": 15}
RESULTS = ["Дозвонился, ЛПР в отпуске до понедельника.", "Отправил КП, ждут согласования.",
           "Не дозвонился, оставил сообщение секретарю.", "Договорились о демонстрации.", ""]
TITLES = {"call": ["Перезвонить ЛПР", "Уточнить бюджет", "Договориться о встрече", "Первый звонок"],
          "meeting": ["Встреча в офисе клиента", "Демонстрация портала", "Презентация КП"],
          "task": ["Подготовить КП", "Отправить презентацию", "Собрать реквизиты"]}


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    common.add_common_arguments(parser, "records")
    parser.add_argument("--leads", type=int, default=100_000, help="how many leads to create (default 100000)")
    parser.add_argument("--tasks", type=int, default=200_000, help="how many tasks and touches (default 200000)")
    args = parser.parse_args(argv)
    if args.leads < 200:
        parser.error("--leads must be at least 200")
    if args.tasks < args.leads:
        parser.error("--tasks must be at least --leads (every lead has its touches)")
    common.check_common_arguments(parser, args)
    return args


def main() -> None:
    args = parse_args()
    if args.worker:
        worker(args)
        return
    common.run(args, script=__file__, extra_args=["--leads", str(args.leads), "--tasks", str(args.tasks)],
               render_section=render_section, write_section=write_section)


# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------

def write_section(db: str, section: str) -> None:
    common.write_db_section("day-", db, section, "## «Мой день»: findings")


def render_section(r: dict) -> str:
    lines = common.section_head(
        r, f"«Мой день»: {r['database_title']}",
        data=f"{n_(r['leads'])} leads (as scripts/bench_leads.py makes them); {n_(r['tasks'])} tasks and touches "
             f"({r['task_spread']}); {n_(r['bindings'])} bindings to leads.",
        fill=f"{r['fill']['total']:.1f} s (migrate {r['fill']['migrate']:.1f} s, leads {r['fill']['leads']:.1f} s, "
             f"timeline {r['fill']['timeline']:.1f} s, tasks {r['fill']['tasks']:.1f} s, "
             f"{r['fill']['analyze_label']} {r['fill']['analyze']:.1f} s).",
    )
    lines.insert(lines.index(f"- **Date:** {r['date']}") + 1, f"- **Code:** {r['git']}")
    for user in r["users"]:
        lines += [f"### {user['label']}", "", *common.page_table(user["pages"]), "",
                  common.target_line(user["pages"], "«Мой день» and the lead board ≤ 2× minimal"), ""]
    lines += common.plans_section(r)
    lines += common.profiles_section(r, "Where the time goes: the minimal view, «Мой день» and the board")
    return "\n".join(lines).rstrip() + "\n"


# ---------------------------------------------------------------------------------------------
# Worker: one database, in its own Django process.
# ---------------------------------------------------------------------------------------------

def worker(args: argparse.Namespace) -> None:
    migrate_time = common.setup_django(args)
    print(f"{DB_TITLES[args.db]}: migrated in {migrate_time:.1f} s; filling {args.leads} leads…", flush=True)
    leads = bench_leads.Filler(args)
    leads.run()
    tasks = TaskFiller(args, leads)
    t0 = time.perf_counter()
    tasks.run()
    times = dict(leads.times)
    times["tasks"] = time.perf_counter() - t0
    # Planner statistics once more, now that the tasks are in (the leads' filler ran it before them).
    times["analyze_label"], analyze = common.analyze()
    times["analyze"] += analyze
    times["migrate"] = migrate_time
    times["total"] = sum(v for k, v in times.items() if k not in ("total", "analyze_label"))
    print(f"{DB_TITLES[args.db]}: filled in {times['total']:.1f} s (tasks {times['tasks']:.1f} s).", flush=True)

    result = {**common.base_result(args), "git": common.git_state(), "leads": leads.count, "tasks": tasks.count,
              "bindings": tasks.bindings, "task_spread": tasks.spread(), "fill": times}
    bench = Bench(args, leads)
    load_before = os.getloadavg()[0]
    result["users"] = bench.run()
    result["load"] = [f"{load_before:.2f}", f"{os.getloadavg()[0]:.2f}"]
    result["plans"] = bench.explain_slow()
    result["profiles"] = bench.profiles
    result["slow_share"] = bench.slow_share
    common.write_result(args, result)


class TaskFiller:
    """Tasks and touches as months of work leave them: each lead in work has most likely one
    planned touch (a call mostly; overdue, today or in the coming month) and some done ones;
    a closed lead has only done ones; a few tasks are bound to nothing (the head's tasks for the
    managers). bulk_create in batches, the bindings after their tasks (whose ids bulk_create
    returns on both databases)."""

    def __init__(self, args, leads: bench_leads.Filler):
        self.args, self.leads = args, leads
        self.rng = random.Random(args.seed + 9)
        self.count = self.bindings = 0
        self.by_state: dict[str, int] = {}

    def spread(self) -> str:
        labels = {"overdue": "overdue", "today": "due today", "planned": "planned later", "done": "done",
                  "unbound": "bound to nothing"}
        return ", ".join(f"{labels[k]} {n * 100 / self.count:.0f}%" for k, n in self.by_state.items())

    def run(self) -> None:
        from django.utils import timezone

        from leads.models import IN_PROCESS, Lead
        from tasks_app.selectors import day_bounds

        now = timezone.now()
        start, tomorrow = day_bounds(now)
        rows = list(Lead.objects.order_by("pk").values_list("pk", "responsible_id", "status", "created_at"))
        open_ids = {pk for pk, _o, status, _c in rows if status in IN_PROCESS}
        managers = [self.leads.users[u].pk for u in ("ivanov", "petrova", "sidorov")]
        head = self.leads.users["head"].pk
        unbound = self.args.tasks // 50
        planned = [(pk, owner, created) for pk, owner, _s, created in rows
                   if pk in open_ids and self.rng.random() < ACTIVE_SHARE]
        done_budget = self.args.tasks - unbound - len(planned)
        plan: list[tuple[int | None, int, int, str, dt.datetime, dt.datetime]] = []  # lead, owner, creator, state…
        for pk, owner, created in planned:
            r = self.rng.random()
            if r < 0.12:
                state, deadline = "overdue", now - dt.timedelta(seconds=self.rng.uniform(600, 14 * 86400))
            elif r < 0.17:
                state, deadline = "today", start + (tomorrow - start) * self.rng.random()
                state = "overdue" if deadline < now else state
            else:
                state, deadline = "planned", tomorrow + dt.timedelta(seconds=self.rng.uniform(0, 30 * 86400))
            plan.append((pk, owner, owner, state, deadline, max(created, deadline - dt.timedelta(days=3))))
        for _ in range(done_budget):
            pk, owner, _status, created = rows[self.rng.randrange(len(rows))]
            deadline = created + dt.timedelta(seconds=self.rng.uniform(3600, 20 * 86400))
            plan.append((pk, owner, owner, "done", min(deadline, now), created))
        for _ in range(unbound):
            owner = self.rng.choice(managers)
            deadline = now + dt.timedelta(days=self.rng.uniform(-30, 14))
            plan.append((None, owner, head, "unbound", deadline, deadline - dt.timedelta(days=5)))
        self.rng.shuffle(plan)
        plan.sort(key=lambda p: p[5])  # created in time order, as the ids of a real database grow
        self._write(plan, now)

    def _write(self, plan, now) -> None:
        from django.contrib.contenttypes.models import ContentType
        from django.db import transaction

        from leads.models import Lead
        from tasks_app.models import Binding, Task

        ct = ContentType.objects.get_for_model(Lead)
        started = time.perf_counter()
        rng, batch = self.rng, self.args.batch
        with common.explicit_timestamps([Task._meta.get_field("updated_at")]):
            for i in range(0, len(plan), batch):
                chunk = plan[i:i + batch]
                tasks = []
                for _lead, owner, creator, state, deadline, created in chunk:
                    kind = rng.choices(list(KINDS), list(KINDS.values()))[0] if state != "unbound" else "task"
                    done = state == "done" or (state == "unbound" and deadline < now and rng.random() < 0.8)
                    tasks.append(Task(
                        kind=kind, title=rng.choice(TITLES[kind]), responsible_id=owner, creator_id=creator,
                        deadline=deadline, status="completed" if done else "pending",
                        completed_at=deadline if done else None, result=rng.choice(RESULTS) if done else "",
                        created_at=created, updated_at=deadline if done else created,
                        is_important=rng.random() < 0.05))
                    self.by_state[state] = self.by_state.get(state, 0) + 1
                with transaction.atomic():
                    Task.objects.bulk_create(tasks, batch_size=batch)
                    bindings = [Binding(task_id=t.pk, content_type=ct, object_id=p[0])
                                for t, p in zip(tasks, chunk, strict=True) if p[0] is not None]
                    Binding.objects.bulk_create(bindings, batch_size=batch)
                self.count += len(tasks)
                self.bindings += len(bindings)
                print(f"  tasks: {self.count}/{len(plan)} ({time.perf_counter() - started:.0f} s)", flush=True)


# --- Timing ---------------------------------------------------------------------------------

class Bench(common.Bench):
    def __init__(self, args, fill: bench_leads.Filler):
        super().__init__(args)
        self.fill = fill

    def run(self) -> list[dict]:
        from django.db import connection

        users = []
        for login, label in (("head", "head — руководитель отдела продаж"), ("ivanov", "ivanov — менеджер")):
            user = self.fill.users[login]
            print(f"Timing as «{login}»…", flush=True)
            pages, note = self._pages(user)
            self.profile_user = login  # both users' target pages are profiled (their days differ)
            users.append({"login": login, "label": f"{label}: {note}", "pages": self.time_pages(user, pages)})
        connection.close()
        return users

    def _pages(self, user) -> tuple[list[Page], str]:
        from django.urls import reverse
        from django.utils import timezone

        from leads.selectors import visible_leads
        from tasks_app import selectors_day
        from tasks_app.selectors import day_bounds

        day = selectors_day.person_day(user, user, timezone.now())
        # Counted again on every request: a task falling overdue between two requests moves a
        # row from one section to the other, never out of both.
        shown = len(day.overdue) + len(day.today)
        members = selectors_day.team_members(user)
        note = (f"{n_(visible_leads(user).count())} лидов; в его дне {n_(day.overdue_total)} просроченных, "
                f"{n_(day.today_total)} на сегодня, {day.unplanned_label} записей без дел")
        _start, tomorrow = day_bounds()
        pages = [
            Page("minimal", "Minimal view (50 rows)", reverse("bench_minimal"), expect(count={'<tr data-lead="': 50})),
            Page("day", "**«Мой день»**", reverse("tasks:day"),
                 expect('data-testid="day-overdue"', 'data-testid="day-unplanned"',
                        count={'data-testid="day-task"': shown}), target=True),
        ]
        if members:
            pages += [
                Page("day_team", "**«Мой день», «Отдел»**", f"{reverse('tasks:day')}?view=team",
                     expect(count={'data-testid="day-team-row"': len(members)}), target=True),
                Page("day_manager", "A manager's day (from «Отдел»)",
                     f"{reverse('tasks:day')}?manager={self.fill.users['ivanov'].pk}",
                     expect('data-testid="day-overdue"', "Иванов Пётр")),
            ]
            note += f"; в отделе {len(members)} сотрудников"
        pages.append(Page("kanban", "**Lead board**", reverse("leads:kanban"), expect('data-testid="kanban-board"'),
                          target=True))
        return pages, note


if __name__ == "__main__":
    main()
