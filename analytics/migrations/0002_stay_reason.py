"""The stays carry the lead's current junk reason (analytics.history keeps it like the owner): the
funnel reads the reasons of the junked leads without joining the leads. The existing stays get
their lead's reason here; `manage.py rebuild_analytics --check` compares it too."""

from django.db import migrations, models

FILL = """
UPDATE analytics_stay SET reason = (SELECT junk_reason_id FROM leads_lead WHERE leads_lead.id = analytics_stay.object_id)
WHERE model = 'leads.lead'
  AND object_id IN (SELECT id FROM leads_lead WHERE junk_reason_id IS NOT NULL)
"""


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0001_initial"),
        ("leads", "0001_initial"),
    ]

    operations = [
        migrations.AddField(model_name="stay", name="reason", field=models.BigIntegerField(null=True)),
        migrations.RunSQL(FILL, migrations.RunSQL.noop),
    ]
