"""Time in status per calendar period (EndedStayCount: analytics.history keeps it), filled here from
the ended stays, set-based: the SQL of analytics.history.rebuild_ended, frozen, so that this
migration does not follow later code."""

from django.db import migrations, models
from django.utils import timezone

KINDS = ["week", "month", "quarter", "year"]
TENTH = 8640  # seconds in a tenth of a day


def fill(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        tenths = f"floor((date_part('epoch', left_at - entered_at) + {TENTH // 2}) / {TENTH})"
    else:
        tenths = f"CAST((django_timestamp_diff(left_at, entered_at) / 1000000.0 + {TENTH // 2}) / {TENTH} AS INTEGER)"
    parts, params = [], []
    for kind in KINDS:
        trunc, trunc_params = connection.ops.datetime_trunc_sql(kind, connection.ops.quote_name("left_at"), (),
                                                                timezone.get_default_timezone_name())
        parts.append(f"SELECT model, scope, %s AS kind, date({trunc}) AS start, state, owner, {tenths} AS tenths "
                     f"FROM analytics_stay WHERE left_at IS NOT NULL")
        params += [kind, *trunc_params]
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO analytics_endedstaycount (model, scope, kind, start, state, owner, tenths, n) "
                       f"SELECT model, scope, kind, start, state, owner, tenths, COUNT(*) "
                       f"FROM ({' UNION ALL '.join(parts)}) e GROUP BY 1, 2, 3, 4, 5, 6, 7", params)


class Migration(migrations.Migration):

    dependencies = [
        ('analytics', '0013_manager_counts'),
    ]

    operations = [
        migrations.CreateModel(
            name='EndedStayCount',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('model', models.CharField(max_length=32)),
                ('scope', models.BigIntegerField(default=0)),
                ('state', models.CharField(max_length=64)),
                ('owner', models.BigIntegerField()),
                ('kind', models.CharField(max_length=8)),
                ('start', models.DateField()),
                ('tenths', models.IntegerField()),
                ('n', models.IntegerField(default=0)),
            ],
            options={
                'verbose_name': 'Счётчик длительностей пребываний в статусе',
                'verbose_name_plural': 'Счётчики длительностей пребываний в статусах',
                'indexes': [models.Index(fields=['model', 'scope', 'kind', 'start', 'state', 'tenths'], include=('owner', 'n'), name='an_ended_count_read_idx')],
                'constraints': [models.UniqueConstraint(fields=('model', 'scope', 'kind', 'start', 'state', 'owner', 'tenths'), name='an_ended_count_key')],
            },
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
