"""Who the webhook is and who works here: user.current, user.get, department.get, profile, and what
the webhook may call: methods, scope — in Bitrix24's shapes (ids as strings, UF_DEPARTMENT a list).

Scopes as Bitrix24's: profile, methods and scope are «basic» (every webhook); user.current and user.get
need `user`, and so does department.get (Bitrix24 has a separate `department` scope; ours has not)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .. import registry, selectors
from ..fields import Field, FieldMap
from ..lists import list_page
from ..models import Scope
from ..registry import Call, method


def _zone(user) -> str:
    return user.time_zone or settings.TIME_ZONE


def _offset(user) -> int:
    from zoneinfo import ZoneInfo

    try:
        zone = ZoneInfo(_zone(user))
    except (KeyError, ValueError):
        zone = timezone.get_default_timezone()
    return int(dt.datetime.now(zone).utcoffset().total_seconds())


USERS = FieldMap([
    Field("ID", "integer", "pk", read_only=True),
    Field("ACTIVE", "boolean", "is_active", read_only=True, render=bool),
    Field("NAME", "string", "first_name", title=_("Имя")),
    Field("LAST_NAME", "string", "last_name", title=_("Фамилия")),
    Field("SECOND_NAME", "string", "middle_name", title=_("Отчество")),
    Field("EMAIL", "string", "email", title="E-mail"),
    Field("LAST_LOGIN", "datetime", "last_login", read_only=True),
    Field("DATE_REGISTER", "datetime", "date_joined", read_only=True),
    Field("IS_ONLINE", "char", get=lambda u: False, read_only=True),
    Field("TIME_ZONE", "string", get=_zone, read_only=True),
    Field("TIME_ZONE_OFFSET", "string", get=_offset, read_only=True),
    Field("PERSONAL_GENDER", "string", get=lambda u: "", read_only=True),
    Field("PERSONAL_BIRTHDAY", "string", get=lambda u: "", read_only=True),
    Field("WORK_POSITION", "string", "position", title=_("Должность")),
    Field("WORK_PHONE", "string", "phone", title=_("Телефон")),
    Field("UF_DEPARTMENT", "integer", "department_id", multiple=True, render=lambda v: v,
          get=lambda u: [u.department_id] if u.department_id else []),
    Field("USER_TYPE", "string", get=lambda u: "employee", read_only=True),
])


@method("user.current", scope=Scope.USER)
def user_current(call: Call) -> dict:
    return USERS.to_rest(call.user)


@method("user.get", scope=Scope.USER, atomic=False)
def user_get(call: Call) -> registry.Page:
    """user.get: the filter as FILTER or as top-level keys ({"ID": 5}, {"%LAST_NAME": "Ив"}),
    the order as SORT + ORDER, 50 a page with start."""
    return list_page(_listing(call, USERS), selectors.colleagues(), USERS)


DEPARTMENTS = FieldMap([
    Field("ID", "integer", "pk", read_only=True),
    Field("NAME", "string", "name"),
    Field("SORT", "integer", get=lambda d: 500, read_only=True),
    Field("PARENT", "integer", "parent_id"),
    Field("UF_HEAD", "user", "head_id"),
])


@method("department.get", scope=Scope.USER, atomic=False)
def department_get(call: Call) -> registry.Page:
    return list_page(_listing(call, DEPARTMENTS), selectors.departments(), DEPARTMENTS)


def _listing(call: Call, fields: FieldMap) -> Call:
    """The older methods' parameters (top-level filter keys, SORT/ORDER) as list_page's."""
    given = call.param("filter")
    if not isinstance(given, dict):
        given = {}
        for key, value in call.params.items():
            bare = str(key).lstrip("><=!@%")
            if fields.field(bare) is not None:
                given[key] = value
    order = call.param("order")
    sort = call.param("sort")
    if sort and not isinstance(sort, dict):
        order = {str(sort): order if isinstance(order, str) and order else "ASC"}
    elif not isinstance(order, dict):
        order = None
    return registry.Call(user=call.user, webhook=call.webhook, request=call.request,
                         params={"filter": given, "order": order, "start": call.param("start"),
                                 "select": ["*", "UF_*"]})


@method("profile", scope=None)
def profile(call: Call) -> dict:
    """Who the webhook is, in any scope (Bitrix24: TIME_ZONE empty for the company's zone)."""
    user = call.user
    return {"ID": str(user.pk), "ADMIN": bool(user.is_superuser), "NAME": user.first_name,
            "LAST_NAME": user.last_name, "PERSONAL_GENDER": "", "TIME_ZONE": user.time_zone}


@method("methods", scope=None)
def methods(call: Call) -> list[str]:
    """The methods this webhook may call; `scope=crm`: those of one scope; `full=true`: all."""
    full = str(call.param("full", default="")).lower() in ("1", "true", "y")
    only = call.param("scope")
    granted = set(call.webhook.scope_list)
    names = []
    for m in registry.all_methods():
        if only not in (None, ""):
            if m.scope != str(only).lower():
                continue
        elif not full and m.scope is not None and m.scope not in granted:
            continue
        names.append(m.name)
    return names


@method("scope", scope=None)
def scope(call: Call) -> list[str]:
    """The webhook's scopes; `full=true`: every scope there is."""
    if str(call.param("full", default="")).lower() in ("1", "true", "y"):
        return list(Scope.values)
    return call.webhook.scope_list
