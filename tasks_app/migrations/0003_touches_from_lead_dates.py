"""Leads that had a «Дата следующего касания» before touches existed get the touch it meant: a call
on that day for their responsible, so the date and the touch are one thing from the start and the
boards do not call those leads «Нет дел». Closed leads are left alone (nobody will call them)."""

import datetime as dt

from django.db import migrations
from django.utils import timezone

IN_PROCESS = ["new", "first_call", "qualification", "reconnaissance", "decision_maker"]
BATCH = 2000


def plan(apps, schema_editor):
    Lead = apps.get_model("leads", "Lead")
    Task = apps.get_model("tasks_app", "Task")
    Binding = apps.get_model("tasks_app", "Binding")
    ContentType = apps.get_model("contenttypes", "ContentType")
    leads = (Lead.objects.filter(next_touch_date__isnull=False, status__in=IN_PROCESS)
             .values_list("pk", "responsible_id", "next_touch_date", "next_touch").order_by("pk"))
    if not leads.exists():
        return
    lead_type, _ = ContentType.objects.get_or_create(app_label="leads", model="lead")
    rows = list(leads)
    for start in range(0, len(rows), BATCH):
        chunk = rows[start:start + BATCH]
        tasks = Task.objects.bulk_create([
            Task(kind="call", title=((agreed or "").strip().splitlines() or ["Следующее касание"])[0][:200],
                 responsible_id=responsible, creator_id=responsible, status="pending",
                 deadline=timezone.make_aware(dt.datetime.combine(day, dt.time(10, 0))))
            for _pk, responsible, day, agreed in chunk])
        Binding.objects.bulk_create([Binding(task=task, content_type=lead_type, object_id=row[0])
                                     for task, row in zip(tasks, chunk, strict=True)])


class Migration(migrations.Migration):
    dependencies = [("tasks_app", "0002_example_automation_rule"), ("leads", "0005_conversion_links"),
                    ("contenttypes", "0002_remove_content_type_name")]
    operations = [migrations.RunPython(plan, migrations.RunPython.noop)]
