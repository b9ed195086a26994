"""What the record lists (leads, deals, companies, contacts) share: the filter panel's widgets
(loaded after the rows for the leads and the deals), the search over a record's search column,
sortable columns and pages of ids (by the neighbouring page's key where the sort allows).

A filter set only narrows the queryset it is given; each list hands it the access-gated one, so
a filter can never widen what a user sees."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property, reduce
from operator import and_, or_
from typing import Any

import django_filters
from django import forms
from django.core.exceptions import EmptyResultSet, FieldDoesNotExist
from django.core.paginator import Page, Paginator
from django.db import connections
from django.db.models import DateTimeField, ForeignKey, IntegerField, Lookup, Model, Q, QuerySet
from django.forms.models import ModelChoiceIteratorValue
from django.utils import dateformat, formats, timezone
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _

from accounts import access
from accounts.models import Level, User
from crm import phones, tallies, textindex
from crm.duplicates import search_normalize

SEARCH_MAX_LENGTH = 100
SEARCH_MAX_WORDS = 5


def active_users() -> QuerySet[User]:
    return User.objects.filter(is_active=True).order_by("last_name", "first_name", "username")


# --- Whose records: the presets «Мои», «Мой отдел», «Все» and the responsible / department filters ---

MINE, DEPARTMENT = "mine", "department"
# The filters of whose records a list or a board shows (Owners); the record counters can answer them.
OWNER_FILTERS = ("preset", "responsible", "department")
PRESETS = {MINE: _("Мои"), DEPARTMENT: _("Мой отдел")}
ALL_LABEL = _("Все")


class Owners:
    """What the owner filters of a list or a board offer `user`, whose level for the records is
    `lvl`, and the condition they select. The filters only narrow the access-gated records, so
    an id the user may not choose selects nothing he could not see anyway.

    A department stands for itself and its sub-departments («Отдел продаж» holds the sales
    groups). «Мой отдел» is the user's department with its sub-departments, which the gate then
    cuts to what the level opens. Presets are offered only where they differ: with «Свои» all
    three are the same; with a department level «Мой отдел» is «Все»; with «Все» it is offered
    unless the user's department holds the whole company.

    Costs one query (the department tree) for a level above «Свои», whatever the filters — so a
    filtered page costs what an unfiltered one does — and one more for `user_choices`."""

    def __init__(self, user, lvl: Level):
        self.user, self.level = user, lvl
        self.children: dict[int | None, list[int]] = {}
        self.names: dict[int, str] = {}
        if lvl > Level.OWN:
            for pk, parent, name in access.departments(user):
                self.children.setdefault(parent, []).append(pk)
                self.names[pk] = name

    def subtree(self, pk: int | None) -> set[int]:
        found: set[int] = set()
        stack = [pk] if pk is not None else []
        while stack:
            node = stack.pop()
            if node not in found:
                found.add(node)
                stack.extend(self.children.get(node, []))
        return found

    @cached_property
    def my_departments(self) -> set[int]:
        return self.subtree(self.user.department_id) if self.user.department_id in self.names else set()

    def presets(self) -> list[tuple[str, str]]:
        """(value, label) of the presets worth offering, «Все» last (value ""); empty when they
        would all show the same records."""
        if self.level <= Level.OWN:
            return []
        offered = [(MINE, PRESETS[MINE])]
        if self.level == Level.ALL and self.my_departments and self.my_departments != set(self.names):
            offered.append((DEPARTMENT, PRESETS[DEPARTMENT]))
        return [*offered, ("", ALL_LABEL)]

    def department_choices(self) -> list[tuple[int, str]]:
        """The departments whose members' records the user sees; none when there is only one."""
        if self.level == Level.ALL:
            visible = set(self.names)
        elif self.level == Level.SUBDEPARTMENTS:
            visible = self.my_departments
        else:
            visible = set()
        choices = [(pk, name) for pk, name in self.names.items() if pk in visible]
        return choices if len(choices) > 1 else []

    def user_choices(self) -> QuerySet[User]:
        """The active users whose records the user may see (none to choose from with «Свои»)."""
        if self.level <= Level.OWN:
            return User.objects.none()
        if self.level == Level.ALL:
            return active_users()
        return active_users().filter(pk__in=sorted(access.owner_ids(self.user, self.level)))

    def user_labels(self) -> list[tuple[int, str]]:
        """(pk, name) of `user_choices`, by name. With a department level the access rules have
        just read these people with their names (accounts.access.people): no query more."""
        if self.level in (Level.DEPARTMENT, Level.SUBDEPARTMENTS):
            ids, known = access.owner_ids(self.user, self.level), access.people(self.user)
            if ids <= known.keys():
                return [(pk, known[pk].name) for _order, pk in sorted((known[pk].order, pk) for pk in ids
                                                                      if known[pk].is_active)]
        return [(u.pk, str(u)) for u in self.user_choices()]

    def condition(self, owner_field: str, preset: str = "", responsible: int | None = None,
                  department: int | None = None) -> Q:
        """The records whose owner (`owner_field`, e.g. "responsible") matches the filters."""
        condition = Q()
        if preset == MINE:
            condition &= Q(**{f"{owner_field}_id": self.user.pk})
        elif preset == DEPARTMENT:
            condition &= self._in_departments(owner_field, self.my_departments)
        if responsible is not None:
            condition &= Q(**{f"{owner_field}_id": responsible})
        if department is not None:
            condition &= self._in_departments(owner_field, self.subtree(department) if department in self.names else set())
        return condition

    def owner_set(self, preset: str = "", responsible: int | None = None,
                  department: int | None = None) -> set[int] | None:
        """The owners `condition` selects, as a set of user ids (crm.tallies reads the counters of
        these owners); None when the filters do not narrow the owners. One query for a
        department filter or «Мой отдел», none otherwise."""
        chosen: list[set[int]] = []
        if preset == MINE:
            chosen.append({self.user.pk})
        elif preset == DEPARTMENT:
            chosen.append(self._members(self.my_departments))
        if responsible is not None:
            chosen.append({responsible})
        if department is not None:
            chosen.append(self._members(self.subtree(department) if department in self.names else set()))
        return set.intersection(*chosen) if chosen else None

    @staticmethod
    def _members(departments: set[int]) -> set[int]:
        if not departments:
            return set()
        return set(User.objects.filter(department_id__in=sorted(departments)).values_list("pk", flat=True))

    @staticmethod
    def _in_departments(owner_field: str, departments: set[int]) -> Q:
        # A subquery, not a join: the records keep filtering on their own indexed owner column.
        members = User.objects.filter(department_id__in=sorted(departments)).values("pk")
        return Q(**{f"{owner_field}_id__in": members})


# --- Search ---

# A search matching at most this many records is answered by their ids (see `search`).
FEW_MATCHES = 1000


def search_terms(query: str) -> list[str]:
    """What a search box's `query` asks for, as the search columns store text (lower case, ё as
    е): terms that must all match. Every word is a term; a phone typed in any format is one
    term, its digits (the 10 national ones of a full
    Russian number, so the leading 8 or +7 does not matter): the columns keep phones as digits.
    [] for an empty query."""
    query = search_normalize(query)[:SEARCH_MAX_LENGTH]
    if not query:
        return []
    digits = phones.search_digits(query)
    if digits:
        # A phone's groups («8 (912) 000-00-01») are not words to look for one by one; nor is the
        # phone as typed worth a second look-up (a third of the index's time at a million leads:
        # «(91», «2) »… are in every other row) — the columns keep phones as digits.
        return [digits]
    return query.split(" ")[:SEARCH_MAX_WORDS]


def search_condition(query: str) -> Q | None:
    """Records whose search column (kept up to date by the model on save) contains every word of
    `query` (any case, ё = е), or a phone typed in any format. Words may match different fields
    («Иванов Пётр», «Ромашка Иванов»). None for an empty query. The column's index answers
    each word (crm.textindex)."""
    terms = search_terms(query)
    if not terms:
        return None
    return reduce(and_, (Q(search_text__indexed_contains=term) for term in terms))


class IdsIn(Lookup):
    """`field__ids=[…]`: the column is one of these ids, a search's probe found them (up to
    FEW_MATCHES). On PostgreSQL one array parameter (`= ANY(%s)`, the plan IN itself becomes),
    not a placeholder per id: a list of a thousand ids cost ~1.4 ms to compile and as much again
    to bind in each query reading it (the probe, the page — at 300 000 deals «Лесной» named 544
    companies, three times a page). Elsewhere a plain IN. No ids: nothing matches, no query."""

    lookup_name = "ids"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        ids = [int(pk) for pk in self.rhs]
        if not ids:
            raise EmptyResultSet
        lhs, lhs_params = self.process_lhs(compiler, connection)
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY(%s)", [*lhs_params, ids]
        return f"{lhs} IN ({', '.join(['%s'] * len(ids))})", [*lhs_params, *ids]


IntegerField.register_lookup(IdsIn)
ForeignKey.register_lookup(IdsIn)


def few_ids(queryset: QuerySet, condition: Q) -> list[int] | None:
    """The ids of the records of `queryset` matching `condition` if there are at most
    FEW_MATCHES of them (one query, in no order, so the search index answers it), else None."""
    ids = _fenced(queryset, condition)
    if ids is None:
        ids = list(queryset.filter(condition).order_by().values_list("pk", flat=True)[:FEW_MATCHES + 1])
    return ids if len(ids) <= FEW_MATCHES else None


def _fenced(queryset: QuerySet, condition: Q) -> list[int] | None:
    """`few_ids`' probe run on PostgreSQL with `condition` answered first, by its own indexes,
    and the access gate (`queryset`'s WHERE) checked on the rows it finds, up to the LIMIT; None
    where that form does not apply (another database, a join), for the probe to run as is.

    Why: for a manager (owner = 3) PostgreSQL ANDed the trigram index's bitmap with a bitmap of
    his whole owner index — 309 427 entries at a million leads, more than the rest of the probe
    (BENCHMARKS.md: «Торговый» as ivanov, 37 ms of which 21 ms that bitmap). Read in a subquery
    fenced with OFFSET 0 (the outer conditions are not pushed into it), the trigram index drives
    and the owner is a filter on the few thousand rows read until the LIMIT is reached.

    The outer query does not check `condition` again: the planner took that second check for a
    filter keeping almost nothing, planned for reading every match and, for a deal's word (its
    own column OR its companies' ids: two bitmaps), handed them to parallel workers that passed
    whole rows back — 13 of the probe's 19 ms at 300 000 deals («Лесной» as the head).

    `Alternatives` in `condition` are read one after another, each part probed so (a UNION ALL of
    the parts, each with the gate and the LIMIT; see `_branches`): the reading stops as soon as
    the LIMIT is reached, most often within the first part — the deals of the companies found,
    from the company index alone, without the deals' own trigram index (6 → 3 ms)."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    model = queryset.model
    try:
        sql, params = queryset.order_by().values_list("pk", flat=True)[:FEW_MATCHES + 1].query.sql_with_params()
    except EmptyResultSet:
        return []
    table = connection.ops.quote_name(model._meta.db_table)
    inner_from = f" FROM {table} WHERE "
    head, found, tail = sql.partition(f" FROM {table}")
    if not found or " JOIN " in sql or not tail.startswith((" WHERE ", " LIMIT ")):
        return None
    parts, parts_params = [], []
    for branch in _branches(condition):
        try:
            inner, inner_params = model._base_manager.filter(branch).order_by().values("pk").query.sql_with_params()
        except EmptyResultSet:
            continue  # this part matches nothing (no company found): the others answer
        if inner_from not in inner:
            return None
        # The subquery takes the table's name and all its columns: the outer WHERE reads them as the table's.
        inner = "SELECT *" + inner[inner.index(inner_from):]
        parts.append(f"{head} FROM ({inner} OFFSET 0) {table}{tail}")
        parts_params += [*inner_params, *params]
    if not parts:
        return []
    sql = parts[0] if len(parts) == 1 else " UNION ALL ".join(f"({part})" for part in parts) + f" LIMIT {FEW_MATCHES + 1}"
    with connection.cursor() as cursor:
        cursor.execute(sql, parts_params)
        return [pk for (pk,) in cursor.fetchall()]


class Alternatives(Q):
    """An OR whose alternatives each have an index of their own (a deal's companies found, its
    own search column): a probe reads them one after another (`_fenced`), in their order — the
    likeliest to fill its LIMIT first. It matches what the OR matches. Made by `alternatives`."""


def alternatives(*conditions: Q) -> Q:
    return Alternatives(*conditions, _connector=Q.OR)


def _branches(condition: Q) -> list[Q]:
    """`condition` as parts that together match what it matches, each row in one part only: its
    Alternatives (itself, or the first among an AND's conditions, the others kept in every part),
    each without those before it (`A | B` → `A`, `B & ~A`). Anything else: itself."""
    found, rest = (condition, []) if condition.connector == Q.OR else (None, [])
    if condition.connector == Q.AND:
        for i, child in enumerate(condition.children):
            if isinstance(child, Alternatives) and child.connector == Q.OR:
                found, rest = child, condition.children[:i] + condition.children[i + 1:]
                break
    if not isinstance(found, Alternatives) or condition.negated or found.negated or len(found.children) < 2:
        return [condition]
    branches = []
    for i, alternative in enumerate(found.children):
        branch = Q(alternative, *rest)
        for before in found.children[:i]:
            branch &= ~Q(before)
        branches.append(branch)
    return branches


# One whole e-mail address (one word, one «@», a dot in the domain).
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def email_condition(query: str, fields: Iterable[str]) -> Q | None:
    """Records having `query` as one of their e-mails (`fields`, columns kept lower-case and
    indexed) when `query` is one whole e-mail address; None otherwise."""
    email = query.strip().lower()
    if not fields or not _EMAIL.fullmatch(email):
        return None
    return reduce(or_, (Q(**{field: email}) for field in fields))


def search(queryset: QuerySet, condition: Q | None, exact: Q | None = None) -> Q | None:
    """`condition` (a search_condition) for the records of `queryset`, in the form the database
    answers fast: the matching ids when there are few of them (one query, here), the condition
    itself otherwise. See `search_matches`."""
    return search_matches(queryset, condition, exact)[0]


def search_matches(queryset: QuerySet, condition: Q | None, exact: Q | None = None) -> tuple[Q | None, int | None]:
    """`search`'s condition, and how many records of `queryset` match it when they are at most
    FEW_MATCHES (the probe's ids counted: a list needs no COUNT of its own, so a search costs the
    same queries whether it finds few records or many); None when more match, or for no search.

    Why: a list shows the newest matches first. PostgreSQL cannot estimate how many rows a
    `LIKE '%…%'` matches (it assumes ~0.01 %), so at a million leads it walked the whole date index
    for the one lead with that phone (1.3 s) instead of asking the trigram index. Asked without an
    order, the index answers; a list of ids is then sorted exactly. When the matches are many,
    walking the newest records finds a page of them soon (crm.textindex.for_many).

    `exact` (an email_condition) is tried first: the records it finds by their e-mail columns'
    btree indexes are the answer (the trigram probe of a whole address cost 30 ms at a million
    leads). Only when it finds none is the search column asked, so an address that is no record's
    e-mail is still found inside a title, a comment or a longer address."""
    if condition is None:
        return None, None
    if exact is not None:
        ids = few_ids(queryset, exact)
        if ids:
            return Q(pk__ids=ids), len(ids)
    ids = few_ids(queryset, condition)
    return (textindex.for_many(condition), None) if ids is None else (Q(pk__ids=ids), len(ids))


# --- What feature apps add to the records' lists and boards ---
# A feature app (tasks: the state of a record's next touch and the filter «Дела») registers here
# when it is ready, so leads and deals show and filter by it without importing the app.

@dataclass(frozen=True)
class Mark:
    """A short state shown on a record's row or board card."""

    text: str
    css: str = ""  # e.g. "text-danger"
    title: str = ""
    testid: str = ""


# (model, ids of a page) → {id: Mark}: one query for the whole page or board.
MarksFunc = Callable[[type[Model], list[int]], dict[int, Mark]]
_marks: list[MarksFunc] = []


def register_marks(func: MarksFunc) -> MarksFunc:
    if func not in _marks:
        _marks.append(func)
    return func


def add_marks(records: list) -> None:
    """Set `record.marks` (a list of Mark) and `record.mark` (the first, or None: a board card
    prints one without a loop) on each of `records` (all of one model), with one query per
    registered app for all of them, whatever their number of tasks."""
    if not records:
        return
    for record in records:
        record.marks = []
        record.mark = None
    ids = [r.pk for r in records]
    for func in _marks:
        found = func(type(records[0]), ids)
        for record in records:
            if record.pk in found:
                record.marks.append(found[record.pk])
                record.mark = record.mark or found[record.pk]


@dataclass(frozen=True)
class RecordFilter:
    """A filter a feature app adds to the lists and boards of some records: a GET parameter
    `name` chosen among `choices` ((value, label); "" — not filtered — is `empty` on a board's
    bar, which has no labels, and «Все» in a list's filter panel), which
    `condition(model, value)` turns into a condition on the records."""

    name: str
    label: Any
    empty: Any
    choices: tuple[tuple[str, Any], ...]
    condition: Callable[[type[Model], str], Q]
    models: frozenset[str]  # the model labels it applies to («leads.lead»)

    def applies(self, model: type[Model]) -> bool:
        return model._meta.label_lower in self.models


_record_filters: dict[str, RecordFilter] = {}


def register_filter(record_filter: RecordFilter) -> RecordFilter:
    _record_filters[record_filter.name] = record_filter
    return record_filter


def record_filters(model: type[Model] | None = None) -> list[RecordFilter]:
    """The registered filters (those applying to `model`, when given)."""
    return [f for f in _record_filters.values() if model is None or f.applies(model)]


def apply_record_filter(queryset: QuerySet, name: str, value: str) -> QuerySet:
    record_filter = _record_filters[name]
    if not value or not record_filter.applies(queryset.model):
        return queryset
    return queryset.filter(record_filter.condition(queryset.model, value))


@dataclass(frozen=True)
class LinkFilter:
    """A filter a feature app's links narrow a list by, with a free value (a report's drill-down:
    «the leads that reached «Выход на ЛПР» in October» — a state and two dates, not a choice).
    `describe(value)` checks the value — raising ValidationError with the reason — and says what it
    selects, for the chip the list shows while it is set (a user must see why the list is
    narrowed); `condition(model, value)` turns it into a condition on the records. The panel does
    not offer it (a link sets it) and the boards do not know it: they show no chips."""

    name: str
    label: Any
    describe: Callable[[str], str]
    condition: Callable[[type[Model], str], Q]
    models: frozenset[str]
    max_length: int = 100

    def applies(self, model: type[Model]) -> bool:
        return model._meta.label_lower in self.models


_link_filters: dict[str, LinkFilter] = {}


def register_link_filter(link_filter: LinkFilter) -> LinkFilter:
    _link_filters[link_filter.name] = link_filter
    return link_filter


def link_filters(model: type[Model]) -> list[LinkFilter]:
    return [f for f in _link_filters.values() if f.applies(model)]


def _link_filter_field(link_filter: LinkFilter) -> django_filters.CharFilter:
    def described(value: str) -> None:
        link_filter.describe(value)

    return django_filters.CharFilter(
        label=link_filter.label, max_length=link_filter.max_length, widget=forms.HiddenInput,
        validators=[described],
        method=lambda queryset, name, value: queryset.filter(link_filter.condition(queryset.model, value)))


# --- The filter panel ---

class DateInput(forms.DateInput):
    """A browser date picker. Its value is always ISO (YYYY-MM-DD) whatever the locale, and
    Django's date fields accept ISO input in every locale; «01.02.2026» typed by hand works too."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class DateRangeWidget(django_filters.widgets.DateRangeWidget):
    """«с … по …» as two date pickers in one input group."""

    template_name = "crm/_daterange.html"

    def __init__(self, attrs=None):
        super().__init__(attrs)
        self.widgets = [DateInput(attrs=dict(w.attrs)) for w in self.widgets]


def listed_choices(field: forms.ModelChoiceField) -> list:
    """A select's choices (the empty and «не выбрано» ones first), read with one plain query.
    Left to itself a ModelChoiceField reads its choices with `.iterator()` — on PostgreSQL a
    server-side cursor, four round trips per select: at a million leads the five selects of the
    leads' filter panel cost more than the list's own queries."""
    choices = [] if field.empty_label is None else [("", field.empty_label)]
    if getattr(field, "null_label", None) is not None:  # django-filter's «не выбрано»
        choices.append((field.null_value, field.null_label))
    choices += [(ModelChoiceIteratorValue(field.prepare_value(obj), obj), field.label_from_instance(obj))
                for obj in field.queryset]
    return choices


def panel_widget(field) -> str:
    """A bound field of the filter panel as HTML. A select is rendered by Django once for the
    same choices, value and attributes, then reused: its options, a template each, were most of
    the panel's cost, and the panel is the same on every page of a list."""
    widget = field.field.widget
    if type(widget) is not forms.Select:
        return str(field)
    key = (field.html_name, field.auto_id, tuple(sorted((k, str(v)) for k, v in widget.attrs.items())),
           field.field.required, field.field.disabled, bool(field.errors), str(field.value() or ""),
           tuple((str(value), str(label)) for value, label in widget.choices))
    return _rendered(key, field)


_panel_cache: dict = {}


def _rendered(key: tuple, field) -> str:
    html = _panel_cache.get(key)
    if html is None:
        if len(_panel_cache) > 1000:  # a few selects × their values; bounded all the same
            _panel_cache.clear()
        html = _panel_cache[key] = str(field)
    return html


class ListFilterSet(django_filters.FilterSet):
    """A list's filters styled for the filter panel (crm/_list_filters.html), with the search box
    `q` (method="filter_search") searching by `search_condition`."""

    search_condition = staticmethod(search_condition)
    # The records' e-mail columns (lower-case, indexed): a whole address is looked up there exactly.
    email_fields: tuple[str, ...] = ()
    many_matches = False  # set by the search: more than FEW_MATCHES records match it
    search_found: int | None = None  # set by the search: how many records match it, when few

    def __init__(self, *args, panel: bool = True, **kwargs):
        """`panel=False`: the panel is not shown (the page loads it afterwards, crm.lists.panel_context):
        its selects' choices are not read — a chosen value is still validated, by its own query."""
        self.panel = panel
        super().__init__(*args, **kwargs)
        self.prepare_filters()
        self.prepare_form(self.form.fields)
        for field in self.form.fields.values():
            if panel and isinstance(field, forms.ModelChoiceField) and not field.widget.is_hidden:
                # Django's own setter: django-filter's would wrap the list in its iterator again.
                forms.ChoiceField.choices.fset(field, listed_choices(field))
        # Styling reads the form's errors, which validates it: the choices must be final by now.
        for name, field in self.form.fields.items():
            widget = field.widget
            if isinstance(widget, forms.CheckboxSelectMultiple):
                widget.attrs["class"] = "btn-check"
            elif isinstance(widget, forms.Select):
                widget.attrs["class"] = "form-select form-select-sm"
            elif isinstance(widget, forms.MultiWidget):
                for sub, part in zip(widget.widgets, (_("с"), _("по")), strict=True):
                    sub.attrs["class"] = "form-control form-control-sm"
                    sub.attrs["aria-label"] = f"{field.label}: {part}"
            else:
                widget.attrs["class"] = "form-control"
            if self.is_bound and name in self.form.errors:
                for part in getattr(widget, "widgets", None) or [widget]:
                    part.attrs["class"] = part.attrs.get("class", "") + " is-invalid"

    def prepare_filters(self) -> None:
        """Adjust the filters before their form exists: add those feature apps registered for
        this list's records (crm.lists.register_filter)."""
        for record_filter in record_filters(self._meta.model):
            name = record_filter.name
            extra = django_filters.ChoiceFilter(
                # The panel labels the field: its empty choice is just «Все» (the boards' names the field).
                label=record_filter.label, choices=list(record_filter.choices), empty_label=ALL_LABEL,
                method=lambda queryset, field, value: apply_record_filter(queryset, field, value))
            extra.field_name = name
            extra.parent = self
            extra.model = self._meta.model
            self.filters[name] = extra
        for link_filter in link_filters(self._meta.model):
            extra = _link_filter_field(link_filter)
            extra.field_name = link_filter.name
            extra.parent = self
            extra.model = self._meta.model
            self.filters[link_filter.name] = extra

    def loaded(self, name: str) -> dict[int, Model]:
        """The objects the panel's select `name` read for its choices, by pk (crm.lists.attach);
        none when the panel is not shown (its choices are not read)."""
        if not self.panel:
            return {}
        return {value.instance.pk: value.instance for value, _label in self.form.fields[name].choices
                if isinstance(value, ModelChoiceIteratorValue)}

    def chips(self) -> list[tuple[str, str]]:
        """The filters set now (the search box aside), as (label, value) for the panel's
        placeholder: what the list is narrowed by is seen before the panel loads."""
        if not self.is_bound or not hasattr(self.form, "cleaned_data"):
            return []
        chips = []
        for name, value in self.form.cleaned_data.items():
            field = self.form.fields[name]
            if name == "q" or not _is_set(value) or field.widget.is_hidden:
                continue
            chips.append((str(field.label), _chip_text(field, value)))
        return chips

    def record_filter_fields(self) -> list:
        """The bound fields of the registered filters (for the filter panel)."""
        return [self.form[f.name] for f in record_filters(self._meta.model) if f.name in self.form.fields]

    def link_filter_chips(self) -> list[dict]:
        """The link filters set (crm.lists.LinkFilter) with a valid value, as the panel's chips:
        the field's name and value (kept in the panel's form), what it selects and the URL of
        the list without it."""
        if not self.is_bound:
            return []
        self.errors  # noqa: B018 — validates the form: only valid values are shown as applied
        chips = []
        for link_filter in link_filters(self._meta.model):
            value = self.form.cleaned_data.get(link_filter.name)
            if value:
                query = self.request.GET.copy()
                for dropped in (link_filter.name, "page"):
                    query.pop(dropped, None)
                chips.append({"name": link_filter.name, "value": value, "label": link_filter.label,
                              "text": link_filter.describe(value),
                              "remove_url": f"?{query.urlencode()}" if query else "?"})
        return chips

    def prepare_form(self, fields: dict[str, forms.Field]) -> None:
        """Adjust the form's fields before it is validated."""

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return self.searched(queryset, *search_matches(queryset, self.search_condition(value),
                                                       email_condition(value, self.email_fields)))

    def searched(self, queryset: QuerySet, condition: Q | None, found: int | None) -> QuerySet:
        """`queryset` narrowed by a search_matches answer, which the list's count then reads."""
        self.many_matches, self.search_found = condition is not None and found is None, found
        return queryset if condition is None else queryset.filter(condition)

    def search_count(self) -> int | None:
        """How many records the list shows when the search alone narrows it and found few: the
        probe's ids, counted already. None otherwise (the list counts, or says «более …»)."""
        self.qs  # noqa: B018 — runs the filters, the search's probe among them
        return self.search_found if not self.active_count else None

    def more_than(self) -> int | None:
        """FEW_MATCHES when the search already found more than that many records and no other
        filter narrows them (the search is applied first, to the access-gated records): the list
        then says «более 1 000» instead of counting tens of thousands of matches. None otherwise."""
        self.qs  # noqa: B018 — runs the filters, the search's probe among them
        return FEW_MATCHES if self.many_matches and not self.active_count else None

    @property
    def active_count(self) -> int:
        """How many filters (the search box aside) narrow the list now: shown on the phone's
        «Фильтры» button, whose panel is folded."""
        if not self.is_bound or not hasattr(self.form, "cleaned_data"):
            return 0
        return sum(_is_set(value) for name, value in self.form.cleaned_data.items() if name != "q")


class OwnedListFilterSet(ListFilterSet):
    """A list of records with an owner (`owner_field`): the presets «Мои», «Мой отдел», «Все» and
    the department filter, offered as on the boards (crm.lists.Owners). `owner_levels(user)` says
    the levels the user has for these records (deals: one per pipeline); the highest one counts."""

    owner_field = "responsible"

    preset = django_filters.ChoiceFilter(label=_("Чьи"), choices=[], method="filter_owners", empty_label=ALL_LABEL)
    department = django_filters.ChoiceFilter(label=_("Отдел"), choices=[], method="filter_owners",
                                             empty_label=_("любой"))

    def owner_levels(self, user) -> list[Level]:
        raise NotImplementedError

    def prepare_form(self, fields) -> None:
        super().prepare_form(fields)
        user = self.request.user
        self.owners = Owners(user, max(self.owner_levels(user), default=Level.NONE))
        fields["preset"].choices = [(v, label) for v, label in self.owners.presets() if v]
        fields["department"].choices = self.owners.department_choices()

    def owner_fields(self) -> list:
        """The bound fields of the owner filters the user is offered (for the filter panel)."""
        offered = {"preset": self.owners.presets(), "department": self.owners.department_choices()}
        return [self.form[name] for name, choices in offered.items() if choices]

    # The filters the tallies count by (crm.tallies: per owner × column): those of whose records;
    # a subclass maps its own (a status, a pipeline) in `tally_args`.

    def tally_args(self, data: dict) -> dict | None:
        """The tallies' `columns` / `scope` for the filters named in the returned dict's "fields"
        (e.g. the leads' statuses); None when a value cannot be counted by the tallies."""
        return {"fields": ()}

    def tally_count(self) -> int | None:
        """How many records the list shows, read from the tallies, when no filter but those they
        count by is set — or the search's few matches (search_count); None otherwise (the list
        then counts, capped: crm.lists.page_of_ids)."""
        found = self.search_count()
        if found is not None:
            return found
        data = {}
        if self.is_bound:
            self.errors  # noqa: B018 — validates the form: only valid values filter
            data = self.form.cleaned_data
        args = self.tally_args(data)
        if args is None:
            return None
        counted = {*OWNER_FILTERS, *args.pop("fields")}
        if any(_is_set(value) for name, value in data.items() if name not in counted):
            return None
        owners = None
        if any(_is_set(data.get(name)) for name in OWNER_FILTERS):
            responsible, department = data.get("responsible"), data.get("department")
            owners = self.owners.owner_set(data.get("preset") or "", getattr(responsible, "pk", responsible),
                               int(department) if department else None)
        return known_count(self.request.user, self._meta.model, owners=owners, **args)

    def filter_owners(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        # The value is one of the choices (the form checked it): a department is an id.
        value = int(value) if name == "department" else value
        return queryset.filter(self.owners.condition(self.owner_field, **{name: value}))


def _chip_text(field: forms.Field, value) -> str:
    if isinstance(value, slice):  # a date range: datetimes from the start of the first day
        start, stop = (formats.date_format(v, "SHORT_DATE_FORMAT") if v else "" for v in (value.start, value.stop))
        return " ".join(part for part in (start and _("с %(date)s") % {"date": start},
                                          stop and _("по %(date)s") % {"date": stop}) if part)
    if isinstance(value, Model):
        return field.label_from_instance(value)
    if value == getattr(field, "null_value", None) and getattr(field, "null_label", None):
        return str(field.null_label)
    labels = {str(key): str(label) for key, label in getattr(field, "choices", ()) if not isinstance(label, list)}
    values = value if isinstance(value, (list, tuple)) else [value]
    return ", ".join(labels.get(str(v), str(v)) for v in values)


def _is_set(value) -> bool:
    if isinstance(value, slice):  # a date range
        return value.start is not None or value.stop is not None
    return value not in (None, "", [], ())


def filtering(request) -> bool:
    # Sorting or paging alone is not filtering: the page then says «пока нет», not «не найдено».
    return any(key not in ("sort", "page", AFTER, BEFORE, PANEL) for key in request.GET)


# The leads' and deals' lists show the rows first and load their filter panel afterwards (htmx,
# the list's URL with ?panel=1): its selects — the sources, the users, the references, the
# statuses, the date pickers — were a third of the page at a million records, and the same on
# every page of the list. The page shows a placeholder with the filters set (ListFilterSet.chips);
# without JS its link opens the list with the panel in place.
PANEL = "panel"


def panel_asked(request) -> bool:
    """Whether the request asks for the filter panel (then it is shown, or sent alone to htmx)."""
    return request.GET.get(PANEL) == "1"


def panel_only(request) -> bool:
    """Whether htmx asks for the filter panel alone (crm/_filter_panel.html), not the page."""
    return panel_asked(request) and bool(getattr(request, "htmx", False))


def panel_context(request, filterset: ListFilterSet, select_fields: list, range_fields: list,
                  extra: str = "") -> dict:
    """What the filter panel (crm/_filter_panel.html) shows; the page shows only its placeholder
    (`panel_url`, the chips) unless the panel was asked for. `extra`: a template of the list's own
    filters on top of the panel (the leads' statuses)."""
    panel = {"select_fields": select_fields, "range_fields": range_fields, "panel_extra": extra}
    if not filterset.panel:  # the placeholder: the fields are only counted (crm/_filter_placeholder.html)
        query = request.GET.copy()
        query[PANEL] = "1"
        return {**panel, "panel_url": f"{request.path}?{query.urlencode()}", "chips": filterset.chips()}
    return {**panel, "panel_inline": panel_asked(request)}


# --- Sorting ---

@dataclass(frozen=True)
class Sorting:
    """A list's sortable columns: the key in the URL → the columns to order by. Unknown keys
    fall back to `default`; the keys in `desc_first` sort the biggest/newest first on a first click."""

    orders: dict[str, tuple[str, ...]]
    default: str
    desc_first: frozenset[str] = frozenset()

    def parse(self, raw: str | None) -> str:
        raw = (raw or "").strip()
        return raw if raw.lstrip("-") in self.orders and raw.count("-") <= 1 else self.default

    def apply(self, queryset: QuerySet, sort: str) -> QuerySet:
        """Order by a validated key (see parse); the primary key breaks ties so that a page
        never repeats or skips a row."""
        prefix = "-" if sort.startswith("-") else ""
        return queryset.order_by(*(prefix + f for f in self.orders[sort.lstrip("-")]), prefix + "pk")

    def next(self, current: str, key: str) -> str:
        """What clicking the header of `key` sorts by: the other direction if it is sorted by it now."""
        if current == key:
            return "-" + key
        if current == "-" + key:
            return key
        return "-" + key if key in self.desc_first else key

    def headers(self, columns, sort: str) -> list[dict]:
        """The table's headers from (sort key or None, label, CSS classes) triples."""
        result = []
        for key, label, css in columns:
            direction = ""
            if key and sort.lstrip("-") == key:
                direction = "desc" if sort.startswith("-") else "asc"
            result.append({"key": key, "label": label, "css": css, "direction": direction,
                           "next": self.next(sort, key) if key else ""})
        return result


# --- Pages ---

# An unknown count is counted only this far (and as far as the page asked for): past it the
# list says «более 10 000». Counting a filtered million costs what the page itself does not.
COUNT_CAP = 10_000


def known_count(user, model: type[Model], *, owners: set[int] | None = None, scope: int | None = None,
                columns=None) -> int | None:
    """How many records `user` may see, from the tallies (crm.tallies.visible_count), or None
    when they cannot tell."""
    return tallies.visible_count(user, model, owners=owners, scope=scope, columns=columns)


class ListPaginator(Paginator):
    """A paginator told its count (`count`, e.g. from the tallies) or told that the count is
    only a lower bound (`capped`: there are more rows than `count`, how many is not known)."""

    def __init__(self, object_list, per_page, *, count: int, capped: bool = False):
        super().__init__(object_list, per_page)
        self.count = count  # shadows the cached property: never a COUNT(*) of its own
        self.capped = capped

    def page(self, number) -> Page:
        """Paginator.page, but a page nearer the end than the start is read from the end (the
        order reversed, a smaller offset, the rows turned back): the last page, which the page
        links always offer, costs what the first does, not a walk over the whole list."""
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = min(bottom + self.per_page, self.count)
        if self.capped or self.count - top >= bottom or not isinstance(self.object_list, QuerySet):
            return self._get_page(self.object_list[bottom:top], number, self)
        # The list is ordered (crm.lists.Sorting ends with the pk): reversed, it is the same rows.
        rows = list(self.object_list.reverse()[self.count - top:self.count - bottom])
        return self._get_page(rows[::-1], number, self)


def _page_number(request) -> int:
    raw = request.GET.get("page") or ""
    return int(raw) if raw.isascii() and raw.isdigit() and 0 < int(raw) < 10**9 else 1


def page_of_ids(request, queryset: QuerySet, per_page: int, *, count: int | None = None,
                more_than: int | None = None) -> Page:
    """A page of the ids of `queryset`. get_page: a page number that is not a number gives the
    first page, one past the end the last. The pages are of ids: a deep page skips its offset over
    the narrow index, not over joined rows, and only the rows shown are then read (rows_of).

    `count` is used as is when known in advance (the tallies' count of an unfiltered list).
    Otherwise the rows are counted up to COUNT_CAP — or up to the asked page, if deeper — and
    one more: a list with more says «более …», offers the pages counted and «Вперёд», never a
    last page it does not know.

    `more_than`: the rows are known to be more than that (a broad search's probe,
    ListFilterSet.more_than): a page within them is shown capped at it, with no count at all."""
    ids = queryset.values_list("pk", flat=True)
    capped = False
    if count is None and more_than is not None and _page_number(request) * per_page <= more_than:
        count, capped = more_than + 1, True
    if count is None:
        limit = max(COUNT_CAP, _page_number(request) * per_page) + 1
        # Unordered: any `limit` rows will do, the database takes the cheapest.
        count = queryset.order_by().values("pk")[:limit].count()
        capped = count == limit  # more than limit - 1 («более 10 000»): page 201 has rows
    paginator = ListPaginator(ids, per_page, count=count, capped=capped)
    key = _keyset(queryset)
    number = _page_number(request)
    rows = _next_to_cursor(request, ids, key, per_page) if key and 1 < number <= paginator.num_pages else None
    page = paginator.get_page(request.GET.get("page")) if rows is None else paginator._get_page(rows, number, paginator)
    page.keyset_field = key[0] if key else None
    page.next_cursor = page.previous_cursor = None  # set_cursors, once the rows are read
    return page


# Page N is read after the boundary key of page N - 1 (or before that of page N + 1) when the page
# links carry it (set_cursors): from the index, where an OFFSET walks over every row before it.
# A page number without a key (a far page, a link from elsewhere) is read by its OFFSET over the
# narrow index of ids (ListPaginator). Lists sorted by a date (created, changed) have keys.
AFTER, BEFORE = "after", "before"
_EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


def _keyset(queryset: QuerySet) -> tuple[str, bool] | None:
    """(field, descending) when `queryset` is ordered by one non-null date-time column of its own
    and then the primary key in the same direction (crm.lists.Sorting); None otherwise."""
    order = queryset.query.order_by
    if len(order) != 2 or not all(isinstance(part, str) for part in order):
        return None
    first, second = order
    descending, name = first.startswith("-"), first.lstrip("-")
    if second != ("-pk" if descending else "pk") or "__" in name:
        return None
    try:
        field = queryset.model._meta.get_field(name)
    except FieldDoesNotExist:
        return None
    if not isinstance(field, DateTimeField) or field.null:
        return None
    return name, descending


def _cursor(record, field: str) -> str:
    return f"{(getattr(record, field) - _EPOCH) // dt.timedelta(microseconds=1)}_{record.pk}"


def _parse_cursor(raw: str) -> tuple[dt.datetime, int] | None:
    """`<microseconds since 2000>_<pk>`; None when it is not one (a tampered link: the page is
    then read by its number)."""
    micro, sep, pk = raw.partition("_")
    if not sep or not pk.isascii() or not pk.isdigit() or not micro.lstrip("-").isascii() \
            or not micro.lstrip("-").isdigit() or len(micro) > 20 or int(pk) >= 2**63:
        return None
    try:
        return _EPOCH + dt.timedelta(microseconds=int(micro)), int(pk)
    except OverflowError:
        return None


def _next_to_cursor(request, ids: QuerySet, key: tuple[str, bool], per_page: int) -> list | None:
    """The ids of the page right after the GET's `after` key (or right before its `before` key)
    in the list's order; None when the request carries no valid key."""
    field, descending = key
    for param, forward in ((AFTER, True), (BEFORE, False)):
        cursor = _parse_cursor(request.GET.get(param) or "")
        if cursor is None:
            continue
        value, pk = cursor
        # «Past the key» as a range on the date (which the (date, id) index serves) minus the key's
        # own instant's ids up to it: an OR of the two would not use the index.
        later = descending != forward  # the rows wanted have later dates than the key
        rows = ids.filter(**{f"{field}__{'gte' if later else 'lte'}": value}).exclude(
            **{field: value, f"pk__{'lte' if later else 'gte'}": pk})
        if forward:
            return list(rows[:per_page])
        return list(rows.reverse()[:per_page])[::-1]
    return None


def set_cursors(page: Page, rows: list) -> None:
    """The keys the links to the neighbouring pages carry (crm/_pagination.html): the last row's
    for the next page, the first row's for the previous one (not for page 1: it is read as it is)."""
    field = getattr(page, "keyset_field", None)
    if not field or not rows:
        return
    if page.has_next():
        page.next_cursor = _cursor(rows[-1], field)
    if page.number > 2:
        page.previous_cursor = _cursor(rows[0], field)


def rows_of(queryset: QuerySet, page: Page) -> list:
    """The page's records in the page's order (read from `queryset`, with its related objects)."""
    rows = queryset.in_bulk(list(page.object_list))
    return [rows[pk] for pk in page.object_list if pk in rows]


def attach(rows: list, field: str, known: dict[int, Model]) -> None:
    """Set each row's foreign key `field` to its object from `known` (pk → object: what the
    filter panel's select read already, ListFilterSet.loaded), reading only those missing there
    (an inactive source, a former employee) in one query. A join per reference list in the page's
    query cost more to plan at a million rows than the rows cost to read."""
    if not rows:
        return
    foreign_key = rows[0]._meta.get_field(field)
    attname = foreign_key.attname
    missing = {getattr(row, attname) for row in rows} - known.keys() - {None}
    if missing:
        known = {**known, **foreign_key.related_model._base_manager.in_bulk(sorted(missing))}
    for row in rows:
        value = getattr(row, attname)
        if value in known:
            setattr(row, field, known[value])


def page_links(page: Page) -> list:
    """The page numbers to link (Paginator.ELLIPSIS between the runs). With a capped count the
    last page is not known: the links end with the pages counted and «…»."""
    paginator = page.paginator
    links = list(paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1))
    if getattr(paginator, "capped", False):
        # The last «page» is only where the counting stopped: cut it, and the run before it
        # that is not next to this page.
        while links and links[-1] != paginator.ELLIPSIS and links[-1] > page.number + 2:
            links.pop()
        if links and links[-1] != paginator.ELLIPSIS:
            links.append(paginator.ELLIPSIS)
    return links


def total_text(page: Page) -> str:
    """How many rows were found, for «Найдено …: N»: «более 10 000» when the count is capped."""
    paginator = page.paginator
    if getattr(paginator, "capped", False):
        return _("более %(count)s") % {"count": number_format(paginator.count - 1, force_grouping=True)}
    return str(paginator.count)


# Django's date-format letters a row's date uses, as strftime's (a format with others is left to Django).
_STRFTIME = {"d": "%d", "m": "%m", "Y": "%Y", "y": "%y", "H": "%H", "i": "%M"}


def date_texts(django_format: str) -> Callable:
    """A function formatting a date or a moment (in the user's time zone) as the `date` filter
    with `django_format` would (`get_format("SHORT_DATE_FORMAT")`, "H:i") — by strftime when the
    format is plain day, month, year, hours, minutes (Russian «d.m.Y», English «m/d/Y»): the filter
    costs ~40 µs a value and a list page shows a hundred."""
    if not all(ch in _STRFTIME or not ch.isalpha() and ch != "\\" for ch in django_format):
        return lambda value: dateformat.format(_local(value), django_format) if value else ""
    pattern = "".join(_STRFTIME.get(ch, ch.replace("%", "%%")) for ch in django_format)
    return lambda value: _local(value).strftime(pattern) if value else ""


def _local(value):
    return timezone.localtime(value) if isinstance(value, dt.datetime) else value


def list_context(filterset: ListFilterSet, page: Page, sorting: Sorting, sort: str, columns, rows=None) -> dict:
    """The context the shared parts of a list need; `rows` (the page's records) give the page
    links their keys (set_cursors)."""
    if rows is not None:
        set_cursors(page, rows)
    return {
        "filter": filterset,
        "form": filterset.form,
        "page": page,
        "total": page.paginator.count,
        "total_text": total_text(page),
        "page_range": page_links(page),
        "sort": sort,
        "default_sort": sorting.default,
        "columns": sorting.headers(columns, sort),
    }
