"""The stuck records' count (OpenStayCount: analytics.history keeps it), filled here from the open
stays, set-based: the SQL of analytics.history.rebuild_open, frozen, so that this migration does
not follow later code."""

from django.db import migrations, models
from django.utils import timezone


def fill(apps, schema_editor):
    connection = schema_editor.connection
    day, params = connection.ops.datetime_cast_date_sql(connection.ops.quote_name("entered_at"), (),
                                                        timezone.get_default_timezone_name())
    with connection.cursor() as cursor:
        # GROUP BY positions: the day's expression once, whatever its parameters.
        cursor.execute(f"INSERT INTO analytics_openstaycount (model, scope, state, owner, day, n) "
                       f"SELECT model, scope, state, owner, {day}, COUNT(*) FROM analytics_stay "
                       f"WHERE left_at IS NULL GROUP BY 1, 2, 3, 4, 5", params)


class Migration(migrations.Migration):

    dependencies = [
        ('analytics', '0009_move_count_read_index'),
    ]

    operations = [
        migrations.CreateModel(
            name='OpenStayCount',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('model', models.CharField(max_length=32)),
                ('scope', models.BigIntegerField(default=0)),
                ('state', models.CharField(max_length=64)),
                ('owner', models.BigIntegerField()),
                ('day', models.DateField()),
                ('n', models.IntegerField(default=0)),
            ],
            options={
                'verbose_name': 'Счётчик открытых пребываний в статусе',
                'verbose_name_plural': 'Счётчики открытых пребываний в статусах',
                'indexes': [models.Index(fields=['model', 'scope', 'state', 'day'], include=('owner', 'n'), name='an_open_count_read_idx')],
                'constraints': [models.UniqueConstraint(fields=('model', 'scope', 'state', 'owner', 'day'), name='an_open_count_key')],
            },
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
