"""Faults and load against the real service: gunicorn subprocesses on the session's database.

Tests marked ``postgres_only`` (see tests/conftest.py) need several processes on one PostgreSQL
server (or its lock tables); they are skipped on SQLite and run in the PostgreSQL run.
"""

from __future__ import annotations

import pytest
from flask import Flask

from tests.factories import make_token


@pytest.fixture
def editor(seeded: Flask) -> str:
    """The secret of an editor token on the seeded database."""
    return make_token(seeded, "editor-under-test")
