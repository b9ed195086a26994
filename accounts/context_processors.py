from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from . import access
from .models import Action, Entity, Level

# What the «Импорт» entry is for: whoever may import one of these sees it.
IMPORTED = (Entity.COMPANY, Entity.CONTACT, Entity.LEAD, Entity.DEAL)

# The left menu, in Bitrix24's order. An entry appears once its app registers the URL name and
# the user may see that kind of record (or passes the entry's own check, a function of the user),
# so modules that are not built yet leave no dead links.
MENU = [
    (_("Мой день"), "tasks:day", Entity.TASK),  # one's tasks and touches first: nothing to show without them
    (_("CRM"), [
        (_("Лиды"), "leads:list", Entity.LEAD),
        (_("Сделки"), "deals:board", Entity.DEAL),
        (_("Контакты"), "clients:contact_list", Entity.CONTACT),
        (_("Компании"), "clients:company_list", Entity.COMPANY),
        # The reports: shown to whoever the analytics app lets open them (its registered check).
        (_("Аналитика"), "analytics:index", lambda user: _registered("analytics:index", user)),
        # Not a kind of record: shown to whoever may import one (exchange's page says which).
        (_("Импорт"), "exchange:import", lambda user: any(access.can_import(user, e) for e in IMPORTED)),
    ]),
    (_("Задачи"), "tasks:list", Entity.TASK),
    (_("Календарь"), "calendar:index", Entity.EVENT),
    (_("Диск"), "disk:index", Entity.FILE),
]


# menu entry's url name → who sees it, for entries whose app decides (analytics: who may open
# the reports). Registered at start-up, as the counters below; an entry nobody registered a check
# for is not shown.
CHECKS: dict = {}


def register_check(url_name: str, check) -> None:
    CHECKS[url_name] = check


def _registered(url_name: str, user) -> bool:
    check = CHECKS.get(url_name)
    return bool(check and check(user))


# menu entry's url name → the url name of its counters, a partial the page fetches by htmx after
# it loads (as the bell does), so no page pays their query. Apps register theirs at start-up
# (AppConfig.ready), so accounts imports none of them.
COUNTERS: dict[str, str] = {}


def register_counter(url_name: str, counters_url_name: str) -> None:
    COUNTERS[url_name] = counters_url_name


# The «Настройки» group's pages besides the admin (label, url name, check(user)): apps register
# theirs at start-up, as with COUNTERS, and the group shows to whoever may open one of them.
SETTINGS: list[tuple] = []


def register_setting(label, url_name: str, check) -> None:
    if all(name != url_name for _label, name, _check in SETTINGS):
        SETTINGS.append((label, url_name, check))


def _entry(user, label, url_name, entity):
    try:
        url = reverse(url_name)
    except NoReverseMatch:
        return None
    if callable(entity):
        if not entity(user):
            return None
    elif entity and access.level(user, entity, Action.VIEW) == Level.NONE:
        return None
    return {"label": label, "url": url, "name": url_name}


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    menu = []
    for label, target, *rest in MENU:
        if isinstance(target, list):
            children = [e for e in (_entry(user, *item) for item in target) if e]
            if children:
                menu.append({"label": label, "children": children})
        else:
            entry = _entry(user, label, target, rest[0])
            if entry:
                menu.append(entry)
    # An entry is current on its own pages and below them (/leads/ → /leads/kanban/, /leads/5/).
    # The longest matching URL wins: «Мой день» at /tasks/day/ is not also «Задачи» at /tasks/.
    entries = [e for item in menu for e in item.get("children", [item])]
    matching = [e for e in entries if request.path.startswith(e["url"])]
    current = max(matching, key=lambda e: len(e["url"]), default=None)
    for entry in entries:
        entry["active"] = entry is current
        counters = COUNTERS.get(entry.get("name", ""))
        if counters:
            entry["counters_url"] = reverse(counters)
    settings_menu = [e for e in (_entry(user, *item) for item in SETTINGS) if e]
    for entry in settings_menu:
        entry["active"] = request.path.startswith(entry["url"])
    return {"menu": menu, "settings_menu": settings_menu}
