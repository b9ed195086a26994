"""A minimal record kind for testing the access gate on its own, independent of any CRM app
(installed only by the test settings; no migrations, the test database syncs it)."""

from django.conf import settings
from django.db import models

from accounts.models import Entity


class Record(models.Model):
    access_entity = Entity.LEAD
    access_owner_field = "responsible"

    title = models.CharField(max_length=100)
    responsible = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)

    class Meta:
        app_label = "accessapp"

    def __str__(self) -> str:
        return self.title
