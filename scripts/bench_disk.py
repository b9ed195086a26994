#!/usr/bin/env python3
"""Benchmark of the disk (issue 11): a folder of 10 000 files listed, and a 1 GB file uploaded and
downloaded with the process's memory bounded.

    .venv/bin/python scripts/bench_disk.py [--db postgres|sqlite|both] [--files 10000] [--big-mb 1024] [--profile]

1. Listing. 10 000 files (with their versions) are bulk-created in one folder of a manager's
   «Мой диск», and the disk's folder page (`disk:folder`, the whole page with the menu, the quota
   bar and each row's actions) is asked for its first page in each order. The yardstick is
   the minimal view as bench/views.py defines it for the CRM's lists: one query with the same
   joins, no access gate, a trivial table from a template string. Both are requests through the
   project's middleware, logged in, timed in-process with django.test.Client as bench_day.py
   does. Target: ≤ 2×. Two references are timed with them (not targets): the same page of an
   empty folder (the layout, the gate and the page's queries without a row) and the CRM's layout
   alone (`base.html` with no content). `--profile` prints a cProfile of the page, each
   template's own time and the page's queries (not written to BENCHMARKS.md).
2. A big file. A streamed multipart body (generated as it is read, never held whole) goes through
   Django's WSGI handler to the attachments' upload view (`disk:attach_upload`: the disk's upload
   handlers spool it to a temporary file, the service streams it to the store), then the file is
   downloaded through `disk:download` and read to the end. The process's peak RSS
   (`resource.getrusage` ru_maxrss) is reported before and after each, and the Python heap's peak
   (`tracemalloc`) during each.

Results are printed as markdown and replace that database's block of the «Диск» part of
BENCHMARKS.md (--no-write to only print). The throwaway databases and the child process per
database are scripts/bench_common.py's.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_common as common
from bench_common import REPORT, n_

common.reexec_in_venv()
common.TARGET = 2.0  # issue 11: a folder of 10 000 files lists its first page within 2× the minimal view
MB = 1024 * 1024
ORDERS = ("name", "-date", "-size")


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    common.add_common_arguments(parser, "files")
    parser.set_defaults(db="postgres")
    parser.add_argument("--files", type=int, default=10_000, help="files in the folder (default 10000)")
    parser.add_argument("--big-mb", type=int, default=1024, help="the big file's size in MB (default 1024)")
    parser.add_argument("--profile", action="store_true",
                        help="also print a cProfile and the templates' times of the folder page (not written)")
    args = parser.parse_args(argv)
    common.check_common_arguments(parser, args)
    return args


def main() -> None:
    args = parse_args()
    if args.worker:
        worker(args)
        return
    extra = ["--files", str(args.files), "--big-mb", str(args.big_mb), *(["--profile"] if args.profile else [])]
    common.run(args, script=__file__, extra_args=extra,
               render_section=render_section, write_section=write_section)


# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------

HEADING = "## «Диск» (issue 11): a folder of 10 000 files, a 1 GB upload and download"


def _marker(db: str) -> tuple[str, str]:
    return f"<!-- bench:disk-{db}:start -->", f"<!-- bench:disk-{db}:end -->"


def write_section(db: str, section: str) -> None:
    def place(text: str, block: str) -> str:
        if HEADING not in text:
            text = text.rstrip() + "\n\n" + HEADING + "\n\n" + PREFACE + "\n"
        return text.rstrip() + "\n\n" + block + "\n"

    text = REPORT.read_text(encoding="utf-8")
    REPORT.write_text(common.replace_block(text, *_marker(db), section, place), encoding="utf-8")


PREFACE = """How to run: `.venv/bin/python scripts/bench_disk.py` (PostgreSQL by default; `--db sqlite|both`,
`--files`, `--big-mb`, `--no-write`). What it measures is in the script's docstring: the first page of
a folder of 10 000 files in each order against the minimal view (one query with the same joins, no
access gate, a trivial template), and a 1 GB file streamed through the upload view and read back
through the download view with the process's peak RSS. Two references are timed with them, not
targets: the same page of an empty folder, and the CRM's layout alone."""


def _ms(seconds: float) -> str:
    return common.ms(seconds)


def render_section(r: dict) -> str:
    m = r["machine"]
    lines = [
        f"### «Диск»: {r['database_title']}",
        "",
        f"- **Date:** {r['date']}; **code:** {r['git']}",
        f"- **Machine:** {m['nproc']} CPU ({m['cpu']}), {m['ram_gb']} GB RAM, {m['os']}; Python {m['python']}, "
        f"Django {m['django']}",
        f"- **Data:** {n_(r['files'])} files with one version each and 3 sub-folders in one folder (filled in {r['fill']:.1f} s).",
        f"- **Timing:** {r['warmup']} warm-up rounds, then {r['repeat']} timed rounds of every page; median, p95 and "
        "min of the wall time of `client.get()` (the project's middleware, logged in); queries counted in one more request.",
        "",
        "| Page | URL | median ms | p95 ms | min ms | × minimal | ≤ 2× | queries |",
        "|---|---|---:|---:|---:|---:|:---:|---:|",
    ]
    base = r["pages"][0]["median"]
    for page in r["pages"]:
        ratio = page["median"] / base
        verdict = "—" if page["yardstick"] or page.get("reference") else ("✅" if ratio <= common.TARGET else "❌")
        lines.append(f"| {page['title']} | `{page['url']}` | {_ms(page['median'])} | {_ms(page['p95'])} | {_ms(page['min'])} "
                     f"| {ratio:.2f} | {verdict} | {page['queries']} |")
    misses = [p["title"] for p in r["pages"]
              if not p["yardstick"] and not p.get("reference") and p["median"] / base > common.TARGET]
    lines += ["", "**Target (the first page ≤ 2× minimal): " + ("met.**" if not misses else
                                                               f"missed by {', '.join(misses)}.**"), ""]
    big = r["big"]
    lines += [
        f"#### A {big['mb']} MB file through the upload and download views",
        "",
        "| Step | time s | MB/s | peak RSS before, MB | peak RSS after, MB | Python heap peak, MB |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for step in big["steps"]:
        lines.append(f"| {step['title']} | {step['time']:.1f} | {big['mb'] / step['time']:.0f} "
                     f"| {step['rss_before']:.0f} | {step['rss_after']:.0f} | {step['heap_peak']:.1f} |")
    lines += [
        "",
        f"The upload answered {big['upload_status']}; the stored file is {big['stored_mb']:.0f} MB with the sha256 "
        f"of the body sent ({'the same' if big['sha_ok'] else 'DIFFERENT'}); the download gave back "
        f"{big['downloaded_mb']:.0f} MB. Peak RSS is the process's high-water mark (it never goes down), so "
        "a step that held the file in memory would raise it by about the file's size; the Python heap's peak "
        "is `tracemalloc`'s during the step alone.",
        "",
    ]
    return "\n".join(lines).rstrip() + "\n"


# ---------------------------------------------------------------------------------------------
# Worker
# ---------------------------------------------------------------------------------------------

MINIMAL = """<!doctype html><html lang="ru"><head><meta charset="utf-8"><title>Файлы</title></head><body>
<table><thead><tr><th>Название</th><th>Размер</th><th>Автор</th><th>Изменён</th></tr></thead><tbody>
{% for f in files %}<tr><td>{{ f.name }}</td><td>{{ f.size }}</td><td>{{ f.author.last_name }}</td>
<td>{{ f.updated_at|date:"d.m.Y H:i" }}</td></tr>{% endfor %}
</tbody></table></body></html>"""


def worker(args: argparse.Namespace) -> None:
    common.setup_django(args)
    from django.conf import settings

    store = Path(tempfile.mkdtemp(prefix="crm-bench-disk."))
    spool = store / "spool"
    spool.mkdir()
    settings.STORAGES = {**settings.STORAGES, "disk": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(store / "disk"), "base_url": None}}}
    settings.FILE_UPLOAD_TEMP_DIR = str(spool)
    settings.DISK_X_ACCEL_REDIRECT = ""
    settings.DISK_MAX_FILE_SIZE = max(settings.DISK_MAX_FILE_SIZE, (args.big_mb + 1) * MB)
    quota, settings.DISK_USER_QUOTA = settings.DISK_USER_QUOTA, 0  # for the big file only
    try:
        result = {**common.base_result(args), "git": common.git_state(), "files": args.files}
        user = make_user()
        # The big file first: ru_maxrss is a high-water mark, the listing's fill would raise it.
        result["big"] = big_file(user, args.big_mb)
        settings.DISK_USER_QUOTA = quota  # the listing shows its quota bar, as with the default settings
        t0 = time.perf_counter()
        folder = fill(user, args.files, args.batch)
        result["fill"] = time.perf_counter() - t0
        result["pages"] = time_pages(user, folder, args)
        if args.profile:
            profile(user, folder)
        common.write_result(args, result)
    finally:
        shutil.rmtree(store, ignore_errors=True)


def make_user():
    from accounts.models import Department, Role, User

    department = Department.objects.create(name="Отдел продаж")
    user = User.objects.create_user(username="ivanov", password="bench", first_name="Пётр", last_name="Иванов",
                                    department=department)
    user.roles.add(Role.objects.get(name="Менеджер"))
    return user


def fill(user, count: int, batch: int):
    """`count` files in «Мой диск» / «Договоры», each with its version (rows only: the listing
    reads no bytes)."""
    import random

    from django.utils import timezone

    from disk import services
    from disk.models import File, FileVersion, name_key, sort_key

    folder = services.folder_create(services.personal_storage(user).root, "Договоры", user)
    for year in (2024, 2025, 2026):  # a few sub-folders above the files, as a real folder has
        services.folder_create(folder, f"Архив {year}", user)
    rng = random.Random(2026)
    now = timezone.now()
    kinds = ["Договор", "Счёт", "Акт", "КП", "Спецификация", "Доверенность"]
    for start in range(0, count, batch):
        files = []
        for i in range(start, min(start + batch, count)):
            name = f"{rng.choice(kinds)} № {i + 1} от {rng.randint(1, 28):02d}.{rng.randint(1, 12):02d}.2026.pdf"
            when = now - dt_seconds(rng.randint(0, 3 * 365 * 86400))
            files.append(File(folder=folder, name=name, key=name_key(name), sort_key=sort_key(name), size=rng.randint(10_000, 5_000_000),
                              content_type="application/pdf", author=user, created_at=when, updated_at=when))
        File.objects.bulk_create(files)
        versions = [FileVersion(file=f, number=1, blob=f"bench/{f.pk}", size=f.size, sha256="0" * 64,
                                uploaded_by=user, uploaded_at=f.updated_at) for f in files]
        FileVersion.objects.bulk_create(versions)
        for f, v in zip(files, versions, strict=True):
            f.current = v
        File.objects.bulk_update(files, ["current"])
    # bulk_create passes by the services: the folder's counters and the user's usage are filled as
    # the migration that added them fills them.
    services.recount()
    common.analyze()
    return folder


def dt_seconds(n: int):
    import datetime as dt

    return dt.timedelta(seconds=n)


EMPTY_TITLE = "The same page of an empty folder (reference: the layout, the gate, the queries)"
LAYOUT_TITLE = "The CRM's layout alone, `base.html` with no content (reference)"
REFERENCES = (EMPTY_TITLE, LAYOUT_TITLE)


def time_pages(user, folder, args) -> list[dict]:
    """Both pages as real requests through the project's middleware (django.test.Client, logged
    in), as bench_day.py times its pages against bench/views.py's minimal view: the two views are
    served by a URLconf made here (the project's URLs plus these two)."""
    import types

    from django.conf import settings
    from django.db import connection
    from django.http import HttpResponse
    from django.shortcuts import render
    from django.template import engines
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import clear_url_caches, include, path, reverse

    from disk.models import File

    engine = engines["django"]
    minimal_template = engine.from_string(MINIMAL)

    def minimal(request):
        files = (File.objects.filter(folder_id=folder.pk, deleted_at__isnull=True)
                 .select_related("author", "current__uploaded_by").order_by("sort_key", "pk")[:50])
        return HttpResponse(minimal_template.render({"files": files}))

    urls = types.ModuleType("bench_disk_urls")
    def layout(request):  # the CRM's layout alone (menu, user, messages): what every page pays
        return render(request, "base.html", {})

    urls.urlpatterns = [path("bench/disk/minimal/", minimal), path("bench/disk/layout/", layout),
                        path("", include(settings.ROOT_URLCONF))]
    sys.modules[urls.__name__] = urls
    settings.ROOT_URLCONF = urls.__name__
    clear_url_caches()

    client = Client()
    client.force_login(user)
    pages = [("Minimal view (50 files, no gate)", "/bench/disk/minimal/", True)]
    folder_url = reverse("disk:folder", args=[folder.pk])
    pages += [(f"The folder's page («Мой диск»), sorted «{order}»", f"{folder_url}?sort={order}", False)
              for order in ORDERS]
    # The same page of an empty folder: what the layout, the gate and the page's queries cost
    # without a row (a reference, not a target).
    empty = folder.children.order_by("pk").first()
    pages.append((EMPTY_TITLE, reverse("disk:folder", args=[empty.pk]), False))
    pages.append((LAYOUT_TITLE, "/bench/disk/layout/", False))
    for title, url, yardstick in pages:
        response = client.get(url)
        rows = response.content.decode().count("<tr data-testid=\"disk-item\"" if not yardstick else "<tr>")
        assert response.status_code == 200 and (rows >= 50 or title in REFERENCES), (url, rows)
        assert yardstick or title == LAYOUT_TITLE or 'data-testid="disk-quota"' in response.content.decode(), url
    times: dict[str, list[float]] = {title: [] for title, _u, _y in pages}
    for round_ in range(args.warmup + args.repeat):
        for title, url, _yardstick in pages:
            t0 = time.perf_counter()
            client.get(url)
            if round_ >= args.warmup:
                times[title].append(time.perf_counter() - t0)
    found = []
    for title, url, yardstick in pages:
        with CaptureQueriesContext(connection) as queries:
            client.get(url)
        values = sorted(times[title])
        found.append({"title": title, "url": url, "median": statistics.median(values),
                      "p95": values[max(0, round(0.95 * len(values)) - 1)], "min": values[0],
                      "queries": len(queries), "yardstick": yardstick, "reference": title in REFERENCES})
    return found


def profile(user, folder, requests: int = 20) -> None:
    """Where the folder page's time goes: cProfile of `requests` requests (cumulative and own
    time), then each template's and block's own time (bench_common.template_timer)."""
    import cProfile
    import io
    import pstats

    from django.test import Client
    from django.urls import reverse

    client = Client()
    client.force_login(user)
    url = reverse("disk:folder", args=[folder.pk]) + "?sort=name"
    for _ in range(3):
        client.get(url)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(requests):
        client.get(url)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(70)
    stats.sort_stats("tottime").print_stats(40)
    print(out.getvalue())
    with common.template_timer() as (times, _stack):
        for _ in range(requests):
            client.get(url)
    print(f"Templates and blocks, ms per request ({requests} requests): renders, inclusive, own")
    for name, (renders, inclusive, own) in sorted(times.items(), key=lambda kv: -kv[1][2]):
        print(f"  {own * 1000 / requests:7.2f} own {inclusive * 1000 / requests:7.2f} incl {renders / requests:6.1f}× {name}")
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    print("The page's queries (ms, SQL):")
    for query in queries.captured_queries:
        print(f"  {float(query['time']) * 1000:6.2f} {common.short_sql(query['sql'])[:160]}")
    return
    for name, (renders, inclusive, own) in sorted(times.items(), key=lambda kv: -kv[1][2]):
        print(f"  {own * 1000 / requests:7.2f} own {inclusive * 1000 / requests:7.2f} incl {renders / requests:6.1f}× {name}")


class Body:
    """A multipart/form-data body with one file of `size` bytes, produced as it is read (the
    WSGI server's `wsgi.input`): never more than a chunk in memory."""

    BOUNDARY = "benchdiskboundary"

    def __init__(self, name: str, size: int):
        import hashlib

        self.head = (f"--{self.BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
                     "Content-Type: application/octet-stream\r\n\r\n").encode()
        self.tail = f"\r\n--{self.BOUNDARY}--\r\n".encode()
        self.size = size
        self.block = os.urandom(MB)
        self.sha = hashlib.sha256()
        self.sent = 0  # of the file's bytes
        self.stage = 0
        self.length = len(self.head) + size + len(self.tail)

    def read(self, n: int = -1) -> bytes:
        out = bytearray()
        want = self.length if n is None or n < 0 else n
        while len(out) < want:
            if self.stage == 0:
                out += self.head
                self.stage = 1
            elif self.stage == 1:
                take = min(want - len(out), self.size - self.sent, MB - self.sent % MB)
                if take <= 0:
                    self.stage = 2
                    continue
                start = self.sent % MB
                chunk = self.block[start:start + take]
                self.sha.update(chunk)
                out += chunk
                self.sent += take
            elif self.stage == 2:
                out += self.tail
                self.stage = 3
            else:
                break
        return bytes(out)

    def readline(self, limit: int = -1) -> bytes:  # WSGI asks for it; Django's parser does not use it
        return self.read(limit if limit and limit > 0 else 64 * 1024)


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux


def big_file(user, mb: int) -> dict:
    import io

    from django.conf import settings
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.handlers.wsgi import WSGIHandler
    from django.middleware.csrf import _get_new_csrf_string
    from django.urls import reverse

    from clients import services as client_services
    from disk.models import File

    company = client_services.company_create(data={"name": "ООО «Ромашка»", "responsible": user}, by=user)
    session = SessionStore()
    session["_auth_user_id"] = str(user.pk)
    session["_auth_user_backend"] = settings.AUTHENTICATION_BACKENDS[-1]
    session["_auth_user_hash"] = user.get_session_auth_hash()
    session.create()
    token = _get_new_csrf_string()
    handler = WSGIHandler()

    def environ(method: str, path: str, body=None, length: int = 0, content_type: str = "") -> dict:
        return {
            "REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": "", "SERVER_NAME": "testserver",
            "SERVER_PORT": "80", "HTTP_HOST": "testserver", "wsgi.url_scheme": "http", "wsgi.version": (1, 0),
            "wsgi.input": body or io.BytesIO(b""), "wsgi.errors": sys.stderr, "wsgi.multithread": False,
            "wsgi.multiprocess": False, "wsgi.run_once": False, "CONTENT_LENGTH": str(length),
            "CONTENT_TYPE": content_type, "REMOTE_ADDR": "127.0.0.1",
            "HTTP_COOKIE": f"sessionid={session.session_key}; csrftoken={token}", "HTTP_X_CSRFTOKEN": token,
            "HTTP_X_REQUESTED_WITH": "XMLHttpRequest",
        }

    def start_response(status, headers, exc_info=None):
        answer["status"] = status
        answer["headers"] = dict(headers)

    size = mb * MB
    body = Body("Видео с презентации.mp4", size)
    steps = []
    answer: dict = {}

    rss_before = rss_mb()
    tracemalloc.start()
    t0 = time.perf_counter()
    chunks = handler(environ("POST", reverse("disk:attach_upload", args=["clients.company", company.pk]), body,
                             body.length, f"multipart/form-data; boundary={Body.BOUNDARY}"), start_response)
    reply = b"".join(chunks)
    if hasattr(chunks, "close"):
        chunks.close()
    upload_time = time.perf_counter() - t0
    heap = tracemalloc.get_traced_memory()[1] / MB
    tracemalloc.stop()
    steps.append({"title": "Upload (disk:attach_upload)", "time": upload_time, "rss_before": rss_before,
                  "rss_after": rss_mb(), "heap_peak": heap})
    upload_status = answer["status"]
    assert upload_status.startswith("201"), (upload_status, reply[:300])
    stored = File.objects.select_related("current").get(folder__object_id=company.pk)

    rss_before = rss_mb()
    tracemalloc.start()
    t0 = time.perf_counter()
    chunks = handler(environ("GET", reverse("disk:download", args=[stored.pk])), start_response)
    received = 0
    for chunk in chunks:
        received += len(chunk)
    if hasattr(chunks, "close"):
        chunks.close()
    download_time = time.perf_counter() - t0
    heap = tracemalloc.get_traced_memory()[1] / MB
    tracemalloc.stop()
    steps.append({"title": "Download (disk:download)", "time": download_time, "rss_before": rss_before,
                  "rss_after": rss_mb(), "heap_peak": heap})
    return {"mb": mb, "steps": steps, "upload_status": upload_status, "stored_mb": stored.size / MB,
            "sha_ok": stored.current.sha256 == body.sha.hexdigest(), "downloaded_mb": received / MB}


if __name__ == "__main__":
    main()
