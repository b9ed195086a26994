"""Local development: the default of manage.py. DEBUG on, an insecure key if none is given."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = SECRET_KEY or "django-insecure-dev-only-never-use-in-production"  # noqa: F405

# Serve static files straight from the apps' folders, no collectstatic needed in development.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
