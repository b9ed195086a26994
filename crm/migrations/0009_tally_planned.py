from django.db import migrations, models

# The leads' counters split by «has a next touch date» (Tally.planned): recounted in one
# INSERT … SELECT … GROUP BY (set-based: seconds at a million leads). Written out here rather than
# imported from crm.tallies, so the migration keeps meaning what it meant when the code changes.


def _recount(apps, schema_editor, planned: str):
    quote = schema_editor.connection.ops.quote_name
    tally = quote(apps.get_model("crm", "Tally")._meta.db_table)
    leads = quote(apps.get_model("leads", "Lead")._meta.db_table)
    schema_editor.execute(f"DELETE FROM {tally} WHERE model = %s", ["leads.lead"])
    schema_editor.execute(
        f"INSERT INTO {tally} (model, owner, scope, board_column, currency, planned, count, amount) "
        f"SELECT %s, responsible_id, 0, CAST(status AS VARCHAR(64)), currency, {planned}, COUNT(*), SUM(amount) "
        f"FROM {leads} GROUP BY responsible_id, status, currency, {planned}",
        ["leads.lead"],
    )


def split(apps, schema_editor):
    _recount(apps, schema_editor, "(next_touch_date IS NOT NULL)")


def merge(apps, schema_editor):
    # Back to one counter per key before the narrower unique constraint returns.
    _recount(apps, schema_editor, "(1 = 0)")


class Migration(migrations.Migration):

    dependencies = [
        ('crm', '0008_tally'),
        ('leads', '0011_page_index'),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='tally',
            name='crm_tally_key',
        ),
        migrations.AddField(
            model_name='tally',
            name='planned',
            field=models.BooleanField(db_default=False, default=False),
        ),
        migrations.AddConstraint(
            model_name='tally',
            constraint=models.UniqueConstraint(fields=('model', 'owner', 'scope', 'board_column', 'currency', 'planned'), name='crm_tally_key'),
        ),
        migrations.RunPython(split, merge),
    ]
