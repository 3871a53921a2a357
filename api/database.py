"""Engine tuning per database: SQLite needs help to behave under concurrent writers."""

from __future__ import annotations

from typing import Any

from flask import has_request_context, request
from sqlalchemy import Engine, event

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
# The largest id, position or revision number a column holds: INTEGER is 32-bit on PostgreSQL.
MAX_INTEGER = 2**31 - 1


def configure_engine_events(engine: Engine) -> None:
    """On SQLite, use WAL and take the write lock at BEGIN for write requests.

    pysqlite's deferred BEGIN lets two writers both read, then one fails with "database is
    locked" instead of waiting; BEGIN IMMEDIATE makes the second writer wait its turn, so the
    version compare-and-set answers 412 rather than an error.
    """
    if engine.dialect.name != "sqlite" or getattr(engine, "_zarr_events", False):
        return
    engine._zarr_events = True  # type: ignore[attr-defined]

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Any) -> None:
        writing = has_request_context() and request.method not in SAFE_METHODS
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writing else "BEGIN")


# Search indexes live only in migration 0002 (FTS5 on SQLite, tsvector on PostgreSQL).
SEARCH_OBJECTS = {"search_vector", "ix_sections_search_vector"}


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Keep Alembic's autogenerate away from the database-specific search objects."""
    if name is None:
        return True
    return not (name in SEARCH_OBJECTS or name.startswith("sections_fts"))
