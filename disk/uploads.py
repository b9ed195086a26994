"""The upload handler for the disk's upload views: a file is spooled to a temporary file while
the request is read (never held in memory), its size checked as it arrives — an upload over
DISK_MAX_FILE_SIZE is cut off at the limit instead of after gigabytes — and then streamed on to the
store by `services.upload`. An upload broken off by the client leaves nothing: `parse` closes
(so deletes) the temporary file Django's parser was writing, and no row or blob was made yet.

A view reads the request through `parse` (before anything touches request.POST/FILES):

    data, files = uploads.parse(request)
"""

from __future__ import annotations

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, StopUpload, TemporaryFileUploadHandler


class SizeLimitHandler(FileUploadHandler):
    """Counts each file's bytes as they arrive and stops the whole request over the limit (the
    view then sees no file and says why, from `too_large`)."""

    def __init__(self, request=None, limit: int | None = None):
        super().__init__(request)
        self.limit = settings.DISK_MAX_FILE_SIZE if limit is None else limit
        self.received = 0
        self.too_large = False

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.limit and self.received > self.limit:
            self.too_large = True
            if self.request is not None:
                self.request.disk_upload_too_large = True
            raise StopUpload(connection_reset=True)
        return raw_data

    def file_complete(self, file_size):
        return None


def handlers(request) -> list[FileUploadHandler]:
    return [SizeLimitHandler(request), TemporaryFileUploadHandler(request)]


def parse(request):
    """(request.POST, request.FILES) read through the disk's handlers. A body that breaks off
    raises as Django's parser does, but first the half-written temporary file is closed, which
    deletes it (Django's parser leaves it to the garbage collector)."""
    request.upload_handlers = handlers(request)
    try:
        return request.POST, request.FILES
    except Exception:
        for handler in request.upload_handlers:
            partial = getattr(handler, "file", None)
            if partial is not None:
                partial.close()
        raise
