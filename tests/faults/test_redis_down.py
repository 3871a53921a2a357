"""Redis (the rate-limit storage) unreachable: reads never notice, writes go on.

Without Redis the write limit is counted in each process's memory (Flask-Limiter's in-memory
fallback, with a warning in the log), so editors keep working and the limit still holds per
process; once Redis answers again the counts go back to it.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient

from api import create_app
from api.extensions import db, limiter
from tests.conftest import _empty_tables
from tests.environment import unavailable
from tests.factories import auth, make_token
from tests.faults.helpers import closed_port, proxy_to
from tests.local_http import poll
from tests.paths import SEED
from tests.routes.test_rate_limit import REDIS_URL, redis_available

READS = ("/sections", "/pages/community", "/pages/community.html", "/links", "/healthz")
FALLBACK_WARNING = "Rate limit storage unreachable - falling back to in-memory storage"


@pytest.fixture
def limiter_log(caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> Any:
    # Alembic's logging setup (the session's migration) disables loggers that exist already.
    monkeypatch.setattr(logging.getLogger("flask-limiter"), "disabled", False)
    caplog.set_level(logging.WARNING, logger="flask-limiter")
    return caplog


@contextmanager
def limited_app(database: dict[str, Any], storage: str, writes: str) -> Iterator[Flask]:
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test",
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_STORAGE_URI": storage,
            "RATELIMIT_KEY_PREFIX": f"test-{uuid.uuid4().hex}",
            "RATELIMIT_WRITES": writes,
            "SEED_PATH": str(SEED),
            **database,
        }
    )
    assert app.test_cli_runner().invoke(args=["seed"]).exit_code == 0
    try:
        yield app
    finally:
        # The limiter is one object per process; the next app must not start "storage dead".
        limiter._storage_dead = False
        with app.app_context():
            db.session.remove()
            _empty_tables()
            db.engine.dispose()


def write(client: FlaskClient, secret: str) -> int:
    title = f"Note {uuid.uuid4().hex[:8]}"
    response = client.post("/pages/community/sections", json={"title": title}, headers=auth(secret))
    return response.status_code


def assert_reads_ok(client: FlaskClient) -> None:
    statuses = {path: client.get(path).status_code for path in READS}
    assert set(statuses.values()) == {200}, statuses


def test_redis_unreachable_leaves_reads_alone_and_limits_writes_in_memory(
    database: dict[str, Any], limiter_log: pytest.LogCaptureFixture
) -> None:
    storage = f"redis://127.0.0.1:{closed_port()}/0"
    with limited_app(database, storage, "3 per minute") as app:
        client = app.test_client()
        secret = make_token(app)
        assert_reads_ok(client)
        assert [write(client, secret) for _ in range(4)] == [201, 201, 201, 429]
        assert_reads_ok(client)
        warnings = [r.getMessage() for r in limiter_log.records if r.levelno == logging.WARNING]
        assert warnings == [FALLBACK_WARNING]  # once, not per request


def redis_count(token: str) -> int:
    """The writes Redis has counted for this token (named uniquely for the test)."""
    connection = redis.Redis.from_url(REDIS_URL)
    keys = connection.scan_iter(f"*/token:{token}/*")
    return sum(int(connection.get(key) or 0) for key in keys)


def test_redis_going_away_mid_run_falls_back_and_comes_back(
    database: dict[str, Any], limiter_log: pytest.LogCaptureFixture
) -> None:
    if not redis_available():
        unavailable("no Redis at 127.0.0.1:6379")
    with proxy_to(("127.0.0.1", 6379)) as proxy:
        storage = f"redis://127.0.0.1:{proxy.port}/0"
        with limited_app(database, storage, "100 per minute") as app:
            client = app.test_client()
            name = f"editor-{uuid.uuid4().hex}"
            secret = make_token(app, name)
            assert [write(client, secret) for _ in range(2)] == [201, 201]
            assert redis_count(name) == 2

            proxy.cut()
            assert [write(client, secret) for _ in range(3)] == [201, 201, 201]
            assert_reads_ok(client)
            assert redis_count(name) == 2  # counted in memory meanwhile
            assert any(r.getMessage() == FALLBACK_WARNING for r in limiter_log.records)

            proxy.restore()
            poll(lambda: write(client, secret) == 201 and redis_count(name) > 2, 30, 0.25)
            assert_reads_ok(client)
