"""Automation rules: when a lead enters a status or a deal a stage, plan a task or a touch.

The rules are data (AutomationRule, edited by a supervisor in the admin: automation_admin), run
by `crm.hooks.moved`, which the lead and deal services call on every status or stage change and
at creation — so a rule holds for the card, the kanban, bulk moves, the admin actions, imports and
the API alike, and runs inside the move's transaction: a rule that fails rolls the move back
rather than being skipped without a word.

Like Bitrix24's robots a rule fires each time the record *enters* its state: a lead moved back and
forth plans a call each time. A retried identical request does not: the move services return
early when the record is in the target state already (the row is locked, so two identical requests
at once are serialised and the second finds nothing to do), and only a real move calls the hook.

The deadline is the end of a working day (WORKDAY_END, 18:00 in the site's time zone): +N is the
N-th working day (Mon–Fri; public holidays are not known to the CRM) after today, «by the end of
it»; +0 is today — or the first working day after it when today's is over or a weekend, so a rule
never plans something overdue at once. The end of the day rather than the touches' 10:00: a rule
fires at any hour, and «+0» at 15:00 must still leave the afternoon.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_noop

from crm import hooks, timeline

from . import automation_admin, services  # noqa: F401  (automation_admin registers the rules' admin)
from .models import AutomationRule

WORKDAY_END = time(18, 0)


def is_working_day(day: date) -> bool:
    return day.weekday() < 5


def rule_deadline(days: int, now: datetime | None = None) -> datetime:
    """The end of the working day `days` working days from now, in the site's time zone."""
    zone = timezone.get_default_timezone()
    now = timezone.localtime(now or timezone.now(), zone)
    day = now.date()
    if not is_working_day(day) or now.time() >= WORKDAY_END:
        day = _next_working_day(day)
        days = max(days - 1, 0)  # that next working day is the first of the N
    for _ in range(days):
        day = _next_working_day(day)
    return datetime.combine(day, WORKDAY_END, tzinfo=zone)


def _next_working_day(day: date) -> date:
    day += timedelta(days=1)
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def rules_for(record: models.Model, state: str):
    return AutomationRule.objects.filter(entity=record._meta.label_lower, state=state, is_active=True).order_by("pk")


@hooks.on_moved
def run_rules(record: models.Model, by, source: str, target: str) -> None:
    """Each active rule for the state the record entered plans its task, for the record's
    responsible and by him (his own plan: he may move or complete it as the creator), bound to the
    record; the system (by=None) creates it, so the mover's own rights to tasks do not matter."""
    rules = list(rules_for(record, target))
    if not rules:
        return
    responsible = getattr(record, "responsible", None)
    for rule in rules:
        if responsible is None or not responsible.is_active:
            # A dismissed responsible cannot be given work; refusing the move for it would stop a
            # supervisor moving (or bulk-moving) the records he is about to hand over. The record's
            # history says what was not planned and why.
            timeline.log(record, timeline.Kind.SYSTEM, None,
                         timeline.message(gettext_noop("Правило «%(rule)s» не сработало: ответственный отключён"),
                                          rule=rule.name))
            continue
        services.task_create(
            data={"kind": rule.kind, "title": rule.title, "description": rule.description,
                  "is_important": rule.is_important, "responsible": responsible, "creator": responsible,
                  "deadline": rule_deadline(rule.deadline_days)},
            by=None, records=[record])


def _run_rules_many(records, by, source: str, target: str) -> None:
    """An import's records entering one state: the rules are looked up once, not once per record."""
    if records and rules_for(records[0], target).exists():
        for record in records:
            run_rules(record, by, source, target)


run_rules.many = _run_rules_many
