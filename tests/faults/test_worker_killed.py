"""A worker killed in the middle of a write leaves no half-applied change, and others serve on.

The test holds a SHARE lock on ``section_revisions``: a PATCH then updates the section row
and its links, and waits to insert its revision, provably inside its transaction (the test
sees it wait in ``pg_locks`` and finds the section row locked). The gunicorn worker serving it
is killed with SIGKILL, and the lock released: PostgreSQL must roll the orphaned transaction
back, and gunicorn must replace the worker. SQLite takes its write lock at BEGIN, so no
outside lock can stop a write half way; its atomic commit is SQLite's own guarantee.
"""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path
from typing import Any

import psycopg
import pytest
from flask import Flask

from tests.faults.helpers import (
    Answer,
    bearer,
    process_with_socket,
    running_service,
    service_env,
    subprocess_database_url,
)
from tests.local_http import poll

pytestmark = pytest.mark.postgres_only

WAITING_WRITER = """
    SELECT a.pid, a.client_port
    FROM pg_locks AS l JOIN pg_stat_activity AS a ON a.pid = l.pid
    WHERE l.relation = 'section_revisions'::regclass AND NOT l.granted
"""
HELD_LOCKS = """
    SELECT l.relation::regclass::text, l.mode FROM pg_locks AS l
    WHERE l.pid = %s AND l.granted AND l.locktype = 'relation'
"""


def connect(database: dict[str, Any]) -> psycopg.Connection[Any]:
    """A connection of the test's own, in the session's schema."""
    plain = database["SQLALCHEMY_DATABASE_URI"].replace("postgresql+psycopg://", "postgresql://")
    return psycopg.connect(
        plain, autocommit=True, options=f"-csearch_path={database['TEST_SCHEMA']}"
    )


def snapshot(service: Any, secret: str, section_id: int) -> dict[str, Any]:
    """What readers and editors see of the section: state, links and history."""
    section = service.call("GET", f"/sections/{section_id}")
    revisions = service.call("GET", f"/sections/{section_id}/revisions", headers=bearer(secret))
    links = service.call("GET", "/links?page=community")
    assert {section.status, revisions.status, links.status} == {200}
    return {
        "section": section.json,
        "etag": section.headers["etag"],
        "revisions": revisions.json["data"],
        "links": links.json["data"],
    }


def test_worker_killed_mid_write_leaves_no_trace(
    seeded: Flask, editor: str, database: dict[str, Any], tmp_path: Path
) -> None:
    env = service_env(subprocess_database_url(database), RATELIMIT_ENABLED="false")
    with running_service(env, tmp_path / "gunicorn.log") as service:
        sections = service.call("GET", "/sections?page=community").json["data"]
        section_id = next(s["id"] for s in sections if s["slug"] == "join-the-community")
        before = snapshot(service, editor, section_id)
        url = f"/sections/{section_id}"
        edit = {"body": "Only one place left: [the forum](https://example.org/forum)."}
        headers = bearer(editor, **{"If-Match": before["etag"]})

        with connect(database) as locker, connect(database) as monitor:
            locker.execute("BEGIN")
            locker.execute("LOCK TABLE section_revisions IN SHARE MODE")
            answers: list[Answer] = []
            writer = threading.Thread(
                target=lambda: answers.append(
                    service.call("PATCH", url, headers=headers, body=edit)
                )
            )
            writer.start()
            try:
                backend, port = poll(lambda: monitor.execute(WAITING_WRITER).fetchone())
                held = set(monitor.execute(HELD_LOCKS, (backend,)).fetchall())
                assert {("sections", "RowExclusiveLock"), ("links", "RowExclusiveLock")} <= held
                with pytest.raises(psycopg.errors.LockNotAvailable):  # updated, not committed
                    monitor.execute(
                        "SELECT 1 FROM sections WHERE id = %s FOR UPDATE NOWAIT", (section_id,)
                    )
                workers = service.worker_pids()
                victim = process_with_socket(workers, port)
                assert victim is not None, f"no worker owns the connection from port {port}"
                os.kill(victim, signal.SIGKILL)
                writer.join(timeout=30)
            finally:
                locker.execute("ROLLBACK")
            (answer,) = answers
            assert answer.status == 0, answer.describe()  # the client never got an answer
            # The orphaned backend gets the lock, finds its client gone and rolls back.
            alive = "SELECT 1 FROM pg_stat_activity WHERE pid = %s"
            poll(lambda: monitor.execute(alive, (backend,)).fetchone() is None)

        poll(lambda: len(service.worker_pids() - {victim}) == len(workers))
        assert snapshot(service, editor, section_id) == before
        retried = service.call("PATCH", url, headers=headers, body=edit)
        assert retried.status == 200, retried.describe()  # the old ETag is still current
        assert retried.json["version"] == before["section"]["version"] + 1
        assert [link["url"] for link in retried.json["links"]] == ["https://example.org/forum"]
        after = snapshot(service, editor, section_id)
        numbers = [revision["number"] for revision in after["revisions"]]
        assert numbers == list(range(retried.json["version"], 0, -1))
