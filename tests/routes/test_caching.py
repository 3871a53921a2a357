"""HTTP caching and CORS as browsers and CDNs meet them; queries do not grow with content."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

from api.extensions import db
from tests.factories import auth, etag_of, make_token, section_by_slug

READ_URLS = [
    "/sections",
    "/sections?page=community",
    "/pages",
    "/pages/community",
    "/pages/community.html",
    "/pages/community.md",
    "/links",
    "/links?host=gitter.im",
]


@pytest.mark.parametrize("url", READ_URLS)
def test_every_read_is_cacheable_and_revalidates_to_304(
    seeded: Flask, client: FlaskClient, url: str
) -> None:
    first = client.get(url)
    assert first.status_code == 200
    etag = first.headers["ETag"]
    assert etag.startswith('"') and etag.endswith('"')  # strong
    assert first.headers["Last-Modified"]
    assert first.headers["Cache-Control"].startswith("public, max-age=")
    assert "stale-while-revalidate=" in first.headers["Cache-Control"]
    assert "Accept" in first.headers["Vary"]
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""
    assert again.headers["ETag"] == etag
    since = client.get(url, headers={"If-Modified-Since": first.headers["Last-Modified"]})
    assert since.status_code == 304


def test_section_etag_changes_with_the_content(seeded: Flask, client: FlaskClient) -> None:
    secret = make_token(seeded)
    section = section_by_slug(client, "community-meetings")
    url = f"/sections/{section['id']}"
    old = etag_of(client, url)
    old_list = etag_of(client, "/sections")
    client.patch(url, json={"body": "Changed."}, headers=auth(secret, **{"If-Match": old}))
    assert client.get(url, headers={"If-None-Match": old}).status_code == 200
    assert client.get("/sections", headers={"If-None-Match": old_list}).status_code == 200


def test_html_and_json_have_different_validators(seeded: Flask, client: FlaskClient) -> None:
    section = section_by_slug(client, "intro")
    url = f"/sections/{section['id']}"
    json_etag = etag_of(client, url)
    html = client.get(url, headers={"Accept": "text/html"})
    assert html.mimetype == "text/html"
    assert html.headers["ETag"] != json_etag
    assert html.data == client.get(f"{url}.html").data


def test_token_holders_get_private_answers(seeded: Flask, client: FlaskClient) -> None:
    secret = make_token(seeded)
    response = client.get("/sections", headers=auth(secret))
    assert response.headers["Cache-Control"] == "private, no-store"
    assert "Authorization" in response.headers["Vary"]


def test_cors_allows_reads_from_any_origin(seeded: Flask, client: FlaskClient) -> None:
    response = client.get("/sections", headers={"Origin": "https://zarr-specs.example"})
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    exposed = response.headers["Access-Control-Expose-Headers"]
    for header in ("ETag", "Location", "Link"):
        assert header in exposed


def test_cors_preflight_for_writes(seeded: Flask, client: FlaskClient) -> None:
    response = client.options(
        "/sections/1",
        headers={
            "Origin": "https://editor.example",
            "Access-Control-Request-Method": "PATCH",
            "Access-Control-Request-Headers": "Authorization, If-Match, Content-Type",
        },
    )
    assert response.status_code == 200
    assert "PATCH" in response.headers["Access-Control-Allow-Methods"]
    allowed = response.headers["Access-Control-Allow-Headers"].lower()
    assert "if-match" in allowed and "authorization" in allowed


@contextmanager
def counted_queries(app: Flask) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def grow(app: Flask, client: FlaskClient, sections: int) -> None:
    secret = make_token(app, f"grower{sections}")
    for number in range(sections):
        body = f"See [a](https://a.example/{number}) and [b](https://b.example/{number})."
        response = client.post(
            "/pages/community/sections",
            json={"title": f"Extra {number}", "body": body},
            headers=auth(secret),
        )
        assert response.status_code == 201


@pytest.mark.parametrize(
    "url",
    [
        "/sections",
        "/pages/community",
        "/pages/community.html",
        "/links",
        "/sections?q=zarr",
        "/pages/community.md",
    ],
)
def test_query_count_does_not_grow_with_content(
    seeded: Flask, client: FlaskClient, url: str
) -> None:
    with counted_queries(seeded) as small:
        assert client.get(url).status_code == 200
    grow(seeded, client, 12)
    with counted_queries(seeded) as large:
        assert client.get(url).status_code == 200
    assert len(large) == len(small), (small, large)
