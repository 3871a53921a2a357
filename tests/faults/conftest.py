"""Faults and load against the real service: gunicorn subprocesses on the session's database.

Tests marked ``postgres_only`` need several processes on one PostgreSQL server (or its lock
tables); they are skipped on SQLite and run in the PostgreSQL run.
"""

from __future__ import annotations

import os

import pytest
from flask import Flask

from tests.factories import make_token


def pytest_runtest_setup(item: pytest.Item) -> None:
    on_postgres = os.environ.get("TEST_DATABASE_URL", "sqlite").startswith("postgres")
    if item.get_closest_marker("postgres_only") and not on_postgres:
        pytest.skip("needs PostgreSQL (TEST_DATABASE_URL)")


@pytest.fixture
def editor(seeded: Flask) -> str:
    """The secret of an editor token on the seeded database."""
    return make_token(seeded, "editor-under-test")
