"""The lead funnel per calendar period (FunnelMark, FunnelCount: analytics.history keeps them),
filled here from the existing stays, set-based: the SQL of analytics.history.rebuild_funnel, frozen
(the lead statuses in their order then), so that this migration does not follow later code."""

from django.db import migrations, models
from django.utils import timezone

ORDER = ["new", "first_call", "qualification", "reconnaissance", "decision_maker", "converted", "junk"]
KINDS = ["week", "month", "quarter", "year"]


def fill(apps, schema_editor):
    connection = schema_editor.connection
    whens = " ".join("WHEN %s THEN %s" for _ in ORDER)
    bits = [v for index, state in enumerate(ORDER) for v in (state, 1 << index)]
    with connection.cursor() as cursor:
        for kind in KINDS:
            trunc, params = connection.ops.datetime_trunc_sql(kind, "entered_at", (), timezone.get_default_timezone_name())
            cursor.execute(
                f"INSERT INTO analytics_funnelmark (object_id, kind, start, mask) "
                f"SELECT object_id, %s, date({trunc}), SUM(DISTINCT CASE state {whens} ELSE 0 END) "
                f"FROM analytics_stay WHERE model = 'leads.lead' GROUP BY 1, 3", [kind, *params, *bits])
        cursor.execute(
            "INSERT INTO analytics_funnelcount (kind, start, owner, source, niche, reason, mask, n) "
            "SELECT m.kind, m.start, s.owner, COALESCE(s.source, 0), COALESCE(s.niche, 0), COALESCE(s.reason, 0), "
            "m.mask, COUNT(*) FROM analytics_funnelmark m JOIN analytics_stay s ON s.model = 'leads.lead' "
            "AND s.object_id = m.object_id AND s.left_at IS NULL GROUP BY 1, 2, 3, 4, 5, 6, 7")


class Migration(migrations.Migration):

    dependencies = [
        ('analytics', '0002_stay_reason'),
    ]

    operations = [
        migrations.CreateModel(
            name='FunnelCount',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(max_length=8)),
                ('start', models.DateField()),
                ('owner', models.BigIntegerField()),
                ('source', models.BigIntegerField(default=0)),
                ('niche', models.BigIntegerField(default=0)),
                ('reason', models.BigIntegerField(default=0)),
                ('mask', models.IntegerField()),
                ('n', models.IntegerField(default=0)),
            ],
            options={
                'verbose_name': 'Счётчик воронки лидов',
                'verbose_name_plural': 'Счётчики воронки лидов',
                'constraints': [models.UniqueConstraint(fields=('kind', 'start', 'owner', 'source', 'niche', 'reason', 'mask'), name='an_funnelcount_key')],
            },
        ),
        migrations.CreateModel(
            name='FunnelMark',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('object_id', models.BigIntegerField()),
                ('kind', models.CharField(max_length=8)),
                ('start', models.DateField()),
                ('mask', models.IntegerField()),
            ],
            options={
                'verbose_name': 'Статусы лида за период',
                'verbose_name_plural': 'Статусы лидов за периоды',
                'constraints': [models.UniqueConstraint(fields=('object_id', 'kind', 'start'), name='an_funnelmark_one')],
            },
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
