from django.db import migrations

from deals import defaults


def seed(apps, schema_editor):
    defaults.seed(apps)


class Migration(migrations.Migration):
    dependencies = [("deals", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
