"""Page history: every change of a page's title, front matter or status can be seen and undone."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from tests.factories import auth, etag_of, make_token
from tests.paths import SEED

PAGE = "/pages/community"


def patch_page(client: FlaskClient, admin: str, changes: dict) -> None:
    headers = auth(admin, **{"If-Match": etag_of(client, PAGE, admin)})
    response = client.patch(PAGE, json=changes, headers=headers)
    assert response.status_code == 200, response.get_json()


def test_page_history_newest_first_and_restoring_brings_back_the_exact_file(
    seeded: Flask, client: FlaskClient
) -> None:
    admin = make_token(seeded, "root", "admin")
    original = client.get(PAGE).get_json()
    patch_page(client, admin, {"title": "Zarr people"})
    front_matter = dict(client.get(PAGE).get_json()["front_matter"], layout="splash")
    patch_page(client, admin, {"front_matter": front_matter})
    assert client.get(f"{PAGE}.md").data != (SEED / "community.md").read_bytes()

    history = client.get(f"{PAGE}/revisions", headers=auth(admin))
    assert history.status_code == 200
    assert history.headers["Cache-Control"] == "private, no-store"
    revisions = history.get_json()["data"]
    assert [r["number"] for r in revisions] == [3, 2, 1]
    assert [r["created_by"] for r in revisions] == ["root", "root", "seed"]
    assert revisions[1]["data"]["title"] == "Zarr people"
    assert revisions[0]["data"]["front_matter"]["layout"] == "splash"

    headers = auth(admin, **{"If-Match": etag_of(client, PAGE)})
    restored = client.post(f"{PAGE}/revisions/1/restore", headers=headers)
    assert restored.status_code == 200, restored.get_json()
    page = restored.get_json()
    assert (page["title"], page["front_matter"]) == (original["title"], original["front_matter"])
    assert page["version"] == original["version"] + 3
    assert restored.headers["ETag"] == etag_of(client, PAGE)
    # The front matter text comes back byte for byte, so the exported file is the seeded one.
    assert client.get(f"{PAGE}.md").data == (SEED / "community.md").read_bytes()
    newest = client.get(f"{PAGE}/revisions", headers=auth(admin)).get_json()["data"][0]
    assert (newest["number"], newest["action"]) == (4, "revert")


def test_restoring_a_draft_state_hides_the_page_again(seeded: Flask, client: FlaskClient) -> None:
    admin = make_token(seeded, "root", "admin")
    patch_page(client, admin, {"status": "draft"})
    patch_page(client, admin, {"status": "published"})
    assert client.get(PAGE).status_code == 200
    headers = auth(admin, **{"If-Match": etag_of(client, PAGE, admin)})
    assert client.post(f"{PAGE}/revisions/2/restore", headers=headers).status_code == 200
    assert client.get(PAGE).status_code == 404
    assert client.get(PAGE, headers=auth(admin)).get_json()["status"] == "draft"


def test_page_history_needs_the_right_token_and_etag(seeded: Flask, client: FlaskClient) -> None:
    admin = make_token(seeded, "root", "admin")
    editor = make_token(seeded, "alice", "editor")
    assert client.get(f"{PAGE}/revisions").status_code == 401
    assert client.get(f"{PAGE}/revisions", headers=auth(editor)).status_code == 200
    etag = etag_of(client, PAGE)
    restore = f"{PAGE}/revisions/1/restore"
    assert client.post(restore, headers=auth(editor, **{"If-Match": etag})).status_code == 403
    assert client.post(restore, headers=auth(admin)).status_code == 428
    missing = client.post(f"{PAGE}/revisions/99/restore", headers=auth(admin, **{"If-Match": etag}))
    assert missing.status_code == 404
    assert missing.content_type == "application/problem+json"
    patch_page(client, admin, {"title": "Changed"})
    stale = client.post(restore, headers=auth(admin, **{"If-Match": etag}))
    assert stale.status_code == 412
    assert client.get(PAGE).get_json()["title"] == "Changed"
    assert client.get("/pages/nope/revisions", headers=auth(admin)).status_code == 404
