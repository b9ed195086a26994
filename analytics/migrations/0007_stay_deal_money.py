"""A deal's stays carry its current amount, currency and loss reason (in `reason`, the lead's junk
reason for leads), kept by analytics.history like the owner: the deals' report and the managers'
won sums read the period's won and lost deals from the stays alone, without joining the deals by
primary key. The existing deal stays get their deal's values here (UPDATE … FROM: SQLite ≥ 3.33
and PostgreSQL alike); `manage.py rebuild_analytics --check` compares them too. The closed deals'
index then covers the three columns (drop and create: an index's INCLUDE cannot be altered), so
PostgreSQL answers the report from the index alone."""

from django.db import migrations, models
from django.db.models import Q

FILL = """
UPDATE analytics_stay SET amount = d.amount, currency = d.currency, reason = d.loss_reason_id
FROM deals_deal d
WHERE analytics_stay.model = 'deals.deal' AND d.id = analytics_stay.object_id
"""


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0006_funnel_count_read_index"),
        ("deals", "0001_initial"),
    ]

    operations = [
        migrations.AddField(model_name="stay", name="amount",
                            field=models.DecimalField(decimal_places=2, max_digits=14, null=True)),
        migrations.AddField(model_name="stay", name="currency",
                            field=models.CharField(blank=True, default="", max_length=3)),
        migrations.RunSQL(FILL, migrations.RunSQL.noop),
        migrations.RemoveIndex(model_name="stay", name="an_stay_deal_closed_idx"),
        migrations.AddIndex(
            model_name="stay",
            index=models.Index(condition=Q(model="deals.deal"), fields=["scope", "state", "entered_at"],
                               include=["object_id", "owner", "source", "amount", "currency", "reason"],
                               name="an_stay_deal_closed_idx"),
        ),
    ]
