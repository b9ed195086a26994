"""The REST API's fixtures.

- `rest_call(user_or_webhook, method, params=None, *, http="post", as_json=True)` — the fast way:
  Django's test client against /rest/<id>/<code>/<method>, returns the response (`.json()`).
- `webhook_of(user, scopes=("crm", "task", "user"))` — a live webhook and its code: (webhook, base_path).
- `rest_server` (module) — the real thing both client libraries need: gunicorn serving TLS with a
  certificate trustme makes for 127.0.0.1, on the test's PostgreSQL database (so a test using it
  must commit its data: `transactional_db` with the seeded defaults put back, which `webhook_url`
  asks for). Started once per module.
  SQLite's test database is in memory, so on SQLite these tests are skipped.
- `webhook_url(user, scopes=...)` — "https://127.0.0.1:PORT/rest/<id>/<code>/", with REQUESTS_CA_BUNDLE
  and SSL_CERT_FILE pointing at the test CA for the test (requests for b24pysdk, OpenSSL's defaults
  for fast-bitrix24's aiohttp).
- `fast_bitrix(url)` — fast_bitrix24.Bitrix(url) whose calls run in a thread of their own: the sync
  client returns an asyncio Task instead of the answer when the calling thread has an event loop
  running, and Playwright's sync API leaves one in the test thread once a browser test has run.
"""

from __future__ import annotations

import os
import socket
import ssl
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
DEFAULT_SCOPES = ("crm", "task", "user")


@pytest.fixture
def webhook_of(db):
    from rest import services

    def make(user, scopes=DEFAULT_SCOPES, name=""):
        webhook, code = services.webhook_create(user, name=name, scopes=list(scopes))
        return webhook, services.base_path(user.pk, code)

    return make


@pytest.fixture
def rest_call(client, webhook_of):
    """rest_call(user, "crm.lead.add", {"fields": {...}}) → the response; a user's webhook (all
    scopes of DEFAULT_SCOPES) is made once per user, or pass a base path from webhook_of."""
    made: dict[int, str] = {}

    def call(who, method: str, params: dict | None = None, *, http: str = "post", as_json: bool = True):
        if isinstance(who, str):
            base = who
        else:
            if who.pk not in made:
                made[who.pk] = webhook_of(who)[1]
            base = made[who.pk]
        if http == "get":
            return client.get(base + method, params or {})
        if as_json:
            return client.post(base + method, params or {}, content_type="application/json")
        return client.post(base + method, params or {})

    return call


@dataclass
class RestServer:
    url: str  # https://127.0.0.1:PORT
    ca_path: str


@pytest.fixture(scope="session")
def rest_tls(tmp_path_factory):
    trustme = pytest.importorskip("trustme")
    folder = tmp_path_factory.mktemp("rest-tls")
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    ca.cert_pem.write_to_path(str(folder / "ca.pem"))
    cert.private_key_pem.write_to_path(str(folder / "key.pem"))
    cert.cert_chain_pems[0].write_to_path(str(folder / "cert.pem"))
    for blob in cert.cert_chain_pems[1:]:
        blob.write_to_path(str(folder / "cert.pem"), append=True)
    return folder


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_tls(port: int, ca_path: str, process: subprocess.Popen, timeout: float = 30) -> None:
    context = ssl.create_default_context(cafile=ca_path)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("gunicorn stopped at start")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as raw, \
                    context.wrap_socket(raw, server_hostname="127.0.0.1"):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("gunicorn did not answer in time")


@pytest.fixture(scope="module")
def rest_server(django_db_setup, rest_tls, tmp_path_factory):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("the REST server runs in another process: it needs the PostgreSQL test database")
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    port = _free_port()
    log = tmp_path_factory.mktemp("rest-server") / "gunicorn.log"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "REST_RATE_LIMIT": "false",
           "DATABASE_URL": f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"}
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "tests.rest.wsgi:application", "--bind", f"127.0.0.1:{port}",
             "--certfile", str(rest_tls / "cert.pem"), "--keyfile", str(rest_tls / "key.pem"),
             "--workers", "2", "--threads", "4", "--timeout", "120", "--log-level", "warning"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_for_tls(port, str(rest_tls / "ca.pem"), process)
    except RuntimeError:
        process.kill()
        raise RuntimeError(log.read_text(errors="replace")[-3000:]) from None
    yield RestServer(url=f"https://127.0.0.1:{port}", ca_path=str(rest_tls / "ca.pem"))
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture
def webhook_url(rest_server, seeded_defaults, monkeypatch):
    """webhook_url(user, scopes=("crm", "task", "user")) → the https base URL of a new webhook.
    The database is transactional (the server reads what the test committed) and emptied after
    each test: the seeded defaults (roles, statuses…) are put back first — so name this fixture
    before the personas in a test's arguments."""
    from rest import services

    monkeypatch.setenv("REQUESTS_CA_BUNDLE", rest_server.ca_path)
    monkeypatch.setenv("SSL_CERT_FILE", rest_server.ca_path)

    def make(user, scopes=DEFAULT_SCOPES, name=""):
        webhook, code = services.webhook_create(user, name=name, scopes=list(scopes))
        return f"{rest_server.url}{services.base_path(user.pk, code)}"

    return make


@pytest.fixture
def temp_method():
    """temp_method("test.echo", func, scope=None): a method registered for this test only."""
    from rest import registry

    added: list[str] = []

    def add(name: str, func, scope=None):
        registry.method(name, scope)(func)
        added.append(name.lower())
        return func

    yield add
    for name in added:
        registry._methods.pop(name, None)


class _InThread:
    """A fast_bitrix24.Bitrix whose every call runs in a fresh thread (no event loop there)."""

    def __init__(self, bitrix):
        self._bitrix = bitrix

    def __getattr__(self, name):
        method = getattr(self._bitrix, name)
        if not callable(method):
            return method

        def call(*args, **kwargs):
            with ThreadPoolExecutor(max_workers=1) as pool:
                return pool.submit(method, *args, **kwargs).result()

        return call


def fast_bitrix(url: str, **options):
    """fast_bitrix24.Bitrix(url, verbose=False, **options), usable from any test (see above)."""
    from fast_bitrix24 import Bitrix

    return _InThread(Bitrix(url, verbose=False, **options))


def b24_client(url: str):
    """b24pysdk's Client for a webhook address «https://host/rest/<id>/<code>/», as its users make one."""
    from b24pysdk import BitrixWebhook, Client

    domain, _rest, user_id, code, _ = url.split("://", 1)[1].split("/", 4)
    return Client(BitrixWebhook(domain=domain, webhook_token=f"{user_id}/{code}"))
