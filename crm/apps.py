from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _repair_search_indexes(using, **kwargs) -> None:
    from django.db import connections

    from crm import textindex

    textindex.repair(connections[using])


class CrmConfig(AppConfig):
    name = "crm"
    verbose_name = _("CRM: справочники и история")

    def ready(self) -> None:
        # A migration that remade a table on SQLite dropped its search index's triggers.
        post_migrate.connect(_repair_search_indexes, sender=self, dispatch_uid="crm.textindex.repair")
