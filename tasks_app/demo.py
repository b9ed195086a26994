"""Demo tasks and touches, so «Мой день» tells the story on the first login: each demo manager has
a touch overdue since yesterday, calls and a meeting today, calls planned for the coming days and
a call done (its result on the lead's timeline) — all bound to his own leads and deals, some of
which are left with nothing planned on purpose; the head of sales has given tasks to the
managers (one with a checklist, one done and waiting for his control) and has a meeting today.

Runs after the leads' and deals' demos (INSTALLED_APPS order), through tasks_app.services so the
histories and the leads' «Дата следующего касания» are what real work leaves. Idempotent: a
second run adds nothing. Deadlines are set relative to the moment of the run."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from deals.models import Deal, Stage
from leads.models import IN_PROCESS, Lead

from . import services
from .models import Kind, Task

SEED_TITLE = "Подготовить отчёт по холодным звонкам за неделю"
CHECKLIST = ["Выгрузить звонки из телефонии", "Свести результаты по менеджерам", "Отметить лиды без следующего касания",
             "Отправить отчёт руководителю"]


def _at(day_offset: int, hour: int, minute: int = 0) -> datetime:
    """A moment `day_offset` days from today at hour:minute, in the site's time zone."""
    day = timezone.localdate() + timedelta(days=day_offset)
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def _later_today(minutes: int) -> datetime:
    """`minutes` from now, but still today (a demo run late in the evening keeps its «today»)."""
    now = timezone.localtime()
    end = now.replace(hour=23, minute=45, second=0, microsecond=0)
    return min(now + timedelta(minutes=minutes), max(end, now + timedelta(minutes=1)))


def _plan(manager, kind, title, deadline, record, *, description=""):
    return services.task_create(data={"kind": kind, "title": title, "responsible": manager, "deadline": deadline,
                                      "description": description}, by=manager, records=[record])


@transaction.atomic
def seed(users, stdout=None) -> None:
    if Task.objects.filter(title=SEED_TITLE).exists():
        return
    head = users["head"]
    for n, login in enumerate(("ivanov", "petrova", "sidorov")):
        manager = users[login]
        leads = list(Lead.objects.filter(responsible=manager, status__in=IN_PROCESS).order_by("created_at", "pk"))
        deals = list(Deal.objects.filter(responsible=manager, stage__semantics=Stage.Semantics.IN_PROCESS)
                     .order_by("created_at", "pk"))
        if not leads + deals:
            continue
        # Five of his records in turn (fewer records: some get two); the rest keep nothing planned.
        record = [(leads + deals)[i % len(leads + deals)] for i in range(5)]
        done = _plan(manager, Kind.CALL, "Первый звонок: выйти на ЛПР", _at(-2, 11), record[0])
        services.task_transition(done, "complete", by=manager,
                                 result="Секретарь соединила с коммерческим директором, договорились созвониться.")
        _plan(manager, Kind.CALL, "Перезвонить: обещали ответ по КП", _at(-1, 15), record[1])
        _plan(manager, Kind.CALL, "Уточнить, кто принимает решение", _later_today(60 + 20 * n), record[2])
        if deals:
            _plan(manager, Kind.MEETING, "Встреча: демонстрация портала", _later_today(150 + 30 * n), deals[0],
                  description="В офисе клиента, взять ноутбук и распечатку КП.")
        _plan(manager, Kind.CALL, "Договориться о бесплатном аудите", _at(1, 11), record[3])
        _plan(manager, Kind.TASK, "Подготовить коммерческое предложение", _at(3, 12), record[4])
    ivanov, petrova, sidorov = users["ivanov"], users["petrova"], users["sidorov"]
    report = services.task_create(
        data={"title": SEED_TITLE, "responsible": ivanov, "deadline": _at(1, 18), "is_important": True,
              "description": "Сколько звонков, сколько дозвонов до ЛПР, что запланировано дальше."},
        by=head, observers=[petrova], checklist=CHECKLIST)
    for item in list(report.checklist.all())[:2]:
        services.checklist_tick(item, True, by=ivanov)
    review = services.task_create(
        data={"title": "Обновить шаблон КП для розничных сетей", "responsible": petrova, "deadline": _at(-1, 18),
              "needs_acceptance": True},
        by=head)
    services.task_transition(review, "complete", by=petrova, result="Шаблон обновлён, лежит в общей папке.")
    services.task_create(data={"title": "Заполнить реквизиты в карточках своих компаний", "responsible": sidorov,
                               "deadline": _at(-1, 12)}, by=head)
    services.task_create(data={"kind": Kind.MEETING, "title": "Планёрка отдела продаж", "responsible": head,
                               "deadline": _later_today(45)}, by=head, coexecutors=[ivanov, petrova, sidorov])
    if stdout:
        stdout.write(f"  задачи и дела: {Task.objects.count()}")
