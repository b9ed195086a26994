"""The one gate for record access.

Every list, card, form, board, bulk action, export and API endpoint asks this module, never
checks ownership itself. Levels follow Bitrix24: none, own, own + department, own + department +
sub-departments, all. A user with several roles gets the highest level any of them grants;
a superuser sees everything.

A model opts in by naming its entity and its owner field:

    class Lead(models.Model):
        access_entity = Entity.LEAD
        access_owner_field = "responsible"

A model whose records have participants besides the owner (a task's creator, co-executors and
observers) also names `access_participants(user) -> Q` and `is_participant(user) -> bool`: a
participant reads the record whatever his level (as in Bitrix24); changing it stays with the
level, and the owning app's service decides what each participant may do.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import connections
from django.db.models import F, Model, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from .models import Action, Department, Level, Permission, User, full_name


def _read(user: User) -> tuple[list[tuple[int, str, str, str, int]], list[tuple[int, int | None, str]]]:
    """(role, entity, action, scope, level) of the user's roles' permissions, and (pk, parent's
    pk, name) of every department by name (`departments`), in one query: a department's rules
    need both, on every page, and a company's departments are tens of rows."""
    qn = connections[Permission.objects.db].ops.quote_name
    roles = User.roles.through._meta
    # The names are the models' own, never user input.
    sql = (f"SELECT 0, p.{qn('role_id')}, p.{qn('level')}, p.{qn('entity')}, p.{qn('action')}, p.{qn('scope')} "
           f"FROM {qn(Permission._meta.db_table)} p JOIN {qn(roles.db_table)} r "
           f"ON r.{qn(roles.get_field('role').column)} = p.{qn('role_id')} "
           f"WHERE r.{qn(roles.get_field('user').column)} = %s "
           f"UNION ALL SELECT 1, d.{qn('id')}, d.{qn('parent_id')}, d.{qn('name')}, NULL, NULL "
           f"FROM {qn(Department._meta.db_table)} d ORDER BY 1, 4, 2")
    permissions, departments = [], []
    with connections[Permission.objects.db].cursor() as cursor:
        cursor.execute(sql, [user.pk])
        for kind, pk, number, text, action, scope in cursor.fetchall():
            if kind == 0:
                permissions.append((pk, text, action, scope, number))
            else:
                departments.append((pk, number, text))
    return permissions, departments


def _matrix(user: User) -> dict[tuple[str, str, str], Level]:
    """(entity, action, scope) → level, the highest over the user's roles. A role's level for a
    scope (e.g. one deal pipeline) is its row for that scope if it has one, else its row for the
    whole entity. One query per user object and request, which reads the departments too."""
    cache = getattr(user, "_access_levels", None)
    if cache is None:
        permissions, departments = _read(user)
        if not hasattr(user, "_departments"):
            user._departments = departments
        per_role: dict[int, dict[tuple[str, str, str], int]] = {}
        for role, entity, action, scope, lvl in permissions:
            per_role.setdefault(role, {})[(entity, action, scope)] = lvl
        cache = {}
        for rows in per_role.values():
            for (entity, action, scope), lvl in rows.items():
                key = (entity, action, scope)
                cache[key] = Level(max(cache.get(key, Level.NONE), lvl))
            # A scope one role sets but another does not: the other's entity-wide level counts too.
        scopes = {k for k in cache if k[2]}
        for entity, action, scope in scopes:
            for rows in per_role.values():
                if (entity, action, scope) not in rows and (entity, action, "") in rows:
                    key = (entity, action, scope)
                    cache[key] = Level(max(cache[key], rows[(entity, action, "")]))
        user._access_levels = cache
    return cache


def level(user: User, entity: str, action: str, scope: str = "") -> Level:
    """The user's level for `action`. An action on existing records (change, delete, export)
    reaches only what the user may read too: a role that may change every deal but not see one
    pipeline's changes none there. Adding concerns no existing record: it is not capped."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Level.NONE
    if user.is_superuser:
        return Level.ALL
    matrix = _matrix(user)

    def cell(act: str) -> Level:
        if scope and (entity, act, scope) in matrix:
            return matrix[(entity, act, scope)]
        return matrix.get((entity, act, ""), Level.NONE)

    return cell(action) if action in (Action.VIEW, Action.ADD) else min(cell(action), cell(Action.VIEW))


def scoped_levels(user: User, entity: str, action: str) -> dict[str, Level]:
    """The scopes (e.g. "pipeline:3") with a level of their own for this entity and action."""
    if not getattr(user, "is_authenticated", False) or not user.is_active or user.is_superuser:
        return {}
    return {scope: lvl for (e, a, scope), lvl in _matrix(user).items() if e == entity and a == action and scope}


def can_add(user: User, model: type[Model]) -> bool:
    return level(user, model.access_entity, Action.ADD) > Level.NONE


def departments(user: User) -> list[tuple[int, int | None, str]]:
    """(pk, parent's pk, name) of every department, by name: read once per request (kept on the
    user object) for the access rules and the owner filters (crm.lists.Owners) alike — with the
    user's levels (`_matrix`) when they were read first."""
    cache = getattr(user, "_departments", None)
    if cache is None:
        cache = user._departments = list(Department.objects.order_by("name", "pk").values_list("pk", "parent_id", "name"))
    return cache


def department_ids(user: User, lvl: Level) -> set[int]:
    """The departments whose members' records a user with this level sees."""
    if user.department_id is None or lvl < Level.DEPARTMENT:
        return set()
    if lvl == Level.DEPARTMENT:
        return {user.department_id}
    cache = getattr(user, "_subtree_ids", None)
    if cache is None:
        children: dict[int | None, list[int]] = {}
        for pk, parent, _name in departments(user):
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
        if lvl == Level.SUBDEPARTMENTS and user.department_id is not None and not hasattr(user, "_subtree_ids") \
                and not hasattr(user, "_departments"):
            members = _subtree_members(user.department_id)  # a card needs no tree of names: one query, not two
        else:
            departments = department_ids(user, lvl)
            rows = User.objects.filter(department_id__in=departments).values_list(
                "pk", "last_name", "first_name", "username", "is_active") if departments else []
            known = people(user)
            for pk, last_name, first_name, username, is_active in rows:
                known[pk] = _person(last_name, first_name, username, is_active)
            members = {row[0] for row in rows}
        cache[lvl] = members | {user.pk}
    return cache[lvl]


@dataclass(frozen=True)
class Person:
    """A user as the owner filters and the reports name him (str(User)), and how they sort him."""

    name: str
    is_active: bool
    order: tuple[str, str, str]


def _person(last_name: str, first_name: str, username: str, is_active: bool) -> Person:
    # Sorted as a Russian reader expects (the database's collation does): case aside, Ё with Е.
    order = tuple(part.casefold().replace("ё", "е") for part in (last_name, first_name, username))
    return Person(full_name(last_name, first_name) or username, is_active, order)


def people(user: User) -> dict[int, Person]:
    """{pk: Person} of the users this request has read the names of while `owner_ids` fetched a
    department's members (kept on the user object, as the levels and the departments are), and of
    the user himself: the owner filters and the reports name them without reading them again."""
    cache = getattr(user, "_people", None)
    if cache is None:
        cache = user._people = {user.pk: _person(user.last_name, user.first_name, user.username, user.is_active)}
    return cache


def _subtree_members(department: int) -> set[int]:
    """The members of a department and of every department under it, in one recursive query
    (PostgreSQL and SQLite alike)."""
    users, departments = User._meta.db_table, Department._meta.db_table
    sql = (f'WITH RECURSIVE tree(id) AS (SELECT "id" FROM "{departments}" WHERE "id" = %s '
           f'UNION SELECT d."id" FROM "{departments}" d JOIN tree ON d."parent_id" = tree.id) '
           f'SELECT u."id" FROM "{users}" u WHERE u."department_id" IN (SELECT id FROM tree)')
    with connections[User.objects.db].cursor() as cursor:
        cursor.execute(sql, [department])
        return {pk for (pk,) in cursor.fetchall()}


def _condition(user: User, owner: str, lvl: Level) -> Q | None:
    """Which records a level opens: None for none, an empty Q for all."""
    if lvl == Level.NONE:
        return None
    if lvl == Level.ALL:
        return Q()
    if lvl == Level.OWN:
        return Q(**{owner: user.pk})
    return Q(**{f"{owner}__in": sorted(owner_ids(user, lvl))})


def scope(user: User, queryset: QuerySet, action: str = Action.VIEW, owner_index: bool = True) -> QuerySet:
    """The records of `queryset` that `user` may perform `action` on. A model with
    `access_scope_field` (deals: "pipeline") may have a different level per scope value.

    `owner_index=False` is a planner hint for pages that read the first few rows of a status in
    date order (kanban columns): the owner filter is then written so that no index on the owner
    can serve it, and the database walks the (status, date) index instead of collecting every
    row of the owners and sorting them — on SQLite that was 50 ms a column at 100,000 leads."""
    model = queryset.model
    owner = f"{model.access_owner_field}_id"
    if not owner_index:
        queryset = queryset.alias(_access_owner=F(owner) + 0)
        owner = "_access_owner"
    scope_field = getattr(model, "access_scope_field", None)
    condition = gate(user, model, action, owner=owner, scope=f"{scope_field}_id" if scope_field else None,
                     participants=True)
    return queryset.none() if condition is None else queryset.filter(condition)


def gate(user: User, model: type[Model], action: str = Action.VIEW, *, owner: str, scope: str | None = None,
         participants: bool = False) -> Q | None:
    """The condition `scope` filters `model`'s records with, written on the columns `owner` (the
    owner's id) and `scope` (the scope value's id, e.g. the pipeline's): None when nothing is
    open, an empty Q for everything. A table keyed by owner and scope (crm.tallies' counters)
    is filtered by the very same rules this way. `participants`: the model's participants
    (`access_participants`) are let in too — only for the model's own records."""
    default = _condition(user, owner, level(user, model.access_entity, action))
    scope_field = getattr(model, "access_scope_field", None)
    scoped = {}
    if scope_field and scope:
        # A scope with a reading level of its own caps the other actions there (see level()).
        scopes = set(scoped_levels(user, model.access_entity, action))
        if action not in (Action.VIEW, Action.ADD):
            scopes |= set(scoped_levels(user, model.access_entity, Action.VIEW))
        scoped = {s: level(user, model.access_entity, action, s) for s in scopes}
    extra = getattr(model, "access_participants", None) if participants else None
    # An empty Q (level «all») would vanish when OR-ed: Q() | Q(x) is Q(x). All needs nothing more.
    if extra is not None and action == Action.VIEW and default != Q():
        more = extra(user)
        default = more if default is None else default | more
    if not scoped:
        return default
    values = {int(s.split(":", 1)[1]): lvl for s, lvl in scoped.items() if s.startswith(f"{scope_field}:")}
    parts = [] if default is None else [default & ~Q(**{f"{scope}__in": list(values)})]
    for value, lvl in values.items():
        condition = _condition(user, owner, lvl)
        if condition is not None:
            parts.append(condition & Q(**{scope: value}))
    if not parts:
        return None
    combined = parts[0]
    for part in parts[1:]:
        combined |= part
    return combined


def sees_all_of(user: User, model: type[Model], owners: set[int]) -> bool:
    """Whether `user`'s reading level on `model` (a model without scopes) opens every record of the
    owners `owners`: a reader narrowed to them may then filter on them alone, without the gate."""
    lvl = level(user, model.access_entity, Action.VIEW)
    if lvl == Level.ALL or not owners:
        return True
    if lvl == Level.OWN:
        return owners <= {user.pk}
    if lvl in (Level.DEPARTMENT, Level.SUBDEPARTMENTS):
        return owners <= owner_ids(user, lvl)
    return False


def record_scope(obj: Model) -> str:
    field = getattr(obj, "access_scope_field", None)
    return f"{field}:{getattr(obj, f'{field}_id')}" if field else ""


def can(user: User, action: str, obj: Model) -> bool:
    """Whether `user` may perform `action` on the loaded `obj`."""
    lvl = level(user, obj.access_entity, action, record_scope(obj))
    if lvl == Level.ALL:
        return True
    if action == Action.VIEW and hasattr(obj, "is_participant") and obj.is_participant(user):
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


def check_new_links(user: User | None, current, chosen) -> None:
    """A link edit by `user` (a contact's companies, a deal's company and contacts): linking a
    record he may not see would let him reach it (or prove it exists), so a NEW link must be to a
    visible record; links already there stay whoever made them. `None` is the system."""
    if user is None:
        return
    existing = {obj.pk for obj in current if obj is not None}
    for obj in chosen:
        if obj is not None and obj.pk not in existing and not can(user, Action.VIEW, obj):
            raise PermissionDenied(_("Нет доступа к записи «%(model)s», которую вы пытаетесь привязать.")
                                   % {"model": obj._meta.verbose_name})


def keep_hidden_links(user: User | None, current, chosen) -> list:
    """What `user` chose plus the current links he may not see: a form never shows them, so he
    cannot have meant to remove them."""
    chosen = list(chosen)
    if user is None:
        return chosen
    ids = {obj.pk for obj in chosen}
    return chosen + [obj for obj in current if obj.pk not in ids and not can(user, Action.VIEW, obj)]


def visible_targets(user: User, pairs) -> dict[tuple[int, int], Model]:
    """The records behind generic links — (content type id, object id) pairs: a task's or an
    event's bindings — that `user` may see, keyed by the pair; the others are left out, never
    named. One query per kind of record, whatever the number of links."""
    from django.contrib.contenttypes.models import ContentType

    by_type: dict[int, set[int]] = {}
    for ct_id, object_id in pairs:
        by_type.setdefault(ct_id, set()).add(object_id)
    found: dict[tuple[int, int], Model] = {}
    for ct_id, ids in by_type.items():
        model = ContentType.objects.get_for_id(ct_id).model_class()
        if model is None or not hasattr(model, "access_entity"):
            continue
        for record in scope(user, model._default_manager.all()).filter(pk__in=sorted(ids)):
            found[(ct_id, record.pk)] = record
    return found


def can_import(user: User, entity: str) -> bool:
    """«Импорт» of `entity` records (issue 12): a level above «Нет доступа». What an import then
    creates, changes and assigns is held to the user's add and change levels, as in the UI."""
    return level(user, entity, Action.IMPORT) > Level.NONE


def can_hand_to(user: User, entity: str, responsible: User, scope: str = "") -> bool:
    """Whether `user` may make `responsible` the owner of an `entity` record he writes without a
    form (an import): only someone whose records he may change himself, so that nothing he brings
    in lands outside his own reach."""
    lvl = level(user, entity, Action.CHANGE, scope)
    if lvl == Level.ALL:
        return True
    if lvl == Level.NONE:
        return False
    return responsible.pk == user.pk or responsible.pk in owner_ids(user, lvl)
