"""Files on comments (registered into crm.timeline when the app is ready: the kernel never imports
the disk). The card's comment form gets «Файлы» (several; dropped onto the form too, disk.js);
the comment's view reads its body through `uploads.parse` (spooled, cut off at the size limit),
`services.comment_add` saves the comment and its files together, and each comment of the
timeline lists its files (`selectors.comment_files`, one query per page)."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import BadRequest
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from crm import timeline

from . import selectors, services, uploads


class CommentFiles:
    field_template = "disk/_comment_file_field.html"
    list_template = "disk/_comment_files.html"

    @property
    def max_size(self) -> int:
        """For the form's check before sending (0: no limit)."""
        return settings.DISK_MAX_FILE_SIZE or 0

    def read(self, request) -> tuple[list, str]:
        try:
            _data, files = uploads.parse(request)
        except Exception as exc:  # the client broke the body off: nobody is left to read an answer
            raise BadRequest(_("Загрузка прервалась.")) from exc
        if getattr(request, "disk_upload_too_large", False):
            # The same words as the service's refusal (services._limits); the text came before
            # the files in the body, so it is kept.
            return [], _("Файл больше %(size)s: такой загрузить нельзя.") % {
                "size": filesizeformat(settings.DISK_MAX_FILE_SIZE)}
        return files.getlist("files"), ""

    def add(self, record, by, text: str, files: list, pin_it: bool):
        return services.comment_add(record, text, files, by, pin_it=pin_it)

    def of(self, user, record, entries: list) -> dict[int, list]:
        return selectors.comment_files(user, record, entries)


timeline.register_comment_files(CommentFiles())
