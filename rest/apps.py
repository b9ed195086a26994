from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RestConfig(AppConfig):
    name = "rest"
    verbose_name = _("REST API (вебхуки)")

    def ready(self) -> None:
        # The methods register themselves by import (rest.methods imports every module of the
        # package); the profile's «Вебхуки» panel goes through crm.cards, so accounts never imports us.
        from . import methods, profile  # noqa: F401
