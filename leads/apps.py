from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LeadsConfig(AppConfig):
    name = "leads"
    verbose_name = _("Лиды")

    def ready(self) -> None:
        from crm import hooks

        from . import cards, day, duplicates, search  # noqa: F401  (card panel, «Мой день», lead finder, search)
        from .models import Status

        # The statuses a rule may start from («when a lead enters …»: tasks_app's automation).
        hooks.register_states("leads.lead", _("Лид"), lambda: Status.choices)
