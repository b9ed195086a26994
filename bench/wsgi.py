"""The WSGI application scripts/bench_rest.py serves with gunicorn: the project's, with the
benchmarks' URLs (the minimal views, bench.urls) and DEBUG off. The product never uses it."""

import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
application = get_wsgi_application()
settings.DEBUG = False
settings.ROOT_URLCONF = "bench.urls"
# Plain static storage: the manifest one needs collectstatic when DEBUG is off (bench_common.setup_django).
settings.STORAGES = {**settings.STORAGES,
                     "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
