"""Two writes at the same moment, made to meet at the worst point, deterministically.

The load test finds these races by chance; here a session event stops one request exactly
where the other one's commit hurts, so each regression fails every time.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event
from sqlalchemy.orm import Session

from api.extensions import db
from api.models import Section
from tests.factories import auth, etag_of, make_token, section_by_slug


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
