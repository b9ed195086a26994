from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TasksAppConfig(AppConfig):
    name = "tasks_app"
    label = "tasks_app"
    verbose_name = _("Задачи")

    def ready(self) -> None:
        from accounts.context_processors import register_counter

        from . import automation, touches  # noqa: F401  (rules on moves; the touch date follows the touch: crm.hooks)

        # The menu's overdue / today badges on «Задачи» and «Мой день».
        for name in ("tasks:list", "tasks:day"):
            register_counter(name, "tasks:menu_counters")
