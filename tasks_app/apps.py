from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TasksAppConfig(AppConfig):
    name = "tasks_app"
    label = "tasks_app"
    verbose_name = _("Задачи")

    def ready(self) -> None:
        from . import automation, touches  # noqa: F401  (rules on moves; the touch date follows the touch: crm.hooks)
