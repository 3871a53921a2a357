"""GET /editor (the page and its CSP) and POST /preview, without a browser."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient

from tests.factories import auth, make_token, section_by_slug


def test_editor_page_is_self_contained_with_a_nonce_csp(app: Flask, client: FlaskClient) -> None:
    response = client.get("/editor")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert response.headers["Cache-Control"] == "no-store"
    csp = response.headers["Content-Security-Policy"]
    nonce = re.search(r"script-src 'nonce-([\w-]+)'", csp)
    assert nonce is not None
    assert f"style-src 'nonce-{nonce.group(1)}'" in csp
    assert "connect-src 'self'" in csp and "default-src 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    html = response.get_data(as_text=True)
    assert f'<script nonce="{nonce.group(1)}">' in html
    assert f'<style nonce="{nonce.group(1)}">' in html
    assert html.count("<script") == 1 and html.count("<style") == 1
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)  # no external assets
    assert "sessionStorage" in html and "localStorage" not in html
    again = client.get("/editor").headers["Content-Security-Policy"]
    assert again != csp  # a fresh nonce per response


def test_preview_renders_sanitized_html_without_storing(seeded: Flask, client: FlaskClient) -> None:
    editor = make_token(seeded, "alice", "editor")
    before = client.get("/sections").get_json()
    response = client.post(
        "/preview",
        json={
            "body": "Some **bold** text <script>alert(1)</script> and [a link](https://zarr.dev)"
        },
        headers=auth(editor),
    )
    assert response.status_code == 200, response.get_json()
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_json()["html"]
    assert "<strong>bold</strong>" in html
    assert "<script" not in html
    assert '<a href="https://zarr.dev">a link</a>' in html
    assert client.get("/sections").get_json() == before


def test_preview_resolves_the_pages_reference_links(seeded: Flask, client: FlaskClient) -> None:
    editor = make_token(seeded, "alice", "editor")
    section = section_by_slug(client, "community-meetings")
    body = "See [the calls][calls].\n\n[calls]: https://zarr.dev/community-calls/\n"
    alone = client.post("/preview", json={"body": "See [the calls][calls]."}, headers=auth(editor))
    assert "<a " not in alone.get_json()["html"]
    inside = client.post(
        "/preview", json={"body": body, "section_id": section["id"]}, headers=auth(editor)
    )
    assert 'href="https://zarr.dev/community-calls/"' in inside.get_json()["html"]


def test_preview_needs_a_token_and_valid_input(seeded: Flask, client: FlaskClient) -> None:
    editor = make_token(seeded, "alice", "editor")
    anonymous = client.post("/preview", json={"body": "x"})
    assert anonymous.status_code == 401
    assert anonymous.headers["WWW-Authenticate"].startswith("Bearer")
    for body, status in [
        ({}, 422),
        ({"body": 3}, 422),
        ({"body": "x", "extra": 1}, 422),
        ({"body": "x", "section_id": 0}, 422),
        ({"body": "x", "section_id": 99999}, 404),
    ]:
        response = client.post("/preview", json=body, headers=auth(editor))
        assert response.status_code == status, body
        assert response.mimetype == "application/problem+json"
    wrong_type = client.post("/preview", data="body=x", headers=auth(editor))
    assert wrong_type.status_code == 415
