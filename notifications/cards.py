"""The e-mail choice on the user's own profile (a crm.cards panel registered by
NotificationsConfig.ready), so that accounts never imports this app."""

from __future__ import annotations

from accounts.models import User
from crm.cards import Panel, register

from . import selectors


@register
def email_panel(user, record) -> Panel | None:
    if not isinstance(record, User) or record.pk != user.pk:
        return None
    return Panel("notifications/_email_panel.html", {"email_kinds": selectors.email_kinds(user)})
