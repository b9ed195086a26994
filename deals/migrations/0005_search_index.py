"""The deals' search column indexed, as the leads' is: a trigram index on PostgreSQL, an FTS5
trigram table kept by triggers on SQLite (crm.textindex). Filled by one statement."""

from django.db import migrations

from crm import textindex


def install(apps, schema_editor):
    textindex.install_trigram(schema_editor.connection, "deals_deal", "deal_search_trgm")
    textindex.install(schema_editor.connection, "deals_deal")


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS deal_search_trgm")
    textindex.uninstall(schema_editor.connection, "deals_deal")


class Migration(migrations.Migration):

    dependencies = [
        ('deals', '0004_deal_external_id'),
    ]

    operations = [
        migrations.RunPython(install, uninstall),
    ]
