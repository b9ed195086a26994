"""The menu entry «Аналитика» shows to whoever may open the reports (accounts' MENU asks this check)."""

from accounts.context_processors import register_check

from . import selectors

register_check("analytics:index", selectors.can_view_reports)
