"""The benchmark's machinery.

A quick run of ``bench/run.py`` on the smallest data set checks that servers start and stop,
every endpoint is measured beside the baseline, ratios and memory are computed, and the report,
raw numbers and chart are written; never the speed: that is what ``make bench`` reports. What
makes the numbers good is pinned down, without timing anything, in
tests/routes/test_response_cache.py.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench import loadgen
from bench.run import ENDPOINTS, verdicts

ROOT = Path(__file__).resolve().parents[1]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


# -- the benchmark ------------------------------------------------------------------------------


@pytest.mark.slow
def test_quick_run_measures_every_endpoint_beside_the_baseline(tmp_path: Path) -> None:
    command = [sys.executable, str(ROOT / "bench" / "run.py"), "--quick", "--sizes", "10"]
    command += ["--loadgen", "python", "--connections", "2", "--out", str(tmp_path)]
    database = os.environ.get("TEST_DATABASE_URL", "sqlite")
    if database.startswith("postgres"):
        command += ["--database-url", database]  # the bench makes and drops its own schema

    completed = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=180, check=False
    )

    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    report = (tmp_path / "results.md").read_text(encoding="utf-8")
    assert report in completed.stdout  # the same table on stdout and in the file
    raw = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    assert [result["sections"] for result in raw["results"]] == [10]
    rows = raw["results"][0]["endpoints"]
    assert set(rows) == {endpoint.key for endpoint in ENDPOINTS}
    for endpoint in ENDPOINTS:
        line = next(line for line in report.splitlines() if f"| {endpoint.label} " in line)
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        numbers = [cells[2], cells[3], cells[4].split(" ")[0], *cells[5:10]]
        assert all(cell.replace(",", "").replace(".", "").isdigit() for cell in numbers), line
        row = rows[endpoint.key]
        assert "error" not in row, row
        for who in ("ours", "baseline"):
            assert row[who]["ok"] > 0, (endpoint.key, who, row[who])
            assert all(math.isfinite(row[who][k]) for k in ("rps", "p50_ms", "p99_ms"))
            # Every answer had the expected status: 200s, the 304s, and PATCHes that followed
            # the ETags (a 412 would mean the chain sent a stale If-Match).
            assert row[who]["errors"] == 0, (endpoint.key, who, row[who])
        assert row["ratio"] > 0 and math.isfinite(row["ratio"])
        low, high = row["ratio_range"]
        assert low <= row["ratio"] <= high
        assert row["ratio"] == pytest.approx(row["ours"]["rps"] / row["baseline"]["rps"])
    assert rows["revalidate"]["bytes"] == 0 and rows["sections"]["bytes"] > 0
    for who in ("ours", "baseline"):
        memory = raw["results"][0]["memory"][who]
        assert memory["workers"] >= 1 and memory["peak_mb"] and memory["rss_mb"]
        assert memory["crashed"] == 0
    assert {check["verdict"] for check in raw["targets"]} <= {"PASS", "MISS", "n/a"}
    assert sum("RSS per worker" in check["target"] for check in raw["targets"]) == 1
    assert sum("If-None-Match" in check["target"] for check in raw["targets"]) >= 1
    for check in raw["targets"]:
        assert f"- {check['verdict']}: {check['target']}" in report
    chart = (tmp_path / "latency.png").read_bytes()
    assert chart.startswith(PNG_MAGIC) and len(chart) > 10_000


def _result(size: int, ratio: float, p50: float, peak: float) -> dict[str, Any]:
    row = {
        "ours": {"rps": 100 * ratio, "p50_ms": p50, "p99_ms": 2 * p50, "errors": 0},
        "baseline": {"rps": 100.0, "p50_ms": 1.0, "p99_ms": 2.0, "errors": 0},
        "ratio": ratio,
    }
    memory = {"peak_mb": [peak], "crashed": 0}
    return {
        "sections": size,
        "endpoints": {endpoint.key: row for endpoint in ENDPOINTS},
        "memory": {"ours": memory, "baseline": memory},
    }


def test_targets_pass_and_miss_on_the_measured_numbers() -> None:
    good = verdicts([_result(10, 0.9, 2.0, 90.0), _result(10_000, 0.9, 2.5, 95.0)])
    assert {check.verdict for check in good} == {"PASS"}

    bad = {
        c.target: c for c in verdicts([_result(10, 0.5, 2.0, 90), _result(10_000, 0.7, 25, 120)])
    }
    revalidation = next(c for t, c in bad.items() if "If-None-Match" in t and "baseline" in t)
    assert revalidation.verdict == "MISS" and "0.50" in revalidation.detail  # the lowest ratio
    assert next(c for t, c in bad.items() if t.startswith("search p50")).verdict == "MISS"
    assert next(c for t, c in bad.items() if "RSS" in t).verdict == "MISS"
    assert all(c.verdict == "MISS" for t, c in bad.items() if "p50 at 10,000" in t)


def test_patch_flows_send_the_etag_of_the_previous_answer() -> None:
    flow = loadgen.Flow("PATCH", "/sections/1", {"If-Match": '"a"'}, ('{"body": "x"}',), 200, True)
    flow.on_response(200, '"b"')
    assert flow.next_request()[2]["If-Match"] == '"b"'
    flow.on_response(412, '"c"')  # a refusal does not move the chain on
    assert flow.headers["If-Match"] == '"b"' and flow.stale(412)
