from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ClientsConfig(AppConfig):
    name = "clients"
    verbose_name = _("Компании и контакты")

    def ready(self) -> None:
        from . import duplicates  # noqa: F401  (registers the company and contact finders)
