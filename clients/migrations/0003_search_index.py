"""The companies' and contacts' search columns indexed, as the leads' is: a trigram index on
PostgreSQL, an FTS5 trigram table kept by triggers on SQLite (crm.textindex). Filled by one
statement each."""

from django.db import migrations

from crm import textindex

TABLES = {"clients_company": "company_search_trgm", "clients_contact": "contact_search_trgm"}


def install(apps, schema_editor):
    for table, index in TABLES.items():
        textindex.install_trigram(schema_editor.connection, table, index)
        textindex.install(schema_editor.connection, table)


def uninstall(apps, schema_editor):
    for table, index in TABLES.items():
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f"DROP INDEX IF EXISTS {index}")
        textindex.uninstall(schema_editor.connection, table)


class Migration(migrations.Migration):

    dependencies = [
        ('clients', '0002_company_external_id_contact_external_id'),
    ]

    operations = [
        migrations.RunPython(install, uninstall),
    ]
