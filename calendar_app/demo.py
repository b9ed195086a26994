"""Demo events, so «Календарь» is not empty on the first login: the head of sales' weekly
planning meeting with his managers (every Monday at 10:00), a client meeting of Ivanov bound to one
of his leads with Petrova invited (the lead's next touch and timeline show it), an all-day training
next week and a private appointment of Ivanov (the head sees him busy, not why).

Runs after the tasks' demo (INSTALLED_APPS order), through calendar_app.services so the
invitations, the touch and the timeline are what real work leaves. Idempotent: a second run adds
nothing. Times are relative to the day of the run, in the site's time zone."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from leads.models import IN_PROCESS, Lead

from . import services
from .models import Event, Freq

SEED_TITLE = "Планёрка отдела продаж: итоги недели и планы"


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def _timed(title: str, start: datetime, minutes: int = 60, **data) -> dict:
    return {"title": title, "start": start, "end": start + timedelta(minutes=minutes), **data}


@transaction.atomic
def seed(users, stdout=None) -> None:
    if Event.objects.filter(title=SEED_TITLE).exists():
        return
    head, ivanov, petrova, sidorov = users["head"], users["ivanov"], users["petrova"], users["sidorov"]
    today = timezone.localdate()
    monday = today - timedelta(days=today.weekday())
    services.event_create(
        data=_timed(SEED_TITLE, _at(monday, 10), location="Переговорная «Волга»", freq=Freq.WEEKLY,
                    description="Воронка за неделю, застрявшие лиды, планы встреч на следующую."),
        by=head, participants=[ivanov, petrova, sidorov], reminder_minutes=[15])
    lead = Lead.objects.filter(responsible=ivanov, status__in=IN_PROCESS).order_by("created_at", "pk").first()
    if lead is not None:
        services.event_create(
            data=_timed(f"Встреча: презентация для «{lead.company_name or lead.title}»", _at(today + timedelta(days=2), 14),
                        90, location="Офис клиента", description="Показать портал, обсудить сроки внедрения."),
            by=ivanov, participants=[petrova], reminder_minutes=[60], records=[lead])
    training = today + timedelta(days=9 - today.weekday())  # Wednesday next week
    services.event_create(
        data={"title": "Обучение: новый регламент работы с лидами", "all_day": True, "start_date": training,
              "end_date": training, "location": "Конференц-зал", "availability": "busy"},
        by=head, participants=[ivanov, petrova, sidorov])
    services.event_create(data=_timed("Визит к стоматологу", _at(today + timedelta(days=1), 9), 90, is_private=True),
                          by=ivanov)
    if stdout:
        stdout.write(f"  события календаря: {Event.objects.count()}")
