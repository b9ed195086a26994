"""The companies' name key (`company_key`) indexed on SQLite as their search column is: an FTS5
trigram table kept by triggers (crm.textindex). The deals' search asks for the companies whose
search column OR name key contains a word (deals.filters._term); with only the search column
indexed, the name key's LIKE read every company the user sees (6.4 ms of a 36 ms page at 5 000
companies). PostgreSQL has its trigram index on the column (0004)."""

from django.db import migrations

from crm import textindex


def install(apps, schema_editor):
    textindex.install(schema_editor.connection, "clients_company", "company_key")


def uninstall(apps, schema_editor):
    textindex.uninstall(schema_editor.connection, "clients_company", "company_key")


class Migration(migrations.Migration):

    dependencies = [
        ('clients', '0004_company_key_trigram'),
    ]

    operations = [
        migrations.RunPython(install, uninstall),
    ]
