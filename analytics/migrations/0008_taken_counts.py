"""The managers' «Взято в работу» per calendar period (TakenMark, TakenCount: analytics.history
keeps them), filled here from the existing handovers, set-based: the SQL of
analytics.history.rebuild_taken, frozen, so that this migration does not follow later code."""

from django.db import migrations, models
from django.utils import timezone

KINDS = ["week", "month", "quarter", "year"]


def fill(apps, schema_editor):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        for kind in KINDS:
            trunc, params = connection.ops.datetime_trunc_sql(kind, connection.ops.quote_name("at"), (),
                                                              timezone.get_default_timezone_name())
            cursor.execute(
                f"INSERT INTO analytics_takenmark (object_id, owner, kind, start) "
                f"SELECT object_id, owner, %s, date({trunc}) FROM analytics_handover "
                f"WHERE model = 'leads.lead' GROUP BY 1, 2, 4", [kind, *params])
        cursor.execute("INSERT INTO analytics_takencount (kind, start, owner, n) "
                       "SELECT kind, start, owner, COUNT(*) FROM analytics_takenmark GROUP BY 1, 2, 3")


class Migration(migrations.Migration):

    dependencies = [
        ('analytics', '0007_stay_deal_money'),
    ]

    operations = [
        migrations.CreateModel(
            name='TakenCount',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(max_length=8)),
                ('start', models.DateField()),
                ('owner', models.BigIntegerField()),
                ('n', models.IntegerField(default=0)),
            ],
            options={
                'verbose_name': 'Счётчик взятых в работу лидов',
                'verbose_name_plural': 'Счётчики взятых в работу лидов',
                'constraints': [models.UniqueConstraint(fields=('kind', 'start', 'owner'), name='an_takencount_key')],
            },
        ),
        migrations.CreateModel(
            name='TakenMark',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('object_id', models.BigIntegerField()),
                ('owner', models.BigIntegerField()),
                ('kind', models.CharField(max_length=8)),
                ('start', models.DateField()),
            ],
            options={
                'verbose_name': 'Лид взят в работу за период',
                'verbose_name_plural': 'Лиды взяты в работу за периоды',
                'constraints': [models.UniqueConstraint(fields=('object_id', 'owner', 'kind', 'start'), name='an_takenmark_one')],
            },
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
