"""Reading what crm itself keeps about records of every kind."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from accounts import access
from accounts.models import Action, Entity, Level

from .models import DeletionRecord


def _owner_condition(user, lvl: Level) -> Q | None:
    if lvl == Level.NONE:
        return None
    if lvl == Level.ALL:
        return Q()
    return Q(responsible_id__in=sorted(access.owner_ids(user, lvl)))


def deletion_records(user) -> QuerySet[DeletionRecord]:
    """The deletions of records the user could have seen: the same «view» level per entity (and per
    deal pipeline) as the CRM applies to the living records, on the owner the record had. A
    record whose owner was deleted since is seen only at level «Все»."""
    condition = None
    for entity in Entity:
        parts = []
        scoped = access.scoped_levels(user, entity, Action.VIEW)
        default = _owner_condition(user, access.level(user, entity, Action.VIEW))
        if default is not None:
            parts.append(default & ~Q(scope__in=list(scoped)) if scoped else default)
        for scope, lvl in scoped.items():
            own = _owner_condition(user, lvl)
            if own is not None:
                parts.append(own & Q(scope=scope))
        for part in parts:
            part &= Q(entity=entity)
            condition = part if condition is None else condition | part
    queryset = DeletionRecord.objects.select_related("deleted_by", "responsible")
    return queryset.none() if condition is None else queryset.filter(condition)


def reference_items(model_name: str) -> QuerySet:
    """The values of one reference list (`model_name`: "Source", "Niche"…), retired ones too (old
    records keep them), in the lists' order: the REST API's dictionaries and enumerations."""
    from django.apps import apps

    return apps.get_model("crm", model_name).objects.order_by("sort", "name")
