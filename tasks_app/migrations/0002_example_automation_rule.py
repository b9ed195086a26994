from django.db import migrations

from tasks_app import defaults


def seed(apps, schema_editor):
    defaults.seed(apps)


class Migration(migrations.Migration):
    dependencies = [("tasks_app", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
