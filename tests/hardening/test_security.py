"""Security headers on every kind of answer, secrets kept out of logs and errors, and SQL
injection attempts in every filter and path parameter answered safely.

(``tests/routes/test_editing.py`` checks the 412 path for secrets and that only a token's hash is
stored; ``tests/routes/test_editor.py`` the editor page's nonce-based policy.)
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import text
from werkzeug.test import TestResponse

from api.extensions import db
from api.services import editing
from tests.factories import auth, etag_of, make_token, section_by_slug
from tests.hardening.helpers import assert_problem
from tests.paths import NAUGHTY_STRINGS, SITE

# --- headers ----------------------------------------------------------------------------------


def directives(policy: str) -> dict[str, list[str]]:
    """A Content-Security-Policy as {directive: [sources]}."""
    parsed = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            parsed[words[0].lower()] = words[1:]
    return parsed


def assert_restrictive(response: TestResponse, what: str) -> None:
    """nosniff, and a policy under which nothing loads or runs but what the answer needs."""
    assert response.headers.get("X-Content-Type-Options") == "nosniff", what
    policy = response.headers.get("Content-Security-Policy")
    assert policy, f"{what}: no Content-Security-Policy"
    parsed = directives(policy)
    assert parsed.get("default-src") == ["'none'"], (what, policy)
    scripts = parsed.get("script-src", ["'none'"])
    assert all(s == "'none'" or s.startswith("'nonce-") for s in scripts), (what, policy)
    for name, sources in parsed.items():
        assert "'unsafe-eval'" not in sources, (what, policy)
        assert name == "frame-ancestors" or "*" not in sources, (what, policy)
    if response.mimetype != "text/html" or response.status_code == 304:
        return
    assert parsed.get("base-uri") == ["'none'"] and parsed.get("form-action") == ["'none'"], what
    assert "object-src" not in parsed or parsed["object-src"] == ["'none'"], what


@pytest.fixture
def editor(seeded: Flask) -> str:
    return make_token(seeded, "alice", "editor")


def every_kind_of_answer(
    client: FlaskClient, editor: str
) -> list[tuple[str, Callable[[], TestResponse], int]]:
    url = f"/sections/{section_by_slug(client, 'community-meetings')['id']}"
    gone = f"/sections/{section_by_slug(client, 'join-the-community')['id']}"
    return [
        ("JSON list", lambda: client.get("/sections"), 200),
        ("JSON item", lambda: client.get(url), 200),
        ("OpenAPI", lambda: client.get("/openapi.json"), 200),
        ("health", lambda: client.get("/healthz"), 200),
        ("HTML fragment", lambda: client.get(f"{url}.html"), 200),
        ("page HTML", lambda: client.get("/pages/community.html"), 200),
        ("Accept: text/html", lambda: client.get(url, headers={"Accept": "text/html"}), 200),
        ("Markdown", lambda: client.get("/pages/community.md"), 200),
        ("editor page", lambda: client.get("/editor"), 200),
        ("304 JSON", lambda: client.get(url, headers={"If-None-Match": etag_of(client, url)}), 304),
        (
            "304 HTML",
            lambda: client.get(
                f"{url}.html", headers={"If-None-Match": etag_of(client, f"{url}.html")}
            ),
            304,
        ),
        ("404", lambda: client.get("/nothing/here"), 404),
        ("404 page", lambda: client.get("/pages/nothing.html"), 404),
        ("405", lambda: client.put("/healthz"), 405),
        ("401", lambda: client.get("/sections", headers={"Authorization": "Bearer wrong"}), 401),
        ("422", lambda: client.get("/sections?limit=0"), 422),
        (
            "415",
            lambda: client.patch(
                url, data="x", headers=auth(editor, **{"Content-Type": "text/plain"})
            ),
            415,
        ),
        ("428", lambda: client.patch(url, json={"body": "x"}, headers=auth(editor)), 428),
        (
            "preflight",
            lambda: client.options(
                url,
                headers={"Origin": "https://x.example", "Access-Control-Request-Method": "PATCH"},
            ),
            200,
        ),
        (
            "201",
            lambda: client.post(
                "/pages/community/sections",
                json={"title": "New", "body": "x"},
                headers=auth(editor),
            ),
            201,
        ),
        (
            "204",
            lambda: client.delete(
                gone, headers=auth(editor, **{"If-Match": etag_of(client, gone)})
            ),
            204,
        ),
    ]


def test_every_kind_of_answer_has_nosniff_and_a_restrictive_policy(
    client: FlaskClient, editor: str
) -> None:
    kinds = every_kind_of_answer(client, editor)
    assert {"Markdown", "304 JSON", "404", "201", "204"} <= {what for what, _, _ in kinds}
    for what, ask, status in kinds:
        response = ask()
        assert response.status_code == status, (what, response.get_data(as_text=True)[:300])
        assert_restrictive(response, what)


def test_html_fragments_may_show_images_and_embeds_but_run_nothing(
    client: FlaskClient, seeded: Flask
) -> None:
    parsed = directives(client.get("/pages/community.html").headers["Content-Security-Policy"])
    assert "script-src" not in parsed and parsed["default-src"] == ["'none'"]
    assert parsed["frame-ancestors"] == ["*"]  # other Zarr sites embed these fragments
    assert "https:" in parsed["img-src"] and "https:" in parsed["frame-src"]


# --- secrets ----------------------------------------------------------------------------------


@pytest.fixture
def admin(seeded: Flask) -> str:
    return make_token(seeded, "root", "admin")


def test_a_token_secret_is_never_in_logs_or_error_bodies(
    seeded: Flask,
    client: FlaskClient,
    runner: FlaskCliRunner,
    editor: str,
    admin: str,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Every logger at every level, SQL statements and their parameters included.
    for name in [None, *logging.root.manager.loggerDict]:
        caplog.set_level(logging.DEBUG, logger=name)
    revoked = make_token(seeded, "bob", "editor")
    assert runner.invoke(args=["tokens", "revoke", "bob"]).exit_code == 0
    section = section_by_slug(client, "community-meetings")
    url = f"/sections/{section['id']}"
    answers = {
        401: client.get("/sections", headers=auth(revoked)),
        403: client.post("/pages", json={"slug": "x", "title": "X"}, headers=auth(editor)),
        422: client.patch(
            url, json={"colour": editor}, headers=auth(editor, **{"If-Match": etag_of(client, url)})
        ),
        412: client.patch(url, json={"body": "x"}, headers=auth(admin, **{"If-Match": '"old"'})),
    }
    answers[422.1] = client.get(f"/sections?access_token={editor}")  # a token in the wrong place

    def boom(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(editing, "update_section", boom)
    answers[500] = client.patch(
        url, json={"body": "y"}, headers=auth(editor, **{"If-Match": etag_of(client, url)})
    )
    for status, response in answers.items():
        assert response.status_code == int(status), (status, response.get_data(as_text=True))
        assert_problem(response.status_code, response.content_type, response.get_data(as_text=True))
        body = response.get_data(as_text=True)
        for secret in (editor, admin, revoked):
            assert secret not in body, status
            assert secret.split("_", 1)[-1] not in body, status
    assert "unhandled error" in caplog.text  # the logs were really captured
    assert any(r.name.startswith("sqlalchemy.engine") for r in caplog.records)
    for secret in (editor, admin, revoked):
        assert secret not in caplog.text
        assert secret.split("_", 1)[-1] not in caplog.text


# --- SQL injection ----------------------------------------------------------------------------


def blns_group(name: str) -> list[str]:
    """The strings of one commented group of blns.txt (e.g. "SQL Injection")."""
    lines = NAUGHTY_STRINGS.read_text(encoding="utf-8").split("\n")
    strings: list[str] = []
    for line in lines[lines.index(f"#\t{name}") + 1 :]:
        if line.startswith("#"):
            if strings:
                break
        elif line:
            strings.append(line)
    return strings


SQL_INJECTION = [
    "' OR 1=1 --",
    "' OR '1'='1",
    "community' OR '1'='1",
    "community'--",
    '" OR ""="',
    "1; DROP TABLE sections",
    "1; DROP TABLE sections; --",
    "'; DROP TABLE pages; --",
    "'); DELETE FROM links; --",
    "1' UNION SELECT secret_hash FROM tokens --",
    "x' UNION SELECT NULL, NULL, NULL --",
    "' UNION ALL SELECT name, sql FROM sqlite_master --",
    "1 AND 1=1",
    "1 OR 1=1",
    "'||(SELECT pg_sleep(2))||'",
    "1; SELECT pg_sleep(2) --",
    "\\'; UPDATE sections SET body='x'; --",
    "%",
    "_",
    "%' --",
    "%%",
    "*",
    "NEAR(zarr community)",
    'zarr" OR "x',
    "title:zarr",
    "zarr*",
    "-zarr",
    "^zarr",
    "zarr:*",
    "!zarr",
    "zarr & meetings | x",
    "zarr <-> meetings",
    "zarr AND meetings",
    *blns_group("SQL Injection"),
]
FILTERS = [
    ("/sections", "page"),
    ("/sections", "q"),
    ("/sections", "cursor"),
    ("/sections", "limit"),
    ("/pages", "cursor"),
    ("/links", "page"),
    ("/links", "host"),
    ("/links", "broken"),
    ("/links", "cursor"),
]
PATHS = [
    "/pages/{}",
    "/pages/{}.html",
    "/pages/{}.md",
    "/sections/{}",
    "/sections/{}.html",
    "/links/{}",
]


def snapshot(app: Flask) -> dict[str, Any]:
    """Every table's row count, and every page's and section's id and version."""
    with app.app_context():
        counts = {
            table.name: db.session.execute(text(f"SELECT COUNT(*) FROM {table.name}")).scalar()
            for table in db.metadata.sorted_tables
        }
        versions = {
            name: db.session.execute(text(f"SELECT id, version FROM {name} ORDER BY id")).all()
            for name in ("pages", "sections")
        }
        db.session.remove()
    return {"counts": counts, "versions": versions}


def answer(response: TestResponse, what: str) -> Any:
    """The JSON of a 200, or None for a clear 4xx; fails on anything else."""
    assert response.status_code < 500, (what, response.get_data(as_text=True)[:300])
    if response.status_code >= 400:
        assert_problem(response.status_code, response.content_type, response.get_data(as_text=True))
        return None
    assert response.status_code == 200, what
    return response.get_json()


def test_the_sql_lines_of_blns_are_included() -> None:
    assert "1;DROP TABLE users" in SQL_INJECTION and "' OR '1'='1" in SQL_INJECTION


def test_sql_in_every_filter_is_answered_safely_and_changes_nothing(
    seeded: Flask, runner: FlaskCliRunner, client: FlaskClient, admin: str
) -> None:
    assert runner.invoke(args=["seed", str(SITE)]).exit_code == 0  # many pages, links, hosts
    before = snapshot(seeded)
    assert before["counts"]["sections"] > 20 and before["counts"]["links"] > 20
    for attempt in SQL_INJECTION:
        for path, name in FILTERS:
            what = f"GET {path}?{name}={attempt!r}"
            data = answer(client.get(path, query_string={name: attempt}), what)
            if data is None:
                continue
            items = data["data"]
            if name in ("page", "host"):
                assert items == [], what  # no page or host has such a name: nothing matches
            if name == "q":  # operators and punctuation are ignored: only the words count
                words = re.findall(r"\w+", attempt)
                plain = client.get(path, query_string={"q": " ".join(words)}).get_json()
                assert items == (plain["data"] if words else []), what
        for template in PATHS:
            url = template.format(quote(attempt, safe=""))
            response = client.get(url, headers=auth(admin))
            assert answer(response, f"GET {url}") is None and response.status_code == 404, url
        response = client.post(
            f"/pages/{quote(attempt, safe='')}/sections",
            json={"title": "T", "body": "x"},
            headers=auth(admin),
        )
        assert response.status_code == 404, (attempt, response.status_code)
    assert snapshot(seeded) == before


def test_a_filter_matching_everything_would_be_seen(seeded: Flask, client: FlaskClient) -> None:
    everything = client.get("/sections?limit=200").get_json()["data"]
    assert len(everything) == 3
    assert client.get("/sections", query_string={"page": "community"}).get_json()["data"]
    assert client.get("/links", query_string={"host": "%"}).get_json()["data"] == []
