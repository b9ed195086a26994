"""The leads' search column indexed on SQLite too (crm.textindex: an FTS5 trigram table kept by
triggers; PostgreSQL has had its trigram index since 0004). Filled by one statement."""

from django.db import migrations

from crm import textindex


def install(apps, schema_editor):
    textindex.install(schema_editor.connection, "leads_lead")


def uninstall(apps, schema_editor):
    textindex.uninstall(schema_editor.connection, "leads_lead")


class Migration(migrations.Migration):

    dependencies = [
        ('leads', '0008_duplicate_key_indexes'),
    ]

    operations = [
        migrations.RunPython(install, uninstall),
    ]
