"""The managers' figures per calendar period (ManagerCount: analytics.history and
analytics.source_counts keep it), filled here from the kept taken, funnel and move counts it
projects, set-based: the SQL of analytics.history.rebuild_managers, frozen — with the funnel's
CONVERTED and JUNK bits of leads.models.ORDER today — so that this migration does not follow later
code."""

from django.db import migrations, models

KINDS = ["week", "month", "quarter", "year"]
CONVERTED, JUNK = 32, 64  # analytics.history.BITS of «Успешный» and «Не успешный»


def fill(apps, schema_editor):
    connection = schema_editor.connection
    by = connection.ops.quote_name("by")
    parts = [f"SELECT kind, start, owner, 0 AS {by}, n AS taken, 0 AS moved, 0 AS converted, 0 AS junked "
             f"FROM analytics_takencount",
             f"SELECT kind, start, owner, 0, 0, 0, CASE WHEN (mask & %s) <> 0 THEN n ELSE 0 END, "
             f"CASE WHEN (mask & %s) <> 0 THEN n ELSE 0 END FROM analytics_funnelcount WHERE (mask & %s) <> 0"]
    params = [CONVERTED, JUNK, CONVERTED | JUNK]
    for kind in KINDS:
        trunc, trunc_params = connection.ops.date_trunc_sql(kind, connection.ops.quote_name("day"), ())
        # The system's moves (by 0) are shown nowhere: not kept.
        parts.append(f"SELECT %s, date({trunc}), owner, {by}, 0, moves, 0, 0 FROM analytics_movecount WHERE {by} <> 0")
        params += [kind, *trunc_params]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO analytics_managercount (kind, start, owner, {by}, taken, moved, converted, junked) "
            f"SELECT kind, start, owner, {by}, SUM(taken), SUM(moved), SUM(converted), SUM(junked) "
            f"FROM ({' UNION ALL '.join(parts)}) p GROUP BY 1, 2, 3, 4 "
            f"HAVING SUM(taken) <> 0 OR SUM(moved) <> 0 OR SUM(converted) <> 0 OR SUM(junked) <> 0", params)


class Migration(migrations.Migration):

    dependencies = [
        ('analytics', '0012_closed_any_pipeline'),
    ]

    operations = [
        migrations.CreateModel(
            name='ManagerCount',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(max_length=8)),
                ('start', models.DateField()),
                ('owner', models.BigIntegerField()),
                ('by', models.BigIntegerField(default=0)),
                ('taken', models.IntegerField(default=0)),
                ('moved', models.IntegerField(default=0)),
                ('converted', models.IntegerField(default=0)),
                ('junked', models.IntegerField(default=0)),
            ],
            options={
                'verbose_name': 'Счётчик показателей менеджера',
                'verbose_name_plural': 'Счётчики показателей менеджеров',
                'indexes': [models.Index(fields=['kind', 'start'], include=('owner', 'by', 'taken', 'moved', 'converted', 'junked'), name='an_managercount_read_idx')],
                'constraints': [models.UniqueConstraint(fields=('kind', 'start', 'owner', 'by'), name='an_managercount_key')],
            },
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
