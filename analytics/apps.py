from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalyticsConfig(AppConfig):
    name = "analytics"
    label = "analytics"
    verbose_name = _("Аналитика")

    def ready(self) -> None:
        # The stays follow every move, change and deletion of a lead or a deal (crm.hooks,
        # crm.deletion): the CRM apps never import this app.
        # The drill-down filter on the leads list, the head's numbers on «Мой день» and the menu
        # entry are registered here too, not by importing the URLs: a list or «Мой день» may be
        # the first page a process serves.
        from . import day, drilldown, history, menu, source_counts  # noqa: F401
