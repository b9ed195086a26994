from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ClientsConfig(AppConfig):
    name = "clients"
    verbose_name = _("Компании и контакты")

    def ready(self) -> None:
        from . import duplicates, search  # noqa: F401  (the duplicate finders; the CRM-wide search)
