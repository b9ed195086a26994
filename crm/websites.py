"""A website field (a company's «Сайт», a lead's company site): what is accepted and what becomes a link.

Only http(s) addresses, or a bare domain as managers type it («romashka.ru», «сайт.рф»), which is
kept as typed and opened over https. Anything else — «javascript://%0aalert(4)», «data:…»,
«ftp://…» — is refused when saved, and a value stored before this check is shown as text, never
as a link."""

from __future__ import annotations

import unicodedata
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils.translation import gettext_lazy as _

_HTTP = URLValidator(schemes=["http", "https"])
MESSAGE = _("Укажите адрес сайта: домен (example.ru) или ссылку, начинающуюся с http:// или https://.")


def href(value: str) -> str:
    """The address to put in a link's href, or '' when `value` is not an http(s) website."""
    value = (value or "").strip()
    if not value or any(unicodedata.category(ch)[0] in "CZ" for ch in value):
        return ""  # control characters and spaces (a «%0a» decoded) never make a link
    scheme = urlsplit(value).scheme.lower() if "://" in value else ""
    if scheme not in ("", "http", "https"):
        return ""
    url = value if scheme else f"https://{value}"
    if "@" in urlsplit(url).netloc:
        return ""  # «mailto:a@b.ru» would pass as user «mailto:a» at b.ru: a site has no user
    try:
        _HTTP(url)
    except ValidationError:
        return ""
    return url


def clean(value: str) -> str:
    """The website as stored: trimmed, '' for none. Raises ValidationError (in Russian) for
    anything that is not an http(s) address or a domain."""
    value = (value or "").strip()
    if value and not href(value):
        raise ValidationError(MESSAGE, code="website")
    return value
