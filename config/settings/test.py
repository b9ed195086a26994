"""The test suite: same as development, with a fast password hasher and no login lock-outs
leaking between tests."""

import atexit
import shutil
import tempfile
from pathlib import Path

from .dev import *  # noqa: F403
from .dev import env

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    **STORAGES,  # noqa: F405
    # live_server serves unhashed names; the manifest storage would need collectstatic first.
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
AXES_FAILURE_LIMIT = 3

# The disk's bytes in a throwaway folder, never the developer's private/disk (tests/disk gives
# each test its own, and an S3 server).
DISK_ROOT = Path(tempfile.mkdtemp(prefix="crm-disk-tests-"))
atexit.register(shutil.rmtree, DISK_ROOT, ignore_errors=True)
STORAGES["disk"] = {"BACKEND": "django.core.files.storage.FileSystemStorage",
                    "OPTIONS": {"location": DISK_ROOT, "base_url": None}}

# The import page's uploads and reports likewise; a worker a test starts in a subprocess is given
# that test's folder in TEST_IMPORT_ROOT.
if env.str("TEST_IMPORT_ROOT", default=""):
    IMPORT_ROOT = Path(env.str("TEST_IMPORT_ROOT"))
else:
    IMPORT_ROOT = Path(tempfile.mkdtemp(prefix="crm-imports-tests-"))
    atexit.register(shutil.rmtree, IMPORT_ROOT, ignore_errors=True)

INSTALLED_APPS = [*INSTALLED_APPS, "tests.accessapp"]  # noqa: F405

# Tasks run at once, in the request that enqueues them (after its commit); the worker test
# switches to the database backend itself.
TASKS = {"default": {"BACKEND": env.str("TASKS_BACKEND", default="django_tasks.backends.immediate.ImmediateBackend")}}

# The REST API's rate limit is off (a test of the limit turns it on).
REST_RATE_LIMIT = env.bool("REST_RATE_LIMIT", default=False)
