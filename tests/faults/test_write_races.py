"""Two writes at the same moment, made to meet at the worst point, deterministically.

The load test finds these races by chance; here a session event stops one request exactly
where the other one's commit hurts, so each regression fails every time.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session

from api.extensions import db
from api.models import Link, Section
from tests.factories import auth, etag_of, make_token, section_by_slug
from tests.local_http import poll


@contextmanager
def listening(name: str, hook: Callable[..., None]) -> Iterator[None]:
    """A session event for every session of ``db``, removed afterwards."""
    event.listen(db.session, name, hook)
    try:
        yield
    finally:
        event.remove(db.session, name, hook)


def test_a_write_answers_with_the_state_it_committed(seeded: Flask, client: FlaskClient) -> None:
    """Another editor's commit right after ours must not show up in our answer or its ETag."""
    secret = make_token(seeded)
    section = section_by_slug(client, "community-meetings")
    url = f"/sections/{section['id']}"
    main = threading.get_ident()
    fired = threading.Event()

    def someone_else_commits(session: Session) -> None:
        if fired.is_set() or threading.get_ident() != main or session.info.get("other"):
            return
        fired.set()
        with Session(db.engine, info={"other": True}) as other:
            row = other.get(Section, section["id"])
            assert row is not None
            row.body = "Someone else's edit, a moment later."
            other.commit()

    with listening("after_commit", someone_else_commits):
        ours = client.patch(
            url,
            json={"body": "Our edit."},
            headers=auth(secret, **{"If-Match": etag_of(client, url)}),
        )
    assert fired.is_set()
    assert ours.status_code == 200
    assert ours.get_json()["body"] == "Our edit."
    assert ours.get_json()["version"] == section["version"] + 1
    # Our ETag names our state: using it now must not overwrite the other edit unseen.
    again = client.patch(
        url,
        json={"body": "Our second edit."},
        headers=auth(secret, **{"If-Match": ours.headers["ETag"]}),
    )
    assert again.status_code == 412
    assert client.get(url).get_json()["body"] == "Someone else's edit, a moment later."


def lock_waits(database: dict[str, Any]) -> Callable[[], bool]:
    """A check: is some backend of this database waiting for a lock?"""
    plain = database["SQLALCHEMY_DATABASE_URI"].replace("postgresql+psycopg://", "postgresql://")
    monitor = psycopg.connect(plain, autocommit=True)

    def waiting() -> bool:
        query = "SELECT 1 FROM pg_locks WHERE NOT granted AND database = %s"
        oid = monitor.execute(
            "SELECT oid FROM pg_database WHERE datname = current_database()"
        ).fetchone()
        return monitor.execute(query, oid).fetchone() is not None

    waiting.close = monitor.close  # type: ignore[attr-defined]
    return waiting


@pytest.mark.postgres_only
def test_an_edit_never_rewrites_another_sections_links_from_its_old_body(
    seeded: Flask, client: FlaskClient, database: dict[str, Any]
) -> None:
    """Editing one section recomputes its page; a section edited meanwhile keeps its links.

    Editor A changes "community meetings", adding a reference definition, so A's request must
    re-derive the links and HTML of every section of the page. Editor B's edit of "join the
    community" commits right after A read that section's body and before A reads its links.
    """
    secret = make_token(seeded)
    meetings = section_by_slug(client, "community-meetings")
    joining = section_by_slug(client, "join-the-community")
    join_url = f"/sections/{joining['id']}"
    join_etag = etag_of(client, join_url)
    main = threading.get_ident()
    fired, done = threading.Event(), threading.Event()
    answers: dict[str, Any] = {}
    waiting = lock_waits(database)

    def editor_b() -> None:
        body = "Chat with us on [Zulip](https://zarr.zulipchat.com/)."
        headers = auth(secret, **{"If-Match": join_etag})
        answers["b"] = seeded.test_client().patch(join_url, json={"body": body}, headers=headers)
        done.set()

    def b_commits_now(state: ORMExecuteState) -> None:
        parent = state.lazy_loaded_from
        if fired.is_set() or threading.get_ident() != main or parent is None:
            return
        if parent.obj() is None or parent.obj().id != joining["id"]:
            return
        if Link not in {mapper.class_ for mapper in state.all_mappers}:
            return
        fired.set()
        threading.Thread(target=editor_b).start()
        # B either commits now, or waits for a lock A holds; either way A goes on after.
        poll(lambda: done.is_set() or waiting(), timeout=15)

    try:
        with listening("do_orm_execute", b_commits_now):
            body = "Notes: [HackMD][notes].\n\n[notes]: https://hackmd.io/zarr"
            headers = auth(secret, **{"If-Match": etag_of(client, f"/sections/{meetings['id']}")})
            answers["a"] = client.patch(
                f"/sections/{meetings['id']}", json={"body": body}, headers=headers
            )
        assert fired.is_set(), "A never loaded the other section's links"
        assert done.wait(30)
    finally:
        waiting.close()  # type: ignore[attr-defined]

    assert answers["a"].status_code == 200 and answers["b"].status_code == 200
    after = client.get(join_url).get_json()
    assert after["body"] == "Chat with us on [Zulip](https://zarr.zulipchat.com/)."
    assert [link["url"] for link in after["links"]] == ["https://zarr.zulipchat.com/"]
    links = client.get("/links?page=community").get_json()["data"]
    assert [link["url"] for link in links if link["section_id"] == joining["id"]] == [
        "https://zarr.zulipchat.com/"
    ]
