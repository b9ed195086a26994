import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from tests.factories import PASSWORD

# The suite runs on a worker per core (scripts/test): on a 2-core CI machine the other worker's
# browser, live server and database share the cores, and a page's answer may take longer than
# Playwright's 5 s default for an expectation — the same 10 s as the actions' timeout below (a
# calendar dialog once missed 5 s so, in a run that passed everywhere else).
expect.set_options(timeout=10_000)


@pytest.fixture
def login(live_server, page):
    """Log a persona in through the real login form; returns the page."""

    page.set_default_timeout(10_000)

    def _login(user):
        # Leave the previous page first: a request of it still running (the bell, a panel's refresh)
        # could otherwise answer after the login form with a new CSRF cookie, and the form's POST
        # be refused («CSRF token from POST incorrect») — a second persona logging in was flaky so.
        page.goto("about:blank")
        page.context.clear_cookies()
        page.goto(f"{live_server.url}/login/")
        page.get_by_label("Имя пользователя").fill(user.username)
        page.get_by_label("Пароль").fill(PASSWORD)
        page.get_by_role("button", name="Войти").click()
        page.wait_for_selector("[data-testid=current-user]")
        return page

    return _login


@pytest.fixture(autouse=True)
def _browser_tests_need_seeded_defaults(seeded_defaults):
    """Every browser test runs on a transactional database: see tests/conftest.py."""


@pytest.fixture(autouse=True)
def _requests_finish_before_the_flush(page):
    """After a browser test, wait until the page's requests are answered, then leave it: the
    database is emptied next (TRUNCATE), and a request the live server was still serving (an htmx
    refresh, a panel loading) held its tables and deadlocked with the flush once."""
    yield
    try:
        page.wait_for_load_state("networkidle", timeout=5_000)
        page.goto("about:blank")
    except PlaywrightError:
        pass  # a closed or crashed page has nothing in flight
