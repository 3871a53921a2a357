"""Editors change content over HTTP; nothing they do is lost or half-applied."""

from __future__ import annotations

import json

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import func, select

from api.extensions import db
from api.models import Section, SectionRevision
from tests.factories import auth, etag_of, make_token, section_by_slug


@pytest.fixture
def editor(seeded: Flask) -> str:
    return make_token(seeded, "alice", "editor")


def patch(client: FlaskClient, url: str, secret: str, payload: object, etag: str | None):  # type: ignore[no-untyped-def]
    headers = auth(secret)
    if etag is not None:
        headers["If-Match"] = etag
    return client.patch(url, json=payload, headers=headers)


def counts(app: Flask) -> tuple[int, int]:
    with app.app_context():
        return (
            db.session.scalar(select(func.count()).select_from(Section)),
            db.session.scalar(select(func.count()).select_from(SectionRevision)),
        )


# --- tokens -------------------------------------------------------------------------------


def test_token_cli_prints_secret_once_and_stores_only_a_hash(
    app: Flask, runner: FlaskCliRunner
) -> None:
    result = runner.invoke(args=["tokens", "create", "bob", "--role", "admin"])
    assert result.exit_code == 0, result.output
    secret = result.output.strip().splitlines()[-1]
    assert secret.startswith("zca_") and len(secret) > 40
    listing = runner.invoke(args=["tokens", "list"]).output
    assert "bob\tadmin\tactive" in listing
    assert secret not in listing
    with app.app_context():
        stored = db.session.execute(db.text("SELECT secret_hash FROM tokens")).scalar_one()
    assert secret not in stored
    client = app.test_client()
    assert client.get("/sections", headers=auth(secret)).status_code == 200
    assert runner.invoke(args=["tokens", "revoke", "bob"]).exit_code == 0
    assert "revoked" in runner.invoke(args=["tokens", "list"]).output
    response = client.get("/sections", headers=auth(secret))
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_duplicate_token_name_is_refused(app: Flask, runner: FlaskCliRunner) -> None:
    assert runner.invoke(args=["tokens", "create", "bob"]).exit_code == 0
    result = runner.invoke(args=["tokens", "create", "bob"])
    assert result.exit_code != 0
    assert "exists already" in result.output


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic abc"}],
)
def test_writes_need_a_valid_token(seeded: Flask, client: FlaskClient, headers: dict) -> None:  # type: ignore[type-arg]
    section = section_by_slug(client, "community-meetings")
    response = client.patch(
        f"/sections/{section['id']}", json={"body": "x"}, headers={**headers, "If-Match": "*"}
    )
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert section_by_slug(client, "community-meetings")["body"] == section["body"]


def test_secret_never_appears_in_errors_or_logs(
    seeded: Flask, client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    secret = make_token(seeded)
    section = section_by_slug(client, "intro")
    response = client.patch(
        f"/sections/{section['id']}",
        json={"body": "x"},
        headers=auth(secret, **{"If-Match": '"stale"'}),
    )
    assert response.status_code == 412
    assert secret not in response.get_data(as_text=True)
    assert secret not in caplog.text


# --- writes -------------------------------------------------------------------------------


def test_patch_body_reextracts_links_and_rerenders(
    seeded: Flask, client: FlaskClient, editor: str
) -> None:
    section = section_by_slug(client, "community-meetings")
    url = f"/sections/{section['id']}"
    etag = etag_of(client, url)
    body = "Notes are on [HackMD](https://hackmd.io/zarr) and <https://zarr.dev/calls>."
    response = patch(client, url, editor, {"body": body}, etag)
    assert response.status_code == 200, response.get_json()
    updated = response.get_json()
    assert updated["body"] == body
    assert updated["version"] == section["version"] + 1
    assert [(link["label"], link["url"]) for link in updated["links"]] == [
        ("HackMD", "https://hackmd.io/zarr"),
        ("https://zarr.dev/calls", "https://zarr.dev/calls"),
    ]
    assert 'href="https://hackmd.io/zarr"' in updated["html"]
    assert response.headers["ETag"] != etag
    assert response.headers["ETag"] == etag_of(client, url)
    assert client.get(url).get_json() == updated


def test_if_match_missing_is_428_and_stale_is_412(
    seeded: Flask, client: FlaskClient, editor: str
) -> None:
    section = section_by_slug(client, "community-meetings")
    url = f"/sections/{section['id']}"
    missing = patch(client, url, editor, {"body": "new"}, None)
    assert missing.status_code == 428
    assert missing.mimetype == "application/problem+json"
    stale = patch(client, url, editor, {"body": "new"}, '"not-the-etag"')
    assert stale.status_code == 412
    assert client.get(url).get_json()["body"] == section["body"]


def test_second_writer_with_old_etag_gets_412(
    seeded: Flask, client: FlaskClient, editor: str
) -> None:
    section = section_by_slug(client, "community-meetings")
    url = f"/sections/{section['id']}"
    etag = etag_of(client, url)
    assert patch(client, url, editor, {"body": "first"}, etag).status_code == 200
    assert patch(client, url, editor, {"body": "second"}, etag).status_code == 412
    assert client.get(url).get_json()["body"] == "first"


def test_create_section_at_position_keeps_order_dense(
    seeded: Flask, client: FlaskClient, editor: str
) -> None:
    response = client.post(
        "/pages/community/sections",
        json={"title": "Office hours", "body": "Every Tuesday.", "position": 1},
        headers=auth(editor),
    )
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    assert created["slug"] == "office-hours"
    assert response.headers["Location"].endswith(f"/sections/{created['id']}")
    assert response.headers["ETag"]
    order = [(s["slug"], s["position"]) for s in client.get("/sections").get_json()["data"]]
    assert order == [
        ("intro", 0),
        ("office-hours", 1),
        ("community-meetings", 2),
        ("join-the-community", 3),
    ]


def test_move_section(seeded: Flask, client: FlaskClient, editor: str) -> None:
    section = section_by_slug(client, "join-the-community")
    url = f"/sections/{section['id']}"
    response = patch(client, url, editor, {"position": 1}, etag_of(client, url))
    assert response.status_code == 200
    order = [s["slug"] for s in client.get("/sections").get_json()["data"]]
    assert order == ["intro", "join-the-community", "community-meetings"]


def test_trash_and_restore(seeded: Flask, client: FlaskClient, editor: str) -> None:
    section = section_by_slug(client, "community-meetings")
    url = f"/sections/{section['id']}"
    deleted = client.delete(url, headers=auth(editor, **{"If-Match": etag_of(client, url)}))
    assert deleted.status_code == 204
    assert client.get(url).status_code == 404
    order = [(s["slug"], s["position"]) for s in client.get("/sections").get_json()["data"]]
    assert order == [("intro", 0), ("join-the-community", 1)]
    assert all(
        link["section_id"] != section["id"] for link in client.get("/links").get_json()["data"]
    )
    trashed = client.get(url, headers=auth(editor))
    assert trashed.status_code == 200
    assert trashed.get_json()["deleted_at"] is not None
    restored = client.post(
        f"{url}/restore", headers=auth(editor, **{"If-Match": trashed.headers["ETag"]})
    )
    assert restored.status_code == 200, restored.get_json()
    back = client.get(url).get_json()
    assert back["body"] == section["body"]
    assert back["links"] == section["links"]
    order = [s["slug"] for s in client.get("/sections").get_json()["data"]]
    assert order == ["intro", "community-meetings", "join-the-community"]


def test_revisions_and_restoring_one(seeded: Flask, client: FlaskClient, editor: str) -> None:
    section = section_by_slug(client, "community-meetings")
    url = f"/sections/{section['id']}"
    patch(client, url, editor, {"body": "Version two."}, etag_of(client, url))
    patch(client, url, editor, {"body": "Version three."}, etag_of(client, url))
    history = client.get(f"{url}/revisions", headers=auth(editor)).get_json()["data"]
    assert [(r["number"], r["created_by"], r["action"]) for r in history] == [
        (3, "alice", "update"),
        (2, "alice", "update"),
        (1, "seed", "seed"),
    ]
    assert history[2]["data"]["body"] == section["body"]
    response = client.post(
        f"{url}/revisions/1/restore", headers=auth(editor, **{"If-Match": etag_of(client, url)})
    )
    assert response.status_code == 200
    assert response.get_json()["body"] == section["body"]
    history = client.get(f"{url}/revisions", headers=auth(editor)).get_json()["data"]
    assert [(r["number"], r["action"]) for r in history][0] == (4, "revert")
    assert client.get(f"{url}/revisions").status_code == 401


def test_drafts_are_hidden_from_anonymous_readers(
    seeded: Flask, client: FlaskClient, editor: str
) -> None:
    created = client.post(
        "/pages/community/sections",
        json={"title": "Coming soon", "body": "Secret plans.", "status": "draft"},
        headers=auth(editor),
    ).get_json()
    url = f"/sections/{created['id']}"
    assert client.get(url).status_code == 404
    assert "coming-soon" not in [s["slug"] for s in client.get("/sections").get_json()["data"]]
    preview = client.get(url, headers=auth(editor))
    assert preview.status_code == 200
    assert preview.headers["Cache-Control"] == "private, no-store"
    assert "coming-soon" in [
        s["slug"] for s in client.get("/sections", headers=auth(editor)).get_json()["data"]
    ]


def test_pages_need_an_admin(seeded: Flask, client: FlaskClient, editor: str) -> None:
    response = client.post("/pages", json={"slug": "x", "title": "X"}, headers=auth(editor))
    assert response.status_code == 403
    assert response.mimetype == "application/problem+json"
    assert client.get("/pages/x").status_code == 404


def test_create_and_patch_page(seeded: Flask, client: FlaskClient) -> None:
    editor = make_token(seeded, "root", "admin")
    response = client.post(
        "/pages",
        json={
            "slug": "office-hours",
            "title": "Office Hours",
            "front_matter": {"layout": "single", "permalink": "/office-hours/"},
        },
        headers=auth(editor),
    )
    assert response.status_code == 201, response.get_json()
    assert response.headers["Location"].endswith("/pages/office-hours")
    page = response.get_json()
    assert page["permalink"] == "/office-hours/"
    assert page["front_matter"] == {
        "layout": "single",
        "permalink": "/office-hours/",
        "title": "Office Hours",
    }
    assert [s["slug"] for s in page["sections"]] == ["intro"]
    etag = response.headers["ETag"]
    changed = client.patch(
        "/pages/office-hours",
        json={"title": "Office hours", "status": "draft"},
        headers=auth(editor, **{"If-Match": etag}),
    )
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["front_matter"]["title"] == "Office hours"
    assert client.get("/pages/office-hours").status_code == 404
    assert (
        client.post(
            "/pages", json={"slug": "office-hours", "title": "Again"}, headers=auth(editor)
        ).status_code
        == 409
    )


# --- bad input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "   "}, "title"),
        ({"colour": "red"}, "colour"),
        ({"status": "archived"}, "status"),
        ({"position": 99}, "position"),
        ({"position": -1}, "position"),
        ({"body": "text\n\n## Sneaky heading\n"}, "body"),
        ({"version": 7}, "version"),
        ({"slug": "has space"}, "slug"),
    ],
)
def test_invalid_values_are_422_and_change_nothing(
    seeded: Flask,
    client: FlaskClient,
    editor: str,
    payload: dict,
    field: str,  # type: ignore[type-arg]
) -> None:
    section = section_by_slug(client, "community-meetings")
    url = f"/sections/{section['id']}"
    before = counts(seeded)
    response = patch(client, url, editor, payload, etag_of(client, url))
    assert response.status_code == 422, response.get_json()
    assert response.mimetype == "application/problem+json"
    assert field in response.get_json()["errors"]
    assert client.get(url).get_json() == section
    assert counts(seeded) == before


def test_malformed_json_is_400(seeded: Flask, client: FlaskClient, editor: str) -> None:
    section = section_by_slug(client, "intro")
    url = f"/sections/{section['id']}"
    response = client.patch(
        url,
        data="{not json",
        content_type="application/json",
        headers=auth(editor, **{"If-Match": etag_of(client, url)}),
    )
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"


def test_wrong_media_type_is_415(seeded: Flask, client: FlaskClient, editor: str) -> None:
    response = client.post(
        "/pages/community/sections",
        data="title=x",
        content_type="application/x-www-form-urlencoded",
        headers=auth(editor),
    )
    assert response.status_code == 415
    assert response.mimetype == "application/problem+json"


def test_body_over_the_limit_is_413(seeded: Flask, client: FlaskClient, editor: str) -> None:
    seeded.config["MAX_CONTENT_LENGTH"] = 1000
    response = client.post(
        "/pages/community/sections",
        data=json.dumps({"title": "Big", "body": "x" * 2000}),
        content_type="application/json",
        headers=auth(editor),
    )
    assert response.status_code == 413
    assert response.mimetype == "application/problem+json"


def test_taken_slug_is_409(seeded: Flask, client: FlaskClient, editor: str) -> None:
    before = counts(seeded)
    response = client.post(
        "/pages/community/sections",
        json={"title": "Again", "slug": "community-meetings"},
        headers=auth(editor),
    )
    assert response.status_code == 409
    assert counts(seeded) == before


def test_failure_half_way_leaves_no_trace(
    seeded: Flask, client: FlaskClient, editor: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from api.services import editing

    def explode(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("disk full")

    monkeypatch.setattr(editing, "record_section_revision", explode)
    section = section_by_slug(client, "community-meetings")
    url = f"/sections/{section['id']}"
    before = counts(seeded)
    response = patch(client, url, editor, {"body": "Half written."}, etag_of(client, url))
    assert response.status_code == 500
    assert client.get(url).get_json() == section
    assert counts(seeded) == before
