"""Serving the disk's bytes: the authorised download and the public link.

Never a media URL: every byte goes out through these views after the access check (or, with
DISK_X_ACCEL_REDIRECT, the proxy sends it after the view decided). Answers are built so a file
cannot act as a page of the CRM: `nosniff`, and HTML/SVG/XML (anything a browser would run) always
as an attachment; inline only for the types a browser only shows (images, PDF, audio, video, plain
text) and only when asked (`?inline=1`, for previews).
"""

from __future__ import annotations

import logging
from urllib.parse import quote

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.hashers import check_password
from django.core.cache import cache
from django.http import FileResponse, Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from . import blobs, ranges, selectors, services
from .models import File, FileVersion

log = logging.getLogger(__name__)
INLINE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp", "image/avif", "application/pdf",
                "text/plain", "audio/", "video/")


def content_disposition(name: str, inline: bool = False) -> str:
    """RFC 6266 with RFC 5987's `filename*` for the real (Cyrillic) name and a plain ASCII
    `filename` for clients that read only that one."""
    fallback = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\%' else "_" for ch in name) or "file"
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def _may_inline(content_type: str) -> bool:
    return any(content_type == t or (t.endswith("/") and content_type.startswith(t)) for t in INLINE_TYPES)


def serve(request, file: File, version: FileVersion, on_start=None) -> HttpResponse:
    """The bytes of `version` under `file`'s name; `on_start` is called when the answer starts
    from the first byte (a public link counts downloads, not the parts of one)."""
    content_type = file.content_type or "application/octet-stream"
    inline = request.GET.get("inline") == "1" and _may_inline(content_type)
    headers = {
        "Content-Disposition": content_disposition(file.name, inline),
        "X-Content-Type-Options": "nosniff",
        "Accept-Ranges": "bytes",
        # A shared computer's cache must not keep someone's contract.
        "Cache-Control": "private, no-store",
    }
    if content_type.startswith("text/"):
        content_type += "; charset=utf-8" if "charset" not in content_type else ""
    if settings.DISK_X_ACCEL_REDIRECT:
        if on_start and request.method != "HEAD":
            on_start()
        response = HttpResponse(content_type=content_type, headers=headers)
        response["X-Accel-Redirect"] = settings.DISK_X_ACCEL_REDIRECT.rstrip("/") + "/" + quote(version.blob)
        return response
    size = version.size
    try:
        span = ranges.parse(request.headers.get("Range"), size)
    except ranges.Unsatisfiable:
        response = HttpResponse(status=416, headers={**headers, "Content-Range": f"bytes */{size}"})
        return response
    if span is not None and request.headers.get("If-Range") not in (None, _etag(version)):
        span = None  # the file changed since the client's first part: start again
    headers["ETag"] = _etag(version)
    first, last = span if span is not None else (0, None)
    try:
        if span is None and not blobs.is_s3():
            # The whole file from the file system: FileResponse lets the server use sendfile.
            chunks = None
            opened = blobs.store().open(version.blob, "rb")
        else:
            chunks = blobs.open_range(version.blob, first, last)
    except FileNotFoundError:
        log.error("disk: the blob %s of file %s is missing from the store", version.blob, file.pk)
        raise Http404 from None
    if on_start and request.method != "HEAD" and first == 0:
        on_start()
    if chunks is None:
        response = FileResponse(opened, content_type=content_type)
    else:
        response = StreamingHttpResponse(chunks, status=200 if span is None else 206, content_type=content_type)
    # FileResponse writes its own Content-Disposition from the blob's key: ours replaces it.
    for header, value in headers.items():
        response[header] = value
    if inline:
        # A preview is a PDF or an image in an <iframe> of the disk's page: our own pages only
        # (the site-wide policy forbids any framing).
        response["X-Frame-Options"] = "SAMEORIGIN"
        response._csp_replace = {"frame-ancestors": ["'self'"]}
    if span is None:
        response["Content-Length"] = str(size)
    else:
        response["Content-Range"] = f"bytes {first}-{last}/{size}"
        response["Content-Length"] = str(last - first + 1)
    return response


def _etag(version: FileVersion) -> str:
    return f'"{version.sha256}"'


@require_http_methods(["GET", "HEAD"])
def download(request, pk: int, number: int | None = None):
    """A file (its current version, or `number`) for whoever may read it (404 otherwise)."""
    if number is None:
        file = selectors.file_for(request.user, pk)
        version = file.current
        if version is None:
            return HttpResponse(status=404)
    else:
        version = selectors.version_for(request.user, pk, number)
        file = version.file
    return serve(request, file, version)


PASSWORD_ATTEMPTS, PASSWORD_LOCKOUT = 10, 15 * 60


class PasswordForm(forms.Form):
    password = forms.CharField(label=_("Пароль"), widget=forms.PasswordInput, max_length=128)


def _session_key(link) -> str:
    return f"disk_public_{link.pk}"


def _private(response: HttpResponse) -> HttpResponse:
    # The token is the secret: no Referer carries it to another site, no search engine keeps it.
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


@login_not_required
@require_http_methods(["GET", "HEAD", "POST"])
def public(request, token: str):
    return _private(_public(request, token))


def _public(request, token: str):
    """A public link: the file for anyone with the link (and its password, if it has one).
    Revoked, expired or unknown: 404. A right password is remembered in the session, so a video
    player's range requests need not send it again."""
    link = selectors.public_link(token)
    if link.password and not request.session.get(_session_key(link)):
        form = PasswordForm(request.POST or None)
        failures = f"disk_public_failures:{link.token}:{request.META.get('REMOTE_ADDR', '')}"
        status, locked = 200, False
        if request.method == "POST" and cache.get(failures, 0) >= PASSWORD_ATTEMPTS:
            # Guessing is slowed down per link and address (the login has django-axes; this has no user).
            form, status, locked = PasswordForm(), 429, True
        elif request.method == "POST" and form.is_valid():
            if check_password(form.cleaned_data["password"], link.password):
                request.session[_session_key(link)] = True
                cache.delete(failures)
                return redirect("disk:public", token=link.token)
            cache.set(failures, cache.get(failures, 0) + 1, PASSWORD_LOCKOUT)
            form.add_error("password", _("Неверный пароль."))
            status = 400
        elif request.method == "POST":
            status = 400
        response = render(request, "disk/public_password.html", {"form": form, "link": link, "locked": locked},
                          status=status)
        response["Cache-Control"] = "no-store"
        return response
    if request.method == "POST":
        return redirect("disk:public", token=link.token)
    return serve(request, link.file, link.file.current, on_start=lambda: services.public_link_downloaded(link))
