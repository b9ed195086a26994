"""What a lead must have to enter a status.

CATALOGUE says what each requirement key means; the rules (which keys which status needs) are
`Requirement` rows that supervisors edit in the admin (defaults in leads/defaults.py).
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from crm import timeline
from crm.requirements import Requirement, filled, missing

from .models import IN_PROCESS, Lead, Status
from .models import Requirement as Rule


def _field(name: str) -> Requirement:
    field = Lead._meta.get_field(name)
    return Requirement(name, str(field.verbose_name), lambda lead: filled(getattr(lead, field.attname)), (name,))


def _yes(name: str) -> Requirement:
    field = Lead._meta.get_field(name)
    return Requirement(name, f"{field.verbose_name} — «да»", lambda lead: bool(getattr(lead, name)), (name,))


def _some(name: str) -> Requirement:
    field = Lead._meta.get_field(name)

    def is_met(lead) -> bool:
        # Uses the prefetch cache when the caller prefetched (lists, bulk moves).
        return lead.pk is not None and len(getattr(lead, name).all()) > 0

    return Requirement(name, str(field.verbose_name), is_met, (name,))


def _has_pinned_comment(lead) -> bool:
    return lead.pk is not None and timeline.pinned(lead) is not None


CATALOGUE: dict[str, Requirement] = {
    r.key: r
    for r in [
        _field("title"), _field("source"), _field("company_name"), _field("company_phone"),
        _field("company_email"), _field("company_address"), _field("company_website"), _field("inn"),
        _field("niche"), _field("crm_system"), _field("client_type"),
        Requirement("pinned_comment", "Закреплённый комментарий (итоги «Разведки»)", _has_pinned_comment,
                    extra_fields=("pinned_comment",)),
        _field("sales_channel"), _field("employees_count"),
        _field("contact_last_name"), _field("contact_first_name"), _field("contact_position"),
        Requirement("contact_phone_or_ext", "Телефон ЛПР/ЛВР или добавочный",
                    lambda lead: filled(lead.contact_phone) or filled(lead.contact_phone_ext),
                    ("contact_phone", "contact_phone_type", "contact_phone_ext")),
        _field("contact_email"),
        _yes("talked_to_decision_maker"), _some("products_to_sell"), _yes("usp_acknowledged"),
        _some("used_products"), _field("next_touch"), _field("next_touch_date"), _field("training_info"),
        Requirement("amount", "Сумма больше нуля", lambda lead: (lead.amount or 0) > 0, ("amount", "currency")),
        _field("junk_reason"),
    ]
}


def statuses_required_for(target: str) -> list[str]:
    """Entering an in-process status (or «Успешный») needs the rules of every in-process status
    up to it; «Не успешный» needs only its own (a junk lead need not be qualified)."""
    if target == Status.JUNK:
        return [Status.JUNK]
    if target == Status.CONVERTED:
        return [*IN_PROCESS, Status.CONVERTED]
    return IN_PROCESS[: IN_PROCESS.index(target) + 1]


def rules_by_status() -> dict[str, set[str]]:
    rules: dict[str, set[str]] = {}
    for status, key in Rule.objects.values_list("status", "key"):
        rules.setdefault(status, set()).add(key)
    return rules


def missing_for(lead: Lead, target: str, rules: dict[str, set[str]] | None = None) -> list[Requirement]:
    rules = rules_by_status() if rules is None else rules
    keys = set().union(*(rules.get(s, set()) for s in statuses_required_for(target)))
    return missing(lead, keys, CATALOGUE)


# The «Выход на ЛПР» checklist as the company's document numbers it (PROCESS.md §1.4): the card
# shows each point as done or not done.
CHECKLIST = [
    (_("Определён канал сбыта"), ["sales_channel"]),
    (_("Определена ниша компании"), ["niche"]),
    (_("Определено количество сотрудников"), ["employees_count"]),
    (_("Определён ЛПР/ЛВР и его минимальные данные (ФИО, телефон или доб.)"),
     ["contact_last_name", "contact_first_name", "contact_phone_or_ext"]),
    (_("Осуществлён разговор с ЛПР/ЛВР"), ["talked_to_decision_maker"]),
    (_("Определён предполагаемый продукт к продаже"), ["products_to_sell"]),
    (_("ЛПР/ЛВР ознакомлен с УТП компании «Решение»"), ["usp_acknowledged"]),
    (_("Определено, каким продуктом компания пользуется сейчас"), ["used_products"]),
    (_("Есть договорённость о следующем касании или о бесплатном продукте"), ["next_touch"]),
    (_("Определено, какое обучение проводят для сотрудников"), ["training_info"]),
]


def checklist(lead: Lead) -> list[tuple[int, str, bool]]:
    return [(n, label, all(CATALOGUE[k].is_met(lead) for k in keys)) for n, (label, keys) in enumerate(CHECKLIST, 1)]
