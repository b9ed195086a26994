"""The sources' rollups and the managers' moves per day (analytics.source_counts), filled from the
leads, deals and stays as they are: GROUP BY queries, a few thousand rows at a million leads."""

from django.db import migrations, models


def fill(apps, schema_editor):
    from analytics import source_counts

    found = {name: apps.get_model(*name.split(".")) for name in (
        "leads.Lead", "deals.Deal", "analytics.Stay", "analytics.SourceCount", "analytics.SourceDealCount",
        "analytics.MoveCount")}
    source_counts.rebuild(found)


class Migration(migrations.Migration):

    dependencies = [
        ('analytics', '0004_time_indexes'),
        ('leads', '0011_page_index'),
        ('deals', '0007_stage_code'),
    ]

    operations = [
        migrations.CreateModel(
            name='MoveCount',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('day', models.DateField()),
                ('by', models.BigIntegerField()),
                ('owner', models.BigIntegerField()),
                ('source', models.BigIntegerField(default=0)),
                ('niche', models.BigIntegerField(default=0)),
                ('moves', models.BigIntegerField(default=0)),
            ],
            options={
                'verbose_name': 'Счётчик переводов статуса',
                'verbose_name_plural': 'Счётчики переводов статуса',
                'constraints': [models.UniqueConstraint(fields=('day', 'by', 'owner', 'source', 'niche'), name='an_move_count_key')],
            },
        ),
        migrations.CreateModel(
            name='SourceCount',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('month', models.DateField()),
                ('owner', models.BigIntegerField()),
                ('source', models.BigIntegerField(default=0)),
                ('niche', models.BigIntegerField(default=0)),
                ('leads', models.BigIntegerField(default=0)),
            ],
            options={
                'verbose_name': 'Счётчик лидов по источникам',
                'verbose_name_plural': 'Счётчики лидов по источникам',
                'constraints': [models.UniqueConstraint(fields=('month', 'owner', 'source', 'niche'), name='an_source_count_key')],
            },
        ),
        migrations.CreateModel(
            name='SourceDealCount',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('month', models.DateField()),
                ('owner', models.BigIntegerField()),
                ('source', models.BigIntegerField(default=0)),
                ('niche', models.BigIntegerField(default=0)),
                ('deal_owner', models.BigIntegerField()),
                ('scope', models.BigIntegerField()),
                ('currency', models.CharField(max_length=3)),
                ('deals', models.BigIntegerField(default=0)),
                ('won', models.BigIntegerField(default=0)),
                ('paid', models.DecimalField(decimal_places=2, default=0, max_digits=24)),
            ],
            options={
                'verbose_name': 'Счётчик сделок по источникам',
                'verbose_name_plural': 'Счётчики сделок по источникам',
                'constraints': [models.UniqueConstraint(fields=('month', 'owner', 'source', 'niche', 'deal_owner', 'scope', 'currency'), name='an_source_deal_count_key')],
            },
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
