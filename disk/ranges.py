"""HTTP byte ranges (RFC 9110 §14) for downloads: a video or a large PDF is read in the browser
part by part. Django's FileResponse sends whole files only.

One range per request is served (what browsers and download managers ask); a request for several
gets the whole file, which RFC 9110 allows. A range that cannot be satisfied is a 416.
"""

from __future__ import annotations

import re

SINGLE = re.compile(r"^bytes=(?P<start>\d*)-(?P<end>\d*)$")


class Unsatisfiable(Exception):
    pass


def parse(header: str | None, size: int) -> tuple[int, int] | None:
    """(first, last) byte positions, both included; None for the whole file. Raises
    Unsatisfiable for a range wholly past the end (or of an empty file)."""
    if not header:
        return None
    match = SINGLE.match(header.strip().replace(" ", ""))
    if not match:
        return None  # several ranges or a syntax we do not serve: the whole file
    start, end = match["start"], match["end"]
    if start == "" and end == "":
        return None
    if start == "":  # the last N bytes
        length = int(end)
        if length == 0 or size == 0:
            raise Unsatisfiable
        return max(size - length, 0), size - 1
    first = int(start)
    if first >= size:
        raise Unsatisfiable
    last = int(end) if end else size - 1
    if last < first:
        return None  # invalid: ignored, as RFC 9110 says
    return first, min(last, size - 1)
