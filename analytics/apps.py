from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalyticsConfig(AppConfig):
    name = "analytics"
    label = "analytics"
    verbose_name = _("Аналитика")

    def ready(self) -> None:
        # The stays follow every move, change and deletion of a lead or a deal (crm.hooks,
        # crm.deletion): the CRM apps never import this app.
        from . import history  # noqa: F401
