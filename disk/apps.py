from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DiskConfig(AppConfig):
    name = "disk"
    label = "disk"
    verbose_name = _("Диск")

    def ready(self) -> None:
        # The attachments panel on the records' cards (crm.cards); a deleted record's folder to the
        # trash (crm.deletion.on_deleted); files on comments (crm.timeline).
        from . import cards, comments, hooks  # noqa: F401
