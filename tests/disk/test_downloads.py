"""Downloads: only through the authorised view, with the Cyrillic name intact (RFC 6266/5987),
`nosniff`, anything a browser would run as an attachment, byte ranges for players and big PDFs,
and the proxy's X-Accel-Redirect when configured. Public links: no login, a password if set,
expiry and revocation (404), a download counter."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote

import pytest
from django.urls import reverse
from django.utils import timezone

from disk import services
from disk.models import PublicLink
from disk.views import content_disposition

from .conftest import content

pytestmark = pytest.mark.django_db
DATA = bytes(range(256)) * 40  # 10,240 bytes


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.fixture
def offer(owner, my_disk):
    return services.upload(my_disk.root, content(DATA), "КП для «Ромашки» №1.pdf", owner)


def url(found, **params) -> str:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return reverse("disk:download", args=[found.pk]) + (f"?{query}" if query else "")


def test_it_downloads_a_file_with_its_cyrillic_name(store, client, owner, offer):
    client.force_login(owner)
    response = client.get(url(offer))
    assert response.status_code == 200
    assert body(response) == DATA
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Length"] == str(len(DATA))
    assert response["Content-Disposition"] == (
        "attachment; filename=\"__ ___ _________ _1.pdf\"; "
        f"filename*=UTF-8''{quote('КП для «Ромашки» №1.pdf', safe='')}")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Accept-Ranges"] == "bytes"


@pytest.mark.parametrize("persona", ["teammate", "outsider"])
def test_it_answers_404_to_whom_may_not_read_the_file(client, personas, persona, offer):
    client.force_login(personas[persona])
    assert client.get(url(offer)).status_code == 404


def test_it_serves_the_crm_admin_and_a_colleague_it_is_shared_with(client, crm_admin, teammate, owner, offer):
    client.force_login(crm_admin)
    assert client.get(url(offer)).status_code == 200
    services.share(offer, owner, user=teammate)
    client.force_login(teammate)
    assert body(client.get(url(offer))) == DATA


def test_it_sends_a_visitor_without_a_login_to_the_login_page(client, offer):
    response = client.get(url(offer))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_it_answers_404_for_a_file_in_the_trash(client, owner, offer):
    services.delete(offer, owner)
    client.force_login(owner)
    assert client.get(url(offer)).status_code == 404


def test_it_downloads_an_earlier_version(client, owner, offer):
    services.upload_version(offer, content(b"second"), owner)
    client.force_login(owner)
    assert body(client.get(url(offer))) == b"second"
    assert body(client.get(reverse("disk:download_version", args=[offer.pk, 1]))) == DATA
    assert client.get(reverse("disk:download_version", args=[offer.pk, 7])).status_code == 404


@pytest.mark.parametrize(("header", "first", "last"), [
    ("bytes=0-99", 0, 99),
    ("bytes=1000-", 1000, len(DATA) - 1),
    ("bytes=-256", len(DATA) - 256, len(DATA) - 1),
    ("bytes=10000-99999", 10000, len(DATA) - 1),
])
def test_it_serves_a_byte_range(store, client, owner, offer, header, first, last):
    client.force_login(owner)
    response = client.get(url(offer), HTTP_RANGE=header)
    assert response.status_code == 206
    assert body(response) == DATA[first:last + 1]
    assert response["Content-Range"] == f"bytes {first}-{last}/{len(DATA)}"
    assert response["Content-Length"] == str(last - first + 1)


def test_it_streams_a_large_file_in_small_chunks(store, client, owner, my_disk):
    data = DATA * 100  # 1 MB
    found = services.upload(my_disk.root, content(data), "Видео.mp4", owner)
    client.force_login(owner)
    response = client.get(url(found))
    assert response.streaming and response["Content-Length"] == str(len(data))
    chunks = list(response.streaming_content)
    assert b"".join(chunks) == data
    assert max(map(len, chunks)) <= 64 * 1024


def test_it_downloads_an_empty_file(store, client, owner, my_disk):
    found = services.upload(my_disk.root, content(b""), "Пусто.txt", owner)
    client.force_login(owner)
    response = client.get(url(found))
    assert response.status_code == 200 and body(response) == b""


def test_it_answers_404_when_the_bytes_are_missing_from_the_store(store, client, owner, offer, caplog):
    from django.core.files.storage import storages

    storages["disk"].delete(offer.current.blob)
    client.force_login(owner)
    assert client.get(url(offer)).status_code == 404
    assert client.get(url(offer), HTTP_RANGE="bytes=5-").status_code == 404
    assert "is missing from the store" in caplog.text


def test_it_refuses_a_range_past_the_end(client, owner, offer):
    client.force_login(owner)
    response = client.get(url(offer), HTTP_RANGE=f"bytes={len(DATA)}-")
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{len(DATA)}"


@pytest.mark.parametrize("header", ["bytes=0-1,5-6", "items=0-5", "bytes=9-2", "bytes=-"])
def test_it_sends_the_whole_file_for_a_range_it_does_not_serve(client, owner, offer, header):
    client.force_login(owner)
    response = client.get(url(offer), HTTP_RANGE=header)
    assert response.status_code == 200 and body(response) == DATA


def test_it_starts_again_when_the_file_changed_since_the_first_part(client, owner, offer):
    client.force_login(owner)
    etag = client.get(url(offer))["ETag"]
    services.upload_version(offer, content(b"new content"), owner)
    response = client.get(url(offer), HTTP_RANGE="bytes=3-", HTTP_IF_RANGE=etag)
    assert response.status_code == 200 and body(response) == b"new content"


@pytest.mark.parametrize("name", ["страница.html", "logo.svg", "data.xml", "script.js", "page.xhtml"])
def test_it_never_shows_what_a_browser_would_run_inline(client, owner, my_disk, name):
    found = services.upload(my_disk.root, content("<script>alert(1)</script>"), name, owner)
    client.force_login(owner)
    response = client.get(url(found, inline=1))
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"


def test_it_shows_a_pdf_or_an_image_inline_when_asked(client, owner, offer, my_disk):
    client.force_login(owner)
    assert client.get(url(offer, inline=1))["Content-Disposition"].startswith("inline;")
    assert client.get(url(offer))["Content-Disposition"].startswith("attachment;")


def test_it_lets_the_proxy_send_the_bytes_when_configured(settings, client, owner, offer):
    settings.DISK_X_ACCEL_REDIRECT = "/_disk/"
    client.force_login(owner)
    response = client.get(url(offer))
    assert response.status_code == 200
    assert response["X-Accel-Redirect"] == f"/_disk/{offer.current.blob}"
    assert response.content == b""
    assert response["Content-Disposition"].endswith(quote("КП для «Ромашки» №1.pdf", safe=""))
    client.force_login(_stranger())
    assert client.get(url(offer)).status_code == 404


def _stranger():
    from tests.factories import UserFactory

    return UserFactory(role="Менеджер")


def test_it_writes_an_ascii_fallback_and_the_utf8_name():
    assert content_disposition('a"b\\c%.txt') == "attachment; filename=\"a_b_c_.txt\"; filename*=UTF-8''a%22b%5Cc%25.txt"


# --- Public links ---

def public_url(link) -> str:
    return reverse("disk:public", args=[link.token])


def test_it_downloads_through_a_public_link_without_a_login_and_counts_it(store, client, owner, offer):
    link = services.public_link_create(offer, owner)
    response = client.get(public_url(link))
    assert response.status_code == 200 and body(response) == DATA
    assert "filename*=UTF-8''" in response["Content-Disposition"]
    assert response["Referrer-Policy"] == "no-referrer"
    # A player reading further parts is still one download.
    assert client.get(public_url(link), HTTP_RANGE="bytes=100-").status_code == 206
    link.refresh_from_db()
    assert link.download_count == 1


def test_it_asks_a_public_link_s_password_once(client, owner, offer):
    link = services.public_link_create(offer, owner, password="ромашка-2026")
    page = client.get(public_url(link))
    assert page.status_code == 200 and "Файл защищён паролем" in page.content.decode()
    assert DATA not in page.content
    wrong = client.post(public_url(link), {"password": "guess"})
    assert wrong.status_code == 400 and "Неверный пароль" in wrong.content.decode()
    right = client.post(public_url(link), {"password": "ромашка-2026"})
    assert right.status_code == 302
    assert body(client.get(public_url(link))) == DATA
    link.refresh_from_db()
    assert link.download_count == 1


def test_it_slows_down_guessing_a_public_link_s_password(client, owner, offer):
    link = services.public_link_create(offer, owner, password="верный")
    for _attempt in range(10):
        assert client.post(public_url(link), {"password": "guess"}).status_code == 400
    locked = client.post(public_url(link), {"password": "верный"})
    assert locked.status_code == 429 and "Слишком много неверных попыток" in locked.content.decode()
    assert DATA not in client.get(public_url(link)).content


@pytest.mark.parametrize("how", ["revoked", "expired", "in the trash", "unknown"])
def test_it_answers_404_for_a_dead_public_link(client, owner, offer, how):
    link = services.public_link_create(offer, owner, expires_at=timezone.now() + timedelta(days=1))
    if how == "revoked":
        services.public_link_revoke(link, owner)
    elif how == "expired":
        PublicLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    elif how == "in the trash":
        services.delete(offer, owner)
    else:
        link.token = "x" * 32
    assert client.get(public_url(link)).status_code == 404


def test_it_refuses_a_public_link_that_expires_in_the_past(owner, offer):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        services.public_link_create(offer, owner, expires_at=timezone.now() - timedelta(hours=1))
    assert not PublicLink.objects.exists()


def test_it_downloads_within_a_query_budget(client, owner, offer, django_assert_max_num_queries):
    client.force_login(owner)
    with django_assert_max_num_queries(8):
        response = client.get(url(offer))
    assert response.status_code == 200
