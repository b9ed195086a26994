"""The natural name order (disk.models.sort_key): the column, filled for the rows that exist, and
the (folder, sort_key, id) indexes that serve a folder's first page by name."""

import re

from django.conf import settings
from django.db import migrations, models

DIGITS = re.compile(r"[0-9]+")


def sort_key(name):
    # disk.models.sort_key as it was written with this migration (a later change there must not
    # change what this migration wrote).
    return DIGITS.sub(lambda digits: digits.group().zfill(20), name.casefold())[:1000]


def fill(apps, schema_editor):
    for model in (apps.get_model("disk", "Folder"), apps.get_model("disk", "File")):
        batch = []
        for item in model.objects.only("pk", "name").iterator(chunk_size=2000):
            item.sort_key = sort_key(item.name)
            batch.append(item)
            if len(batch) == 2000:
                model.objects.bulk_update(batch, ["sort_key"])
                batch = []
        model.objects.bulk_update(batch, ["sort_key"])


class Migration(migrations.Migration):

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('disk', '0002_file_folder_size_index'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='file',
            name='sort_key',
            field=models.CharField(default='', editable=False, max_length=1000),
        ),
        migrations.AddField(
            model_name='folder',
            name='sort_key',
            field=models.CharField(default='', editable=False, max_length=1000),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name='file',
            index=models.Index(condition=models.Q(('deleted_at__isnull', True)), fields=['folder', 'sort_key', 'id'], name='disk_file_folder_sort_idx'),
        ),
        migrations.AddIndex(
            model_name='folder',
            index=models.Index(condition=models.Q(('deleted_at__isnull', True)), fields=['parent', 'sort_key', 'id'], name='disk_folder_parent_sort_idx'),
        ),
    ]
