from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CalendarAppConfig(AppConfig):
    name = "calendar_app"
    label = "calendar_app"
    verbose_name = _("Календарь")

    def ready(self) -> None:
        # Panels on the cards (crm.cards): «Встречи» on records, the feed's address on the profile;
        # the invitation's .ics in its e-mail (notifications).
        from . import cards, invitations, profile  # noqa: F401
