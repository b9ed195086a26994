"""Leads keep their e-mails lower-case since the save does (Lead.derive_search_fields), as companies'
and contacts' e-mails always were: the duplicate check and the import then find «User@X.ru» by an exact,
indexed lookup of «user@x.ru». This lowers the e-mails saved before, in one statement per column
(SQLite's LOWER folds only ASCII letters; an address with other capitals keeps them there)."""

from django.db import migrations
from django.db.models import F
from django.db.models.functions import Lower


def lower_emails(apps, schema_editor):
    Lead = apps.get_model("leads", "Lead")
    for field in ("company_email", "contact_email"):
        Lead.objects.exclude(**{field: ""}).exclude(**{field: Lower(F(field))}).update(**{field: Lower(F(field))})


class Migration(migrations.Migration):
    dependencies = [("leads", "0009_search_index")]
    operations = [migrations.RunPython(lower_emails, migrations.RunPython.noop)]
