"""Which addresses a handler may post to. The CRM posts from inside the company's network, so an
URL pointing at the CRM's own machine or the private network would let whoever registers a
handler make the server knock on doors the outside cannot (SSRF): such addresses are refused
unless REST_EVENTS_ALLOW_PRIVATE is set (a receiver on the same machine or network, the tests).
Checked when the handler is saved and again before each post (the name may resolve elsewhere by
then); the post connects to the very addresses it checked (`destination`)."""

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
    yet); the post itself checks again (`destination`) and fails then."""
    if resolve:
        return destination(url)[1]
    parts = urlsplit(url)
    trouble = _shape(parts)
    if trouble or settings.REST_EVENTS_ALLOW_PRIVATE:
        return trouble
    try:
        found = _lookup(parts.hostname, _port(parts))
    except (socket.gaierror, UnicodeError):
        return None
    return _forbidden(parts.hostname, found)


def destination(url: str) -> tuple[list[str], str | None]:
    """(the addresses to connect to, None), or ([], why not). The name is resolved here, once: the
    post connects to exactly these addresses (sending the name as Host and TLS's server name), so
    the name cannot turn to a private address between the check and the connection (DNS rebinding)."""
    parts = urlsplit(url)
    trouble = _shape(parts)
    if trouble:
        return [], trouble
    try:
        found = _lookup(parts.hostname, _port(parts))
    except (socket.gaierror, UnicodeError):
        return [], _("Имя сервера «%(host)s» не найдено.") % {"host": parts.hostname}
    if not settings.REST_EVENTS_ALLOW_PRIVATE:
        trouble = _forbidden(parts.hostname, found)
        if trouble:
            return [], trouble
    return found, None


def _shape(parts) -> str | None:
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return _("Адрес должен начинаться с http:// или https:// и содержать имя сервера.")
    if parts.username or parts.password:
        return _("Адрес не должен содержать имя пользователя и пароль: для проверки есть токен приложения.")
    try:
        parts.port  # noqa: B018 — a port that is no number raises here
    except ValueError:
        return _("Адрес должен начинаться с http:// или https:// и содержать имя сервера.")
    return None


def _port(parts) -> int:
    return parts.port or (443 if parts.scheme == "https" else 80)


def _lookup(host: str, port: int) -> list[str]:
    """The host's addresses in the resolver's order (an IP address is itself)."""
    if _is_ip(host):
        return [host]
    found = [info[4][0].split("%")[0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]
    return list(dict.fromkeys(found))


def _forbidden(host: str, found: list[str]) -> str | None:
    if host.rstrip(".").lower() == "localhost" or any(_private(a) for a in found):
        return _("Адрес «%(host)s» — этот компьютер или внутренняя сеть: туда события не отправляются.") % {"host": host}
    return None


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
