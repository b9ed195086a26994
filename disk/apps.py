from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DiskConfig(AppConfig):
    name = "disk"
    label = "disk"
    verbose_name = _("Диск")
