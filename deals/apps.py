from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DealsConfig(AppConfig):
    name = "deals"
    verbose_name = _("Сделки")

    def ready(self) -> None:
        from . import cards, day  # noqa: F401  (the deals panel of company and contact cards; «Мой день»)
