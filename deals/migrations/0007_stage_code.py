"""Stage.code: Bitrix24's STAGE_ID of each stage (the REST API), filled for the stages there are."""

from django.db import migrations, models

from deals import defaults


def fill(apps, schema_editor):
    defaults.fill_stage_codes(apps)


class Migration(migrations.Migration):
    dependencies = [("deals", "0006_page_index")]

    operations = [
        migrations.AddField(model_name="stage", name="code",
                            field=models.CharField(default="", editable=False, max_length=50, verbose_name="Код"),
                            preserve_default=False),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.AddConstraint(model_name="stage",
                                 constraint=models.UniqueConstraint(fields=("pipeline", "code"), name="unique_stage_code")),
    ]
