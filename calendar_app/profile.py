"""The feed's secret address on the user's own profile (a crm.cards panel registered by
CalendarAppConfig.ready, so that accounts never imports this app): the address with «Скопировать»,
«Создать ссылку» / «Новая ссылка» (the old one stops working) and «Отозвать»."""

from __future__ import annotations

from accounts.models import User
from crm.cards import Panel, register

from . import selectors


@register
def feed_panel(user, record) -> Panel | None:
    if not isinstance(record, User) or record.pk != user.pk:
        return None
    token = selectors.live_token(user)
    return Panel("calendar_app/_feed_panel.html", {"token": token}, order=10)
