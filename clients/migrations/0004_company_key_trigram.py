"""A trigram index on the companies' name key (`company_key`) on PostgreSQL. The deals' search
asks for the companies whose search column OR name key contains a word (deals.filters._term):
with only the search column indexed, the OR was a scan of every company the user sees (14 ms
at 15 000 companies, BENCHMARKS.md: «Лесной»); with both indexed it is a BitmapOr of the two.
SQLite has no index for it: its `LIKE` scans the companies, as before."""

from django.db import migrations

from crm import textindex

INDEX = "company_key_trgm"


def install(apps, schema_editor):
    textindex.install_trigram(schema_editor.connection, "clients_company", INDEX, column="company_key")


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):

    dependencies = [
        ('clients', '0003_search_index'),
    ]

    operations = [
        migrations.RunPython(install, uninstall),
    ]
