from django.db import migrations

from accounts import defaults


def seed(apps, schema_editor):
    # The default roles get their levels for tasks («Задачи и дела»), as for the CRM records.
    defaults.seed(apps)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0004_alter_permission_entity")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
