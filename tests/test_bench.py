"""Smoke test of the benchmark: a quick run on the smallest data set writes complete results.

It checks the machinery (servers start and stop, every endpoint is measured, the report and
chart are written), never the speed: that is what ``make bench`` reports.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.run import ENDPOINTS

ROOT = Path(__file__).resolve().parents[1]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
def test_quick_run_writes_every_endpoint_and_a_chart(tmp_path: Path) -> None:
    command = [sys.executable, str(ROOT / "bench" / "run.py"), "--quick", "--sizes", "10"]
    command += ["--loadgen", "python", "--connections", "2", "--out", str(tmp_path)]
    database = os.environ.get("TEST_DATABASE_URL", "sqlite")
    if database.startswith("postgres"):
        command += ["--database-url", database]  # the bench makes and drops its own schema

    completed = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=90, check=False
    )

    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    report = (tmp_path / "results.md").read_text(encoding="utf-8")
    raw = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    rows = raw["results"][0]["endpoints"]
    for endpoint in ENDPOINTS:
        line = next(line for line in report.splitlines() if f"| {endpoint.label} " in line)
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        assert all(cell.replace(",", "").replace(".", "").isdigit() for cell in cells[2:10]), line
        row = rows[endpoint.key]
        assert "error" not in row, row
        for who in ("ours", "baseline"):
            assert row[who]["requests"] > 0
            assert all(math.isfinite(row[who][k]) for k in ("rps", "p50_ms", "p99_ms"))
    assert raw["results"][0]["rss_mb"]["ours"], "no worker memory was read"
    assert {check["verdict"] for check in raw["targets"]} <= {"PASS", "MISS", "n/a"}
    assert (tmp_path / "latency.png").read_bytes().startswith(PNG_MAGIC)
