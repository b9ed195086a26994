"""Personas and project-wide test rules.

Every view test can check access in a line with these personas:
- `owner`: a manager («Менеджер», own records) in «Группа продаж 1» who owns the record;
- `teammate`: another manager of «Группа продаж 1»;
- `outsider`: a manager of «Группа продаж 2»;
- `head`: the head of sales («Отдел продаж», the parent of both groups; sees the whole tree);
- `crm_admin`: «Администратор CRM» (sees everything).
"""

import os
import shutil

import pytest

from tests.factories import DepartmentFactory, UserFactory

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")
# Playwright's sync API runs an event loop in the test thread; Django then refuses ORM calls
# from "async" context unless told that this is safe (it is: one thread, no real concurrency).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_report_header(config):
    from django.conf import settings

    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    return [
        f"database: {engine} ({settings.DATABASES['default'].get('HOST') or settings.DATABASES['default']['NAME']})",
        f"browser: {CHROMIUM or 'not found — browser tests are skipped' + (' (an error in CI)' if IN_CI else '')}",
    ]


def pytest_collection_modifyitems(config, items):
    if CHROMIUM:
        return
    if IN_CI:
        raise pytest.UsageError("CI: Chromium is not installed, browser tests cannot run (apt-get install chromium)")
    skip = pytest.mark.skip(reason="Chromium is not installed (apt-get install chromium)")
    for item in items:
        if "e2e" in item.keywords:
            item.add_marker(skip)


_skipped: list[str] = []


def pytest_runtest_logreport(report):
    if report.skipped:
        _skipped.append(report.nodeid)


def pytest_sessionfinish(session, exitstatus):
    # In CI a skipped test hides a missing PostgreSQL or browser: that is a failure.
    if IN_CI and _skipped and exitstatus == 0:
        session.exitstatus = 1
        print(f"\nCI: {len(_skipped)} tests were skipped, which CI treats as failure:")
        for nodeid in _skipped:
            print("  ", nodeid)


# --- Playwright with Debian's Chromium (Playwright's own browser download is not available) ---

@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "ru-RU", "timezone_id": "Europe/Moscow",
            "viewport": {"width": 1366, "height": 860}}


@pytest.fixture(autouse=True)
def _default_language(settings):
    """A request in English (a language cookie) leaves the thread in English; every test starts
    in the default language whatever ran before it."""
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _empty_cache():
    """What a test leaves in the cache (a day's norms, a list's cursor) is not the next test's:
    each starts with the empty cache of a fresh process."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def seeded_defaults(transactional_db):
    """Transactional tests (browser tests, concurrency tests) run on a database that is emptied
    after each test, data migrations included; put the seeded defaults (roles, reference lists,
    rules…) back. Every app's `defaults.seed(apps)` is what its data migration runs."""
    from django.apps import apps

    from config.discovery import app_modules

    for module in app_modules("defaults"):
        module.seed(apps)


# --- Personas ---

@pytest.fixture
def org(db):
    root = DepartmentFactory(name="«Решение»")
    sales = DepartmentFactory(name="Отдел продаж", parent=root)
    return {
        "root": root,
        "sales": sales,
        "group1": DepartmentFactory(name="Группа продаж 1", parent=sales),
        "group2": DepartmentFactory(name="Группа продаж 2", parent=sales),
    }


@pytest.fixture
def owner(org):
    return UserFactory(username="owner", last_name="Иванов", first_name="Пётр", department=org["group1"], role="Менеджер")


@pytest.fixture
def teammate(org):
    return UserFactory(username="teammate", last_name="Петрова", first_name="Мария", department=org["group1"], role="Менеджер")


@pytest.fixture
def outsider(org):
    return UserFactory(username="outsider", last_name="Сидоров", first_name="Алексей", department=org["group2"], role="Менеджер")


@pytest.fixture
def head(org):
    user = UserFactory(username="head", last_name="Смирнова", first_name="Ольга", department=org["sales"],
                       role="Руководитель отдела продаж", is_staff=True)
    org["sales"].head = user
    org["sales"].save()
    return user


@pytest.fixture
def crm_admin(org):
    return UserFactory(username="crmadmin", last_name="Админов", first_name="Андрей", department=org["root"],
                       role="Администратор CRM")


@pytest.fixture
def personas(owner, teammate, outsider, head, crm_admin):
    return {"owner": owner, "teammate": teammate, "outsider": outsider, "head": head, "crm_admin": crm_admin}
