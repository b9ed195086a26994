from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TasksAppConfig(AppConfig):
    name = "tasks_app"
    label = "tasks_app"
    verbose_name = _("Задачи")

    def ready(self) -> None:
        # Rules on moves and the touch date following the touch (crm.hooks); the cards' «Дела» panel
        # (crm.cards); the touch badges and the «Дела» filter of the lists and boards (crm.lists).
        from . import automation, cards, marks, touches  # noqa: F401
