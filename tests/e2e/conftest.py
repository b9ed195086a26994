import pytest

from tests.factories import PASSWORD


@pytest.fixture
def login(live_server, page):
    """Log a persona in through the real login form; returns the page."""

    page.set_default_timeout(10_000)

    def _login(user):
        page.goto(f"{live_server.url}/login/")
        page.get_by_label("Имя пользователя").fill(user.username)
        page.get_by_label("Пароль").fill(PASSWORD)
        page.get_by_role("button", name="Войти").click()
        page.wait_for_selector("[data-testid=current-user]")
        return page

    return _login


@pytest.fixture(autouse=True)
def seeded_defaults(transactional_db):
    """Browser tests run on a transactional database that is emptied after each test, data
    migrations included; put the seeded defaults (roles, reference lists, rules…) back."""
    from importlib import import_module

    from django.apps import apps

    for config in apps.get_app_configs():
        try:
            module = import_module(f"{config.name}.defaults")
        except ModuleNotFoundError as exc:
            if exc.name != f"{config.name}.defaults":
                raise
            continue
        module.seed(apps)
