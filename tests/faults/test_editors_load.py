"""Many editors at once, in several processes, on a few overlapping sections: nothing is lost.

The service runs as gunicorn with several worker processes (the project's config) on the
session's database; editors are client processes, each looping GET -> PATCH with If-Match for
a bounded time and retrying on 412. Every accepted edit must be in the history exactly where
its version says, the final state must be the last accepted edit, and revision numbers must be
dense. On SQLite this is several processes writing one file; on PostgreSQL, one server.
"""

from __future__ import annotations

import multiprocessing
import random
import time
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from tests.factories import make_token
from tests.faults.helpers import (
    bearer,
    call,
    link_of,
    running_service,
    service_env,
    subprocess_database_url,
)

pytestmark = pytest.mark.slow

EDITORS = 6
WORKERS = 3
SECONDS = 10.0


def edit_for(port: int, secret: str, name: str, section_ids: list[int]) -> dict[str, Any]:
    """One editor's session (run in its own process): edit random sections until time is up."""
    rng = random.Random(name)
    deadline = time.monotonic() + SECONDS
    accepted: list[dict[str, Any]] = []
    unexpected: list[str] = []
    conflicts = 0
    number = 0
    while time.monotonic() < deadline:
        section_id = rng.choice(section_ids)
        number += 1
        body = f"Edit {number} by {name}: [source](https://example.org/{name}/{number})"
        while time.monotonic() < deadline:  # the same edit, on a fresh ETag after each 412
            current = call(port, "GET", f"/sections/{section_id}")
            if current.status != 200:
                unexpected.append(current.describe())
                break
            headers = bearer(secret, **{"If-Match": current.headers["etag"]})
            answer = call(
                port, "PATCH", f"/sections/{section_id}", headers=headers, body={"body": body}
            )
            if answer.status == 412:
                conflicts += 1
                continue
            if answer.status != 200:
                unexpected.append(answer.describe())
                break
            state = answer.json
            accepted.append(
                {
                    "section": section_id,
                    "version": state["version"],
                    "body": state["body"],
                    "sent": body,
                    "after": current.json["version"],
                    "links": [link["url"] for link in state["links"]],
                }
            )
            break
    return {"name": name, "accepted": accepted, "conflicts": conflicts, "unexpected": unexpected}


def test_concurrent_editors_lose_no_update(
    seeded: Flask, database: dict[str, Any], tmp_path: Path
) -> None:
    names = [f"editor-{number}" for number in range(EDITORS)]
    secrets = {name: make_token(seeded, name) for name in names}
    env = service_env(subprocess_database_url(database), RATELIMIT_ENABLED="false")
    with running_service(env, tmp_path / "gunicorn.log", workers=WORKERS) as service:
        start = {s["id"]: s for s in service.call("GET", "/sections?page=community").json["data"]}
        section_ids = sorted(start)
        jobs = [(service.port, secrets[name], name, section_ids) for name in names]
        with multiprocessing.get_context("spawn").Pool(EDITORS) as pool:
            sessions = pool.starmap(edit_for, jobs, chunksize=1)

        unexpected = [line for session in sessions for line in session["unexpected"]]
        assert not unexpected, unexpected[:10]
        accepted = [dict(edit, by=s["name"]) for s in sessions for edit in s["accepted"]]
        assert len(accepted) >= 10, "the service accepted too few edits to prove anything"
        assert sum(s["conflicts"] for s in sessions) > 0, "the editors never overlapped"

        for section_id in section_ids:
            edits = sorted(
                (edit for edit in accepted if edit["section"] == section_id),
                key=lambda edit: edit["version"],
            )
            final = service.call("GET", f"/sections/{section_id}").json
            first = start[section_id]["version"]
            # Each accepted edit made exactly one new version: no two share one, none is missing.
            assert [e["version"] for e in edits] == list(range(first + 1, final["version"] + 1))
            for edit in edits:
                assert edit["body"] == edit["sent"]
                assert edit["version"] == edit["after"] + 1  # applied on the state it was based on
                assert edit["links"] == [link_of(edit["sent"])]
            if edits:
                assert final["body"] == edits[-1]["body"]
                assert [link["url"] for link in final["links"]] == edits[-1]["links"]

            history = service.call(
                "GET", f"/sections/{section_id}/revisions", headers=bearer(secrets[names[0]])
            ).json["data"]
            numbers = sorted(revision["number"] for revision in history)
            assert numbers == list(range(1, final["version"] + 1))
            by_number = {revision["number"]: revision for revision in history}
            for edit in edits:
                revision = by_number[edit["version"]]
                assert revision["data"]["body"] == edit["body"]
                assert revision["created_by"] == edit["by"]
