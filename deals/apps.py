from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def stage_choices() -> list[tuple[str, str]]:
    """Every stage as «Воронка: Стадия», its id as text (what the move services pass to crm.hooks).
    Called when the automation rules' admin builds its form, never at start-up."""
    from .models import Stage

    return [(str(stage.pk), f"{stage.pipeline.name}: {stage.name}")
            for stage in Stage.objects.select_related("pipeline").order_by("pipeline__sort", "pipeline__pk", "sort", "pk")]


class DealsConfig(AppConfig):
    name = "deals"
    verbose_name = _("Сделки")

    def ready(self) -> None:
        from crm import hooks

        from . import cards, day, search  # noqa: F401  (company and contact cards' panel; «Мой день»; search)

        # The stages a rule may start from («when a deal enters …»: tasks_app's automation).
        hooks.register_states("deals.deal", _("Сделка"), stage_choices)
