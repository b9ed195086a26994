"""Uploads stream: the request's file is spooled to a temporary file (never held whole in memory),
cut off at the size limit while it arrives, and streamed on to the store in chunks."""

from __future__ import annotations

import io
import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile, TemporaryUploadedFile
from django.test import RequestFactory

from disk import services, uploads
from disk.models import File

from .conftest import S3_PART, blob_bytes, blob_keys

pytestmark = pytest.mark.django_db
MB = 1024 * 1024


def parsed(data: bytes, name: str = "Видео.mp4"):
    request = RequestFactory().post("/disk/upload/", {"file": SimpleUploadedFile(name, data)})
    _data, files = uploads.parse(request)
    return request, files.get("file")


def test_it_spools_an_upload_larger_than_the_memory_allowed_to_a_temporary_file(settings):
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 256 * 1024
    request, uploaded = parsed(os.urandom(MB))
    assert isinstance(uploaded, TemporaryUploadedFile)
    assert uploaded.size == MB and os.path.exists(uploaded.temporary_file_path())
    assert not getattr(request, "disk_upload_too_large", False)


def test_it_cuts_off_an_upload_over_the_limit_while_it_arrives(settings):
    settings.DISK_MAX_FILE_SIZE = 100 * 1024
    request, uploaded = parsed(b"x" * (300 * 1024))
    assert uploaded is None
    assert request.disk_upload_too_large is True


def test_it_streams_a_spooled_upload_to_the_store_in_chunks(store, settings, owner, my_disk, monkeypatch):
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 256 * 1024
    data = os.urandom(11 * MB)  # over S3's part size twice: a multipart upload there
    _request, uploaded = parsed(data)
    reads: list[int] = []
    original = uploaded.file.read

    def read(size=-1):
        chunk = original(size)
        reads.append(len(chunk))
        return chunk

    monkeypatch.setattr(uploaded.file, "read", read)
    found = services.upload(my_disk.root, uploaded, uploaded.name, owner)
    assert File.objects.get(pk=found.pk).size == 11 * MB
    assert blob_bytes(found.current.blob) == data
    # Never the whole file at once: the file system store reads 64 KB at a time, S3 one part.
    assert max(reads) <= S3_PART and len(reads) > 2
    assert len(blob_keys()) == 1


def test_it_leaves_no_temporary_file_of_a_request_broken_off(settings, tmp_path):
    """The client goes away half-way through the body: Django's parser fails, the spooled part is
    removed with its temporary file, and nothing reached the store or the database."""
    from django.core.handlers.wsgi import WSGIRequest
    from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart

    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 256 * 1024
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "spool")
    (tmp_path / "spool").mkdir()
    body = encode_multipart(BOUNDARY, {"file": SimpleUploadedFile("Видео.mp4", os.urandom(MB))})
    cut = body[: len(body) // 2]

    class Gone(io.BytesIO):
        def read(self, *args):
            data = super().read(*args)
            if not data:
                raise OSError("client went away")
            return data

    environ = RequestFactory()._base_environ(REQUEST_METHOD="POST", CONTENT_TYPE=MULTIPART_CONTENT,
                                              CONTENT_LENGTH=str(len(body)), PATH_INFO="/disk/upload/")
    environ["wsgi.input"] = Gone(cut)
    request = WSGIRequest(environ)
    with pytest.raises(OSError):
        uploads.parse(request)
    assert list((tmp_path / "spool").iterdir()) == []
    assert not File.objects.exists() and blob_keys() == set()
