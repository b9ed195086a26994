"""Events for the calendar tests, made through the services as the pages will."""

import datetime as dt
from zoneinfo import ZoneInfo

from calendar_app import services

MSK = ZoneInfo("Europe/Moscow")


def at(day: dt.date, hour: int, minute: int = 0, zone=MSK) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=zone)


def make_event(organizer, start, minutes=60, participants=(), reminders=(), records=(), **data):
    fields = {"title": "Планёрка отдела продаж", "start": start, "end": start + dt.timedelta(minutes=minutes),
              "tz": "Europe/Moscow", **data}
    return services.event_create(data=fields, by=organizer, participants=participants, reminder_minutes=reminders,
                                 records=records)
