"""The database goes away while requests flow: 503 problem+json, then recovery by itself.

On PostgreSQL the service (gunicorn, the project's config) reaches the server through a
loopback proxy the test cuts: every pooled connection is hung up on and new ones are refused,
as when the server restarts or fails over. On SQLite the database is a file the process
opens: a connection already open keeps working on the open file, so the fault a user meets is
a worker opening the database while its file is unavailable (a missing volume).
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, Response
from flask_migrate import upgrade

from api import create_app
from api.extensions import db
from tests.factories import make_token
from tests.faults.helpers import (
    Answer,
    Service,
    TcpProxy,
    assert_unavailable,
    bearer,
    link_of,
    postgres_address,
    proxy_to,
    running_service,
    service_env,
    subprocess_database_url,
)
from tests.local_http import poll
from tests.paths import SEED

READS = ("/pages/community", "/sections?page=community", "/pages/community.html", "/healthz")
PHASE_ANSWERS = 24  # answers to collect in each phase (up, down, back)


class Traffic:
    """Readers and one editor hitting the service from threads until stopped."""

    def __init__(self, service: Service, secret: str, section_id: int) -> None:
        self.service, self.secret, self.section_id = service, secret, section_id
        self.answers: list[Answer] = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self._read, args=(n,)) for n in range(3)]
        self.threads.append(threading.Thread(target=self._write))

    def _record(self, answer: Answer) -> Answer:
        with self.lock:
            self.answers.append(answer)
        return answer

    def _read(self, offset: int) -> None:
        paths = [*READS, f"/sections/{self.section_id}"]
        number = offset
        while not self.stopping.is_set():
            self._record(self.service.call("GET", paths[number % len(paths)], timeout=20))
            number += 1

    def _write(self) -> None:
        url = f"/sections/{self.section_id}"
        number = 0
        while not self.stopping.is_set():
            current = self._record(self.service.call("GET", url, timeout=20))
            if current.status != 200:
                time.sleep(0.02)
                continue
            number += 1
            body = f"Edit {number} of the fault run: [notes](https://example.org/notes/{number})"
            headers = bearer(self.secret, **{"If-Match": current.headers["etag"]})
            self._record(
                self.service.call("PATCH", url, headers=headers, body={"body": body}, timeout=20)
            )

    def __enter__(self) -> Traffic:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=30)

    def between(self, start: float, end: float = float("inf")) -> list[Answer]:
        """Answers to requests sent after ``start`` and answered before ``end``."""
        with self.lock:
            return [a for a in self.answers if a.started >= start and a.ended <= end]

    def wait_for(self, start: float, count: int = PHASE_ANSWERS) -> None:
        poll(lambda: len(self.between(start)) >= count, timeout=20)


def assert_ok(answers: list[Answer]) -> None:
    wrong = [answer.describe() for answer in answers if answer.status != 200]
    assert not wrong, wrong[:5]


def assert_history_kept(service: Service, secret: str, section_id: int, traffic: Traffic) -> None:
    """Every accepted edit is in the history, and the section is exactly the last of them."""
    accepted = [a.json for a in traffic.answers if a.method == "PATCH" and a.status == 200]
    assert accepted, "no edit was accepted"
    current = service.call("GET", f"/sections/{section_id}").json
    revisions = service.call(
        "GET", f"/sections/{section_id}/revisions", headers=bearer(secret)
    ).json["data"]
    numbers = sorted(revision["number"] for revision in revisions)
    assert numbers == list(range(1, current["version"] + 1))
    by_number = {revision["number"]: revision["data"] for revision in revisions}
    for edit in accepted:
        assert by_number[edit["version"]]["body"] == edit["body"]
    last = max(accepted, key=lambda edit: edit["version"])
    # An edit answered 503 may have been cut after its COMMIT reached the server, so the last
    # revision is either the last accepted edit or one the client was not told about.
    newest = by_number[current["version"]]
    assert current["body"] == newest["body"]
    assert current["version"] >= last["version"]
    assert [link["url"] for link in current["links"]] == [link_of(current["body"])]


@pytest.mark.postgres_only
def test_connection_lost_after_the_answer_was_made_keeps_the_answer(
    seeded: Flask, database: dict[str, Any]
) -> None:
    """Closing the request's session must not turn a read that succeeded into a bare 500."""
    with proxy_to(postgres_address(database)) as proxy:
        app = create_app(
            {
                "TESTING": True,
                "SECRET_KEY": "test",
                "SQLALCHEMY_DATABASE_URI": subprocess_database_url(database, port=proxy.port),
            }
        )
        armed = threading.Event()

        @app.after_request
        def cut_after_the_answer(response: Response) -> Response:
            if armed.is_set():
                proxy.cut()  # the view is done; only the session's ROLLBACK is still to come
            return response

        client = app.test_client()
        try:
            section = client.get("/sections?page=community").get_json()["data"][0]
            armed.set()
            response = client.get(f"/sections/{section['id']}")
            armed.clear()
            assert response.status_code == 200
            assert response.get_json()["body"] == section["body"]
            assert client.get("/healthz").status_code == 503
            proxy.restore()
            assert client.get("/healthz").status_code == 200
            assert client.get(f"/sections/{section['id']}").get_json()["body"] == section["body"]
        finally:
            with app.app_context():
                db.engine.dispose()


@pytest.mark.postgres_only
def test_postgres_going_away_gives_503_and_recovers_without_restart(
    seeded: Flask, editor: str, database: dict[str, Any], tmp_path: Path
) -> None:
    with proxy_to(postgres_address(database)) as proxy:
        env = service_env(
            subprocess_database_url(database, port=proxy.port), RATELIMIT_ENABLED="false"
        )
        with running_service(env, tmp_path / "gunicorn.log") as service:
            run_outage(service, proxy, editor)


def run_outage(service: Service, proxy: TcpProxy, secret: str) -> None:
    sections = service.call("GET", "/sections?page=community").json["data"]
    section_id = next(s["id"] for s in sections if s["slug"] == "community-meetings")
    workers = service.worker_pids()
    with Traffic(service, secret, section_id) as traffic:
        up = time.monotonic()
        traffic.wait_for(up)
        assert proxy.connections > 0  # the service's pools hold connections through the proxy

        cutting = time.monotonic()  # answers from here on may already feel the cut
        proxy.cut()
        down = time.monotonic()
        assert_unavailable(service.call("GET", "/healthz"))
        traffic.wait_for(down)

        restoring = time.monotonic()
        proxy.restore()
        back = time.monotonic()
        traffic.wait_for(back)
        poll(lambda: any(a.method == "PATCH" and a.status == 200 for a in traffic.between(back)))

    assert_ok(traffic.between(up, cutting))
    during = traffic.between(down, restoring)
    assert len(during) >= PHASE_ANSWERS
    for answer in during:
        assert_unavailable(answer)
    assert_ok(traffic.between(back))
    # Requests that straddled the cut may fail, but only as 503: never a 500 or a hang-up.
    assert {a.status for a in traffic.answers} <= {200, 503}, {a.status for a in traffic.answers}
    assert service.worker_pids() == workers, "a worker was restarted"
    assert service.call("GET", "/healthz").json == {"status": "ok"}
    assert_history_kept(service, secret, section_id, traffic)


def test_sqlite_file_unavailable_gives_503_and_recovers_without_restart(
    is_postgres: bool, tmp_path: Path
) -> None:
    if is_postgres:
        pytest.skip("the SQLite fault; PostgreSQL has its own test above")
    volume = tmp_path / "volume"
    url = f"sqlite:///{volume / 'content.sqlite3'}"
    volume.mkdir()
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "SEED_PATH": SEED})
    with app.app_context():
        upgrade()
    assert app.test_cli_runner().invoke(args=["seed"]).exit_code == 0
    secret = make_token(app)
    with app.app_context():
        db.engine.dispose()

    env = service_env(url, RATELIMIT_ENABLED="false")
    with running_service(env, tmp_path / "gunicorn.log", workers=1) as service:
        section = service.call("GET", "/sections?page=community").json["data"][1]
        url_of = f"/sections/{section['id']}"
        etag = service.call("GET", url_of).headers["etag"]

        volume.rename(tmp_path / "unmounted")
        # A connection already open keeps its open file; the worker gunicorn starts next (after
        # max_requests, a crash or a deploy) has to open the file, and finds nothing there.
        restart_worker(service)
        answers = [service.call("GET", path) for path in (*READS, url_of)]
        edit = {"body": "Written while the file is gone."}
        answers.append(
            service.call("PATCH", url_of, headers=bearer(secret, **{"If-Match": etag}), body=edit)
        )
        for answer in answers:
            assert_unavailable(answer)
        workers = service.worker_pids()

        (tmp_path / "unmounted").rename(volume)
        poll(lambda: service.call("GET", "/healthz").status == 200)
        assert_ok([service.call("GET", path) for path in (*READS, url_of)])
        edit = {"body": "Written once the file is back."}
        written = service.call(
            "PATCH", url_of, headers=bearer(secret, **{"If-Match": etag}), body=edit
        )
        assert written.status == 200, written.describe()  # the 503 edit changed nothing
        assert written.json["version"] == section["version"] + 1
        assert service.worker_pids() == workers, "recovering needed a restart"


def restart_worker(service: Service) -> None:
    """Stop the worker gracefully and wait for the one gunicorn starts instead."""
    (old,) = service.worker_pids()
    os.kill(old, signal.SIGTERM)
    poll(lambda: len(service.worker_pids() - {old}) == 1, timeout=30)
