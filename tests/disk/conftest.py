"""The disk's stores for tests: a private folder per test, and a real S3-compatible server
(moto's server mode, on loopback, a free port) for the S3 path — django-storages talks HTTP to it
exactly as to object storage in production.

`store` is parametrised over both where a test asks for it; `blob_keys()` lists what is in the
store, so a test can prove that nothing was left behind.
"""

from __future__ import annotations

import io
import logging
import os
import uuid

import pytest
from django.core.files.storage import storages

from disk import services

S3_CREDENTIALS = {"access_key": "testing", "secret_key": "testing", "region_name": "us-east-1"}


@pytest.fixture(autouse=True)
def disk_store(settings, tmp_path):
    """Every disk test gets its own empty folder as the store (never the developer's files)."""
    settings.STORAGES = {**settings.STORAGES, "disk": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(tmp_path / "disk"), "base_url": None}}}
    settings.DISK_X_ACCEL_REDIRECT = ""
    return tmp_path / "disk"


@pytest.fixture(scope="session")
def s3_server():
    from moto.server import ThreadedMotoServer

    # boto3 must never reach a real account or read a developer's ~/.aws.
    os.environ.setdefault("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    os.environ.setdefault("AWS_CONFIG_FILE", os.devnull)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


S3_PART = 5 * 1024 * 1024  # S3's smallest part


@pytest.fixture
def s3_store(settings, s3_server):
    import boto3
    from boto3.s3.transfer import TransferConfig

    bucket = f"disk-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=s3_server, aws_access_key_id="testing", aws_secret_access_key="testing",
                 region_name="us-east-1").create_bucket(Bucket=bucket)
    settings.STORAGES = {**settings.STORAGES, "disk": {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": {
        "bucket_name": bucket, "endpoint_url": s3_server, "default_acl": None, "file_overwrite": True,
        "transfer_config": TransferConfig(multipart_threshold=S3_PART, multipart_chunksize=S3_PART, max_concurrency=2),
        **S3_CREDENTIALS}}}
    return bucket


@pytest.fixture(params=["filesystem", "s3"])
def store(request):
    """The same test on the private folder and on the S3 server."""
    if request.param == "s3":
        request.getfixturevalue("s3_store")
    return request.param


def blob_keys() -> set[str]:
    """Every key in the current `disk` store."""
    backend = storages["disk"]
    if hasattr(backend, "bucket"):
        return {obj.key for obj in backend.bucket.objects.all()}
    root = backend.location
    found = set()
    for folder, _dirs, files in os.walk(root):
        for name in files:
            found.add(os.path.relpath(os.path.join(folder, name), root).replace(os.sep, "/"))
    return found


def blob_bytes(key: str) -> bytes:
    with storages["disk"].open(key, "rb") as f:
        return f.read()


def content(text: str | bytes, name: str = "upload.bin") -> io.BytesIO:
    data = text.encode() if isinstance(text, str) else text
    source = io.BytesIO(data)
    source.name = name
    return source


@pytest.fixture
def my_disk(owner):
    return services.personal_storage(owner)
