from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExchangeConfig(AppConfig):
    name = "exchange"
    label = "exchange"
    verbose_name = _("Импорт и экспорт")

    def ready(self) -> None:
        # The admin's export actions and «Импорт» link on the CRM records' lists.
        from .admin_actions import install

        install()
