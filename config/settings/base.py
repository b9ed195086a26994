"""Settings shared by every environment. Everything that differs between machines comes from
environment variables (see README «Настройка»); nothing secret is written here."""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    # third party
    "axes",
    "csp",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_filters",
    "django_htmx",
    "bootstrap",  # django-bootstrap-static: Bootstrap's CSS/JS as static files
    "django_tasks",
    "django_tasks_db",
    # ours
    "accounts",
    "crm",
    "clients",
    "leads",
    "deals",
    "notifications",
    "tasks_app",
    "calendar_app",
    "disk",
    "exchange",
    "rest",
    "rest.events",
    "analytics",  # after the CRM apps and tasks_app: it reads them, they never import it
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Every page except login requires authentication (Django 5.1+).
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    # The user's time zone (his profile), for every page.
    "accounts.middleware.TimeZoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
    # Axes goes last so that it sees the outcome of the login view.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "accounts.context_processors.navigation",
            ],
        },
    },
]

# SQLite is the embedded default so that a fresh clone runs with no server;
# production and CI set DATABASE_URL=postgres://…
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=0))
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # JIT off: our queries are short OLTP reads and bounded report reads, for which PostgreSQL's JIT
    # spends 60–200 ms compiling a big aggregate that then runs in less (measured at 1M leads,
    # issue 15). Appended to whatever `?options=` the URL already gives.
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    _options["options"] = f"{_options.get('options', '')} -c jit=off".strip()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Covering indexes (`include=`) are PostgreSQL's index-only reads of the reports; SQLite builds the
# same index on its key columns, which is what it needs — its warning about the extra columns is noise.
SILENCED_SYSTEM_CHECKS = ["models.W040"]

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # ModelBackend reading the user with his department (every page's top bar shows it). Sessions
    # made under Django's own ModelBackend path end with this change: their users log in again.
    "accounts.backends.UserBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Login throttling: after AXES_FAILURE_LIMIT failed attempts for one user name from one address
# the login is refused for AXES_COOLOFF_TIME hours.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.5)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True

LANGUAGE_CODE = env.str("LANGUAGE_CODE", default="ru")
LANGUAGES = [("ru", "Русский"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="Europe/Moscow")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# «Диск»: the files' bytes go through the `disk` storage. By default a folder on this machine that
# is NOT under MEDIA_ROOT and has no URL (files are served only by disk:download after the access
# check); DISK_STORAGE=s3 keeps them in S3-compatible object storage (django-storages), so several
# app servers share one store — nothing else changes.
DISK_ROOT = env.path("DISK_ROOT", default=BASE_DIR / "private" / "disk")
if env.str("DISK_STORAGE", default="filesystem") == "s3":
    from boto3.s3.transfer import TransferConfig

    STORAGES["disk"] = {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": {
        "bucket_name": env.str("DISK_S3_BUCKET"),
        "endpoint_url": env.str("DISK_S3_ENDPOINT_URL", default=None),
        "region_name": env.str("DISK_S3_REGION", default=None),
        "access_key": env.str("DISK_S3_ACCESS_KEY", default=None),
        "secret_key": env.str("DISK_S3_SECRET_KEY", default=None),
        "location": env.str("DISK_S3_PREFIX", default=""),
        "default_acl": None,
        "querystring_auth": True,
        "file_overwrite": True,  # keys are random (disk.blobs); no listing to find a free name
        # An upload is sent in parts of this size, a few at a time: what one upload holds in memory.
        "transfer_config": TransferConfig(multipart_threshold=8 * 1024**2, multipart_chunksize=8 * 1024**2,
                                          max_concurrency=4),
    }}
else:
    STORAGES["disk"] = {"BACKEND": "django.core.files.storage.FileSystemStorage",
                        "OPTIONS": {"location": DISK_ROOT, "base_url": None}}
# Bytes; 0 means no limit. The quota counts every version a user uploaded (the trash included,
# since it still takes room) until it is purged.
DISK_MAX_FILE_SIZE = env.int("DISK_MAX_FILE_SIZE", default=2 * 1024**3)
DISK_USER_QUOTA = env.int("DISK_USER_QUOTA", default=10 * 1024**3)
DISK_TRASH_DAYS = env.int("DISK_TRASH_DAYS", default=30)
# When set (e.g. "/_disk/"), disk:download answers with X-Accel-Redirect to this internal location
# + the blob's key and the proxy (nginx `internal;` location aliased to DISK_ROOT) sends the bytes.
DISK_X_ACCEL_REDIRECT = env.str("DISK_X_ACCEL_REDIRECT", default="")
# Uploads larger than this are spooled to a temporary file while the request is read, never held
# in memory (Django's default is 2.5 MB; the disk's uploads are streamed on to the store).
FILE_UPLOAD_MAX_MEMORY_SIZE = env.int("FILE_UPLOAD_MAX_MEMORY_SIZE", default=256 * 1024)

# Limits of a file brought to an import (exchange/readers.py): more columns than this, or a cell
# (and so a CSV line) longer than Excel's own cell limit, is refused with a message — a CSV bomb
# of millions of empty columns or one endless line never gets into memory.
IMPORT_MAX_COLUMNS = env.int("IMPORT_MAX_COLUMNS", default=500)
IMPORT_MAX_CELL = env.int("IMPORT_MAX_CELL", default=32767)  # characters

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Content-Security-Policy: scripts only from our own origin (no inline scripts, no CDN).
# Inline style attributes are allowed because Bootstrap components (progress bars, colours of
# stages) set widths and colours through them.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="WARNING")},
}

# «Заполнить по ИНН»: DaData's party lookup (findById/party). It needs only the API key (no secret);
# without it the button is shown disabled with «Поиск по ИНН не настроен».
DADATA_API_KEY = env.str("DADATA_API_KEY", default="")
DADATA_TIMEOUT = env.float("DADATA_TIMEOUT", default=5.0)
DADATA_URL = env.str("DADATA_URL", default="")  # empty: DaData's own findById/party address

# Background work (Django's tasks API, the django-tasks backport): the database backend needs no
# other server — `manage.py db_worker` runs the queue (scripts/run starts it beside the server).
# Another backend (Redis, Celery…) is a setting away when one machine is not enough.
TASKS = {"default": {"BACKEND": env.str("TASKS_BACKEND", default="django_tasks_db.DatabaseBackend")}}

# E-mail (notifications): printed to the console unless an SMTP server is given.
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="crm@localhost")
# The CRM's address as users open it: links in e-mails.
CRM_URL = env.str("CRM_URL", default="http://127.0.0.1:8000")

# «Импорт» (exchange): the files uploaded on the import page and their reports are kept in a private
# folder — NOT under MEDIA_ROOT, no URL: served only by exchange's views after the access check. The
# worker reads them there, so it must share this folder with the web server. Files of jobs older than
# IMPORT_KEEP_DAYS are removed by `manage.py purge_imports` (run it daily, e.g. from cron).
IMPORT_ROOT = env.path("IMPORT_ROOT", default=BASE_DIR / "private" / "imports")
IMPORT_MAX_FILE_SIZE = env.int("IMPORT_MAX_FILE_SIZE", default=200 * 1024**2)  # bytes
IMPORT_KEEP_DAYS = env.int("IMPORT_KEEP_DAYS", default=30)

# REST API in Bitrix24's dialect (rest/): a leaky bucket per webhook — REST_RATE requests a second
# leak out, REST_BURST fit in (Bitrix24's own 2/s and 50) — and the largest request body (bytes).
REST_RATE_LIMIT = env.bool("REST_RATE_LIMIT", default=True)
REST_RATE = env.float("REST_RATE", default=2.0)
REST_BURST = env.int("REST_BURST", default=50)
REST_MAX_BODY = env.int("REST_MAX_BODY", default=2 * 1024**2)
# Where a list walk's cursor (the last ID of a page, rest.lists) waits for the next page: a cache the
# web server's workers share keeps every page of a client's walk on the index; the default cache is
# per process.
REST_CURSOR_CACHE = env.str("REST_CURSOR_CACHE", default="default")

# Outgoing REST events (rest.events): handlers on loopback or private addresses are refused unless
# this is set (a receiver on the same machine or network); failed posts are retried after these
# delays (seconds, the last repeated) until REST_EVENTS_ATTEMPTS attempts were made.
REST_EVENTS_ALLOW_PRIVATE = env.bool("REST_EVENTS_ALLOW_PRIVATE", default=False)
REST_EVENTS_ATTEMPTS = env.int("REST_EVENTS_ATTEMPTS", default=5)
REST_EVENTS_BACKOFF = env.list("REST_EVENTS_BACKOFF", cast=int, default=[60, 300, 1800, 7200])
REST_EVENTS_TIMEOUT = env.float("REST_EVENTS_TIMEOUT", default=10.0)
REST_EVENTS_MEMBER_ID = env.str("REST_EVENTS_MEMBER_ID", default="")  # auth[member_id]; empty: from CRM_URL
# The delivery log keeps this many days (`manage.py purge_rest_events`, daily from cron; events still
# waiting to be posted stay).
REST_EVENTS_KEEP_DAYS = env.int("REST_EVENTS_KEEP_DAYS", default=30)
