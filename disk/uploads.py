"""The upload handler for the disk's upload views: a file is spooled to a temporary file while
the request is read (never held in memory), its size checked as it arrives — an upload over
DISK_MAX_FILE_SIZE is cut off at the limit instead of after gigabytes — and then streamed on to the
store by `services.upload`. An upload broken off by the client leaves only Django's temporary
file, which Django removes: no row, no blob.

A view installs it before touching request.POST/FILES:

    request.upload_handlers = uploads.handlers(request)
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
