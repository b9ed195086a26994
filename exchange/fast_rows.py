"""An export's rows read as tuples (`values_list`), each column formatted by a function built once
per export: the same cells as `exchange.columns.export_value` gives for a model instance (and, for
tasks, as `exports.TASK_HEADERS` describe; the tests compare both paths cell by cell), at a
fraction of the cost (BENCHMARKS.md «Импорт и экспорт»).

What made the instance path slow, and what is done instead:
- a model instance per record with its joined relations → a tuple of its own columns and the ids
  of its links;
- `get_FOO_display` per cell (Django rebuilds its choices' dict at every call) → a dict of labels;
- `gettext` per cell («да»/«нет») → translated once;
- phones parsed again by phonenumbers to be shown → a stored Russian E.164 number is formatted by
  slicing (anything else still goes through `crm.phones.display`);
- the reference lists, stages, pipelines and users joined per row → read once per export into
  dicts of names;
- prefetches (a model instance per link, per phone, per product row) → per chunk, one query of
  plain values per relation, its ids passed as one array (`crm.lookups.AnyOf`: an IN list of
  2 000 ids cost ten times the query itself on PostgreSQL).

The rules stay the export's: the rows are the queryset's (the selector's scope with Action.EXPORT,
the list's filters and order); a linked record the user may not see is not named (as on the
card); a deal's contacts and a contact's companies are only those the user may see; a task names
only the bound records the user may see."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from operator import itemgetter
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import access
from accounts.models import Action
from crm import phones, timeline
from crm.lookups import AnyOf

from . import columns

DATETIME_FORMAT = "%d.%m.%Y %H:%M:%S"
PRODUCT_KINDS = ("product", "price", "quantity")


def phone_display(e164: str) -> str:
    """`crm.phones.display` without parsing the usual shape: «+7» and ten digits, the first not 0
    (phonenumbers would drop a leading 0 of the national number and format it otherwise)."""
    if len(e164) == 12 and e164[:2] == "+7" and e164[2] != "0" and e164[2:].isdigit():
        return f"+7 ({e164[2:5]}) {e164[5:8]}-{e164[8:10]}-{e164[10:]}"
    return phones.display(e164)


class _Names:
    """id → name of every record of a small table (a reference list, the users, the stages), read once."""

    def __init__(self, model, name: Callable[[Any], str] = str):
        self.model, self.name, self.names = model, name, None

    def load(self) -> None:
        if self.names is None:
            self.names = {obj.pk: self.name(obj) for obj in self.model._base_manager.all()}

    def get(self, pk) -> str:
        if pk is None:
            return ""
        if pk not in self.names:  # added while the export runs
            obj = self.model._base_manager.filter(pk=pk).first()
            self.names[pk] = self.name(obj) if obj is not None else ""
        return self.names[pk]


def _pairs(model, field: str, pks: list[int], targets: QuerySet | None = None,
           order: tuple[str, ...] = ()) -> list[tuple[int, int]]:
    """(record id, target id) of the M2M `field` for these records: only the targets in `targets`
    (a selector's queryset: what the user may see) if given, in the targets' `order` (the
    database's, as a prefetch ordered so would give them) if given."""
    m2m = model._meta.get_field(field)
    own, other = m2m.m2m_field_name(), m2m.m2m_reverse_field_name()
    pairs = m2m.remote_field.through._base_manager.filter(AnyOf(F(f"{own}_id"), pks))
    if targets is not None:
        pairs = pairs.filter(**{f"{other}_id__in": targets.values("pk")})
    if order:
        pairs = pairs.order_by(*(f"{other}__{name}" for name in order))
    return list(pairs.values_list(f"{own}_id", f"{other}_id"))


class Rows:
    """`fields` for `values_list`, then `prepare_chunk(tuples)` and `rows_of(tuple)` as
    `exports.Export` calls them. The first field is always the pk."""

    def __init__(self, entity: str, user, model, cols: list[columns.Column]):
        self.entity, self.user, self.model = entity, user, model
        self.headers = [str(c.header) for c in cols]
        self.fields: list[str] = ["pk"]
        self.tables: list[_Names] = []
        self.chunk_work: list[Callable[[list[int], list[tuple]], None]] = []
        self.products: dict[int, list[tuple]] = {}  # a deal's product rows: (name, price, quantity)
        self.comms: dict[tuple, list[str]] | None = None  # (record, kind, type) → values shown
        self.cells = [self._formatter(col) for col in cols]
        self.product_columns = [i for i, col in enumerate(cols) if col.kind in PRODUCT_KINDS]
        if self.product_columns:
            self._product_rows()

    def _index(self, field: str) -> int:
        self.fields.append(field)
        return len(self.fields) - 1

    def _table(self, model, name: Callable[[Any], str] = str) -> _Names:
        table = _Names(model, name)
        self.tables.append(table)
        return table

    def _formatter(self, col: columns.Column) -> Callable[[tuple], Any]:
        kind, meta = col.kind, self.model._meta
        if kind == "crm_id":
            return itemgetter(0)
        if kind == "pinned":
            return self._pinned()
        if kind == "refs":
            return self._many(col.field, self._table(meta.get_field(col.field).related_model).get)
        if kind in ("phones", "emails"):
            return self._communications(col)
        if kind == "record" and col.many:
            return self._visible_many(col)
        if kind in PRODUCT_KINDS:
            # The first product row's cell (rows_of writes one file row per product row).
            index = PRODUCT_KINDS.index(kind)
            products = self.products
            return lambda t: products[t[0]][0][index] if t[0] in products else None
        if kind in ("ref", "user", "record", "pipeline", "stage"):
            i = self._index(f"{col.field}_id")
            if kind == "record":
                return self._link(col.field, i)
            if kind == "user":
                get = self._table(get_user_model(), columns.user_name).get
            elif kind == "stage":
                get = self._table(meta.get_field(col.field).related_model, lambda stage: stage.name).get
            else:
                get = self._table(meta.get_field(col.field).related_model).get
            return lambda t: get(t[i])
        i = self._index(col.field)
        if kind in ("status", "choice"):
            labels = {code: str(label) for code, label in meta.get_field(col.field).flatchoices}
            if kind == "status":
                return lambda t: labels.get(t[i], str(t[i]))
            return lambda t: labels.get(t[i], str(t[i])) if t[i] else ""
        if kind == "bool":
            yes, no = _("да"), _("нет")
            return lambda t: yes if t[i] else no
        if kind == "phone":
            return lambda t: phone_display(t[i]) if t[i] else ""
        if kind == "datetime":
            zone = timezone.get_current_timezone()
            return lambda t: t[i].astimezone(zone).strftime(DATETIME_FORMAT) if t[i] else None
        return itemgetter(i)

    # --- What is read per chunk ---

    def _pinned(self) -> Callable[[tuple], str]:
        pinned: dict[int, str] = {}

        def read(pks: list[int], chunk: list[tuple]) -> None:
            pinned.clear()
            pinned.update(timeline.pinned_texts(self.model, pks))

        self.chunk_work.append(read)
        return lambda t: pinned.get(t[0], "")

    def _many(self, field: str, name: Callable[[int], str], *, targets: QuerySet | None = None,
              order: tuple[str, ...] = (), load: Callable[[set[int]], None] | None = None) -> Callable[[tuple], str]:
        """An M2M column: the linked records' names joined with «, » — in the targets' `order`, or
        sorted by name (as `export_value` sorts a reference list's names). `load(ids)` is told the
        chunk's target ids first (names not read yet)."""
        found: dict[int, str] = {}

        def read(pks: list[int], chunk: list[tuple]) -> None:
            pairs = _pairs(self.model, field, pks, targets, order)
            if load is not None:
                load({target for _record, target in pairs})
            lists: dict[int, list[str]] = {}
            for record_id, target_id in pairs:
                lists.setdefault(record_id, []).append(name(target_id))
            found.clear()
            found.update((pk, ", ".join(names if order else sorted(names))) for pk, names in lists.items())

        self.chunk_work.append(read)
        return lambda t: found.get(t[0], "")

    def _visible_many(self, col: columns.Column) -> Callable[[tuple], str]:
        """A contact's companies, a deal's contacts: only those the user may see, in their list's
        order, each named as the importer finds it again (`columns._record_name`)."""
        from clients.selectors import visible_companies, visible_contacts

        linked = self.model._meta.get_field(col.field).related_model
        visible = (visible_companies if col.target == "company" else visible_contacts)(self.user)
        order = ("name", "pk") if col.target == "company" else ("last_name", "first_name", "pk")
        names: dict[int, str] = {}  # across chunks

        def load(ids: set[int]) -> None:
            missing = list(ids - names.keys())
            if missing:
                names.update((r.pk, columns._record_name(r))
                             for r in linked._base_manager.filter(AnyOf(F("pk"), missing)))

        return self._many(col.field, names.__getitem__, targets=visible, order=order, load=load)

    def _link(self, field: str, i: int) -> Callable[[tuple], str]:
        """A linked company, contact or lead: named as the importer finds it again, or not at all
        if the user may not see it (as on the card)."""
        names: dict[int, str] = {}  # across chunks
        linked = self.model._meta.get_field(field).related_model

        def read(pks: list[int], chunk: list[tuple]) -> None:
            missing = {t[i] for t in chunk if t[i] is not None and t[i] not in names}
            if missing:
                for record in linked._base_manager.filter(AnyOf(F("pk"), list(missing))):
                    names[record.pk] = (columns._record_name(record)
                                        if access.can(self.user, Action.VIEW, record) else "")

        self.chunk_work.append(read)
        return lambda t: names.get(t[i], "") if t[i] is not None else ""

    def _communications(self, col: columns.Column) -> Callable[[tuple], str]:
        """A company's or contact's phones (or e-mails) of one type, «a, b», in the order entered.
        One query per chunk serves every phone and e-mail column."""
        kind = "phone" if col.kind == "phones" else "email"
        if self.comms is None:
            self.comms = {}
            self.chunk_work.append(self._read_communications)
        comms = self.comms
        key_kind, key_type = kind, col.target
        return lambda t: ", ".join(comms.get((t[0], key_kind, key_type), ()))

    def _read_communications(self, pks: list[int], chunk: list[tuple]) -> None:
        from crm.models import Communication

        self.comms.clear()
        values = Communication.objects.filter(
            AnyOf(F("object_id"), pks), content_type=ContentType.objects.get_for_model(self.model),
        ).order_by("-kind", "pk").values_list("object_id", "kind", "type", "value")
        for object_id, kind, type_, value in values:
            shown = phone_display(value) if kind == "phone" and value else value
            self.comms.setdefault((object_id, kind, type_), []).append(shown)

    def _product_rows(self) -> None:
        from deals.models import DealProduct

        names = self._table(DealProduct._meta.get_field("product").related_model)
        products = self.products

        def read(pks: list[int], chunk: list[tuple]) -> None:
            products.clear()
            # By deal first: ORDER BY pk alone made SQLite scan the whole table per chunk in pk
            # order instead of using the deal_id index. Within a deal: the pk, as the card lists them.
            rows = DealProduct.objects.filter(AnyOf(F("deal_id"), pks)).order_by("deal_id", "pk").values_list(
                "deal_id", "product_id", "price", "quantity")
            for deal_id, product_id, price, quantity in rows:
                products.setdefault(deal_id, []).append((names.get(product_id), price, quantity))

        self.chunk_work.append(read)

    def prepare_chunk(self, chunk: list[tuple]) -> None:
        for table in self.tables:
            table.load()
        pks = [t[0] for t in chunk]
        for work in self.chunk_work:
            work(pks, chunk)

    def rows_of(self, values: tuple) -> Iterable[list]:
        row = [cell(values) for cell in self.cells]
        products = self.products.get(values[0]) if self.product_columns else None
        if not products or len(products) == 1:
            return [row]
        # One file row per product row, the other cells repeated (as Bitrix24 does).
        rows = []
        for product in products:
            copy = list(row)
            for i, value in zip(self.product_columns, product, strict=True):
                copy[i] = value
            rows.append(copy)
        return rows


class TaskRows(Rows):
    """Tasks (export-only, `exports.TASK_HEADERS`): the cells `exports` wrote from a task
    instance — choices' labels, the flag and the moments as they are (the writers format them),
    the users by name, the bound records the user may see."""

    def __init__(self, user, headers: list[str]):
        from tasks_app.models import Task

        self.entity, self.user, self.model = "task", user, Task
        self.headers = headers
        self.fields = ["pk"]
        self.tables = []
        self.chunk_work = []
        self.product_columns = []
        self.products = {}
        users = self._table(get_user_model())
        user_order = ("last_name", "first_name", "pk")  # as the tasks' list names them

        def label(field: str) -> Callable[[tuple], str]:
            i = self._index(field)
            labels = {code: str(name) for code, name in Task._meta.get_field(field).flatchoices}
            return lambda t: labels.get(t[i], t[i])

        def raw(field: str) -> Callable[[tuple], Any]:
            return itemgetter(self._index(field))

        creator, responsible = self._index("creator_id"), self._index("responsible_id")
        self.cells = [
            itemgetter(0), label("kind"), raw("title"), raw("description"), label("status"), raw("is_important"),
            lambda t: users.get(t[creator]) if t[creator] is not None else None,
            lambda t: users.get(t[responsible]),
            self._many("coexecutors", users.get, order=user_order),
            self._many("observers", users.get, order=user_order),
            raw("deadline"), raw("created_at"), raw("completed_at"), raw("result"), self._bindings(),
        ]

    def _bindings(self) -> Callable[[tuple], str]:
        from tasks_app import selectors

        found: dict[int, str] = {}

        def read(pks: list[int], chunk: list[tuple]) -> None:
            # One query for the bindings and one per kind of record for the chunk.
            found.clear()
            for task_id, records in selectors.visible_bindings(self.user, pks).items():
                found[task_id] = "; ".join(f"{r._meta.verbose_name}: {r}" for r in records)

        self.chunk_work.append(read)
        return lambda t: found.get(t[0], "")
