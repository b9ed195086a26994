"""The import engine: a `Table` (exchange.readers) → records, through the same services and access
module as the UI. The commands, the «Импорт» page's background job and the admin call `run`.

- Mapping: each header → a field (exchange.columns; `Options.mapping` overrides). A header that
  matches nothing is ignored and named once in the report («Колонка не сопоставлена»); a file
  without a column every row needs is refused before any row is read (ImportRefused).
- Values: dictionaries (sources, niches…), statuses, pipelines, stages and users by name or code;
  an unknown one rejects the row, unless `create_missing` (a dictionary gets the new entry; users
  and statuses are never created) or `default_responsible` (an unknown responsible).
- Rules: each new row goes through the service's own validation and the required fields of the
  status it asks for; short of them it is imported in the furthest status it meets and the report
  says so (`strict`: rejected). Rows are written in batches (BATCH) by the services' batched
  import functions, one transaction per batch; a bad row is left out of its batch, never
  half-written. Updates go through the single-record services (lead_update, lead_move…).
- Duplicates: by external ID (Bitrix24's «ID»), then ИНН, phone, e-mail — against the database
  and against the rows before in the same file; `on_duplicate` skip | update | create. Matching
  looks where the duplicate check of the UI looks (crm.duplicates.candidates: every record for a
  user who may add such records), and a match the user may not see is reported as the UI reports
  it — «Такой клиент уже есть в CRM у <ответственный>, <отдел>», never its title — and is neither
  updated nor duplicated by him. An external ID identifies one record: even with `create` a second
  row or a re-run never makes a second record of it. An update that changes nothing is «пропущено»
  and writes no history, so re-running a file changes nothing.
- `dry_run`: the same code in a transaction that is rolled back at the end, so its counts are a
  real run's. `atomic`: one transaction; the first rejected row rolls everything back.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _

from accounts import access
from accounts.models import Action, User
from crm import duplicates as dup

from . import columns as cols
from .columns import CellError, Column

BATCH = 1000
# Report lines kept in memory; the rest go to a temporary file (a million bad rows stay bounded).
LINES_IN_MEMORY = 10_000


class ImportRefused(Exception):
    """The whole file is refused before any row (no right to import, a required column missing);
    the message is in Russian, for the user."""


@dataclass
class Options:
    on_duplicate: str = "skip"  # skip | update | create
    dry_run: bool = False
    atomic: bool = False
    strict: bool = False
    create_missing: bool = False
    default_responsible: User | None = None
    mapping: dict[str, str] | None = None  # header → field ("" = ignore), over suggest_mapping


@dataclass
class ReportLine:
    row: int
    column: str
    value: str
    message: str
    outcome: str  # "rejected" | "adjusted" | "skipped"


class Outcome:
    def __init__(self):
        self.created = self.updated = self.skipped = self.rejected = 0
        self.lines: list[ReportLine] = []
        self.rolled_back = ""  # with `atomic`: why nothing was imported
        self.dry_run = False
        self._spool = None
        self._spooled = 0

    def add(self, row: int, column: str, value: str, message: str, outcome: str) -> None:
        line = ReportLine(row, column, value, message, outcome)
        if len(self.lines) < LINES_IN_MEMORY:
            self.lines.append(line)
            return
        if self._spool is None:
            self._spool = tempfile.TemporaryFile("w+", encoding="utf-8", newline="")
        csv.writer(self._spool).writerow([line.row, line.column, line.value, line.message, line.outcome])
        self._spooled += 1

    def all_lines(self) -> Iterator[ReportLine]:
        """In the file's row order (a batch's rows are judged after the rows its chunk rejected at
        once); past LINES_IN_MEMORY, the spooled rest follows in the order it came."""
        yield from sorted(self.lines, key=lambda line: line.row)
        if self._spool is not None:
            self._spool.seek(0)
            for row, column, value, message, outcome in csv.reader(self._spool):
                yield ReportLine(int(row), column, value, message, outcome)
            self._spool.seek(0, os.SEEK_END)

    def summary(self) -> str:
        text = _("Создано: %(created)s, обновлено: %(updated)s, пропущено: %(skipped)s, отклонено: %(rejected)s") % {
            "created": self.created, "updated": self.updated, "skipped": self.skipped, "rejected": self.rejected}
        if self.rolled_back:
            return _("Ничего не импортировано: %(reason)s. %(counts)s") % {"reason": self.rolled_back, "counts": text}
        if self.dry_run:
            return _("Проверка без записи. %(counts)s") % {"counts": text}
        return text


def write_report(outcome: Outcome, path_or_file) -> None:
    """The report as CSV (UTF-8 with BOM, «;»: Russian Excel opens it): row;column;value;message."""
    if isinstance(path_or_file, (str, os.PathLike)):
        with open(path_or_file, "w", encoding="utf-8-sig", newline="") as f:
            _write_report(outcome, f)
    else:
        _write_report(outcome, path_or_file)


def _write_report(outcome: Outcome, f) -> None:
    writer = csv.writer(f, delimiter=";")
    writer.writerow([_("Строка"), _("Колонка"), _("Значение"), _("Сообщение")])
    for line in outcome.all_lines():
        writer.writerow([line.row, line.column, _neutral(line.value), line.message])


def _neutral(value: str) -> str:
    """A file's cell echoed into the report must not become a formula in Excel."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def suggest_mapping(entity: str, headers: list[str]) -> dict[str, str]:
    """header → field, or "" for a header that matches no column. Two headers of one field both
    map to it (Bitrix24's «Мобильный телефон» and «Домашний телефон» fill a lead's one contact
    phone, the first filled wins); the second of two identical headers is ignored."""
    known = cols.lookup(entity)
    result, seen = {}, set()
    for header in headers:
        key = cols.normalize_header(header)
        if header in result or key in seen:
            continue
        seen.add(key)
        result[header] = known.get(key, "")
    return result


def run(entity: str, table, *, by, options: Options, source: str,
        progress: Callable[[int], None] | None = None) -> Outcome:
    """Import `table` as `entity` records by `by` (his rights, his name in the history). Raises
    ImportRefused for a file that cannot be imported at all; everything else is in the Outcome."""
    if entity not in IMPORTERS:
        raise ImportRefused(_("Неизвестный вид записей «%(entity)s».") % {"entity": entity})
    if not access.can_import(by, entity):
        raise ImportRefused(_("Нет прав на импорт: «%(entity)s».") % {"entity": cols.model(entity)._meta.verbose_name_plural})
    if options.on_duplicate not in ("skip", "update", "create"):
        raise ImportRefused(_("Режим дубликатов — skip, update или create."))
    importer = IMPORTERS[entity](by=by, options=options, source=source, headers=table.headers)
    outcome = importer.outcome
    outcome.dry_run = options.dry_run
    if options.dry_run or options.atomic:
        try:
            with transaction.atomic():
                importer.feed(table.rows(), progress)
                if options.dry_run:
                    transaction.set_rollback(True)
        except _Abort as exc:
            outcome.rolled_back = str(exc)
            outcome.created = outcome.updated = 0
    else:
        importer.feed(table.rows(), progress)
    return outcome


class _Abort(Exception):
    """`atomic`: a row was rejected, everything is rolled back."""


def run_bitrix24_folder(folder, *, by, options: Options, progress_factory=None, open_table=None) -> dict[str, Outcome]:
    """Every Bitrix24 export in `folder`, recognised by its name or headers, imported in the order
    that links them (companies, contacts, leads, deals): deals find their companies and contacts,
    converted leads what they became, by Bitrix24's IDs kept as external IDs."""
    from pathlib import Path

    if open_table is None:
        from .readers import open_table
    found: dict[str, tuple[Path, Any]] = {}
    for path in sorted(Path(folder).iterdir()):
        if not path.is_file() or path.name.startswith("."):
            continue
        table = open_table(path, name=path.name)
        entity = recognise(path.name, table.headers)
        if entity is None:
            raise ImportRefused(_("Файл «%(name)s» не похож на выгрузку компаний, контактов, лидов или сделок.")
                                % {"name": path.name})
        if entity in found:
            raise ImportRefused(_("Два файла одного вида: «%(a)s» и «%(b)s».") % {"a": found[entity][0].name, "b": path.name})
        found[entity] = (path, table)
    if not found:
        raise ImportRefused(_("В папке нет файлов для импорта."))
    outcomes = {}
    for entity in cols.ENTITIES:
        if entity in found:
            path, table = found[entity]
            progress = progress_factory(entity, table) if progress_factory else None
            with progress if progress is not None else _nothing() as bar:
                outcomes[entity] = run(entity, table, by=by, options=options, source=path.name,
                                       progress=(bar.update if bar is not None else None))
    return outcomes


class _nothing:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


_NAMES = {"company": ("company", "компан"), "contact": ("contact", "контакт"), "lead": ("lead", "лид"),
          "deal": ("deal", "сделк")}
_SIGNS = {"lead": "название лида", "deal": "название сделки", "company": "название компании"}


def recognise(name: str, headers: list[str]) -> str | None:
    """The entity of a Bitrix24 export: by its file name (LEAD_….csv, «Сделки.xls»), else by a header
    only that entity's export has."""
    lower = name.lower()
    for entity, words in _NAMES.items():
        if any(word in lower for word in words):
            return entity
    normal = {cols.normalize_header(h) for h in headers}
    for entity, sign in _SIGNS.items():
        if sign in normal:
            return entity
    if {"фамилия", "имя"} <= normal:
        return "contact"
    return None


# --- Rows ---

@dataclass
class Row:
    number: int
    values: dict[str, str]  # field → the cell (the first filled of the headers mapped to it)
    headers: dict[str, str]  # field → the header it came from, for the report
    products: list[tuple[int, str, str, str]] = field(default_factory=list)  # (row, product, price, quantity)


class _Reject(Exception):
    def __init__(self, column: str, value: str, message: str):
        super().__init__(message)
        self.column, self.value, self.message = column, value, message


@dataclass
class _Pending:
    row: Row
    item: Any
    keys: list[tuple[str, str]]


class Importer:
    """What every entity shares; subclasses say how a row becomes their record."""

    entity = ""
    required: tuple[tuple[str, ...], ...] = ()  # each: at least one of these fields must be mapped

    def __init__(self, *, by, options: Options, source: str, headers: list[str]):
        self.by, self.options, self.source = by, options, source
        self.model = cols.model(self.entity)
        self.outcome = Outcome()
        self.columns = {c.field: c for c in cols.columns(self.entity)}
        mapping = suggest_mapping(self.entity, headers)
        for header, target in (options.mapping or {}).items():
            if header not in mapping:
                raise ImportRefused(_("В файле нет колонки «%(header)s».") % {"header": header})
            if target and target not in self.columns:
                raise ImportRefused(_("Неизвестное поле «%(field)s» для колонки «%(header)s».")
                                    % {"field": target, "header": header})
            mapping[header] = target
        self.mapping = mapping
        self.fields: dict[str, list[int]] = {}
        for index, header in enumerate(headers):
            target = mapping.get(header, "")
            if header in mapping and target and (index == headers.index(header)):
                if not self.columns[target].readonly:
                    self.fields.setdefault(target, []).append(index)
        self.headers = headers
        for header in dict.fromkeys(headers):
            if not mapping.get(header):
                self.outcome.add(1, header, "", _("Колонка не сопоставлена: её значения не импортируются."), "skipped")
        missing = [group for group in self.required if not any(f in self.fields for f in group)]
        if missing:
            names = [" или ".join(f"«{self.columns[f].header}»" for f in group) for group in missing]
            raise ImportRefused(_("В файле нет обязательной колонки: %(columns)s.") % {"columns": "; ".join(names)})
        self.index: dict[tuple[str, str], Any] = {}  # dedupe key → pk created/updated in this run, or _Pending
        self.pending: list[_Pending] = []
        self._refs: dict[str, dict[str, Any]] = {}
        self._users: dict[str, list[User]] | None = None
        self.done = 0
        self.known: dict[tuple[str, str], Any] = {}
        self._links: dict[str, dict[str, Any]] = {}
        self.can_add = access.can_add(by, self.model)

    # -- reading --

    def rows(self, raw_rows) -> Iterator[Row]:
        for number, cells in raw_rows:
            values, headers = {}, {}
            for name, indexes in self.fields.items():
                for i in indexes:
                    value = cells[i] if i < len(cells) else ""
                    if name not in values or (not values[name] and value):
                        values[name], headers[name] = value, self.headers[i]
                    elif value and self.columns[name].many:
                        values[name] += ", " + value
            yield Row(number, values, headers)

    def feed(self, raw_rows, progress=None) -> None:
        """Rows are read and looked up a chunk at a time: one query per kind of key for the chunk,
        not one per row. `progress(rows_done)` is told after each chunk."""
        chunk: list[Row] = []
        for row in self.rows(raw_rows):
            chunk.append(row)
            if len(chunk) >= BATCH:
                self.take(chunk)
                chunk = []
                if progress is not None:
                    progress(self.done)
        self.take(chunk)
        self.flush()
        if progress is not None:
            progress(self.done)

    def take(self, rows: list[Row]) -> None:
        parsed = []
        for row in rows:
            self.done += 1
            try:
                item = self.parse(row)
            except _Reject as exc:
                self.reject(row.number, exc.column, exc.value, exc.message)
                continue
            keys = self.keys(item)
            if self.options.on_duplicate == "create":
                # Creating duplicates on purpose: only the external ID still names one record.
                keys = [k for k in keys if k[0] == "external_id"]
            parsed.append((row, item, keys))
        self.known = self.find({key for _row, _item, keys in parsed for key in keys})
        for row, item, keys in parsed:
            self.decide(row, item, keys)

    def decide(self, row: Row, item, keys) -> None:
        match = self.match(keys)
        if isinstance(match, _Pending):
            if self.options.on_duplicate != "update":
                self.skip(row.number, _("Повторяет строку %(row)s этого файла.") % {"row": match.row.number})
                return
            self.flush()  # the earlier row's record is written: this row updates it
            match = self.match(keys)
        if match is not None:
            self.existing(row, item, keys, match)
            return
        self.pending.append(_Pending(row, item, keys))
        for key in keys:
            self.index.setdefault(key, self.pending[-1])
        if len(self.pending) >= BATCH:
            self.flush()

    def match(self, keys):
        """The record (or pending row) a row duplicates: by external ID, ИНН, phone, e-mail in that
        order, in this run first, then in the database."""
        for key in keys:
            found = self.index.get(key)
            if isinstance(found, _Pending):
                return found
            if found is not None:
                return self.load(found)
        for key in keys:
            found = self.known.get(key)
            if found is not None:
                return found
        return None

    def existing(self, row: Row, item, keys, record) -> None:
        mode = self.options.on_duplicate
        visible = access.can(self.by, Action.VIEW, record)
        if not visible:
            self.skip(row.number, _("Дубликат: %(notice)s.") % {"notice": dup.hidden_notice(record)})
            return
        if mode in ("skip", "create"):
            self.skip(row.number, _("Дубликат: уже есть в CRM — «%(title)s» (№%(pk)s).") % {"title": record, "pk": record.pk})
            return
        if not access.can(self.by, Action.CHANGE, record):
            self.skip(row.number, _("Дубликат: «%(title)s» (№%(pk)s) — нет прав на его изменение.")
                      % {"title": record, "pk": record.pk})
            return
        try:
            with transaction.atomic():
                changed = self.update(record, item, row)
        except _Reject as exc:
            self.reject(row.number, exc.column, exc.value, exc.message)
            return
        except PermissionDenied as exc:
            self.reject(row.number, "", "", str(exc))
            return
        for key in keys:
            self.index[key] = record.pk
        if changed:
            self.outcome.updated += 1
        else:
            self.skip(row.number, _("Без изменений: «%(title)s» (№%(pk)s).") % {"title": record, "pk": record.pk},
                      line=False)

    def flush(self) -> None:
        if not self.pending:
            return
        batch, self.pending = self.pending, []
        with transaction.atomic():
            self.create(batch)
        for pending in batch:
            error, adjusted, record = self.result(pending.item)
            if error:
                self.reject(pending.row.number, "", "", error)
                for key in pending.keys:
                    if self.index.get(key) is pending:
                        del self.index[key]
                continue
            self.outcome.created += 1
            if adjusted:
                row = pending.row
                self.outcome.add(row.number, row.headers.get("status", ""), row.values.get("status", ""), adjusted,
                                 "adjusted")
            for key in pending.keys:
                if self.index.get(key) is pending:
                    self.index[key] = record.pk

    # -- outcomes --

    def reject(self, row: int, column: str, value: str, message: str) -> None:
        self.outcome.rejected += 1
        self.outcome.add(row, column, value, message, "rejected")
        if self.options.atomic:
            raise _Abort(_("строка %(row)s отклонена — %(message)s") % {"row": row, "message": message})

    def skip(self, row: int, message: str, line: bool = True) -> None:
        self.outcome.skipped += 1
        if line:
            self.outcome.add(row, "", "", message, "skipped")

    # -- values --

    def cell(self, row: Row, name: str) -> str:
        return row.values.get(name, "")

    def bad(self, row: Row, name: str, message: str):
        return _Reject(row.headers.get(name, self.columns[name].header), row.values.get(name, ""), message)

    def value(self, row: Row, name: str):
        """The cell of `name` read by its column's kind (dictionaries and users looked up)."""
        col = self.columns[name]
        raw = self.cell(row, name)
        try:
            return self._read(col, raw)
        except CellError as exc:
            raise self.bad(row, name, str(exc)) from None

    def _read(self, col: Column, raw: str):
        if col.kind == "int":
            return cols.parse_int(raw)
        if col.kind == "decimal":
            return cols.parse_decimal(raw)
        if col.kind == "date":
            return cols.parse_date(raw)
        if col.kind == "bool":
            return cols.parse_bool(raw)
        if col.kind == "choice":
            return cols.parse_choice(self.model._meta.get_field(col.field).choices, raw) if raw else None
        if col.kind == "ref":
            return self.ref(col.target, raw) if raw else None
        if col.kind == "refs":
            return [self.ref(col.target, part) for part in self.parts(col.target, raw)]
        if col.kind == "email":
            return raw.lower()
        return raw

    def parts(self, target: str, raw: str) -> list[str]:
        """A several-values cell: a whole name with a comma in it is one value."""
        if not raw:
            return []
        if cols.normalize_header(raw) in self.refs(target):
            return [raw]
        return cols.split_many(raw)

    def refs(self, target: str) -> dict[str, Any]:
        if target not in self._refs:
            from django.apps import apps

            model = apps.get_model(target)
            self._refs[target] = {cols.normalize_header(obj.name): obj for obj in model.objects.all()}
        return self._refs[target]

    def ref(self, target: str, raw: str):
        found = self.refs(target).get(cols.normalize_header(raw))
        if found is not None:
            return found
        from django.apps import apps

        model = apps.get_model(target)
        if not self.options.create_missing:
            raise CellError(_("«%(value)s» нет в справочнике «%(list)s». Добавьте значение в справочник или "
                              "импортируйте с --create-missing.") % {"value": raw, "list": model._meta.verbose_name_plural})
        obj = model.objects.create(name=raw.strip()[:200])
        self._refs[target][cols.normalize_header(raw)] = obj
        return obj

    def user(self, raw: str) -> User | None:
        """«Фамилия Имя», «Имя Фамилия» (with or without the patronymic), login or e-mail."""
        if self._users is None:
            self._users = {}
            for user in User.objects.filter(is_active=True):
                names = {user.username, user.email, f"{user.last_name} {user.first_name}",
                         f"{user.first_name} {user.last_name}",
                         f"{user.last_name} {user.first_name} {user.middle_name}"}
                for name in names:
                    key = cols.normalize_header(name)
                    if key:
                        self._users.setdefault(key, []).append(user)
        found = self._users.get(cols.normalize_header(raw), [])
        if len({u.pk for u in found}) > 1:
            raise CellError(_("Сотрудников с именем «%(value)s» несколько: укажите логин или e-mail.") % {"value": raw})
        return found[0] if found else None

    def responsible(self, row: Row, scope: str = "") -> User:
        """The row's responsible: the named active user (the file's «Ответственный»), else the
        default responsible, else the importing user — one whose records the importer may change."""
        raw = self.cell(row, "responsible")
        try:
            user = self.user(raw) if raw else None
        except CellError as exc:
            raise self.bad(row, "responsible", str(exc)) from None
        if user is None and raw and self.options.default_responsible is None:
            raise self.bad(row, "responsible", _("Нет активного сотрудника «%(value)s». Укажите --default-responsible, "
                                                 "чтобы назначить таких записей ему.") % {"value": raw})
        user = user or self.options.default_responsible or self.by
        if not access.can_hand_to(self.by, self.entity, user, scope):
            raise self.bad(row, "responsible", _("Нельзя назначить ответственным «%(user)s»: его записи вне ваших прав.")
                           % {"user": user})
        return user

    def linked(self, entity: str, raw: str):
        """A company, contact or lead named in a cell: by its external ID (Bitrix24's «ID» kept on
        import), else by its name if exactly one record the user may see has it; None if none."""
        cache = self._links.setdefault(entity, {})
        if raw in cache:
            return cache[raw]
        model = cols.model(entity)
        visible = access.scope(self.by, model.objects.all())
        found = list(visible.filter(external_id=raw).order_by("pk")[:1])
        if not found:
            name = {"company": "name", "lead": "title", "deal": "title"}.get(entity)
            if name:
                found = list(visible.filter(**{f"{name}__iexact": raw})[:2])
            else:
                parts = raw.split()
                found = list(visible.filter(last_name__iexact=parts[0], first_name__iexact=" ".join(parts[1:2]) or parts[0])[:2]) if parts else []
            found = found if len(found) == 1 else []
        cache[raw] = found[0] if found else None
        return cache[raw]

    # -- per entity --

    def parse(self, row: Row):
        raise NotImplementedError

    def keys(self, item) -> list[tuple[str, str]]:
        raise NotImplementedError

    def find(self, keys: set[tuple[str, str]]) -> dict[tuple[str, str], Any]:
        """The records matching these keys, key → the oldest matching record."""
        raise NotImplementedError

    def load(self, pk: int):
        return self.model.objects.get(pk=pk)

    def create(self, batch: list[_Pending]) -> None:
        raise NotImplementedError

    def result(self, item) -> tuple[str, str, Any]:
        raise NotImplementedError

    def update(self, record, item, row: Row) -> bool:
        raise NotImplementedError


def _phone(importer: Importer, row: Row, name: str) -> str:
    from django.core.exceptions import ValidationError

    from crm import phones

    try:
        return phones.normalize(importer.cell(row, name))
    except ValidationError as exc:
        raise importer.bad(row, name, " ".join(exc.messages)) from None


def _website(importer: Importer, row: Row, name: str) -> str:
    from django.core.exceptions import ValidationError

    from crm import websites

    try:
        return websites.clean(importer.cell(row, name))
    except ValidationError as exc:
        raise importer.bad(row, name, " ".join(exc.messages)) from None


class LeadImporter(Importer):
    entity = "lead"
    required = (("title", "company_name"),)
    M2M = ("products_to_sell", "used_products")
    SKIP = {"external_id", "status", "responsible", "company", "contact", "pinned_comment"}

    def parse(self, row: Row):
        from leads.models import Status
        from leads.services import ImportItem

        data: dict[str, Any] = {}
        m2m: dict[str, list] = {}
        for name in self.fields:
            col = self.columns[name]
            if name in self.SKIP or col.readonly or not self.cell(row, name):
                continue  # an empty cell sets nothing (and an update keeps what the record has)
            if col.kind == "phone":
                value = _phone(self, row, name)
            elif name == "company_website":
                value = _website(self, row, name)
            else:
                value = self.value(row, name)
            if name in self.M2M:
                if value:
                    m2m[name] = value
            elif value not in (None, ""):
                data[name] = value
        if not data.get("title"):
            data["title"] = data.get("company_name", "")
        if not data.get("title"):
            raise _Reject(self.columns["title"].header, "", _("Нет названия лида и названия компании."))
        data["external_id"] = self.cell(row, "external_id")
        data["responsible"] = self.responsible(row)
        status = Status.NEW
        raw = self.cell(row, "status")
        if raw:
            try:
                status = cols.parse_choice(Status.choices + _BITRIX_STATUSES, raw)
            except CellError as exc:
                raise self.bad(row, "status", str(exc)) from None
        return ImportItem(row=row.number, data=data, m2m=m2m, status=status,
                          pinned_comment=self.cell(row, "pinned_comment"))

    def keys(self, item) -> list[tuple[str, str]]:
        data = item.data
        keys = []
        if data.get("external_id"):
            keys.append(("external_id", data["external_id"]))
        if data.get("inn"):
            keys.append(("inn", data["inn"]))
        for name in ("company_phone", "contact_phone"):
            if data.get(name):
                keys.append(("phone", data[name]))
        for name in ("company_email", "contact_email"):
            if data.get(name):
                keys.append(("email", data[name]))
        return keys

    def find(self, keys):
        from django.db.models import Q

        from leads.models import Lead

        wanted: dict[str, set[str]] = {}
        for kind, value in keys:
            wanted.setdefault(kind, set()).add(value)
        if not wanted:
            return {}
        query = Q()
        if "external_id" in wanted:
            query |= Q(external_id__in=wanted["external_id"])
        if "inn" in wanted:
            query |= Q(inn__in=wanted["inn"])
        if "phone" in wanted:
            query |= Q(company_phone__in=wanted["phone"]) | Q(contact_phone__in=wanted["phone"])
        if "email" in wanted:
            query |= Q(company_email__in=wanted["email"]) | Q(contact_email__in=wanted["email"])
        found: dict[tuple[str, str], Any] = {}
        for lead in dup.candidates(self.by, Lead.objects.all()).filter(query).order_by("pk"):
            for key in self.keys_of(lead):
                if key in keys:
                    found.setdefault(key, lead)
        return found

    def keys_of(self, lead) -> list[tuple[str, str]]:
        return [("external_id", lead.external_id), ("inn", lead.inn), ("phone", lead.company_phone),
                ("phone", lead.contact_phone), ("email", lead.company_email.lower()),
                ("email", lead.contact_email.lower())]

    def create(self, batch: list[_Pending]) -> None:
        from leads.services import leads_import

        leads_import([p.item for p in batch], by=self.by, source=self.source, strict=self.options.strict,
                     rules=self._rules())

    def _rules(self):
        if not hasattr(self, "_rule_cache"):
            from leads.requirements import rules_by_status

            self._rule_cache = rules_by_status()
        return self._rule_cache

    def result(self, item):
        return item.error, item.adjusted, item.lead

    def update(self, record, item, row: Row) -> bool:
        from leads import services
        from leads.models import CLOSED, IN_PROCESS

        data = {k: v for k, v in item.data.items() if k != "external_id" or not record.external_id}
        if "responsible" not in row.values or not row.values["responsible"]:
            data.pop("responsible", None)  # an empty cell changes nobody's leads
        changes = {k: v for k, v in data.items() if getattr(record, k) != v}
        m2m = {k: v for k, v in item.m2m.items() if {o.pk for o in getattr(record, k).all()} != {o.pk for o in v}}
        changed = False
        try:
            if changes or m2m:
                record = services.lead_update(record, data=changes, m2m=m2m or None, by=self.by, version=record.version)
                changed = True
            if row.values.get("status") and item.status != record.status:
                targets = [item.status]
                if not self.options.strict and item.status not in CLOSED:
                    targets += list(reversed(IN_PROCESS[: IN_PROCESS.index(item.status)]))
                for target in targets:
                    if target == record.status:
                        break
                    try:
                        record = services.lead_move(record, to=target, by=self.by)
                    except services.MissingFields as exc:
                        if self.options.strict or target == targets[-1]:
                            raise
                        self.outcome.add(row.number, row.headers.get("status", ""), row.values["status"],
                                         str(exc), "adjusted")
                        continue
                    changed = True
                    break
        except services.LeadError as exc:
            raise _Reject(row.headers.get("status", ""), row.values.get("status", ""), str(exc)) from None
        return changed


class ClientImporter(Importer):
    """Companies and contacts: their phones and e-mails are Bitrix24's multifields, one column per
    type, several values in a cell."""

    SKIP = {"external_id", "responsible", "companies"}

    def parse(self, row: Row):
        from clients.services import ImportItem
        from crm.models import Communication

        data: dict[str, Any] = {}
        communications = []
        for name in self.fields:
            col = self.columns[name]
            if name in self.SKIP or col.readonly or not self.cell(row, name):
                continue
            if col.kind in ("phones", "emails"):
                for value in cols.split_many(self.cell(row, name)):
                    if col.kind == "phones":
                        communications.append((Communication.Kind.PHONE, col.target, _phone_value(self, row, name, value), ""))
                    else:
                        communications.append((Communication.Kind.EMAIL, col.target, value.lower(), ""))
            elif name == "website":
                data[name] = _website(self, row, name)
            else:
                value = self.value(row, name)
                if value not in (None, ""):
                    data[name] = value
        data["external_id"] = self.cell(row, "external_id")
        data["responsible"] = self.responsible(row)
        self.complete(row, data)
        return ImportItem(row=row.number, data=data, communications=communications,
                          companies=self.companies(row))

    def complete(self, row: Row, data: dict[str, Any]) -> None:
        """Entity-specific defaults and checks of a parsed row."""

    def companies(self, row: Row) -> list:
        return []

    def keys(self, item) -> list[tuple[str, str]]:
        keys = []
        if item.data.get("external_id"):
            keys.append(("external_id", item.data["external_id"]))
        if item.data.get("inn"):
            keys.append(("inn", item.data["inn"]))
        keys += [("phone" if kind == "phone" else "email", value) for kind, _type, value, _ext in item.communications]
        return keys

    def find(self, keys):
        from django.contrib.contenttypes.models import ContentType
        from django.db.models import Q

        from crm.models import Communication

        wanted: dict[str, set[str]] = {}
        for kind, value in keys:
            wanted.setdefault(kind, set()).add(value)
        if not wanted:
            return {}
        ct = ContentType.objects.get_for_model(self.model)
        query = Q(pk__in=[])
        if "external_id" in wanted:
            query |= Q(external_id__in=wanted["external_id"])
        if "inn" in wanted:
            query |= Q(inn__in=wanted["inn"])
        by_value = Q(pk__in=[])
        for kind in ("phone", "email"):
            if kind in wanted:
                by_value |= Q(kind=kind, value__in=wanted[kind])
        linked: dict[int, list[tuple[str, str]]] = {}
        if "phone" in wanted or "email" in wanted:
            for object_id, kind, value in Communication.objects.filter(by_value, content_type=ct).values_list(
                    "object_id", "kind", "value"):
                linked.setdefault(object_id, []).append((kind, value))
            query |= Q(pk__in=list(linked))
        found: dict[tuple[str, str], Any] = {}
        for record in dup.candidates(self.by, self.model.objects.all()).filter(query).order_by("pk"):
            own = [("external_id", record.external_id), ("inn", getattr(record, "inn", "")), *linked.get(record.pk, [])]
            for key in own:
                if key in keys:
                    found.setdefault(key, record)
        return found

    def create(self, batch: list[_Pending]) -> None:
        from clients.services import clients_import

        clients_import(self.model, [p.item for p in batch], by=self.by, source=self.source)

    def result(self, item):
        return item.error, "", item.record

    def update(self, record, item, row: Row) -> bool:
        from clients import services

        data = {k: v for k, v in item.data.items() if k != "external_id" or not record.external_id}
        if not row.values.get("responsible"):
            data.pop("responsible", None)
        changes = {k: v for k, v in data.items() if getattr(record, k) != v}
        current = sorted((c.kind, c.type, c.value, c.ext) for c in record.communications.all())
        given = {(kind, type_) for kind, type_, _v, _e in item.communications}
        merged = sorted([c for c in current if (c[0], c[1]) not in given] + list(item.communications))
        communications = merged if merged != current else None
        companies = None
        if item.companies:
            now = list(record.companies.all())
            if {c.pk for c in item.companies} - {c.pk for c in now}:
                companies = now + [c for c in item.companies if c.pk not in {n.pk for n in now}]
        if not (changes or communications is not None or companies is not None):
            return False
        try:
            if self.entity == "company":
                services.company_update(record, data=changes, communications=communications, by=self.by,
                                        version=record.version)
            else:
                services.contact_update(record, data=changes, communications=communications, companies=companies,
                                        by=self.by, version=record.version)
        except services.ClientError as exc:
            raise _Reject("", "", str(exc)) from None
        return True


def _phone_value(importer: Importer, row: Row, name: str, value: str) -> str:
    from django.core.exceptions import ValidationError

    from crm import phones

    try:
        return phones.normalize(value)
    except ValidationError as exc:
        raise _Reject(row.headers.get(name, ""), value, " ".join(exc.messages)) from None


class CompanyImporter(ClientImporter):
    entity = "company"
    required = (("name",),)


class ContactImporter(ClientImporter):
    entity = "contact"
    required = (("first_name", "last_name"),)

    def complete(self, row: Row, data: dict[str, Any]) -> None:
        # As conversion does: a person known by the surname only keeps it as the name too.
        if not data.get("first_name"):
            data["first_name"] = data.get("last_name", "")
        if not data.get("first_name"):
            raise _Reject(self.columns["first_name"].header, "", _("Нет ни имени, ни фамилии контакта."))

    def companies(self, row: Row) -> list:
        raw = self.cell(row, "companies")
        if not raw:
            return []
        found = []
        for part in [raw] if self.linked("company", raw) else cols.split_many(raw):
            company = self.linked("company", part)
            if company is None:
                self.outcome.add(row.number, row.headers.get("companies", ""), part,
                                 _("Компания «%(value)s» не найдена: контакт импортирован без связи с ней.")
                                 % {"value": part}, "adjusted")
                continue
            found.append(company)
        return found


# Bitrix24's own status codes for the statuses it shares with ours (research/bitrix24.md §1.3).
_BITRIX_STATUSES = [("new", "NEW"), ("converted", "CONVERTED"), ("junk", "JUNK")]

IMPORTERS: dict[str, type[Importer]] = {"lead": LeadImporter, "company": CompanyImporter,
                                         "contact": ContactImporter}


def table_from_csv(text: str, name: str = "file.csv", delimiter: str = ";"):
    """A `Table` from CSV text without exchange.readers (tests and callers that hold the text)."""
    from types import SimpleNamespace

    reader = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    headers = [h.strip() for h in reader[0]] if reader else []

    def rows():
        for number, cells in enumerate(reader[1:], start=2):
            cells = [c.strip() for c in cells][: len(headers)]
            cells += [""] * (len(headers) - len(cells))
            if any(cells):
                yield number, cells

    return SimpleNamespace(name=name, format="csv", encoding="utf-8", delimiter=delimiter, headers=headers,
                           rows=rows, estimated_rows=len(reader) - 1)
