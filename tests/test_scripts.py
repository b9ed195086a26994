"""scripts/run on a busy or bad port: it says so and how to choose another, before setting anything
up (it used to print the URL and then fail in runserver)."""

import socket
import subprocess
from pathlib import Path

import pytest

RUN = Path(__file__).resolve().parent.parent / "scripts" / "run"


@pytest.fixture
def busy_port():
    """A port taken by the test, below the range the system hands out to `bind(0)` (32768 and up on
    Linux): the port after it, which scripts/run suggests, is then not one another test's live
    server may take between the suggestion and the check (it was, once, under xdist)."""
    import random

    for port in random.sample(range(20000, 30000, 10), 200):
        with socket.socket() as listener:
            try:
                listener.bind(("127.0.0.1", port))
            except OSError:
                continue
            listener.listen()
            yield port
            return
    pytest.fail("no free port between 20000 and 30000")


def run(*args, port_env=None):
    env = {"PATH": "/usr/bin:/bin", **({"PORT": port_env} if port_env else {})}
    return subprocess.run(["bash", str(RUN), *args], env=env, capture_output=True, text=True, timeout=30)


@pytest.mark.parametrize("how", ["argument", "PORT"])
def test_it_names_a_busy_port_and_a_free_one_instead_of_starting(busy_port, how):
    result = run(str(busy_port)) if how == "argument" else run(port_env=str(busy_port))
    assert result.returncode == 1
    assert f"Порт {busy_port} уже занят" in result.stderr
    suggested = int(result.stderr.split("scripts/run ")[1].split()[0])
    assert suggested > busy_port
    with socket.socket() as probe:  # the suggestion is really free
        probe.bind(("127.0.0.1", suggested))
    assert f"PORT={suggested} scripts/run" in result.stderr
    # Nothing was set up and no URL was promised.
    assert "CRM: http" not in result.stdout and "Installing" not in result.stdout


def test_the_argument_wins_over_the_environment(busy_port):
    result = run(str(busy_port), port_env="1")
    assert f"Порт {busy_port} уже занят" in result.stderr


@pytest.mark.parametrize("port", ["abc", "0", "70000", "80 01"])
def test_a_bad_port_gets_a_russian_message(port):
    result = run(port)
    assert result.returncode == 2
    assert "Порт должен быть числом от 1 до 65535" in result.stderr and "CRM: http" not in result.stdout


def test_it_starts_the_worker_beside_the_server_and_ctrl_c_stops_both(tmp_path):
    """The two README commands give a working CRM with its background worker, and Ctrl+C (SIGINT
    to the terminal's process group) leaves no worker behind."""
    import os
    import signal
    import time

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = tmp_path / "run.log"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    with log.open("w") as out:
        run = subprocess.Popen(["bash", str(RUN), str(port)], env=env, stdout=out, stderr=subprocess.STDOUT,
                               start_new_session=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        deadline = time.monotonic() + 120
        while "CRM: http" not in log.read_text() and time.monotonic() < deadline and run.poll() is None:
            time.sleep(0.5)
        output = log.read_text()
        assert "Фоновый обработчик задач запущен" in output, output
        worker = int(output.split("db_worker, pid ")[1].split(")")[0])
        os.kill(worker, 0)  # running
        time.sleep(2)  # the server is up too
        os.killpg(run.pid, signal.SIGINT)
        assert run.wait(timeout=30) != 0
        assert "Фоновый обработчик задач остановлен." in log.read_text()
        with pytest.raises(ProcessLookupError):
            _alive(worker)
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGTERM)
            run.wait(timeout=30)


def _alive(pid: int) -> None:
    """Raises ProcessLookupError for a process that is gone (a zombie waiting to be reaped counts
    as gone: it runs nothing)."""
    import os

    try:
        with open(f"/proc/{pid}/stat") as stat:
            zombie = stat.read().split(") ")[1].startswith("Z")
    except FileNotFoundError:
        zombie = True  # reaped already
    if zombie:
        raise ProcessLookupError(pid)
    os.kill(pid, 0)
