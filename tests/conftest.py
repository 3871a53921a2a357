"""Fixtures: one migrated database per test session, emptied after every test.

``TEST_DATABASE_URL`` picks the database: ``sqlite`` (default) or a PostgreSQL URL. On
PostgreSQL every session works in a schema of its own, dropped at the end, so runs never see
each other's rows on the shared database.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from flask_migrate import upgrade
from sqlalchemy import text

from api import create_app
from api.config import normalize_database_url
from api.extensions import db
from tests.paths import PROJECT


def _postgres_schema(url: str) -> Iterator[dict[str, Any]]:
    schema = f"test_{uuid.uuid4().hex[:12]}"
    plain = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield {
            "SQLALCHEMY_DATABASE_URI": normalize_database_url(url),
            "SQLALCHEMY_ENGINE_OPTIONS": {
                "pool_pre_ping": True,
                "connect_args": {"options": f"-csearch_path={schema}"},
            },
            "TEST_SCHEMA": schema,
        }
    finally:
        with psycopg.connect(plain, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA "{schema}" CASCADE')


def pytest_runtest_setup(item: pytest.Item) -> None:
    """``postgres_only`` tests run in the PostgreSQL run and are skipped in the SQLite one."""
    on_postgres = os.environ.get("TEST_DATABASE_URL", "sqlite").startswith("postgres")
    if item.get_closest_marker("postgres_only") and not on_postgres:
        pytest.skip("needs PostgreSQL (TEST_DATABASE_URL)")


@pytest.fixture(scope="session")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Settings of a freshly migrated database for this test session."""
    url = os.environ.get("TEST_DATABASE_URL", "sqlite")
    if url.startswith("postgres"):
        settings_iter = _postgres_schema(url)
        settings = next(settings_iter)
    else:
        settings_iter = None
        path = tmp_path_factory.mktemp("db") / "test.sqlite3"
        settings = {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"}
    app = create_app({"TESTING": True, **settings})
    with app.app_context():
        upgrade()
        db.engine.dispose()
    yield settings
    if settings_iter is not None:
        next(settings_iter, None)


def _empty_tables() -> None:
    # DELETE beats TRUNCATE on tables this small (TRUNCATE rewrites every table's files).
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(text(f"DELETE FROM {table.name}"))
    db.session.commit()


@pytest.fixture
def app(database: dict[str, Any], tmp_path: Path) -> Iterator[Flask]:
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "RATELIMIT_ENABLED": False,
            "SEED_PATH": str(PROJECT / "seed"),
            **database,
        }
    )
    app.instance_path = str(tmp_path / "instance")
    yield app
    with app.app_context():
        db.session.remove()
        _empty_tables()
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def seeded(app: Flask, runner: FlaskCliRunner) -> Flask:
    """The app with the community page seeded from seed/."""
    result = runner.invoke(args=["seed"])
    assert result.exit_code == 0, result.output
    return app


@pytest.fixture
def is_postgres(database: dict[str, Any]) -> bool:
    return database["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")
