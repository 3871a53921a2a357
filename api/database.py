"""Engine tuning per database: write requests take their turn, as editors expect."""

from __future__ import annotations

from typing import Any

from flask import has_request_context, request
from sqlalchemy import Engine, event

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
# The largest id, position or revision number a column holds: INTEGER is 32-bit on PostgreSQL.
MAX_INTEGER = 2**31 - 1
# One lock per schema, held until the transaction ends; schemas (e.g. test runs) never wait
# for each other.
POSTGRES_WRITE_LOCK = "SELECT pg_advisory_xact_lock(hashtext('zarr-content:' || current_schema()))"


def writing_request() -> bool:
    return has_request_context() and request.method not in SAFE_METHODS


def configure_engine_events(engine: Engine) -> None:
    """Serialize write requests: SQLite takes its write lock at BEGIN, PostgreSQL a lock of ours.

    pysqlite's deferred BEGIN lets two writers both read, then one fails with "database is
    locked" instead of waiting; BEGIN IMMEDIATE makes the second writer wait its turn, so the
    version compare-and-set answers 412 rather than an error.

    On PostgreSQL the compare-and-set guards the row an editor changes, but a write also
    re-derives the links and HTML of every section of its page. Under READ COMMITTED another
    writer could commit a section between our reading its body and its links, and we would
    write back links of its old body. Writers therefore take one advisory lock at BEGIN and
    read only what every earlier write committed, as on SQLite. Reads never take it.
    """
    if getattr(engine, "_zarr_events", False):
        return
    engine._zarr_events = True  # type: ignore[attr-defined]
    if engine.dialect.name == "postgresql":

        @event.listens_for(engine, "begin")
        def lock_for_writes(connection: Any) -> None:
            if writing_request():
                connection.exec_driver_sql(POSTGRES_WRITE_LOCK)

        return
    if engine.dialect.name != "sqlite":
        return

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
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writing_request() else "BEGIN")


# Search indexes live only in migration 0002 (FTS5 on SQLite, tsvector on PostgreSQL).
SEARCH_OBJECTS = {"search_vector", "ix_sections_search_vector"}
# Kept by triggers, read with plain SQL: migration 0004 and api/cache.py.
DATABASE_OBJECTS = SEARCH_OBJECTS | {"content_generation"}
GENERATION_QUERY = "SELECT value FROM content_generation WHERE id = 1"


def content_generation(engine: Engine) -> int | None:
    """The value that changes with every committed change of pages, sections or links.

    One indexed single-row read on a pooled connection, without a Session or an ORM query:
    cheap enough to run on every read that could be answered from memory.
    """
    connection = engine.raw_connection()
    try:
        dbapi = connection.dbapi_connection
        # psycopg would send BEGIN first and the pool a ROLLBACK afterwards: two round trips
        # more than the SELECT needs. (sqlite3 connections are in autocommit mode already.)
        transactional = getattr(dbapi, "autocommit", None) is False
        if transactional:
            dbapi.autocommit = True  # type: ignore[union-attr]
        try:
            cursor = connection.cursor()
            try:
                cursor.execute(GENERATION_QUERY)
                row = cursor.fetchone()
            finally:
                cursor.close()
        finally:
            if transactional:
                dbapi.autocommit = False  # type: ignore[union-attr]
    finally:
        connection.close()  # back to the pool
    return None if row is None else int(row[0])


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Keep Alembic's autogenerate away from the database-specific search objects."""
    if name is None:
        return True
    return not (name in DATABASE_OBJECTS or name.startswith("sections_fts"))
