"""The benchmark and the read path it measures.

A quick run of ``bench/run.py`` on the smallest data set checks the machinery (servers start
and stop, every endpoint is measured beside the baseline, ratios and memory are computed, the
report, raw numbers and chart are written), never the speed: that is what ``make bench``
reports. The other tests pin down what makes the numbers good without timing anything:
unchanged reads are answered from memory yet never stale, across processes too; the section
list walks indexes; an edit renders one section, not the whole page.
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
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, text

from api import create_app
from api.cache import ANSWERED_FROM_MEMORY
from api.extensions import db
from api.markdown import render
from bench import loadgen
from bench.run import ENDPOINTS, verdicts
from tests.factories import auth, etag_of, make_token, section_by_slug

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


# -- unchanged reads from memory, never stale ---------------------------------------------------


def count_statements(app: Flask) -> list[str]:
    """Every statement SQLAlchemy sends from now on (the generation read is plain DBAPI)."""
    statements: list[str] = []
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    return statements


READS = ["/sections", "/sections?page=community", "/sections?q=gitter", "/pages/community.html"]


def test_every_endpoint_answered_from_memory_exists(app: Flask) -> None:
    assert ANSWERED_FROM_MEMORY <= set(app.view_functions)


@pytest.mark.parametrize("url", READS)
def test_an_unchanged_read_is_answered_from_memory(
    seeded: Flask, client: FlaskClient, url: str
) -> None:
    first = client.get(url)
    statements = count_statements(seeded)
    again = client.get(url)
    revalidated = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert statements == []
    assert again.status_code == 200 and again.data == first.data
    for name in ("ETag", "Last-Modified", "Cache-Control", "Vary", "Content-Type"):
        assert again.headers[name] == first.headers[name]
    assert revalidated.status_code == 304 and revalidated.data == b""
    assert revalidated.headers["ETag"] == first.headers["ETag"]


def test_a_write_by_another_process_is_seen_by_the_next_read(
    seeded: Flask, client: FlaskClient, database: dict[str, Any]
) -> None:
    """Two apps on one database, each with its own memory, as two gunicorn workers."""
    other = create_app({"TESTING": True, "RATELIMIT_ENABLED": False, **database})
    editor = other.test_client()
    secret = make_token(seeded)
    section = section_by_slug(client, "community-meetings")
    url = f"/sections/{section['id']}"
    before = client.get(f"{url}.html").data
    listed = client.get("/sections").data
    assert client.get(f"{url}.html").data == before  # now kept in this app's memory

    changed = editor.patch(
        url,
        json={"body": "Meetings moved to [Zulip](https://zulip.example)."},
        headers=auth(secret, **{"If-Match": etag_of(editor, url)}),
    )

    assert changed.status_code == 200
    assert b"zulip.example" in client.get(f"{url}.html").data
    assert client.get("/sections").data != listed
    with other.app_context():
        db.engine.dispose()


def test_a_change_outside_the_api_is_seen_too(seeded: Flask, client: FlaskClient) -> None:
    """The generation is kept by triggers, so seeds, link checks and plain SQL count."""
    section = section_by_slug(client, "community-meetings")
    etag = client.get("/sections").headers["ETag"]
    with seeded.app_context():
        db.session.execute(
            text("UPDATE sections SET title = 'Gatherings', version = version + 1 WHERE id = :id"),
            {"id": section["id"]},
        )
        db.session.commit()
    answer = client.get("/sections", headers={"If-None-Match": etag})
    assert answer.status_code == 200
    assert "Gatherings" in [s["title"] for s in answer.get_json()["data"]]


def test_token_holders_are_never_answered_from_memory(seeded: Flask, client: FlaskClient) -> None:
    secret = make_token(seeded)
    section = section_by_slug(client, "community-meetings")
    url = f"/sections/{section['id']}"
    client.patch(
        url, json={"status": "draft"}, headers=auth(secret, **{"If-Match": etag_of(client, url)})
    )
    public = client.get("/sections")
    private = client.get("/sections", headers=auth(secret))
    assert section["id"] not in [s["id"] for s in public.get_json()["data"]]
    assert section["id"] in [s["id"] for s in private.get_json()["data"]]
    assert private.headers["Cache-Control"] == "private, no-store"
    again = client.get("/sections")  # the public answer kept is still the public one
    assert again.data == public.data and again.headers["Cache-Control"].startswith("public")


def test_a_write_elsewhere_keeps_other_answers_valid(seeded: Flask, client: FlaskClient) -> None:
    """After any write the generation differs, but an answer whose content did not change
    still revalidates to 304 from the cheap state of its sections."""
    secret = make_token(seeded, role="admin")
    etag = client.get("/pages/community.html").headers["ETag"]
    created = client.post(
        "/pages", json={"slug": "elsewhere", "title": "Else"}, headers=auth(secret)
    )
    assert created.status_code == 201
    assert client.get("/pages/community.html", headers={"If-None-Match": etag}).status_code == 304


def test_the_cache_can_be_turned_off(uncached: Flask) -> None:
    client = uncached.test_client()
    client.get("/sections")
    statements = count_statements(uncached)
    client.get("/sections")
    assert statements  # the view ran again


@pytest.fixture
def uncached(database: dict[str, Any], tmp_path: Path) -> Any:
    """A seeded app with RESPONSE_CACHE_MB=0."""
    app = create_app(
        {"TESTING": True, "RATELIMIT_ENABLED": False, "RESPONSE_CACHE_MB": 0, **database}
    )
    app.instance_path = str(tmp_path / "instance")
    result = app.test_cli_runner().invoke(args=["seed", str(ROOT / "seed")])
    assert result.exit_code == 0, result.output
    yield app
    with app.app_context():
        db.session.remove()
        for table in reversed(db.metadata.sorted_tables):
            db.session.execute(text(f"DELETE FROM {table.name}"))
        db.session.commit()
        db.engine.dispose()


# -- what keeps reads flat and edits cheap ------------------------------------------------------


def test_the_section_list_walks_indexes_instead_of_sorting_every_section(
    seeded: Flask, client: FlaskClient, is_postgres: bool
) -> None:
    if is_postgres:
        pytest.skip("PostgreSQL plans from its statistics; the rewrite is for SQLite's planner")
    executed: list[tuple[str, Any]] = []
    with seeded.app_context():
        engine = db.engine
    event.listen(
        engine, "before_cursor_execute", lambda c, cur, sql, p, *a: executed.append((sql, p))
    )
    client.get("/sections?limit=2")
    sql, parameters = next((s, p) for s, p in executed if "ORDER BY pages.slug" in s)
    with seeded.app_context():
        connection = db.session.connection()
        plan = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", tuple(parameters)).all()
    details = " / ".join(row[-1] for row in plan)
    assert "TEMP B-TREE FOR ORDER BY" not in details and "SCAN sections" not in details, details


def test_an_edit_renders_its_section_alone_unless_definitions_change(
    seeded: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = make_token(seeded)
    headers = auth(secret)
    cited = client.post(
        "/pages/community/sections",
        json={"title": "Cites", "body": "See [the spec][spec]."},
        headers=headers,
    ).get_json()
    defines = client.post(
        "/pages/community/sections",
        json={"title": "Defines", "body": "Specs.\n\n[spec]: https://old.example/spec"},
        headers=headers,
    ).get_json()
    rendered: list[str] = []
    original = render.render_body
    monkeypatch.setattr(
        render, "render_body", lambda body, **kw: rendered.append(body) or original(body, **kw)
    )

    url = f"/sections/{defines['id']}"
    edit = {"body": "More specs.\n\n[spec]: https://old.example/spec"}
    client.patch(url, json=edit, headers=auth(secret, **{"If-Match": etag_of(client, url)}))
    assert rendered == [edit["body"]]

    moved = {"body": "More specs.\n\n[spec]: https://new.example/spec"}
    client.patch(url, json=moved, headers=auth(secret, **{"If-Match": etag_of(client, url)}))
    assert len(rendered) > 2  # the definition changed: the whole page again
    html = client.get(f"/sections/{cited['id']}.html").get_data(as_text=True)
    assert "https://new.example/spec" in html
