"""Which addresses a handler may post to. The CRM posts from inside the company's network, so an
URL pointing at the CRM's own machine or the private network would let whoever registers a
handler make the server knock on doors the outside cannot (SSRF): such addresses are refused
unless REST_EVENTS_ALLOW_PRIVATE is set (a receiver on the same machine or network, the tests).
Checked when the handler is saved and again before each post (the name may resolve elsewhere by then)."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _


def _private(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


def problem(url: str, *, resolve: bool = True) -> str | None:
    """Why `url` may not receive events (a Russian sentence), or None. A name that does not
    resolve now is let through when `resolve` is False (saving a handler whose receiver is not up
    yet); the post itself checks again and fails then."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return _("Адрес должен начинаться с http:// или https:// и содержать имя сервера.")
    if parts.username or parts.password:
        return _("Адрес не должен содержать имя пользователя и пароль: для проверки есть токен приложения.")
    if settings.REST_EVENTS_ALLOW_PRIVATE:
        return None
    host = parts.hostname
    try:
        addresses = [host] if _is_ip(host) else sorted({info[4][0] for info in socket.getaddrinfo(host, None)})
    except (socket.gaierror, UnicodeError):
        return None if not resolve else _("Имя сервера «%(host)s» не найдено.") % {"host": host}
    if host.rstrip(".").lower() == "localhost" or any(_private(a.split("%")[0]) for a in addresses):
        return _("Адрес «%(host)s» — этот компьютер или внутренняя сеть: туда события не отправляются.") % {"host": host}
    return None


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
