"""Demo history for the reports (`manage.py demo_data`, after the leads' and deals' demos): more
leads walked through the real services — moves back and forth, «Забраковать» with reasons, a
reopening, reassignments, conversions whose deals are won or lost — and then every demo record's
history spread over the last four months, the same times on its timeline, its stays, its
handovers and its dates (so `rebuild_analytics --check` finds nothing to change), its funnel marks
recounted, the sources' and moves' rollups rebuilt."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone

from crm import timeline
from crm.models import (
    ClientType,
    CrmSystem,
    JunkReason,
    Niche,
    Product,
    SalesChannel,
    Source,
    TimelineEntry,
    UsedProduct,
)
from deals.models import Deal, LossReason, Stage
from leads import services
from leads.models import Lead, Status

from . import history, source_counts
from .models import Handover, Stay

COMPANIES = ["Альфа", "Вектор", "Гранит", "Дельта", "Заря", "Исток", "Кедр", "Лотос", "Меридиан", "Нева", "Орион",
             "Парус", "Радуга", "Сигма", "Титан", "Урал", "Феникс", "Хорс", "Цитадель", "Эталон", "Юпитер", "Янтарь",
             "Азимут", "Бриз", "Волна", "Горизонт", "Днепр", "Енисей", "Жемчуг", "Зенит"]
DAYS = 120  # how far back the history goes
PATH = [Status.FIRST_CALL, Status.QUALIFICATION, Status.RECONNAISSANCE, Status.DECISION_MAKER]


def seed(users, stdout=None) -> None:
    if Lead.objects.filter(company_name=f"ООО «{COMPANIES[0]}»").exists():
        return  # seeded already
    rng = random.Random(15)
    managers = [users["ivanov"], users["petrova"], users["sidorov"]]
    # Two more conversions only: the deals' demo keeps its size (tests/deals: 20–30 deals), and its
    # won and lost deals are spread over the months below with the rest.
    conversions = [2]
    with transaction.atomic():
        for n, company in enumerate(COMPANIES):
            _walk_lead(n, company, managers, users["head"], rng, conversions)
        spread(rng)
    if stdout:
        stdout.write(f"  история для аналитики: {Stay.objects.count()} пребываний в статусах")


def _walk_lead(n: int, company: str, managers, head, rng, conversions: list[int]) -> None:
    from deals.demo import _walk

    manager = managers[n % len(managers)]
    lead = services.lead_create(by=manager, data={
        "title": f"{company} — {rng.choice(['Битрикс24', 'обучение', 'интеграция', 'тайный покупатель'])}", "source": rng.choice(list(Source.objects.filter(is_active=True))),
        "responsible": manager, "company_name": f"ООО «{company}»", "company_phone": f"+7495{3000000 + n:07d}",
        "amount": Decimal(rng.choice([30000, 60000, 90000, 150000, 320000])),
        # Everything «Выход на ЛПР» asks, so that any move is allowed.
        "niche": rng.choice(list(Niche.objects.all())), "crm_system": rng.choice(list(CrmSystem.objects.all())),
        "client_type": rng.choice(list(ClientType.objects.all())),
        "sales_channel": rng.choice(list(SalesChannel.objects.all())), "employees_count": rng.choice([8, 25, 60]),
        "contact_last_name": "Орлова", "contact_first_name": "Вера", "contact_phone": f"+7912{3000000 + n:07d}",
        "talked_to_decision_maker": True, "usp_acknowledged": True, "next_touch": "Созвониться после демонстрации",
        "training_info": "Тренингов нет",
    }, m2m={"products_to_sell": rng.sample(list(Product.objects.all()), 2),
            "used_products": [rng.choice(list(UsedProduct.objects.filter(means_none=False)))]})
    timeline.add_comment(lead, manager, f"Разведка: ООО «{company}», портал не внедрён.", pin_it=True)
    fate = rng.random()
    if 0.35 <= fate < 0.7 and not conversions[0]:
        fate = 0.8  # stays in work
    depth = rng.randrange(1, len(PATH) + 1)
    for status in PATH[:depth]:
        lead = services.lead_move(lead, to=status, by=manager)
    if depth >= 3 and not 0.35 <= fate < 0.7 and rng.random() < 0.5:  # back a step and forward again
        lead = services.lead_move(lead, to=PATH[depth - 2], by=manager)
        lead = services.lead_move(lead, to=PATH[depth - 1], by=manager)
    if rng.random() < 0.15:  # the head hands it to another manager
        lead = services.lead_assign(lead, responsible=managers[(n + 1) % len(managers)], by=head)
        manager = lead.responsible
    if fate < 0.35:
        lead = services.lead_junk(lead, reason=rng.choice(list(JunkReason.objects.all())), by=manager)
        if rng.random() < 0.25:
            services.lead_move(lead, to=Status.QUALIFICATION, by=head)
    elif fate < 0.7:
        if lead.status != Status.DECISION_MAKER:
            for status in PATH[PATH.index(lead.status) + 1:]:
                lead = services.lead_move(lead, to=status, by=manager)
        deal = services.lead_convert(lead, contact=True, company=True, deal=True, by=manager).deal
        conversions[0] -= 1
        stages = list(deal.pipeline.stages.order_by("sort", "pk"))
        wanted = Stage.Semantics.SUCCESS if conversions[0] else Stage.Semantics.FAILURE  # one won, one lost
        target = next((s for s in stages if s.semantics == wanted), None)
        if target is not None:
            _walk(deal, deal.pipeline, target.name, deal.responsible, rng, list(Product.objects.all()),
                  list(LossReason.objects.filter(is_active=True)), list(Source.objects.all()), timezone.localdate())


def spread(rng) -> None:
    """Spread every lead's and deal's history over the last DAYS days: its creation at a random
    moment, each move a few days after the one before (never in the future), and the same times on
    its timeline entries, its stays, its handovers and its own dates. A deal made by a conversion
    starts when its lead became «Успешный»."""
    now = timezone.now()
    converted_at: dict[int, object] = {}
    for model in (Lead, Deal):
        label = model._meta.label_lower
        content_type = ContentType.objects.get_for_model(model)
        entries = _grouped(TimelineEntry.objects.filter(content_type=content_type).order_by("object_id", "pk"))
        stays = _grouped(Stay.objects.filter(model=label).order_by("object_id", "pk"))
        handovers = _grouped(Handover.objects.filter(model=label).order_by("object_id", "pk"))
        changed_entries, changed_stays, changed_handovers = [], [], []
        for record in model.objects.order_by("pk").only("pk", *(["lead"] if model is Deal else [])):
            mine = entries.get(record.pk, [])
            moves = [e for e in mine if e.kind == TimelineEntry.Kind.STATUS]
            # A converted lead leaves its deal a few weeks to walk its pipeline.
            converts = any((e.data or {}).get("to") == Status.CONVERTED for e in moves) if model is Lead else False
            end = now - timedelta(days=20 if converts else 0, hours=1)
            start = converted_at.get(getattr(record, "lead_id", None))
            if start is not None:
                start += timedelta(minutes=5)
            else:
                start = end - timedelta(days=rng.uniform(len(moves) + 3, DAYS - 20 if converts else DAYS))
            gaps = [timedelta(days=rng.uniform(0.2, 9)) for _ in moves]
            room = end - start
            total = sum(gaps, timedelta())
            if total > room:
                gaps = [gap * (room / total) for gap in gaps]
            moments, at = [], start
            for gap in gaps:
                at += gap
                moments.append(at)
            # Entries between moves (comments, changes) keep their order a few minutes after the move before.
            current, step, index = start, 0, 0
            for entry in mine:
                if entry.kind == TimelineEntry.Kind.STATUS:
                    current, step = moments[index], 0
                    index += 1
                elif entry.kind != TimelineEntry.Kind.CREATED:
                    step += 1
                entry.created_at = current + timedelta(minutes=step)
                changed_entries.append(entry)
                if model is Lead and entry.kind == TimelineEntry.Kind.STATUS and (entry.data or {}).get("to") == Status.CONVERTED:
                    converted_at[record.pk] = entry.created_at
            times = [start, *moments]
            mine_stays = stays.get(record.pk, [])
            if len(mine_stays) == len(times):
                for i, stay in enumerate(mine_stays):
                    stay.entered_at = times[i]
                    stay.left_at = times[i + 1] if i + 1 < len(times) else None
                    changed_stays.append(stay)
            handed = [e.created_at for e in mine if e.kind == TimelineEntry.Kind.CHANGE and _reassigned(e)]
            mine_handovers = handovers.get(record.pk, [])
            if len(mine_handovers) == len(handed) + 1:
                for handover, at in zip(mine_handovers, [start, *handed], strict=True):
                    handover.at = at
                    changed_handovers.append(handover)
            fields = {"created_at": start, "updated_at": times[-1]}
            fields["status_changed_at" if model is Lead else "stage_changed_at"] = times[-1]
            model.objects.filter(pk=record.pk).update(**fields)
        TimelineEntry.objects.bulk_update(changed_entries, ["created_at"], batch_size=1000)
        Stay.objects.bulk_update(changed_stays, ["entered_at", "left_at"], batch_size=1000)
        Handover.objects.bulk_update(changed_handovers, ["at"], batch_size=1000)
        # The funnel's calendar periods (leads) and the open stays' days follow the stays' new times.
        history.recount(sorted({stay.object_id for stay in changed_stays}), model._meta.label_lower)
    # A closed deal closed the day it was won or lost.
    closed = Deal.objects.exclude(stage__semantics=Stage.Semantics.IN_PROCESS).only("pk", "stage_changed_at")
    for deal in closed:
        Deal.objects.filter(pk=deal.pk).update(close_date=timezone.localtime(deal.stage_changed_at).date())
    # The records' creation months and the moves' days changed around the writers: the sources'
    # rollups and the moves per day made again, as rebuild_analytics would.
    source_counts.rebuild()


def _grouped(rows) -> dict[int, list]:
    found: dict[int, list] = {}
    for row in rows:
        found.setdefault(row.object_id, []).append(row)
    return found


def _reassigned(entry) -> bool:
    return any(change.get("name") == "responsible" for change in (entry.data or {}).get("changes") or [])
