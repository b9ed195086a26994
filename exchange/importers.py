"""The import engine: a `Table` (exchange.readers) → records, through the same services and access
module as the UI. The commands, the «Импорт» page's background job and the admin call `run`.

- Mapping: each header → a field (exchange.columns; `Options.mapping` overrides). A header that
  matches nothing is ignored and named once in the report («Колонка не сопоставлена»); a file
  without a column every row needs is refused before any row is read (ImportRefused).
- Values: dictionaries (sources, niches…), statuses, pipelines, stages and users by name or code,
  case- and «ё»-insensitively; Bitrix24's codes and default names of sources, statuses, stages and
  its pipeline «Общая» are understood too (exchange.bitrix24); an unknown one rejects the row, unless `create_missing` (a dictionary gets the new entry; users
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
  it — «Такой клиент уже есть в CRM у <ответственный>, <отдел>», never its title — and is skipped,
  never updated. `create` creates in spite of ИНН, phone and e-mail matches (a company's ИНН stays
  unique), but an external ID identifies one record: neither a second row nor a re-run makes a
  second record of it. An update sets the file's filled cells only (an empty cell erases nothing)
  and one that changes nothing is «пропущено» with no history, so re-running a file changes nothing.
- Rights: `access.can_import`; a row creates only what the user may add, updates only what he may
  change, and names a responsible only among the people whose records he may change
  (`access.can_hand_to`). Each responsible hears once per file of what was created for him.
- `dry_run`: the same code in a transaction that is rolled back at the end, so its counts are a
  real run's. `atomic`: one transaction; the first rejected row rolls everything back.
- Memory stays bounded: rows stream in chunks of BATCH, the duplicate index holds one chunk (what
  earlier chunks wrote is found in the database), report lines past LINES_IN_MEMORY go to a
  temporary file. `progress(rows_done)` is called after each chunk.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts import access
from accounts.models import Action, User
from crm import duplicates as dup

from . import bitrix24 as b24
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


# What a spreadsheet takes for a formula: exports (exchange.writers) and the report put an apostrophe
# before such text in a CSV cell, and the importer drops it when it reads one back.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _neutral(value: str) -> str:
    """A file's cell echoed into the report must not become a formula in Excel."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


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
    importer.quoted = table.format == "csv"
    outcome = importer.outcome
    outcome.dry_run = options.dry_run
    if options.dry_run or options.atomic:
        try:
            with transaction.atomic():
                importer.feed(table.rows(), progress)
                importer.notify()  # after the commit: a dry run or a rolled-back import tells no one
                if options.dry_run:
                    transaction.set_rollback(True)
        except _Abort as exc:
            outcome.rolled_back = str(exc)
            outcome.created = outcome.updated = 0
    else:
        importer.feed(table.rows(), progress)
        importer.notify()
    return outcome


class _Abort(Exception):
    """`atomic`: a row was rejected, everything is rolled back."""


def run_bitrix24_folder(folder, *, by, options: Options, progress_factory=None,
                        on_ignored: Callable[[str, str], None] | None = None) -> dict[str, Outcome]:
    """Every Bitrix24 export in `folder`, recognised by its name or headers, imported in the order
    that links them (companies, contacts, leads, deals): deals find their companies and contacts,
    converted leads what they became, by Bitrix24's IDs kept as external IDs.
    `progress_factory(entity, table)` gives a context manager of a bar (exchange.progress); a file
    that is no export (a README, last run's report) is left alone and named to `on_ignored(name,
    why)`. Raises ImportRefused when there is nothing to import or two files of one kind."""
    from pathlib import Path

    from .readers import TableError, open_table

    found: dict[str, tuple[Path, Any]] = {}
    for path in sorted(Path(folder).iterdir()):
        if not path.is_file() or path.name.startswith("."):
            continue
        try:
            table = open_table(path, name=path.name)
        except TableError as exc:
            if on_ignored:
                on_ignored(path.name, str(exc))
            continue
        entity = recognise(path.name, table.headers)
        if entity is None:
            if on_ignored:
                on_ignored(path.name, _("не похож на выгрузку компаний, контактов, лидов или сделок"))
            continue
        if entity in found:
            raise ImportRefused(_("Два файла одного вида: «%(a)s» и «%(b)s».") % {"a": found[entity][0].name, "b": path.name})
        found[entity] = (path, table)
    if not found:
        raise ImportRefused(_("В папке нет выгрузок компаний, контактов, лидов или сделок."))
    outcomes = {}
    for entity in cols.ENTITIES:
        if entity in found:
            path, table = found[entity]
            progress = progress_factory(entity, table) if progress_factory else None
            # --map names columns of some of the files: each file takes the ones it has.
            mapping = {h: f for h, f in (options.mapping or {}).items() if h in table.headers}
            own = replace(options, mapping=mapping or None)
            with progress if progress is not None else _nothing() as bar:
                outcomes[entity] = run(entity, table, by=by, options=own, source=path.name,
                                       progress=(bar.set if bar is not None else None))
    return outcomes


class _nothing:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


_NAMES = {"company": ("company", "компан"), "contact": ("contact", "контакт"), "lead": ("lead", "лид"),
          "deal": ("deal", "сделк")}


def recognise(name: str, headers: list[str]) -> str | None:
    """The entity of a Bitrix24 export: by a header only that entity's export has («Название лида»,
    «Название сделки»), else by its file name (LEAD_….csv, «Сделки.xls»), else by the company's
    or the person's name columns."""
    normal = {cols.normalize_header(h) for h in headers}
    if "название лида" in normal:
        return "lead"
    if "название сделки" in normal:
        return "deal"
    lower = name.lower()
    for entity, words in _NAMES.items():
        if any(word in lower for word in words):
            return entity
    if "название компании" in normal:
        return "company"
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
    state_field = "status"  # the column a lowered status (stage) is reported on

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
        self.handed: dict[int, int] = {}  # responsible → records created for him (one notification each)

    # -- reading --

    quoted = False  # a CSV's cells may carry the apostrophe exports put before formula-like text

    def rows(self, raw_rows) -> Iterator[Row]:
        for number, cells in raw_rows:
            if self.quoted:
                cells = [cell[1:] if cell[:1] == "'" and cell[1:2] in FORMULA_STARTS else cell for cell in cells]
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
        # What earlier chunks wrote is in the database now and found there: the run's own index
        # holds one chunk only, so memory stays bounded whatever the number of rows.
        self.flush()
        self.index.clear()
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
            changed = self.update(record, item, row)  # its writes, if any, in one transaction
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
            self.outcome.skipped += 1  # nothing to change: counted, not reported (a re-run's every row)

    def notify(self) -> None:
        """Each responsible of the created records hears of them once per file — «Смирнова Ольга
        назначил(а) вас ответственным — записей из импорта «leads.csv»: 120» — with his list as the
        link, not once per record (companies and contacts tell no one, as their cards do not)."""
        url_name = {"lead": "leads:list", "deal": "deals:list"}.get(self.entity)
        if not url_name or not self.handed:
            return
        from django.urls import reverse

        from crm import timeline
        from notifications import services as notifications
        from notifications.models import Kind

        by, source, handed = self.by, self.source, dict(self.handed)

        def send():
            for user in User.objects.filter(pk__in=list(handed)):
                message = timeline.message(
                    gettext_noop("%(actor)s назначил(а) вас ответственным — записей из импорта «%(file)s»: %(count)s"),
                    actor=str(by), file=source, count=str(handed[user.pk]))
                notifications.notify(user, Kind.ASSIGNED, message, actor=by,
                                     url=f"{reverse(url_name)}?responsible={user.pk}")

        transaction.on_commit(send, robust=True)

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
            owner = getattr(record, "responsible_id", None)
            self.handed[owner] = self.handed.get(owner, 0) + 1
            if adjusted:  # a status or stage lowered: the line names that column
                row, state = pending.row, self.state_field
                self.outcome.add(row.number, row.headers.get(state, ""), row.values.get(state, ""), adjusted, "adjusted")
            for key in pending.keys:
                if self.index.get(key) is pending:
                    self.index[key] = record.pk

    # -- outcomes --

    def reject(self, row: int, column: str, value: str, message: str) -> None:
        self.outcome.rejected += 1
        self.outcome.add(row, column, value, message, "rejected")
        if self.options.atomic:
            raise _Abort(_("строка %(row)s отклонена — %(message)s") % {"row": row, "message": message})

    def skip(self, row: int, message: str) -> None:
        self.outcome.skipped += 1
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
        """A reference list's entry by its name (case and «ё» do not count); a source also by
        Bitrix24's code or default name («WEB», «Веб-сайт» → «Сайт»). Unknown: an error, or with
        create_missing a new entry — named as Bitrix24 names it, not by its code."""
        refs = self.refs(target)
        found = refs.get(cols.normalize_header(raw))
        if found is not None:
            return found
        names = b24.source_names(raw) if target == "crm.Source" else ()
        for name in names:
            found = refs.get(cols.normalize_header(name))
            if found is not None:
                refs[cols.normalize_header(raw)] = found
                return found
        from django.apps import apps

        model = apps.get_model(target)
        if not self.options.create_missing:
            raise CellError(_("«%(value)s» нет в справочнике «%(list)s». Добавьте значение в справочник или "
                              "импортируйте с --create-missing.") % {"value": raw, "list": model._meta.verbose_name_plural})
        name = names[0] if names else raw.strip()[:200]
        obj = model.objects.create(name=name)
        refs[cols.normalize_header(raw)] = refs[cols.normalize_header(name)] = obj
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
        visible = _visible(entity, self.by)
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

    def link(self, row: Row, name: str, raw: str):
        """The record a link column names, or None with an «adjusted» line: the row is imported
        without that link rather than refused (the linked file may come later or not at all)."""
        target = self.columns[name].target
        found = self.linked(target, raw)
        if found is None:
            self.outcome.add(row.number, row.headers.get(name, ""), raw,
                             _("Не найдено: %(what)s «%(value)s» — запись импортирована без этой связи.")
                             % {"what": str(cols.model(target)._meta.verbose_name).lower(), "value": raw}, "adjusted")
        return found

    # -- per entity --

    def parse(self, row: Row):
        raise NotImplementedError

    def keys(self, item) -> list[tuple[str, str]]:
        raise NotImplementedError

    def find(self, keys: set[tuple[str, str]]) -> dict[tuple[str, str], Any]:
        """The records matching these keys, key → the oldest matching record."""
        raise NotImplementedError

    def candidates(self):
        """Where this entity's duplicates are looked for (the app's selectors)."""
        raise NotImplementedError

    def load(self, pk: int):
        return self.candidates().get(pk=pk)

    def create(self, batch: list[_Pending]) -> None:
        raise NotImplementedError

    def result(self, item) -> tuple[str, str, Any]:
        raise NotImplementedError

    def update(self, record, item, row: Row) -> bool:
        raise NotImplementedError


def _visible(entity: str, user):
    """The records of `entity` the user sees (their app's selectors): what a link cell may name."""
    if entity == "lead":
        from leads.selectors import visible_leads

        return visible_leads(user)
    from clients.selectors import visible_companies, visible_contacts

    return visible_companies(user) if entity == "company" else visible_contacts(user)


def _changed(record, data: dict[str, Any]) -> dict[str, Any]:
    """The values of `data` that differ from the record's; a link compared by its id (reading the
    linked record would cost a query per row of a re-run)."""
    changes = {}
    for name, value in data.items():
        field = record._meta.get_field(name)
        if field.many_to_one:
            differs = getattr(record, field.attname) != (value.pk if value is not None else None)
        else:
            differs = getattr(record, name) != value
        if differs:
            changes[name] = value
    return changes


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
    SKIP = {"external_id", "status", "responsible", "company", "contact", "pinned_comment"}  # read apart

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
        for name in ("company", "contact"):  # what a converted lead became (import_bitrix24)
            raw = self.cell(row, name)
            if raw and (found := self.link(row, name, raw)) is not None:
                data[name] = found
        status = Status.NEW
        raw = self.cell(row, "status")
        if raw:
            try:
                status = cols.parse_choice(Status.choices, raw)
            except CellError as exc:
                # Bitrix24's own codes and names of the statuses it shares with ours («JUNK»,
                # «Некачественный лид»); any other is the row's error, with our statuses listed.
                status = b24.lead_status(raw)
                if status is None:
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

    def candidates(self):
        from leads.selectors import import_candidates

        return import_candidates(self.by)

    # The columns each kind of key is looked up in; each column has an index (leads' Meta).
    KEY_COLUMNS = {"external_id": ("external_id",), "inn": ("inn",), "phone": ("company_phone", "contact_phone"),
                   "email": ("company_email", "contact_email")}

    def find(self, keys):
        from django.db.models import Q

        wanted: dict[str, set[str]] = {}
        for kind, value in keys:
            wanted.setdefault(kind, set()).add(value)
        # One query per kind of key, each the OR of its indexed columns, so that the planner answers
        # from the indexes; a single OR over every kind and column made it scan the table per batch.
        pks: set[int] = set()
        for kind, values in wanted.items():
            query = Q()
            for column in self.KEY_COLUMNS[kind]:
                query |= Q(**{f"{column}__in": values})
            pks.update(self.candidates().filter(query).values_list("pk", flat=True))
        if not pks:
            return {}
        found: dict[tuple[str, str], Any] = {}
        related = [name for name in self.M2M if name in self.fields]
        for lead in self.candidates().filter(pk__in=pks).prefetch_related(*related).order_by("pk"):
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
                     rules=self._rules(), notify=False)

    def _rules(self):
        if not hasattr(self, "_rule_cache"):
            from leads.requirements import rules_by_status

            self._rule_cache = rules_by_status()
        return self._rule_cache

    def result(self, item):
        return item.error, item.adjusted, item.lead

    def update(self, record, item, row: Row) -> bool:
        from leads import services

        data = {k: v for k, v in item.data.items() if k != "external_id" or not record.external_id}
        if "responsible" not in row.values or not row.values["responsible"]:
            data.pop("responsible", None)  # an empty cell changes nobody's leads
        changes = _changed(record, data)
        m2m = {k: v for k, v in item.m2m.items() if {o.pk for o in getattr(record, k).all()} != {o.pk for o in v}}
        moving = bool(row.values.get("status")) and item.status != record.status
        if not (changes or m2m or moving):
            return False
        changed = False
        try:
            with transaction.atomic():
                if changes or m2m:
                    record = services.lead_update(record, data=changes, m2m=m2m or None, by=self.by,
                                                  version=record.version)
                    changed = True
                if moving and item.status != record.status:
                    changed = self.move(record, item, row) or changed
        except services.LeadError as exc:
            raise _Reject(row.headers.get("status", ""), row.values.get("status", ""), str(exc)) from None
        return changed

    def move(self, record, item, row: Row) -> bool:
        """To the status the file asks for, as lead_move allows; short of its fields, to the furthest
        status between it and the current one that the lead meets, with one «adjusted» line."""
        from leads import services
        from leads.models import CLOSED, IN_PROCESS, Status

        try:
            services.lead_move(record, to=item.status, by=self.by)
            return True
        except services.MissingFields as exc:
            if self.options.strict or item.status in CLOSED:
                raise
            refused = exc
        landed = None
        for target in reversed(IN_PROCESS[: IN_PROCESS.index(item.status)]):
            if target == record.status:
                break
            try:
                services.lead_move(record, to=target, by=self.by)
            except services.MissingFields:
                continue
            landed = target
            break
        self.outcome.add(row.number, row.headers.get("status", ""), row.values["status"], " ".join([
            str(refused), _("Лид переведён в статус «%(status)s».") % {"status": Status(landed).label} if landed
            else _("Лид остался в статусе «%(status)s».") % {"status": Status(record.status).label}]), "adjusted")
        return landed is not None


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
        for record in self.candidates().filter(query).order_by("pk"):
            own = [("external_id", record.external_id), ("inn", getattr(record, "inn", "")), *linked.get(record.pk, [])]
            for key in own:
                if key in keys:
                    found.setdefault(key, record)
        return found

    def candidates(self):
        from clients.selectors import import_candidates

        return import_candidates(self.by, self.model)

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
        changes = _changed(record, data)
        current = sorted((c.kind, c.type, c.value, c.ext) for c in record.communications.all())
        given = {(kind, type_) for kind, type_, _v, _e in item.communications}
        merged = sorted([c for c in current if (c[0], c[1]) not in given] + list(item.communications))
        communications = merged if merged != current else None
        linking = self.entity == "contact" and bool(item.companies)
        if not (changes or communications is not None or linking):
            return False
        changed = bool(changes or communications is not None)
        try:
            with transaction.atomic():
                if self.entity == "company" and changed:
                    services.company_update(record, data=changes, communications=communications, by=self.by,
                                            version=record.version)
                elif changed:
                    record = services.contact_update(record, data=changes, communications=communications, by=self.by,
                                                     version=record.version)
                if linking:  # the file's companies are added; links it does not name stay
                    changed = services.contact_link_companies(record, item.companies, by=self.by) or changed
        except services.ClientError as exc:
            raise _Reject("", "", str(exc)) from None
        return changed


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
        parts = [raw] if self.linked("company", raw) else cols.split_many(raw)
        return [company for company in (self.link(row, "companies", part) for part in parts) if company is not None]


class DealImporter(Importer):
    """Deals: their pipeline and stage by name, the company, contacts and lead they are linked to
    (by Bitrix24's IDs, or names), product rows — Bitrix24 writes one file row per product with the
    deal's ID repeated, folded back here into one deal."""

    entity = "deal"
    required = (("title",),)
    state_field = "stage"
    SKIP = {"crm_id", "external_id", "responsible", "pipeline", "stage", "company", "contacts", "lead", "product",
            "price", "quantity"}

    PRODUCT = ("product", "price", "quantity")

    def rows(self, raw_rows) -> Iterator[Row]:
        """A row continues the deal above it when it has the same ID — or, with no ID (a deal made
        here, exported), when every cell but the product's repeats the row above."""
        current = None
        for row in super().rows(raw_rows):
            product = (row.number, self.cell(row, "product"), self.cell(row, "price"), self.cell(row, "quantity"))
            if current is not None and product[1] and self.same_deal(current, row):
                current.products.append(product)
                continue
            if current is not None:
                yield current
            current = row
            if product[1]:
                row.products.append(product)
        if current is not None:
            yield current

    def same_deal(self, above: Row, row: Row) -> bool:
        crm_id = self.cell(row, "crm_id")
        if crm_id:
            return crm_id == self.cell(above, "crm_id")
        ext = self.cell(row, "external_id")
        if ext:
            return ext == self.cell(above, "external_id")
        return all(row.values[name] == above.values.get(name) for name in row.values if name not in self.PRODUCT)

    def pipelines(self):
        if not hasattr(self, "_pipelines"):
            from deals.models import Pipeline

            self._pipelines = list(Pipeline.objects.order_by("sort", "pk").prefetch_related("stages"))
        return self._pipelines

    def default_pipeline(self):
        """Bitrix24's «Общая» (category 0, where a deal with no pipeline named goes): ours by that
        name, else the first pipeline."""
        pipelines = self.pipelines()
        return next((p for p in pipelines if b24.is_default_pipeline(p.name)), pipelines[0])

    def pipeline_and_stage(self, row: Row):
        """The row's pipeline — by name, or Bitrix24's «Общая» / category «0» — and stage — by name
        in that pipeline, or by Bitrix24's stage code («WON», «C3:WON») or default stage name."""
        pipelines = self.pipelines()
        raw = self.cell(row, "pipeline")
        pipeline = None
        if raw:
            pipeline = next((p for p in pipelines if b24.key(p.name) == b24.key(raw)), None)
            if pipeline is None and b24.is_default_pipeline(raw):
                pipeline = self.default_pipeline()
            if pipeline is None:
                raise self.bad(row, "pipeline", _("Нет воронки «%(value)s». Есть: %(names)s.")
                               % {"value": raw, "names": ", ".join(p.name for p in pipelines)})
        raw = self.cell(row, "stage")
        if not raw:
            return pipeline or self.default_pipeline(), None
        for candidate in [pipeline] if pipeline else pipelines:
            stage = self.stage_named(candidate, [raw])
            if stage is not None:
                return candidate, stage
        category, code = b24.split_stage(raw)
        if pipeline is None and category not in (None, b24.DEFAULT_CATEGORY):
            # Bitrix24's pipeline ids are the portal's own: «C3:» cannot be told apart from here.
            raise self.bad(row, "stage", _("Стадия «%(value)s» — из направления №%(category)s Битрикс24: укажите "
                                           "воронку в колонке «%(column)s».")
                           % {"value": raw, "category": category, "column": self.columns["pipeline"].header})
        candidate = pipeline or self.default_pipeline()
        known = b24.deal_stage(code)
        if known is not None:
            names, semantics = known
            stage = self.stage_named(candidate, [code, *names])
            if stage is None and semantics is not None:
                stage = next((s for s in candidate.stages.all() if s.semantics == semantics), None)
            if stage is not None:
                return candidate, stage
        raise self.bad(row, "stage", _("Нет стадии «%(value)s» в воронке «%(pipeline)s». Есть: %(names)s.")
                       % {"value": raw, "pipeline": candidate,
                          "names": ", ".join(s.name for s in candidate.stages.all())})

    @staticmethod
    def stage_named(pipeline, names: list[str]):
        wanted = {b24.key(name) for name in names}
        return next((s for s in pipeline.stages.all() if b24.key(s.name) in wanted), None)

    def parse(self, row: Row):
        from deals.services import ImportItem

        data: dict[str, Any] = {}
        for name in self.fields:
            col = self.columns[name]
            if name in self.SKIP or col.readonly or not self.cell(row, name):
                continue
            value = self.value(row, name)
            if value not in (None, ""):
                data[name] = value
        pipeline, stage = self.pipeline_and_stage(row)
        data["external_id"] = self.cell(row, "external_id")
        data["responsible"] = self.responsible(row, pipeline.access_scope)
        for name in ("company", "lead"):
            raw = self.cell(row, name)
            if raw:
                data[name] = self.link(row, name, raw)
                if data[name] is None:
                    del data[name]
        contacts = []
        raw = self.cell(row, "contacts")
        if raw:
            for part in [raw] if self.linked("contact", raw) else cols.split_many(raw):
                contact = self.link(row, "contacts", part)
                if contact is not None:
                    contacts.append(contact)
        products = []
        for number, name, price, quantity in row.products:
            try:
                products.append((self.ref("crm.Product", name), cols.parse_decimal(quantity) or Decimal("1"),
                                 cols.parse_decimal(price) or Decimal("0")))
            except CellError as exc:
                raise _Reject(self.columns["product"].header, name, _("Строка %(row)s: %(error)s")
                              % {"row": number, "error": exc}) from None
        total = sum((q * p for _product, q, p in products), Decimal("0")).quantize(Decimal("0.01"))
        if total > 0:
            data["amount"] = total  # the deal's amount follows its rows (deals.services), a re-run too
        item = ImportItem(row=row.number, data=data, pipeline=pipeline, stage=stage, contacts=contacts,
                          products=products)
        item.crm_id = self.cell(row, "crm_id").strip()  # a key (self.keys), not a field of the deal
        return item

    def keys(self, item) -> list[tuple[str, str]]:
        # Our own ID first (an export of deals made here has no other), then Bitrix24's.
        crm_id = item.crm_id
        keys = [("crm_id", crm_id)] if crm_id.isascii() and crm_id.isdigit() else []
        if item.data.get("external_id"):
            keys.append(("external_id", item.data["external_id"]))
        return keys

    def candidates(self):
        from deals.selectors import import_candidates

        return import_candidates(self.by)

    def find(self, keys):
        ids = [value for kind, value in keys if kind == "external_id"]
        found: dict[tuple[str, str], Any] = {}
        pks = [int(value) for kind, value in keys if kind == "crm_id"]
        if pks:
            # Only a deal the user may change is matched by our ID: another one (or an ID from
            # another CRM's file) leaves the row to the external ID, or to a new deal.
            for deal in self.candidates().filter(pk__in=pks):
                if access.can(self.by, Action.CHANGE, deal):
                    found[("crm_id", str(deal.pk))] = deal
        if ids:
            for deal in self.candidates().filter(external_id__in=ids).order_by("pk"):
                found.setdefault(("external_id", deal.external_id), deal)
        return found

    def create(self, batch: list[_Pending]) -> None:
        from deals.services import _Rules, deals_import

        if not hasattr(self, "_rules"):
            self._rules = _Rules()
        deals_import([p.item for p in batch], by=self.by, source=self.source, strict=self.options.strict,
                     rules=self._rules, notify=False)

    def result(self, item):
        return item.error, item.adjusted, item.deal

    def update(self, record, item, row: Row) -> bool:
        from deals import services

        data = {k: v for k, v in item.data.items() if k != "external_id" or not record.external_id}
        if not row.values.get("responsible"):
            data.pop("responsible", None)
        changes = _changed(record, data)
        try:
            return services.deal_import_update(record, data=changes, contacts=item.contacts, products=item.products,
                                               pipeline=item.pipeline, stage=item.stage, by=self.by)
        except services.DealError as exc:
            raise _Reject(row.headers.get("stage", ""), row.values.get("stage", ""), str(exc)) from None


IMPORTERS: dict[str, type[Importer]] = {"lead": LeadImporter, "company": CompanyImporter,
                                         "contact": ContactImporter, "deal": DealImporter}


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
