"""The deals' report's won and lost deals per calendar period (ClosedMark, ClosedCount:
analytics.history keeps them), filled here from the existing deal stays, set-based: the SQL of
analytics.history.rebuild_closed, frozen, so that this migration does not follow later code."""

from django.db import migrations, models
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
                f"SELECT s.object_id, s.scope, st.semantics = 'success', %s, date({trunc}), MAX(s.owner), "
                f"MAX(s.currency), COALESCE(MAX(s.reason), 0), MAX(s.amount) FROM analytics_stay s "
                f"JOIN deals_stage st ON s.state = CAST(st.id AS VARCHAR(64)) "
                f"WHERE s.model = 'deals.deal' AND st.semantics IN ('success', 'failure') GROUP BY 1, 2, 3, 5",
                [kind, *params])
        cursor.execute("INSERT INTO analytics_closedcount (kind, start, scope, won, owner, currency, reason, n, total) "
                       "SELECT kind, start, scope, won, owner, currency, reason, COUNT(*), COALESCE(SUM(amount), 0) "
                       "FROM analytics_closedmark GROUP BY 1, 2, 3, 4, 5, 6, 7")


class Migration(migrations.Migration):

    dependencies = [
        ('analytics', '0010_open_stay_counts'),
        ('deals', '0001_initial'),  # the stages' semantics
    ]

    operations = [
        migrations.CreateModel(
            name='ClosedCount',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(max_length=8)),
                ('start', models.DateField()),
                ('scope', models.BigIntegerField()),
                ('won', models.BooleanField()),
                ('owner', models.BigIntegerField()),
                ('currency', models.CharField(blank=True, default='', max_length=3)),
                ('reason', models.BigIntegerField(default=0)),
                ('n', models.IntegerField(default=0)),
                ('total', models.DecimalField(decimal_places=2, default=0, max_digits=24)),
            ],
            options={
                'verbose_name': 'Счётчик закрытых сделок',
                'verbose_name_plural': 'Счётчики закрытых сделок',
                'indexes': [models.Index(fields=['kind', 'start', 'scope'], include=('won', 'owner', 'currency', 'reason', 'n', 'total'), name='an_closedcount_read_idx')],
                'constraints': [models.UniqueConstraint(fields=('kind', 'start', 'scope', 'won', 'owner', 'currency', 'reason'), name='an_closedcount_key')],
            },
        ),
        migrations.CreateModel(
            name='ClosedMark',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('object_id', models.BigIntegerField()),
                ('scope', models.BigIntegerField()),
                ('won', models.BooleanField()),
                ('kind', models.CharField(max_length=8)),
                ('start', models.DateField()),
                ('owner', models.BigIntegerField()),
                ('currency', models.CharField(blank=True, default='', max_length=3)),
                ('reason', models.BigIntegerField(default=0)),
                ('amount', models.DecimalField(decimal_places=2, max_digits=14, null=True)),
            ],
            options={
                'verbose_name': 'Сделка закрыта за период',
                'verbose_name_plural': 'Сделки закрыты за периоды',
                'constraints': [models.UniqueConstraint(fields=('object_id', 'scope', 'won', 'kind', 'start'), name='an_closedmark_one')],
            },
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
