"""The deal's next touch date (kept by tasks_app, as the lead's): filled from the active touches bound
to the deals, then the deals' counters split by it (crm.Tally.planned), set-based. Written out here
rather than imported from tasks_app and crm.tallies, so the migration keeps meaning what it meant
when the code changes."""

from collections import defaultdict

from django.conf import settings
from django.db import migrations, models
from django.db.models import Min
from django.utils import timezone

ACTIVE = ["pending", "in_progress", "deferred"]  # tasks_app.models.ACTIVE
CHUNK = 1000


def _recount(apps, schema_editor, planned: str):
    quote = schema_editor.connection.ops.quote_name
    tally = quote(apps.get_model("crm", "Tally")._meta.db_table)
    deals = quote(apps.get_model("deals", "Deal")._meta.db_table)
    schema_editor.execute(f"DELETE FROM {tally} WHERE model = %s", ["deals.deal"])
    schema_editor.execute(
        f"INSERT INTO {tally} (model, owner, scope, board_column, currency, planned, count, amount) "
        f"SELECT %s, responsible_id, pipeline_id, CAST(stage_id AS VARCHAR(64)), currency, {planned}, COUNT(*), "
        f"SUM(amount) FROM {deals} GROUP BY responsible_id, pipeline_id, stage_id, currency, {planned}",
        ["deals.deal"],
    )


def fill(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Binding = apps.get_model("tasks_app", "Binding")
    Deal = apps.get_model("deals", "Deal")
    kind = ContentType.objects.filter(app_label="deals", model="deal").first()
    days = defaultdict(list)
    if kind is not None:
        for row in (Binding.objects.filter(content_type=kind, task__status__in=ACTIVE, task__deadline__isnull=False)
                    .values("object_id").annotate(first=Min("task__deadline"))):
            days[timezone.localtime(row["first"]).date()].append(row["object_id"])
    for day, ids in days.items():
        for index in range(0, len(ids), CHUNK):
            Deal.objects.filter(pk__in=ids[index:index + CHUNK]).update(next_touch_date=day)
    _recount(apps, schema_editor, "(next_touch_date IS NOT NULL)")


def unfill(apps, schema_editor):
    # Back to one counter per key: the column goes with the reversed AddField.
    _recount(apps, schema_editor, "(1 = 0)")


class Migration(migrations.Migration):

    dependencies = [
        ('clients', '0005_company_key_search_index'),
        ('crm', '0009_tally_planned'),
        ('deals', '0008_forecast_index'),
        ('leads', '0011_page_index'),
        ('tasks_app', '0003_touches_from_lead_dates'),
        ('contenttypes', '0002_remove_content_type_name'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='deal',
            name='next_touch_date',
            field=models.DateField(blank=True, editable=False, null=True, verbose_name='Дата следующего касания'),
        ),
        migrations.AddIndex(
            model_name='deal',
            index=models.Index(fields=['responsible', 'stage', 'next_touch_date'], name='deal_touch_idx'),
        ),
        migrations.RunPython(fill, unfill),
    ]
