"""Search uses the database's full-text index: ranked, stemmed, safe with any input."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.factories import auth, make_token


@pytest.fixture
def library(seeded: Flask, client: FlaskClient) -> Flask:
    admin = make_token(seeded, "root", "admin")
    client.post("/pages", json={"slug": "search", "title": "Search"}, headers=auth(admin))
    for title, body in [
        ("Chunking", "How arrays are split into pieces."),
        ("Storage", "Chunking decides how storage is laid out; chunking matters."),
        ("Codecs", "Compression of every piece."),
    ]:
        response = client.post(
            "/pages/search/sections", json={"title": title, "body": body}, headers=auth(admin)
        )
        assert response.status_code == 201
    return seeded


def slugs(client: FlaskClient, query: str) -> list[str]:
    response = client.get(f"/sections?{query}")
    assert response.status_code == 200, response.get_json()
    return [section["slug"] for section in response.get_json()["data"]]


def test_title_matches_rank_first(library: Flask, client: FlaskClient) -> None:
    assert slugs(client, "q=chunking") == ["chunking", "storage"]


def test_every_word_must_match_and_the_last_is_a_prefix(
    library: Flask, client: FlaskClient
) -> None:
    assert slugs(client, "q=storage+chunk") == ["storage"]
    assert slugs(client, "q=compress") == ["codecs"]


def test_words_are_stemmed(library: Flask, client: FlaskClient) -> None:
    # "discussed" shares only its stem with "discussions" on the community page.
    assert slugs(client, "q=discussed") == ["join-the-community"]


@pytest.mark.parametrize("query", ['"', "AND OR NOT", "*", "title:x", "a'b", "(", "NEAR(a b)", "-"])
def test_operators_and_punctuation_are_harmless(
    library: Flask, client: FlaskClient, query: str
) -> None:
    response = client.get("/sections", query_string={"q": query})
    assert response.status_code == 200


def test_search_combines_with_page_and_pages_through_results(
    library: Flask, client: FlaskClient
) -> None:
    assert slugs(client, "q=chunking&page=community") == []
    first = client.get("/sections?q=chunking&limit=1").get_json()
    assert [s["slug"] for s in first["data"]] == ["chunking"]
    second = client.get(first["next"]).get_json()
    assert [s["slug"] for s in second["data"]] == ["storage"]
    assert second["next"] is None


def test_search_index_follows_edits(library: Flask, client: FlaskClient) -> None:
    admin = make_token(library, "other", "admin")
    codecs = client.get("/sections?q=codecs").get_json()["data"][0]
    url = f"/sections/{codecs['id']}"
    etag = client.get(url).headers["ETag"]
    client.patch(url, json={"body": "Blosc and zstd."}, headers=auth(admin, **{"If-Match": etag}))
    assert slugs(client, "q=compression") == []
    assert slugs(client, "q=zstd") == ["codecs"]
