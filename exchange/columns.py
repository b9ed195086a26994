"""Each entity's columns: the header an export writes (Bitrix24's Russian label where Bitrix24 has
the field, research/bitrix24.md §1.1, §6), the other headers an import recognises, how a cell is read
(`parse`) and what an export writes (`export_value`) — one definition, so that an export imports
back unchanged.

Headers are matched case-insensitively with «ё» as «е» and spaces collapsed; a column is also found
by our field name and by the model field's label («ИНН», «Ниша компании»…).

Kinds of column (`Column.kind`):
- text, int, decimal (money: «15 000,50» and «15000.00» both read), date («ДД.ММ.ГГГГ» or ISO),
  bool («да»/«нет», Y/N, 1/0), choice (a model choice by label or code);
- ref / refs: one / several («a, b») names of a reference list (`target` is the model label);
- user: a responsible by «Фамилия Имя», «Имя Фамилия», login or e-mail;
- status (a lead's), pipeline, stage (a deal's, within its pipeline) by name or code;
- phone / email: a lead's single phone or e-mail; phones / emails: a company's or contact's
  multifield of the type in `target` (Bitrix24 has one column per type), several values «a, b»;
- record: a link to a company, contact or lead (`target`), by its external ID («ID» in Bitrix24's
  file), else by its name;
- product, price, quantity: a deal's product row; Bitrix24 writes one row per product, the deal's
  ID repeated (the importer folds consecutive rows of one ID into one deal);
- readonly columns («Дата создания») are written by exports and recognised, not read, by imports;
- crm_id: our own record ID («ID в CRM», the pk) in a deal's export; the deals' importer matches it
  first (a deal the user may change), so a deal made here, exported, imports back onto itself —
  a deal has no ИНН, phone or e-mail to be found by.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.utils import timezone
from django.utils.translation import gettext as _

from crm import phones

ENTITIES = ("company", "contact", "lead", "deal")  # import order of import_bitrix24


@dataclass(frozen=True)
class Column:
    field: str  # our name: a model field, or phone_work, email_home, product… (see the kinds above)
    header: str  # what an export writes
    aliases: tuple[str, ...] = ()  # other headers it is matched by (the field name and label too)
    kind: str = "text"
    target: str = ""  # ref/refs: the model label; phones/emails: the type; record: the entity
    readonly: bool = False

    @property
    def many(self) -> bool:
        return self.kind in ("refs", "phones", "emails") or (self.kind == "record" and self.field in MANY_LINKS)


MANY_LINKS = {"contacts", "companies"}
MODELS = {"lead": "leads.Lead", "company": "clients.Company", "contact": "clients.Contact", "deal": "deals.Deal"}


def _c(field, header, *aliases, kind="text", target="", readonly=False) -> Column:
    return Column(field, header, tuple(aliases), kind, target, readonly)


def _multifields() -> list[Column]:
    """Bitrix24's phone and e-mail columns, one per type (crm_field_multi.php)."""
    return [
        _c("phone_work", "Рабочий телефон", "Телефон", kind="phones", target="work"),
        _c("phone_mobile", "Мобильный телефон", kind="phones", target="mobile"),
        _c("phone_home", "Домашний телефон", kind="phones", target="home"),
        _c("phone_other", "Другой телефон", "Номер факса", kind="phones", target="other"),
        _c("email_work", "Рабочий e-mail", "E-mail", "Email", kind="emails", target="work"),
        _c("email_home", "Частный e-mail", kind="emails", target="home"),
        _c("email_other", "Другой e-mail", "E-mail для рассылок", kind="emails", target="other"),
    ]


_CREATED = _c("created_at", "Дата создания", kind="datetime", readonly=True)

_COLUMNS: dict[str, list[Column]] = {
    "lead": [
        _c("external_id", "ID"),
        _c("title", "Название лида", "Название"),
        _c("status", "Статус", "Стадия", kind="status"),
        _c("source", "Источник", kind="ref", target="crm.Source"),
        _c("amount", "Сумма", "Возможная сумма", kind="decimal"),
        _c("currency", "Валюта", kind="choice"),
        _c("responsible", "Ответственный", kind="user"),
        _c("comment", "Комментарий", "Комментарии"),
        _c("company_name", "Название компании"),
        _c("company_phone", "Рабочий телефон", "Телефон компании", kind="phone"),
        _c("company_email", "Рабочий e-mail", "E-mail компании", kind="email"),
        _c("company_website", "Корпоративный сайт"),
        _c("company_address", "Адрес"),
        _c("inn", "ИНН"),
        _c("kpp", "КПП"),
        _c("ogrn", "ОГРН"),
        _c("legal_name", "Полное наименование"),
        _c("legal_address", "Юридический адрес"),
        _c("contact_last_name", "Фамилия"),
        _c("contact_first_name", "Имя"),
        _c("contact_middle_name", "Отчество"),
        _c("contact_birth_date", "Дата рождения", kind="date"),
        _c("contact_position", "Должность"),
        # A lead keeps one phone of its contact: Bitrix24's other phone columns fill it when the
        # mobile one is empty (the first filled wins, see importers).
        _c("contact_phone", "Мобильный телефон", "Домашний телефон", "Другой телефон", kind="phone"),
        _c("contact_phone_type", "Тип телефона", kind="choice"),
        _c("contact_phone_ext", "Доб.", "Добавочный"),
        _c("contact_email", "Частный e-mail", "Другой e-mail", kind="email"),
        _c("crm_system", "Корпоративный портал (CRM система)", kind="ref", target="crm.CrmSystem"),
        _c("niche", "Ниша компании", kind="ref", target="crm.Niche"),
        _c("client_type", "Тип клиента", kind="ref", target="crm.ClientType"),
        _c("sales_channel", "Канал сбыта", kind="ref", target="crm.SalesChannel"),
        _c("employees_count", "Количество сотрудников", kind="int"),
        _c("talked_to_decision_maker", "Разговор с ЛПР/ЛВР состоялся", kind="bool"),
        _c("products_to_sell", "Продукты для продажи", kind="refs", target="crm.Product"),
        _c("usp_acknowledged", "ЛПР/ЛВР ознакомлен с УТП компании «Решение»", kind="bool"),
        _c("used_products", "Какими продуктами уже пользовалась компания", kind="refs", target="crm.UsedProduct"),
        _c("next_touch", "Договорённость о следующем касании или о бесплатном продукте"),
        _c("next_touch_date", "Дата следующего касания", kind="date"),
        _c("training_info", "Какое обучение проводят для сотрудников"),
        _c("junk_reason", "Причина закрытия", kind="ref", target="crm.JunkReason"),
        # The lead's pinned comment (the «Разведка» summary «Выход на ЛПР» asks for).
        _c("pinned_comment", "Закреплённый комментарий", "Итоги разведки", kind="pinned"),
        # What a converted lead became, by Bitrix24's IDs (import_bitrix24 links them).
        _c("company", "Компания", "ID компании", kind="record", target="company"),
        _c("contact", "Контакт", "ID контакта", kind="record", target="contact"),
        _CREATED,
    ],
    "company": [
        _c("external_id", "ID"),
        _c("name", "Название компании", "Название"),
        _c("responsible", "Ответственный", kind="user"),
        _c("inn", "ИНН"),
        _c("kpp", "КПП"),
        _c("ogrn", "ОГРН"),
        _c("legal_name", "Полное наименование"),
        _c("legal_address", "Юридический адрес"),
        _c("address", "Адрес", "Фактический адрес"),
        _c("website", "Корпоративный сайт", "Сайт"),
        *_multifields(),
        _c("niche", "Ниша компании", "Сфера деятельности", kind="ref", target="crm.Niche"),
        _c("client_type", "Тип клиента", "Тип компании", kind="ref", target="crm.ClientType"),
        _c("comment", "Комментарий", "Комментарии"),
        _CREATED,
    ],
    "contact": [
        _c("external_id", "ID"),
        _c("last_name", "Фамилия"),
        _c("first_name", "Имя"),
        _c("middle_name", "Отчество"),
        _c("birth_date", "Дата рождения", kind="date"),
        _c("position", "Должность"),
        _c("responsible", "Ответственный", kind="user"),
        *_multifields(),
        _c("companies", "Компания", "Компании", "ID компании", kind="record", target="company"),
        _c("comment", "Комментарий", "Комментарии"),
        _CREATED,
    ],
    "deal": [
        _c("crm_id", "ID в CRM", kind="crm_id"),
        _c("external_id", "ID"),
        _c("title", "Название сделки", "Название"),
        _c("pipeline", "Воронка", "Направление", kind="pipeline"),
        _c("stage", "Стадия сделки", "Стадия", kind="stage"),
        _c("amount", "Сумма", "Возможная сумма", "Сумма сделки", kind="decimal"),
        _c("currency", "Валюта", kind="choice"),
        _c("company", "Компания", "ID компании", kind="record", target="company"),
        _c("contacts", "Контакты", "Контакт", "ID контакта", kind="record", target="contact"),
        _c("source", "Источник", kind="ref", target="crm.Source"),
        _c("start_date", "Дата начала", kind="date"),
        _c("close_date", "Предполагаемая дата закрытия", "Дата завершения", kind="date"),
        _c("responsible", "Ответственный", kind="user"),
        _c("comment", "Комментарий", "Комментарии"),
        _c("loss_reason", "Причина провала", kind="ref", target="deals.LossReason"),
        _c("lead", "Лид", "ID лида", kind="record", target="lead"),
        _c("product", "Товар", "Товары", kind="product", target="crm.Product"),
        _c("price", "Цена", kind="price"),
        _c("quantity", "Количество", kind="quantity"),
        _CREATED,
    ],
}


def model(entity: str):
    return apps.get_model(MODELS[entity])


def columns(entity: str) -> list[Column]:
    if entity not in _COLUMNS:
        raise KeyError(entity)
    return list(_COLUMNS[entity])


def column(entity: str, field: str) -> Column:
    for col in _COLUMNS[entity]:
        if col.field == field:
            return col
    raise KeyError(f"{entity}.{field}")


def normalize_header(text: str) -> str:
    return " ".join((text or "").lower().replace("ё", "е").split())


def keys(entity: str, col: Column) -> list[str]:
    """Every header `col` is recognised by: its header, aliases, field name and the model field's label."""
    names = [col.header, *col.aliases, col.field]
    try:
        names.append(str(model(entity)._meta.get_field(col.field).verbose_name))
    except FieldDoesNotExist:
        pass
    return [normalize_header(n) for n in names]


def lookup(entity: str) -> dict[str, str]:
    """normalised header → field. The header and aliases of a column win over another column's
    field label (Lead's «Телефон» label is its company phone, Bitrix24's «Рабочий телефон»)."""
    found: dict[str, str] = {}
    for col in _COLUMNS[entity]:
        for key in keys(entity, col)[: len(col.aliases) + 2]:
            found.setdefault(key, col.field)
    for col in _COLUMNS[entity]:
        for key in keys(entity, col):
            found.setdefault(key, col.field)
    return found


# --- Reading a cell (lookups in the database are the importer's) ---

class CellError(ValueError):
    """A cell that cannot be read; the message is in Russian, for the report."""


YES = {"да", "y", "yes", "1", "true", "д", "+", "истина"}
NO = {"нет", "n", "no", "0", "false", "н", "-", "ложь", ""}
_DATE_FORMATS = ("%d.%m.%Y", "%Y-%m-%d", "%d.%m.%y", "%d/%m/%Y")


def parse_int(raw: str) -> int | None:
    text = re.sub(r"[\s\u00a0]", "", raw)
    if not text:
        return None
    if text.endswith(".0"):  # a spreadsheet's number read as text
        text = text[:-2]
    if not text.isascii() or not text.isdigit():
        raise CellError(_("Ожидается целое число, а не «%(value)s».") % {"value": raw})
    return int(text)


def parse_decimal(raw: str) -> Decimal | None:
    text = re.sub(r"[\s\u00a0]", "", raw).replace("₽", "").replace("руб.", "")
    if not text:
        return None
    if "," in text and "." in text:
        text = text.replace(",", "")  # 15,000.50
    text = text.replace(",", ".")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise CellError(_("Ожидается число, а не «%(value)s».") % {"value": raw}) from None
    if not value.is_finite():
        raise CellError(_("Ожидается число, а не «%(value)s».") % {"value": raw})
    return value


def parse_date(raw: str) -> date | None:
    text = raw.strip()
    if not text:
        return None
    head = text.split()[0] if " " in text else text.split("T")[0]
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(head, fmt).date()
        except ValueError:
            continue
    raise CellError(_("Ожидается дата в виде ДД.ММ.ГГГГ, а не «%(value)s».") % {"value": raw})


def parse_bool(raw: str) -> bool:
    text = raw.strip().lower()
    if text in YES:
        return True
    if text in NO:
        return False
    raise CellError(_("Ожидается «да» или «нет», а не «%(value)s».") % {"value": raw})


def parse_choice(choices, raw: str) -> str:
    """A model choice by code or label (case-insensitive)."""
    text = normalize_header(raw)
    for code, label in choices:
        if text in (normalize_header(str(code)), normalize_header(str(label))):
            return code
    raise CellError(_("Неизвестное значение «%(value)s». Допустимо: %(allowed)s.")
                    % {"value": raw, "allowed": ", ".join(str(label) for _code, label in choices)})


def split_many(raw: str) -> list[str]:
    """«a, b; c» → ["a", "b", "c"] (Bitrix24 joins a multifield's values with «, »)."""
    return [part.strip() for part in re.split(r"[,;]", raw) if part.strip()]


# --- Writing a cell ---

def user_name(user) -> str:
    return user.get_full_name() or user.username if user else ""


def export_value(entity: str, col: Column, obj):
    """What an export writes in `col`'s cell for `obj` (a product column: for the deal's first
    product row; `export_rows` writes one file row per product)."""
    if col.kind in ("product", "price", "quantity"):
        rows = list(obj.products.all())
        return _product_cell(col, rows[0]) if rows else None
    if col.kind in ("phones", "emails"):
        kind = "phone" if col.kind == "phones" else "email"
        values = [c.value for c in obj.communications.all() if c.kind == kind and c.type == col.target]
        return ", ".join(phones.display(v) if kind == "phone" else v for v in values)
    if col.kind == "record" and col.many:
        return ", ".join(_record_name(r) for r in getattr(obj, col.field).all())
    if col.kind == "crm_id":
        return obj.pk
    if col.kind == "pinned":
        from crm import timeline

        entry = timeline.pinned(obj)
        return entry.text if entry else ""
    value = getattr(obj, col.field)
    if col.kind == "datetime":
        return timezone.localtime(value).strftime("%d.%m.%Y %H:%M:%S") if value else None
    if col.kind == "status":
        return str(obj.get_status_display())
    if col.kind == "stage":
        return obj.current_stage.name
    if col.kind == "choice":
        return str(getattr(obj, f"get_{col.field}_display")()) if value else ""
    if col.kind == "user":
        return user_name(value)
    if col.kind == "record":
        return _record_name(value) if value is not None else ""
    if col.kind == "refs":
        return ", ".join(sorted(str(v) for v in value.all()))
    if col.kind in ("ref", "pipeline"):
        return str(value) if value is not None else ""
    if col.kind == "bool":
        return _("да") if value else _("нет")
    if col.kind == "phone":
        return phones.display(value)
    return value


def _record_name(record) -> str:
    """A linked record as the importer finds it again: its external ID when it has one, else its name."""
    return record.external_id or str(record)


def _product_cell(col: Column, row):
    if col.kind == "product":
        return str(row.product)
    return row.price if col.kind == "price" else row.quantity


def export_rows(entity: str, cols: list[Column], obj):
    """The file rows of one record: one, or for a deal with several products one per product row
    (the other cells repeated, as Bitrix24 does), which the importer folds back into one deal."""
    base = [export_value(entity, col, obj) for col in cols]
    if entity != "deal" or not any(col.kind == "product" for col in cols):
        yield base
        return
    rows = list(obj.products.all())
    if not rows:
        yield base
        return
    for row in rows:
        yield [(_product_cell(col, row) if col.kind in ("product", "price", "quantity") else value)
               for col, value in zip(cols, base, strict=True)]
