"""Bitrix24's reference values as its files write them, and what they are here: the codes and
default Russian names of its lead statuses, deal stages and sources, and its pipeline «Общая»
(category 0). Files write a value by name (the «Экспорт в Excel» does) or by code (REST dumps,
some CSV tools); the importer asks here only after our own names did not match, so a supervisor's
list always wins. Names from Bitrix24's own language files (research/bitrix24.md §1.3, §2).

Everything is compared through `key` (case, «ё» and spaces do not count), as the importer's headers."""

from __future__ import annotations

import re

# How values are compared: lower case, «ё» as «е», single spaces — as the columns' headers.
from .columns import normalize_header as key

# Lead statuses: Bitrix24's code or name → our status code. IN_PROCESS («В работе») and PROCESSED
# («Обработан») have no status of ours: which of «Первый звонок»…«Выход на ЛПР» they mean is the
# portal's own business, so such a row is refused with the list of our statuses, not guessed.
LEAD_STATUSES = {
    "NEW": "new", "Не обработан": "new",
    "CONVERTED": "converted", "Качественный лид": "converted", "Сконвертирован": "converted",
    "JUNK": "junk", "Некачественный лид": "junk",
}

# Deal stages of the default pipeline: code → (its name, its semantics). A code or name is first
# looked for by name in the row's pipeline (ours «Общая воронка» has these names); failing that, a
# closing stage is found by its semantics (each pipeline has one success stage and its failure
# stages), the first in-process stage for NEW. The Latin «C» of «Cчёт» is Bitrix24's own spelling.
DEAL_STAGES = {
    "NEW": (("Новая",), "process"),
    "PREPARATION": (("Подготовка документов",), None),
    "PREPAYMENT_INVOICE": (("Счёт на предоплату", "Cчёт на предоплату"), None),
    "EXECUTING": (("В работе",), None),
    "FINAL_INVOICE": (("Финальный счёт",), None),
    "WON": (("Сделка успешна",), "success"),
    "LOSE": (("Сделка провалена",), "failure"),
    "APOLOGY": (("Анализ причины провала",), "failure"),
}

# Sources: code → Bitrix24's name, then the names of ours it means, in order of preference (the
# first one the list has is taken). PARTNER is «Существующий клиент» in Bitrix24 — a customer, not
# our «Партнёр»; ADVERTISING, RC_GENERATOR, STORE have no counterpart in the default list.
SOURCES = {
    "CALL": ("Звонок", "Входящий звонок"),
    "EMAIL": ("Электронная почта",),
    "WEB": ("Веб-сайт", "Сайт"),
    "ADVERTISING": ("Реклама",),
    "PARTNER": ("Существующий клиент",),
    "RECOMMENDATION": ("По рекомендации", "Рекомендация"),
    "TRADE_SHOW": ("Выставка",),
    "WEBFORM": ("CRM-форма", "Веб-форма"),
    "CALLBACK": ("Обратный звонок", "Входящий звонок"),
    "RC_GENERATOR": ("Генератор продаж",),
    "STORE": ("Интернет-магазин",),
    "OTHER": ("Другое",),
}

# The pipeline Bitrix24 calls «Общая» (CATEGORY_ID 0, its default): ours is «Общая воронка».
DEFAULT_PIPELINE_NAMES = ("Общая", "Общая воронка")
DEFAULT_CATEGORY = "0"

_STAGE_PREFIX = re.compile(r"^C(\d+):(.+)$", re.IGNORECASE)


def lead_status(raw: str) -> str | None:
    """Our status code for Bitrix24's status code or name, or None."""
    wanted = key(raw)
    return next((code for name, code in LEAD_STATUSES.items() if key(name) == wanted), None)


def split_stage(raw: str) -> tuple[str | None, str]:
    """«C3:WON» → ("3", "WON"): the category a stage code names and the code; a plain value → (None, it)."""
    found = _STAGE_PREFIX.match(raw.strip())
    if found:
        return found.group(1), found.group(2).strip()
    return None, raw.strip()


def deal_stage(raw: str) -> tuple[tuple[str, ...], str | None] | None:
    """(the names to look for, the semantics to fall back on) for a Bitrix24 stage code or default
    name, or None if it is neither."""
    wanted = key(raw)
    for code, (names, semantics) in DEAL_STAGES.items():
        if wanted == key(code) or wanted in {key(n) for n in names}:
            return names, semantics
    return None


def source_names(raw: str) -> tuple[str, ...]:
    """The names a Bitrix24 source code or default name may have here, Bitrix24's own name first;
    () for anything else."""
    wanted = key(raw)
    for code, names in SOURCES.items():
        if wanted == key(code) or wanted == key(names[0]):
            return names
    return ()


def is_default_pipeline(raw: str) -> bool:
    """«Общая», «Общая воронка» or category «0»: Bitrix24's default pipeline."""
    return raw.strip() == DEFAULT_CATEGORY or key(raw) in {key(n) for n in DEFAULT_PIPELINE_NAMES}
