from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LeadsConfig(AppConfig):
    name = "leads"
    verbose_name = _("Лиды")

    def ready(self) -> None:
        from . import cards, day, duplicates  # noqa: F401  (register the card panel, «Мой день», the lead finder)
