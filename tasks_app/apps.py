from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TasksAppConfig(AppConfig):
    name = "tasks_app"
    label = "tasks_app"
    verbose_name = _("Задачи")

    def ready(self) -> None:
        from . import touches  # noqa: F401  (the touch date follows the planned touch: crm.hooks)
