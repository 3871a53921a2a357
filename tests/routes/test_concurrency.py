"""Two editors with the same ETag: exactly one wins, enforced by the database."""

from __future__ import annotations

import threading

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from api.extensions import db
from api.models import Section, SectionRevision
from tests.factories import auth, etag_of, make_token, section_by_slug

WRITERS = 12


def test_concurrent_patches_with_one_etag_have_one_winner(
    seeded: Flask, client: FlaskClient
) -> None:
    secret = make_token(seeded)
    section = section_by_slug(client, "community-meetings")
    url = f"/sections/{section['id']}"
    etag = etag_of(client, url)
    barrier = threading.Barrier(WRITERS)
    statuses: list[int] = []
    lock = threading.Lock()

    def edit(number: int) -> None:
        own_client = seeded.test_client()
        barrier.wait()
        response = own_client.patch(
            url,
            json={"body": f"Edit number {number}."},
            headers=auth(secret, **{"If-Match": etag}),
        )
        with lock:
            statuses.append(response.status_code)

    threads = [threading.Thread(target=edit, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(statuses) == [200] + [412] * (WRITERS - 1)
    final = client.get(url).get_json()
    assert final["version"] == section["version"] + 1
    assert final["body"].startswith("Edit number ")
    with seeded.app_context():
        revisions = db.session.scalar(
            select(func.count())
            .select_from(SectionRevision)
            .where(SectionRevision.section_id == section["id"])
        )
    assert revisions == 2


def test_compare_and_set_holds_even_when_python_checks_pass(
    seeded: Flask, client: FlaskClient
) -> None:
    """A writer that read the same version as the winner: its UPDATE must match no row."""
    section = section_by_slug(client, "intro")
    with seeded.app_context(), Session(db.engine, expire_on_commit=False) as loser:
        stale = loser.get(Section, section["id"])
        assert stale is not None
        loser.commit()  # the read is over; the version it saw is what it will compare
        with Session(db.engine) as other:
            winner = other.get(Section, section["id"])
            assert winner is not None
            winner.body = "Winner."
            other.commit()
        stale.body = "Loser."
        with pytest.raises(StaleDataError):
            loser.commit()
    assert client.get(f"/sections/{section['id']}").get_json()["body"] == "Winner."
