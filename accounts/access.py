"""The one gate for record access.

Every list, card, form, board, bulk action, export and API endpoint asks this module, never
checks ownership itself. Levels follow Bitrix24: none, own, own + department, own + department +
sub-departments, all. A user with several roles gets the highest level any of them grants;
a superuser sees everything.

A model opts in by naming its entity and its owner field:

    class Lead(models.Model):
        access_entity = Entity.LEAD
        access_owner_field = "responsible"
"""

from __future__ import annotations

from typing import Any

from django.db.models import Max, Model, QuerySet
from django.http import Http404

from .models import Action, Department, Level, Permission, User


def level(user: User, entity: str, action: str) -> Level:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Level.NONE
    if user.is_superuser:
        return Level.ALL
    # One query per user object and request: the whole matrix of the user's roles.
    cache = getattr(user, "_access_levels", None)
    if cache is None:
        rows = (
            Permission.objects.filter(role__users=user)
            .values_list("entity", "action")
            .annotate(best=Max("level"))
        )
        cache = {(e, a): Level(best) for e, a, best in rows}
        user._access_levels = cache
    return cache.get((entity, action), Level.NONE)


def can_add(user: User, model: type[Model]) -> bool:
    return level(user, model.access_entity, Action.ADD) > Level.NONE


def department_ids(user: User, lvl: Level) -> set[int]:
    """The departments whose members' records a user with this level sees."""
    if user.department_id is None or lvl < Level.DEPARTMENT:
        return set()
    if lvl == Level.DEPARTMENT:
        return {user.department_id}
    cache = getattr(user, "_subtree_ids", None)
    if cache is None:
        children: dict[int | None, list[int]] = {}
        for pk, parent in Department.objects.values_list("pk", "parent_id"):
            children.setdefault(parent, []).append(pk)
        cache, stack = set(), [user.department_id]
        while stack:
            node = stack.pop()
            if node not in cache:
                cache.add(node)
                stack.extend(children.get(node, []))
        user._subtree_ids = cache
    return cache


def owner_ids(user: User, lvl: Level) -> set[int]:
    """The users whose records a user with a department level sees: the user and the members of
    those departments. Fetched once (a department has tens of people, not thousands), so record
    queries filter on their own indexed owner column instead of joining the users table for
    every row — on 100,000 leads that join cost more than the rest of the list page."""
    cache = getattr(user, "_owner_ids", None)
    if cache is None:
        cache = user._owner_ids = {}
    if lvl not in cache:
        departments = department_ids(user, lvl)
        members = set(User.objects.filter(department_id__in=departments).values_list("pk", flat=True)) if departments else set()
        cache[lvl] = members | {user.pk}
    return cache[lvl]


def scope(user: User, queryset: QuerySet, action: str = Action.VIEW) -> QuerySet:
    """The records of `queryset` that `user` may perform `action` on."""
    model = queryset.model
    owner = model.access_owner_field
    lvl = level(user, model.access_entity, action)
    if lvl == Level.ALL:
        return queryset
    if lvl == Level.NONE:
        return queryset.none()
    if lvl == Level.OWN:
        return queryset.filter(**{f"{owner}_id": user.pk})
    return queryset.filter(**{f"{owner}_id__in": sorted(owner_ids(user, lvl))})


def can(user: User, action: str, obj: Model) -> bool:
    """Whether `user` may perform `action` on the loaded `obj`."""
    lvl = level(user, obj.access_entity, action)
    if lvl == Level.ALL:
        return True
    if lvl == Level.NONE:
        return False
    owner_id = getattr(obj, f"{obj.access_owner_field}_id")
    if owner_id == user.pk:
        return True
    if owner_id is None:
        return False
    return owner_id in owner_ids(user, lvl)


def get_or_404(user: User, queryset: QuerySet, action: str = Action.VIEW, **lookup: Any) -> Model:
    """Fetch one record through the gate. A record the user may not see is indistinguishable
    from one that does not exist (404), so ids cannot be probed."""
    try:
        return scope(user, queryset, action).get(**lookup)
    except (queryset.model.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc
