"""Plain helpers that make tokens and content for tests."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from api.extensions import db
from api.models.base import utcnow
from api.services.tokens import create_token


def make_token(app: Flask, name: str = "alice", role: str = "editor") -> str:
    """Create a token and return its secret."""
    with app.app_context():
        _, secret = create_token(db.session, name, role, now=utcnow())
        db.session.commit()
    return secret


def auth(secret: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}", **headers}


def section_by_slug(client: FlaskClient, slug: str, secret: str | None = None) -> Any:
    headers = auth(secret) if secret else {}
    for section in client.get("/sections", headers=headers).get_json()["data"]:
        if section["slug"] == slug:
            return section
    raise AssertionError(f"no section {slug}")


def etag_of(client: FlaskClient, url: str, secret: str | None = None) -> str:
    response = client.get(url, headers=auth(secret) if secret else {})
    assert response.status_code == 200, response.get_json()
    return response.headers["ETag"]
