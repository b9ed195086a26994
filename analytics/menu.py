"""The menu entry «Аналитика» shows to whoever may open a report — a manager his own figures
(accounts' MENU asks this check)."""

from accounts.context_processors import register_check

from . import selectors

register_check("analytics:index", lambda user: selectors.reports_for(user) != ())
