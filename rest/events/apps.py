from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RestEventsConfig(AppConfig):
    name = "rest.events"
    label = "rest_events"
    verbose_name = _("REST: исходящие события")

    def ready(self) -> None:
        from accounts.context_processors import register_setting
        from crm import deletion, hooks

        from . import services

        register_setting(_("Исходящие события"), "rest_events:list", services.can_manage)
        hooks.on_changed(services.record_changed, many=services.records_changed)
        deletion.on_deleted(services.record_deleted)
