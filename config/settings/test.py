"""The test suite: same as development, with a fast password hasher and no login lock-outs
leaking between tests."""

from .dev import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    **STORAGES,  # noqa: F405
    # live_server serves unhashed names; the manifest storage would need collectstatic first.
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
AXES_FAILURE_LIMIT = 3

INSTALLED_APPS = [*INSTALLED_APPS, "tests.accessapp"]  # noqa: F405
