"""The profile's «Вебхуки» panel (a crm.cards panel: accounts never imports this app): the user's
own webhooks — name, scopes, created, last use — with «Отозвать», and the form of a new one. The
new code is shown once, on the page that made it (rest.views_profile)."""

from __future__ import annotations

from accounts.models import User
from crm.cards import Panel, register

from . import selectors


@register
def webhooks_panel(user, record) -> Panel | None:
    if not isinstance(record, User) or record.pk != user.pk:
        return None
    return Panel("rest/_webhooks_panel.html", {"webhooks": list(selectors.webhooks_of(user)[:5])}, order=20)
