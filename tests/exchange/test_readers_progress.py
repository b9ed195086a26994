"""The progress of an import command (exchange/progress.py): a tqdm bar with rows per second and the
time left on a terminal, plain lines every few seconds in a log."""

from __future__ import annotations

import io

import pytest

from exchange.progress import progress


class Terminal(io.StringIO):
    def isatty(self):
        return True


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_it_draws_a_bar_with_rows_per_second_and_time_left_on_a_terminal():
    stream = Terminal()
    with progress(1000, desc="Лиды", stream=stream) as bar:
        bar.update(400)
        bar.set(1000)
    out = stream.getvalue()
    assert "\r" in out  # redrawn in place
    assert "Лиды: 100%" in out
    assert "1000/1000" in out
    assert "строк/с" in out
    assert "<00:00" in out  # the time left


def test_a_bar_without_a_total_counts_rows():
    stream = Terminal()
    with progress(None, desc="Компании", stream=stream) as bar:
        bar.update(250)
    out = stream.getvalue()
    assert "Компании: 250" in out
    assert "%" not in out


def test_a_log_gets_plain_lines_every_interval_and_a_last_line():
    stream, clock = io.StringIO(), Clock()
    with progress(100_000, desc="Лиды", stream=stream, interval=10, clock=clock) as bar:
        for _ in range(10):
            clock.now += 4
            bar.update(10_000)
    assert stream.getvalue().splitlines() == [
        "Лиды: 30 000 из 100 000 строк (30%), 2 500 строк/с, осталось 0:00:28",
        "Лиды: 60 000 из 100 000 строк (60%), 2 500 строк/с, осталось 0:00:16",
        "Лиды: 90 000 из 100 000 строк (90%), 2 500 строк/с, осталось 0:00:04",
        "Лиды: готово, 100 000 строк за 0:00:40 (2 500 строк/с)",
    ]
    assert "\r" not in stream.getvalue()


def test_a_log_line_without_a_total_and_an_interrupted_run():
    stream, clock = io.StringIO(), Clock()
    with pytest.raises(KeyboardInterrupt), progress(None, desc="Сделки", stream=stream, interval=5,
                                                    clock=clock) as bar:
        clock.now += 5
        bar.set(500)
        raise KeyboardInterrupt
    assert stream.getvalue().splitlines() == [
        "Сделки: 500 строк, 100 строк/с",
        "Сделки: прервано на 500 строках из ? (100 строк/с)",
    ]


def test_it_writes_to_stderr_by_default(capsys):
    with progress(10, desc="Контакты") as bar:
        bar.update(10)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "Контакты: готово, 10 строк" in captured.err
