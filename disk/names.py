"""What a file or folder name may be, and the free name in a folder.

A name is shown, downloaded to Windows and macOS and typed into search; it never reaches the
store (blobs have random keys), so these rules are about people's machines, not about our paths.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

MAX_LENGTH = 255
# Windows refuses these as a name, with any extension («CON.txt» too).
RESERVED = frozenset({"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))})
FORBIDDEN = set('/\\:*?"<>|')
COPY = re.compile(r"^(?P<stem>.*?) \((?P<n>\d+)\)$")


def clean(name: str) -> str:
    """The name as stored, or ValidationError with the reason in Russian."""
    name = unicodedata.normalize("NFC", str(name or ""))
    # Control characters (a newline in a name breaks headers and listings) and bidi overrides
    # («…‮fdp.exe» shown as «…exe.pdf») are refused outright, not silently dropped.
    if any(unicodedata.category(ch) in ("Cc", "Cf") for ch in name):
        raise ValidationError(_("В названии есть управляющие символы."))
    name = name.strip()
    # Windows drops trailing dots and spaces: «Договор.» would become another file there; so «..»
    # (a path's parent) is no name at all.
    name = name.rstrip(". ")
    if not name:
        raise ValidationError(_("Укажите название."))
    bad = sorted(FORBIDDEN.intersection(name))
    if bad:
        raise ValidationError(_("В названии нельзя использовать символы %(chars)s") % {"chars": " ".join(bad)})
    if name.split(".", 1)[0].strip().upper() in RESERVED:
        raise ValidationError(_("«%(name)s» — зарезервированное имя Windows, выберите другое.") % {"name": name})
    if len(name) > MAX_LENGTH:
        raise ValidationError(_("Название длиннее %(max)d символов.") % {"max": MAX_LENGTH})
    return name


def split(name: str) -> tuple[str, str]:
    """«Договор.docx» → («Договор», «.docx»); a leading dot is part of the stem («.env»)."""
    dot = name.rfind(".")
    if dot <= 0:
        return name, ""
    return name[:dot], name[dot:]


def free(name: str, taken: Iterable[str]) -> str:
    """The first of «Договор.docx», «Договор (1).docx», «Договор (2).docx»… not in `taken`
    (compared ignoring case, as the folder's unique index does). Bitrix24 numbers copies so."""
    taken = {t.casefold() for t in taken}
    if name.casefold() not in taken:
        return name
    stem, ext = split(name)
    match = COPY.match(stem)
    if match:
        stem = match["stem"]
    n = 1
    while True:
        suffix = f" ({n}){ext}"
        candidate = stem[:MAX_LENGTH - len(suffix)] + suffix
        if candidate.casefold() not in taken:
            return candidate
        n += 1


def copy_pattern(name: str) -> str:
    """A regex-free prefix for finding the numbered copies of `name` in one query."""
    stem, _ext = split(name)
    match = COPY.match(stem)
    return match["stem"] if match else stem
