"""The bytes: the `disk` alias of STORAGES (a private folder by default, S3 by setting).

A blob's key is random ("ab/cd/abcd…"): no user-given name ever reaches the store, so no name can
walk out of it, and two files never fight over a key. `put` streams a source into the store in
chunks, counting and hashing as it goes and stopping at the limit; whatever was written of an
aborted upload is removed before the error goes on.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import re
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.storage import Storage, storages
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

log = logging.getLogger(__name__)


def store() -> Storage:
    return storages["disk"]


def new_key() -> str:
    token = uuid.uuid4().hex
    return f"{token[:2]}/{token[2:4]}/{token}"


@dataclass(frozen=True)
class Stored:
    key: str
    size: int
    sha256: str


class TooLarge(ValidationError):
    """Over the file size limit or the quota, found while streaming."""


class _Metered(io.RawIOBase):
    """Reads a source once, front to back, counting and hashing; over `limit` bytes it stops the
    upload with `message`. It does not seek, so the store's client streams it in parts instead of
    asking for its size first (the size is what we are measuring)."""

    def __init__(self, source, limit: int | None, message: str):
        self.source, self.limit, self.message = source, limit, message
        self.size = 0
        self.hash = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        # File.chunks() rewinds before reading: harmless before the first byte, refused after.
        if offset == 0 and whence == io.SEEK_SET and self.size == 0:
            return 0
        raise io.UnsupportedOperation("seek")

    def tell(self) -> int:
        return self.size

    def read(self, size: int = -1) -> bytes:
        data = self.source.read(size if size and size > 0 else 64 * 1024)
        if isinstance(data, str):
            data = data.encode()
        self.size += len(data)
        if self.limit is not None and self.size > self.limit:
            raise TooLarge(self.message)
        self.hash.update(data)
        return data

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)


def put(source, limit: int | None = None, message: str = "") -> Stored:
    """Stream `source` (anything with read(); an UploadedFile, an opened blob) into the store."""
    if hasattr(source, "seek"):
        try:
            source.seek(0)
        except (OSError, ValueError):
            pass
    metered = _Metered(source, limit, message or _("Файл больше %(size)s.") % {"size": filesizeformat(limit or 0)})
    key = new_key()
    try:
        saved = store().save(key, File(metered, name=key))
    except BaseException:
        # An interrupted or refused upload may have left part of a blob: remove it now.
        discard([key])
        raise
    return Stored(saved, metered.size, metered.hash.hexdigest())


def copy(key: str) -> Stored:
    """A new blob with the bytes of `key`, streamed through (S3 too: see open_range)."""
    return put(_ChunkReader(open_range(key)))


class _ChunkReader:
    """read(n) over an iterator of chunks."""

    def __init__(self, chunks: Iterator[bytes]):
        self.chunks, self.buffer = chunks, b""

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self.buffer) < size:
            chunk = next(self.chunks, None)
            if chunk is None:
                break
            self.buffer += chunk
        if size < 0:
            data, self.buffer = self.buffer, b""
        else:
            data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data


CHUNK = 64 * 1024


def is_s3(backend: Storage | None = None) -> bool:
    return hasattr(backend or store(), "bucket")


def open_range(key: str, first: int = 0, last: int | None = None) -> Iterator[bytes]:
    """The bytes first..last (included; None: to the end) of a blob, in chunks, never the whole
    blob in memory. The blob is opened here, before the answer starts, so a missing one is a
    FileNotFoundError the view can answer, not a broken download.

    S3 is asked for just those bytes (a Range GET streamed through): django-storages' own file
    object would first copy the whole object into a temporary file, in memory by default."""
    backend = store()
    if is_s3(backend):
        from botocore.exceptions import ClientError

        # No Range for the whole blob: S3 refuses «bytes=0-» of an empty object.
        span = {} if first == 0 and last is None else {"Range": f"bytes={first}-{'' if last is None else last}"}
        try:
            # _normalize_name adds the storage's `location` prefix, as its own open() does.
            body = backend.bucket.Object(backend._normalize_name(key)).get(**span)["Body"]
        except ClientError as exc:
            raise FileNotFoundError(key) from exc
        return _closing(body.iter_chunks(CHUNK), body)
    opened = backend.open(key, "rb")
    return _file_range(opened, first, last)


def _closing(chunks: Iterator[bytes], body) -> Iterator[bytes]:
    try:
        yield from chunks
    finally:
        body.close()


def _file_range(fileobj, first: int, last: int | None) -> Iterator[bytes]:
    try:
        fileobj.seek(first)
        left = None if last is None else last - first + 1
        while left is None or left > 0:
            data = fileobj.read(CHUNK if left is None else min(CHUNK, left))
            if not data:
                break
            if left is not None:
                left -= len(data)
            yield data
    finally:
        fileobj.close()


# What new_key() makes: only such keys are the disk's to sweep (anything else in the folder or the
# bucket — a prefix shared with another app, a README — is left alone).
KEY = re.compile(r"[0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f]{32}")


def listing() -> Iterator[tuple[str, datetime, int]]:
    """Every blob in the store: its key, last change (aware) and size, for the orphan sweep — the
    folder walked, or the bucket listed a thousand keys a request (no HEAD per key)."""
    backend = store()
    if is_s3(backend):
        prefix = backend._normalize_name("") if backend.location else ""
        prefix = prefix.rstrip("/") + "/" if prefix else ""
        for obj in backend.bucket.objects.filter(Prefix=prefix):
            key = obj.key[len(prefix):]
            if KEY.fullmatch(key):
                yield key, obj.last_modified, obj.size
        return
    root = backend.location
    for folder, _dirs, names in os.walk(root):
        for name in names:
            path = os.path.join(folder, name)
            key = os.path.relpath(path, root).replace(os.sep, "/")
            if not KEY.fullmatch(key):
                continue
            try:
                stat = os.stat(path)
            except FileNotFoundError:  # removed meanwhile (a purge)
                continue
            yield key, datetime.fromtimestamp(stat.st_mtime, tz=UTC), stat.st_size


def discard(keys: Iterable[str]) -> None:
    """Remove blobs; a failure is logged, not raised: the rows are already gone and the caller's
    work is done (an orphan blob costs space, not correctness)."""
    for key in keys:
        try:
            store().delete(key)
        except Exception:
            log.exception("disk: could not delete blob %s", key)


def discard_after_commit(keys: Iterable[str]) -> None:
    """Final deletion removes the bytes only once the rows' deletion is committed: a rolled back
    purge must still find its files."""
    keys = list(keys)
    if keys:
        transaction.on_commit(lambda: discard(keys))
