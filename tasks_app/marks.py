"""What the lead and deal lists and boards show and filter by (registered into crm.lists when the
app is ready, so leads and deals never import tasks): the state of each record's next touch —
planned (its date), overdue (red) or none («Нет дел», muted) — and the filter «Дела: без
запланированных / с просроченными», which finds the records nobody is going to call."""

from __future__ import annotations

from django.db.models import Model, Q
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.lists import Mark, RecordFilter, register_filter, register_marks

from . import selectors

MODELS = frozenset({"leads.lead", "deals.deal"})
NONE, OVERDUE = "none", "overdue"


@register_marks
def next_touch_marks(model: type[Model], ids: list[int]) -> dict[int, Mark]:
    """One query for the page or board, whatever the number of tasks (selectors.next_touches)."""
    if model._meta.label_lower not in MODELS:
        return {}
    firsts = selectors.next_touches(model, ids)
    now = timezone.now()
    none = Mark(_("Нет дел"), "text-body-secondary is-none", _("Ничего не запланировано"), "touch-none")
    marks = {}
    for pk in ids:
        first = firsts.get(pk)
        if first is None:
            marks[pk] = none
            continue
        day = formats.date_format(timezone.localtime(first), "SHORT_DATE_FORMAT")
        if first < now:
            marks[pk] = Mark(_("Просрочено: %(day)s") % {"day": day}, "text-danger fw-semibold is-overdue",
                             _("Ближайшее дело просрочено"), "touch-overdue")
        else:
            marks[pk] = Mark(_("Дело: %(day)s") % {"day": day}, "", _("Ближайшее запланированное дело"), "touch-planned")
    return marks


def _condition(model: type[Model], value: str) -> Q:
    if value == NONE:
        return ~selectors.planned_condition(model)
    if value == OVERDUE:
        return Q(selectors.overdue_condition(model))
    return Q()


register_filter(RecordFilter(
    name="touches", label=gettext_lazy("Дела"), empty=gettext_lazy("Дела: все"),
    choices=((NONE, gettext_lazy("Без запланированных дел")), (OVERDUE, gettext_lazy("С просроченными делами"))),
    condition=_condition, models=MODELS))
