"""Planned touches on CRM records: the record's «Дата следующего касания» edited on its card (or
by an import) moves its earliest active touch to that day, or plans a call there if none is
planned — so the date and the touch never disagree (tasks_app.services.sync_touch_dates keeps the
other direction)."""

from __future__ import annotations

from datetime import date

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _

from crm import deletion, hooks

from . import selectors, services, touch_counts
from .models import ACTIVE, Binding, Kind


@hooks.on_touch_date
def follow_touch_date(record: models.Model, day: date | None, by) -> None:
    first = (selectors.record_tasks_unscoped(record).filter(status__in=ACTIVE, deadline__isnull=False)
             .order_by("deadline").first())
    if day is None:
        # Clearing the date while a touch is planned: the touch stays and the date with it; the
        # card says to complete or move the touch instead.
        services.sync_touch_dates([record])
        return
    if first is not None:
        if timezone.localtime(first.deadline).date() != day:
            at = timezone.localtime(first.deadline).time()
            # The lead's editor moves its touch as part of editing the lead: by the system,
            # whoever created the touch (the lead's change right was checked by its service).
            services.task_set_deadline(first, services.deadline_at(day, at), by=None)
        return
    responsible = getattr(record, "responsible", None)
    if responsible is None:
        return
    # The agreement («Договорённость о следующем касании»), its first line, names the call.
    agreed = (getattr(record, "next_touch", "") or "").strip()
    title = agreed.splitlines()[0][:200] if agreed else ""
    services.task_create(data={"kind": Kind.CALL, "title": title or _("Следующее касание"), "responsible": responsible,
                               "creator": by or responsible, "deadline": services.deadline_at(day)},
                         by=None, records=[record])


@deletion.on_deleted
def drop_bindings(content_type, pk: int) -> None:
    """A deleted lead or deal takes its bindings along (they are generic: nothing cascades); its
    tasks stay, as in Bitrix24, bound to the records that are left (a task bound to nothing more is
    no touch: its counts are taken back)."""
    bindings = Binding.objects.filter(content_type=content_type, object_id=pk)
    tasks = list(bindings.values_list("task_id", flat=True))
    bindings.delete()
    touch_counts.refresh(tasks)
