"""What keeps reads fast without ever being stale, and edits cheap (measured by make bench).

Unchanged anonymous reads are answered from memory, yet a write by any process, seed or plain
SQL is seen by the next read; the section list walks indexes; an edit renders one section, not
the whole page.
"""

from __future__ import annotations

from collections.abc import Iterator
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
from tests.conftest import _empty_tables
from tests.factories import auth, etag_of, make_token, section_by_slug
from tests.paths import SEED

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
def uncached(database: dict[str, Any], tmp_path: Path) -> Iterator[Flask]:
    """A seeded app with RESPONSE_CACHE_MB=0."""
    app = create_app(
        {"TESTING": True, "RATELIMIT_ENABLED": False, "RESPONSE_CACHE_MB": 0, **database}
    )
    app.instance_path = str(tmp_path / "instance")
    result = app.test_cli_runner().invoke(args=["seed", str(SEED)])
    assert result.exit_code == 0, result.output
    yield app
    with app.app_context():
        db.session.remove()
        _empty_tables()
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
