from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CalendarAppConfig(AppConfig):
    name = "calendar_app"
    label = "calendar_app"
    verbose_name = _("Календарь")

    def ready(self) -> None:
        from . import profile  # noqa: F401 — registers the feed's panel on the profile
