"""A won deal's closed marks of ANY_PIPELINE (scope 0) per calendar period, and their counts: the
managers' report counts a deal won and its sum once, however many pipelines it was won in. Filled
from the existing deal stays, set-based: the SQL of analytics.history.fresh_closed_sql's second
part, frozen, so that this migration does not follow later code."""

from django.db import migrations
from django.utils import timezone

KINDS = ["week", "month", "quarter", "year"]


def fill(apps, schema_editor):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        for kind in KINDS:
            trunc, params = connection.ops.datetime_trunc_sql(kind, "s." + connection.ops.quote_name("entered_at"), (),
                                                              timezone.get_default_timezone_name())
            # A deal's stays carry the same owner, currency, reason and amount: MAX picks that one value.
            cursor.execute(
                f"INSERT INTO analytics_closedmark (object_id, scope, won, kind, start, owner, currency, reason, amount) "
                f"SELECT s.object_id, 0, st.semantics = 'success', %s, date({trunc}), MAX(s.owner), "
                f"MAX(s.currency), COALESCE(MAX(s.reason), 0), MAX(s.amount) FROM analytics_stay s "
                f"JOIN deals_stage st ON s.state = CAST(st.id AS VARCHAR(64)) "
                f"WHERE s.model = 'deals.deal' AND st.semantics = 'success' GROUP BY 1, 2, 3, 5",
                [kind, *params])
        cursor.execute("INSERT INTO analytics_closedcount (kind, start, scope, won, owner, currency, reason, n, total) "
                       "SELECT kind, start, scope, won, owner, currency, reason, COUNT(*), COALESCE(SUM(amount), 0) "
                       "FROM analytics_closedmark WHERE scope = 0 GROUP BY 1, 2, 3, 4, 5, 6, 7")


def unfill(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("DELETE FROM analytics_closedmark WHERE scope = 0")
        cursor.execute("DELETE FROM analytics_closedcount WHERE scope = 0")


class Migration(migrations.Migration):

    dependencies = [
        ('analytics', '0011_closed_counts'),
    ]

    operations = [
        migrations.RunPython(fill, unfill),
    ]
