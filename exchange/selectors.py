"""The only readers of import jobs, through the access gate: who may import what, whose jobs a
user sees (his own; with the «Все» level of import on a kind of record, everybody's of that kind —
the CRM administrator's view), and the users an import may hand records to."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import Http404

from accounts import access
from accounts.models import Action, Level, User
from crm.lists import active_users

from .models import ImportEntity, ImportJob


def importable(user: User) -> list[str]:
    """The kinds of record `user` may import, in ImportEntity's order."""
    return [entity for entity in ImportEntity.values if access.can_import(user, entity)]


def _visible(user: User) -> Q:
    everybody = [e for e in ImportEntity.values if access.level(user, e, Action.IMPORT) == Level.ALL]
    return Q(created_by=user) | Q(entity__in=everybody)


def jobs(user: User) -> QuerySet[ImportJob]:
    return (ImportJob.objects.filter(_visible(user)).select_related("created_by")
            .defer("headers", "sample", "mapping", "report_lines"))


def job_or_404(user: User, pk: int) -> ImportJob:
    """One job `user` may see; another's is a 404, as if it did not exist."""
    try:
        return ImportJob.objects.select_related("created_by").filter(_visible(user)).get(pk=pk)
    except ImportJob.DoesNotExist as exc:
        raise Http404 from exc


def assignable(user: User, entities: list[str]) -> QuerySet[User]:
    """The users `user` may make responsible for imported records: those whose records he may
    change (a head: his departments' people), over the kinds he imports; everybody active with
    «Все». The chosen one is checked for the kind imported by access.can_hand_to."""
    levels = [access.level(user, e, Action.CHANGE) for e in entities]
    best = max(levels, default=Level.NONE)
    if best == Level.ALL:
        return active_users()
    if best == Level.NONE:
        return User.objects.none()
    return active_users().filter(pk__in=sorted(access.owner_ids(user, best)))
