"""The test suite: same as development, with a fast password hasher and no login lock-outs
leaking between tests."""

from .dev import *  # noqa: F403
from .dev import env

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    **STORAGES,  # noqa: F405
    # live_server serves unhashed names; the manifest storage would need collectstatic first.
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
AXES_FAILURE_LIMIT = 3

INSTALLED_APPS = [*INSTALLED_APPS, "tests.accessapp"]  # noqa: F405

# Tasks run at once, in the request that enqueues them (after its commit); the worker test
# switches to the database backend itself.
TASKS = {"default": {"BACKEND": env.str("TASKS_BACKEND", default="django_tasks.backends.immediate.ImmediateBackend")}}
