from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = _("Уведомления")

    def ready(self) -> None:
        from crm import deletion, timeline

        from . import cards, services  # noqa: F401 — cards registers the profile panel

        timeline.on_comment(services.commented)
        deletion.on_deleted(services.record_deleted)
