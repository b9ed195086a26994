from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TasksAppConfig(AppConfig):
    name = "tasks_app"
    label = "tasks_app"
    verbose_name = _("Задачи")

    def ready(self) -> None:
        from accounts.context_processors import register_counter

        # Rules on moves and the touch date following the touch (crm.hooks); the cards' «Дела» panel
        # (crm.cards); the touch badges and the «Дела» filter of the lists and boards (crm.lists).
        from . import automation, cards, marks, touches  # noqa: F401

        # The menu's overdue / today badges, on «Мой день» (one fetch per page: on «Задачи» too they
        # were the same numbers fetched twice).
        register_counter("tasks:day", "tasks:menu_counters")
