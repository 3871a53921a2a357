"""Writes are rate limited per token: in memory by default, in Redis when configured."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner

from api import create_app
from api.extensions import db
from tests.conftest import _empty_tables
from tests.environment import unavailable
from tests.factories import auth, make_token
from tests.paths import PROJECT

REDIS_URL = "redis://127.0.0.1:6379/0"


def redis_available() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.fixture(params=["memory", "redis"])
def limited_app(request: pytest.FixtureRequest, database: dict[str, Any]) -> Iterator[Flask]:
    if request.param == "redis":
        if not redis_available():
            unavailable("no Redis at 127.0.0.1:6379")
        # A private key prefix keeps parallel runs on the shared Redis apart.
        storage = REDIS_URL
        options = {"RATELIMIT_KEY_PREFIX": f"test-{uuid.uuid4().hex}"}
    else:
        storage, options = "memory://", {}
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test",
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_STORAGE_URI": storage,
            "RATELIMIT_WRITES": "3 per minute",
            "SEED_PATH": str(PROJECT / "seed"),
            **options,
            **database,
        }
    )
    runner: FlaskCliRunner = app.test_cli_runner()
    assert runner.invoke(args=["seed"]).exit_code == 0
    yield app
    with app.app_context():
        db.session.remove()
        _empty_tables()
        db.engine.dispose()


def test_fourth_write_in_a_minute_is_429_with_retry_after(limited_app: Flask) -> None:
    client = limited_app.test_client()
    secret = make_token(limited_app)
    statuses = []
    for number in range(4):
        response = client.post(
            "/pages/community/sections", json={"title": f"Note {number}"}, headers=auth(secret)
        )
        statuses.append(response.status_code)
    assert statuses == [201, 201, 201, 429]
    assert response.mimetype == "application/problem+json"
    assert int(response.headers["Retry-After"]) > 0
    assert response.get_json()["status"] == 429
    titles = [s["title"] for s in client.get("/sections").get_json()["data"]]
    assert "Note 3" not in titles
    assert client.get("/sections").status_code == 200  # reads are not limited


def test_limits_are_per_token(limited_app: Flask) -> None:
    client = limited_app.test_client()
    alice, bob = make_token(limited_app, "alice"), make_token(limited_app, "bob")
    for number in range(3):
        client.post("/pages/community/sections", json={"title": f"A{number}"}, headers=auth(alice))
    response = client.post("/pages/community/sections", json={"title": "B"}, headers=auth(bob))
    assert response.status_code == 201
