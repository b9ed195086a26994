"""Selectors are the only readers (issue 7 §4, ARCHITECTURE «Selectors are the only readers»).

Two static checks over the apps' code. First, a view, admin, template tag, form, filter or any other
module that builds a queryset of a CRM record — `Lead.objects…`, `Deal.objects…`,
`Company.objects…`, `Contact.objects…`, or a reverse manager such as `company.deals.all()` —
fails this test unless it is one of the modules whose job that is: selectors (readers), services
(writers), the access gate, models, demo data, defaults, migrations and management commands.

Such a module asks `<app>/selectors.py` instead, whose querysets start at `accounts.access`.
Second, the admin, which builds its querysets implicitly (ModelAdmin.get_queryset reads the
model's default manager): every ModelAdmin of a CRM record must define get_queryset through the
gate (accounts.access or a selector).
"""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib import admin

ROOT = Path(settings.BASE_DIR)

# The CRM records: what the access gate guards (models with `access_entity`).
CRM_MODELS = frozenset({"Lead", "Deal", "Company", "Contact"})
# Related managers that reach CRM records from another record or a user.
REVERSE_MANAGERS = frozenset({"leads", "deals", "companies", "contacts"})
QUERYSET_METHODS = frozenset({
    "all", "filter", "exclude", "get", "first", "last", "order_by", "values", "values_list", "count",
    "exists", "in_bulk", "select_related", "prefetch_related", "annotate", "aggregate", "iterator",
    "only", "defer", "distinct", "latest", "earliest", "get_queryset", "alias", "union",
})
MANAGERS = frozenset({"objects", "_default_manager", "_base_manager"})
# Modules whose job is to read or write records, by file name, and folders of tools that run
# outside any request.
READER_FILES = frozenset({"selectors.py", "services.py", "access.py", "models.py", "demo.py", "defaults.py"})
SKIPPED_DIRS = frozenset({"migrations", "management", "tests", "templates", "static", "__pycache__"})

# Unavoidable, with the reason.
ALLOWED: set[tuple[str, str]] = {
    # The stage-requirement checker asks whether a deal has any contact at all: it shows nothing,
    # and must count every contact whoever moves the deal.
    ("deals/requirements.py", ".contacts.all()"),
    # The sources' rollups are counters of every record (as crm.tallies' are): their writer reads
    # the rows it counts — a lead's key, its deals — whoever writes, with no access gate.
    ("analytics/source_counts.py", "Lead._base_manager"),
    ("analytics/source_counts.py", "Deal._base_manager"),
    # The recount of a deal stage's closed marks locks the rows of the deals it recounts, as their
    # writers do (deals.services), whoever's they are; it reads nothing of them but their ids.
    ("analytics/history.py", "Deal._base_manager"),
}


def project_apps() -> list[Path]:
    """The project's own apps (not Django's or third-party ones)."""
    paths = []
    for config in apps.get_app_configs():
        path = Path(config.path).resolve()
        if ROOT in path.parents and ".venv" not in path.parts and "tests" not in path.relative_to(ROOT).parts:
            paths.append(path)
    return sorted(set(paths))


def checked_files() -> list[Path]:
    files = []
    for app in project_apps():
        for path in sorted(app.rglob("*.py")):
            rel = path.relative_to(app)
            if SKIPPED_DIRS & set(rel.parts[:-1]) or path.name in READER_FILES:
                continue
            files.append(path)
    return files


def _is_empty_queryset(node: ast.Attribute, parents: dict) -> bool:
    """`Model.objects.none()`: a form field's placeholder filled later from a selector; it reads
    nothing."""
    parent = parents.get(node)
    return isinstance(parent, ast.Attribute) and parent.attr == "none"


def findings_in(path: Path) -> list[tuple[str, str]]:
    """(file, what) for every queryset of a CRM record built in `path`; `what` names the
    expression without its line number, so an allow-list entry survives unrelated edits."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    rel = str(path.relative_to(ROOT))
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute):
            continue
        # Lead.objects…, Deal._default_manager…
        if node.attr in MANAGERS and isinstance(node.value, ast.Name) and node.value.id in CRM_MODELS:
            if not _is_empty_queryset(node, parents):
                found.append((rel, f"{node.value.id}.{node.attr}"))
        # company.deals.all(), request.user.leads.filter(…)
        if (node.attr in QUERYSET_METHODS and isinstance(node.value, ast.Attribute)
                and node.value.attr in REVERSE_MANAGERS):
            found.append((rel, f".{node.value.attr}.{node.attr}()"))
    return found


def all_findings() -> set[tuple[str, str]]:
    return {finding for path in checked_files() for finding in findings_in(path)}


def test_it_checks_the_project_apps_views_and_admins():
    """The walk finds the modules it is about (a wrong root would pass silently)."""
    names = {str(p.relative_to(ROOT)) for p in checked_files()}
    assert {"leads/views.py", "deals/views_board.py", "clients/views.py", "leads/admin.py"} <= names
    assert "leads/selectors.py" not in names and not any("migrations" in n for n in names)


def test_it_finds_a_queryset_built_in_a_view(tmp_path, monkeypatch):
    """The detector itself: both forms of reading past the selectors are caught."""
    module = tmp_path / "views.py"
    module.write_text("def v(request, company):\n"
                      "    a = Lead.objects.filter(pk=1)\n"
                      "    b = company.deals.all()\n"
                      "    c = Company.objects.none()\n")
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    assert sorted(findings_in(module)) == [("views.py", ".deals.all()"), ("views.py", "Lead.objects")]


def test_it_finds_no_queryset_of_a_crm_record_outside_the_selectors():
    found = all_findings() - ALLOWED
    unexpected = sorted(found)
    assert not unexpected, (
        "These modules build querysets of CRM records themselves; read them through a function in "
        "<app>/selectors.py that starts from accounts.access instead:\n"
        + "\n".join(f"  {file}: {what}" for file, what in unexpected))


@pytest.mark.parametrize("entry", sorted(ALLOWED) or [None])
def test_it_keeps_the_allow_lists_honest(entry):
    """An entry whose finding is gone (fixed, merged) must leave the list."""
    if entry is None:
        return
    assert entry in all_findings() | _admin_findings(), f"{entry} is no longer found: remove it from the allow-list"


def _gated(admin_class) -> bool:
    """Whether the get_queryset an admin class inherits goes through the gate: the first one
    along the MRO that does not just refine super()'s (e.g. an annotation over crm.admin.ScopedAdmin)
    must name the access module or a selector."""
    for klass in admin_class.__mro__:
        method = klass.__dict__.get("get_queryset")
        if method is None:
            continue
        if klass is admin.ModelAdmin:
            return False
        source = inspect.getsource(method)
        if any(gate in source for gate in ("access.", "selectors.", "visible_", "scope(")):
            return True
        if "super().get_queryset(" not in source:
            return False
    return False


def _admin_findings() -> set[tuple[str, str]]:
    """(file, "<Admin>.get_queryset") for each registered admin of a CRM record whose queryset
    does not come from the access gate or a selector."""
    found = set()
    for model, model_admin in admin.site._registry.items():
        if not hasattr(model, "access_entity"):
            continue
        if not _gated(type(model_admin)):
            rel = str(Path(inspect.getfile(type(model_admin))).resolve().relative_to(ROOT))
            found.add((rel, f"{type(model_admin).__name__}.get_queryset"))
    return found


def test_it_finds_every_crm_admin():
    names = {type(a).__name__ for m, a in admin.site._registry.items() if hasattr(m, "access_entity")}
    assert {"LeadAdmin", "DealAdmin"} <= names


def test_every_admin_of_a_crm_record_reads_through_the_gate():
    unexpected = sorted(_admin_findings() - ALLOWED)
    assert not unexpected, (
        "These admins show CRM records without the access gate; define get_queryset from "
        "accounts.access.scope (or a selector) with the request's user:\n"
        + "\n".join(f"  {file}: {what}" for file, what in unexpected))


# --- The kernel names no feature (ARCHITECTURE «Features register into the kernel») ---

KERNEL_APPS = ("clients", "crm", "accounts")
FEATURE_REFERENCES = [
    (re.compile(r"^\s*(?:from|import)\s+(leads|deals|notifications)\b", re.M), "imports {}"),
    (re.compile(r"""["'](leads|deals)/[\w/]+\.html"""), "names the template {}"),
    (re.compile(r"\.(deals|leads)\.(?:all|filter|exclude|count|order_by)\b"), "reads .{} of a record"),
    (re.compile(r"""\{%\s*url\s+["'](leads|deals):"""), "links to a {} page"),
]
def kernel_findings() -> set[tuple[str, str]]:
    found = set()
    for app in KERNEL_APPS:
        for path in sorted((ROOT / app).rglob("*")):
            if path.suffix not in (".py", ".html") or (SKIPPED_DIRS - {"templates"}) & set(path.parts):
                continue
            text = path.read_text(encoding="utf-8")
            for pattern, what in FEATURE_REFERENCES:
                for match in pattern.finditer(text):
                    name = match.group(0).strip("\"' ") if "template" in what else match.group(1)
                    found.add((str(path.relative_to(ROOT)), what.format(name)))
    return found


def test_the_kernel_apps_name_no_feature_app():
    """clients, crm and accounts never import, read or render leads and deals: those register
    what they show (crm.cards panels, crm.duplicates finders)."""
    unexpected = sorted(kernel_findings())
    assert not unexpected, "\n".join(f"  {file}: {what}" for file, what in unexpected)


@pytest.mark.django_db
def test_leads_deals_tasks_and_the_calendar_register_their_card_panels(owner):
    from clients.services import company_create
    from crm import cards
    from tests.factories import LeadFactory

    company = company_create(data={"name": "ООО «Панели»", "responsible": owner}, by=None)
    templates = [panel.template for panel in cards.panels_for(owner, company)]
    assert templates == ["tasks_app/_touch_panel.html", "calendar_app/_meetings_panel.html", "deals/_card_panel.html",
                         "leads/_card_panel.html", "disk/_attachments_panel.html"]
    # A lead's card shows only the tasks' «Дела», the calendar's «Встречи» and the disk's «Файлы» (its
    # leads and deals panels are a client's).
    lead = LeadFactory(responsible=owner)
    assert [panel.template for panel in cards.panels_for(owner, lead)] == [
        "tasks_app/_touch_panel.html", "calendar_app/_meetings_panel.html", "disk/_attachments_panel.html"]
