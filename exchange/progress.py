"""Progress of a long import or export, for the management commands.

    with progress(table.estimated_rows, desc="Лиды") as bar:
        for batch in ...:
            bar.update(len(batch))      # or bar.set(rows_done)

On a terminal it is a tqdm bar with rows per second and the time left; elsewhere (cron, a log file,
`| tee`) a plain line every few seconds — «Лиды: 10 000 из 100 000 строк (10%), 2 500 строк/с,
осталось 0:00:36» — and a last line when it ends, since a log cannot redraw a bar.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable, Iterator

from django.utils.translation import gettext as _
from tqdm import tqdm

PLAIN_INTERVAL = 10.0  # seconds between two plain lines


def _n(number: float) -> str:
    return f"{int(number):,}".replace(",", " ")


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


class Bar:
    """What the caller moves: `update(n)` adds n rows done, `set(done)` says how many are done."""

    def update(self, n: int = 1) -> None:
        raise NotImplementedError

    def set(self, done: int) -> None:
        raise NotImplementedError


class _RowsBar(tqdm):
    """tqdm with the speed in Russian: «2 500 строк/с» rather than «2.50k rows/s»."""

    @property
    def format_dict(self):
        d = super().format_dict
        rate = d.get("rate") or (d["n"] / d["elapsed"] if d.get("elapsed") else None)
        d["speed"] = _("%(rate)s строк/с") % {"rate": _n(rate)} if rate else _("? строк/с")
        return d


class _TtyBar(Bar):
    def __init__(self, total: int | None, desc: str, stream):
        if total is None:
            bar_format = "{desc}: {n_fmt} [{elapsed}, {speed}]"
        else:
            bar_format = "{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} [{elapsed}<{remaining}, {speed}]"
        self.bar = _RowsBar(total=total, desc=desc, file=stream, bar_format=bar_format, dynamic_ncols=True,
                            mininterval=0.2, smoothing=0.1)

    def update(self, n: int = 1) -> None:
        self.bar.update(n)

    def set(self, done: int) -> None:
        self.bar.update(done - self.bar.n)

    def close(self, failed: bool) -> None:
        self.bar.close()


class _PlainBar(Bar):
    def __init__(self, total: int | None, desc: str, stream, interval: float, clock: Callable[[], float]):
        self.total, self.desc, self.stream, self.interval, self.clock = total, desc, stream, interval, clock
        self.done = 0
        self.started = self.last = clock()

    def update(self, n: int = 1) -> None:
        self.set(self.done + n)

    def set(self, done: int) -> None:
        self.done = done
        now = self.clock()
        if now - self.last >= self.interval:
            self.last = now
            self._line(self._progress(now))

    def close(self, failed: bool) -> None:
        elapsed = self.clock() - self.started
        rate = self._rate(elapsed)
        if failed:
            text = _("%(desc)s: прервано на %(done)s строках из %(total)s") % {
                "desc": self.desc, "done": _n(self.done), "total": _n(self.total) if self.total is not None else "?"}
        else:
            text = _("%(desc)s: готово, %(done)s строк за %(elapsed)s") % {
                "desc": self.desc, "done": _n(self.done), "elapsed": _duration(elapsed)}
        if rate:
            text += _(" (%(rate)s строк/с)") % {"rate": _n(rate)}
        self._line(text)

    def _rate(self, elapsed: float) -> float | None:
        return self.done / elapsed if elapsed > 0 and self.done else None

    def _progress(self, now: float) -> str:
        elapsed = now - self.started
        rate = self._rate(elapsed)
        if self.total:
            text = _("%(desc)s: %(done)s из %(total)s строк (%(percent)s%%)") % {
                "desc": self.desc, "done": _n(self.done), "total": _n(self.total),
                "percent": min(100, self.done * 100 // self.total)}
        else:
            text = _("%(desc)s: %(done)s строк") % {"desc": self.desc, "done": _n(self.done)}
        if rate:
            text += _(", %(rate)s строк/с") % {"rate": _n(rate)}
            if self.total and self.total > self.done:
                text += _(", осталось %(left)s") % {"left": _duration((self.total - self.done) / rate)}
        return text

    def _line(self, text: str) -> None:
        self.stream.write(text + "\n")
        self.stream.flush()


@contextlib.contextmanager
def progress(total: int | None, *, desc: str, stream=None, interval: float = PLAIN_INTERVAL,
             clock: Callable[[], float] = time.monotonic) -> Iterator[Bar]:
    """A bar for `total` rows (None: unknown) written to `stream` (stderr by default, so the
    command's own output — its summary — stays clean on stdout)."""
    stream = stream if stream is not None else sys.stderr
    isatty = getattr(stream, "isatty", None)
    bar = _TtyBar(total, desc, stream) if isatty and isatty() else _PlainBar(total, desc, stream, interval, clock)
    failed = True
    try:
        yield bar
        failed = False
    finally:
        bar.close(failed)
