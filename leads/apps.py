from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LeadsConfig(AppConfig):
    name = "leads"
    verbose_name = _("Лиды")

    def ready(self) -> None:
        from crm import hooks

        from . import cards, day, duplicates  # noqa: F401  (the card panel, «Мой день», the lead finder)
        from .models import Status

        # The statuses a rule may start from («when a lead enters …»: tasks_app's automation).
        hooks.register_states("leads.lead", _("Лид"), lambda: Status.choices)
