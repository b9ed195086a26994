"""Going back to where a form was sent from (`next`), for every view that takes one.

`next` comes from the browser, so it is anything at all. `url_has_allowed_host_and_scheme`
alone is not enough: it calls «ab\\x00cd», an emoji or «{"a":1}» safe (no host, no scheme), and
`redirect()` then takes them for a view name and fails with a 500. Only a local path is followed."""

from __future__ import annotations

import unicodedata

from django.http import HttpRequest, HttpResponseRedirect
from django.utils.http import url_has_allowed_host_and_scheme


def safe_next_url(request: HttpRequest, fallback: str) -> str:
    """The POSTed `next` when it is a path on this site («/leads/?page=2»), else `fallback`."""
    url = request.POST.get("next", "")
    if (url.startswith("/") and not any(unicodedata.category(ch)[0] == "C" for ch in url)
            and url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()},
                                                require_https=request.is_secure())):
        return url
    return fallback


def safe_next(request: HttpRequest, fallback: str) -> HttpResponseRedirect:
    """A redirect to the POSTed `next` when it is a path on this site, else to `fallback`.
    Never `redirect()`: that resolves a string without «/» as a view name."""
    return HttpResponseRedirect(safe_next_url(request, fallback))
