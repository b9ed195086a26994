"""scripts/bench_rest.py at a small size, on SQLite: its gunicorn over TLS answers, every request it
times (crm.lead.list's pages, the minimal view's, fast-bitrix24's get_all of every lead) reads the
rows it should, and the report has its table."""

import json
import os
import subprocess
import sys
from importlib.util import find_spec
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.skipif(find_spec("rest.methods.crm_leads") is None, reason="crm.lead.list is not in this branch yet")
def test_it_times_the_lists_and_get_all_and_every_answer_is_right(tmp_path):
    out = tmp_path / "bench_rest.json"
    env = {**os.environ, "BENCH_NO_REEXEC": "1"}
    env.pop("DATABASE_URL", None)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    run = subprocess.run(
        [sys.executable, "scripts/bench_rest.py", "--db", "sqlite", "--leads", "300", "--repeat", "1", "--warmup", "0",
         "--get-all-repeat", "1", "--no-write", "--json", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    result = json.loads(out.read_text())
    pages = {p["name"]: p for p in result["pages"]}
    assert set(pages) == {"minimal_first", "list_first", "list_star", "minimal_deep", "list_deep", "minimal_last",
                          "list_last", "minimal_keyset", "list_keyset", "minimal_all", "get_all"}
    assert {name: p["failed"] for name, p in pages.items() if p["failed"]} == {}
    assert result["leads"] == 300 and "TLS" in result["server"]
    assert pages["get_all"]["against"] == "minimal_all" and pages["get_all"]["ratio"] > 0
    assert "| fast-bitrix24 get_all: all 300 leads |" in run.stdout
