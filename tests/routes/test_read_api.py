"""The read side of the contract, as a frontend developer meets it."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

SECTION_KEYS = {
    "id",
    "page",
    "slug",
    "title",
    "position",
    "body",
    "html",
    "links",
    "status",
    "version",
    "created_at",
    "updated_at",
    "deleted_at",
}
LINK_KEYS = {
    "id",
    "section_id",
    "page",
    "kind",
    "label",
    "url",
    "context",
    "position",
    "check_status",
    "check_error",
    "redirect_to",
    "checked_at",
}
PAGE_KEYS = {
    "slug",
    "title",
    "permalink",
    "front_matter",
    "status",
    "version",
    "created_at",
    "updated_at",
}


def test_sections_lists_the_community_page_in_order(seeded: Flask, client: FlaskClient) -> None:
    response = client.get("/sections")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["next"] is None
    sections = body["data"]
    assert [s["slug"] for s in sections] == ["intro", "community-meetings", "join-the-community"]
    assert [s["position"] for s in sections] == [0, 1, 2]
    assert [s["title"] for s in sections] == [None, "Community meetings", "Join the community"]
    assert all(set(s) == SECTION_KEYS for s in sections)
    intro, meetings, join = sections
    assert [link["url"] for link in intro["links"]] == [
        "https://github.com/orgs/zarr-developers/teams",
        "https://github.com/zarr-developers/.github/blob/main/CODE_OF_CONDUCT.md",
        "https://zarr.dev/community-calls",
        "https://zarr.dev/zeps/meetings/",
        "https://zarr.dev/community-calls/",
    ]
    assert [link["label"] for link in meetings["links"]] == ["https://zarr.dev/community-calls"]
    assert [link["url"] for link in join["links"]] == [
        "https://github.com/zarr-developers/zarr_implementations",
        "https://gitter.im/zarr-developers/community",
        "https://github.com/zarr-developers/zarr-python",
        "https://github.com/zarr-developers/zarr-python/discussions",
        "https://github.com/zarr-developers/zarr-specs/",
        "https://github.com/zarr-developers/zarr-specs/issues",
        "https://twitter.com/zarr_dev",
        "https://github.com/zarr-developers",
        "https://www.youtube.com/@zarr_dev/playlists",
    ]
    gitter = join["links"][1]
    assert set(gitter) == LINK_KEYS
    assert gitter["label"] == "here"
    assert gitter["context"] == (
        "Interact with the maintainers, contributors and users of the project; "
        "join the Gitter → here"
    )
    assert [link["position"] for link in join["links"]] == list(range(9))
    assert join["body"].startswith("Most discussions and chats related to Zarr")
    assert not join["body"].startswith("## ")


def test_section_by_id_matches_the_list(seeded: Flask, client: FlaskClient) -> None:
    listed = client.get("/sections").get_json()["data"][1]
    response = client.get(f"/sections/{listed['id']}")
    assert response.status_code == 200
    assert response.get_json() == listed
    assert response.headers["ETag"]
    assert "public" in response.headers["Cache-Control"]


def test_page_with_sections(seeded: Flask, client: FlaskClient) -> None:
    response = client.get("/pages/community")
    assert response.status_code == 200
    page = response.get_json()
    assert set(page) == PAGE_KEYS | {"sections"}
    assert page["title"] == "Zarr Community"
    assert page["permalink"] == "/community/"
    assert list(page["front_matter"]) == [
        "layout",
        "author_profile",
        "title",
        "permalink",
        "sidebar",
    ]
    assert page["front_matter"]["sidebar"] == {"title": "Content", "nav": "sidebar"}
    assert page["status"] == "published"
    assert page["version"] == 1
    assert page["created_at"].endswith(("Z", "+00:00"))
    assert [s["slug"] for s in page["sections"]] == [
        "intro",
        "community-meetings",
        "join-the-community",
    ]


def test_pages_list_has_no_sections(seeded: Flask, client: FlaskClient) -> None:
    body = client.get("/pages").get_json()
    assert [set(p) for p in body["data"]] == [PAGE_KEYS]
    assert body["data"][0]["slug"] == "community"
    assert body["next"] is None


def test_unknown_page_and_section_are_problem_404(seeded: Flask, client: FlaskClient) -> None:
    for url in ("/pages/nope", "/sections/999999", "/sections/999999.html", "/pages/nope.html"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert response.mimetype == "application/problem+json"
        problem = response.get_json()
        assert problem["status"] == 404
        assert problem["title"] and problem["detail"]


def test_links_filtered_by_host_and_page(seeded: Flask, client: FlaskClient) -> None:
    gitter = client.get("/links?host=gitter.im").get_json()["data"]
    assert [link["url"] for link in gitter] == ["https://gitter.im/zarr-developers/community"]
    assert gitter[0]["page"] == "community"
    everything = client.get("/links?page=community").get_json()["data"]
    assert len(everything) == 15
    assert client.get("/links?page=other").get_json()["data"] == []


def test_pagination_walks_every_section_once(seeded: Flask, client: FlaskClient) -> None:
    seen = []
    url: str | None = "/sections?limit=1"
    while url:
        body = client.get(url).get_json()
        seen.extend(section["slug"] for section in body["data"])
        url = body["next"]
        assert len(seen) <= 3
    assert seen == ["intro", "community-meetings", "join-the-community"]


def test_filters_page_and_q(seeded: Flask, client: FlaskClient) -> None:
    assert [s["slug"] for s in client.get("/sections?q=gitter").get_json()["data"]] == [
        "join-the-community"
    ]
    assert client.get("/sections?page=nope").get_json()["data"] == []
    assert len(client.get("/sections?page=community").get_json()["data"]) == 3


def test_healthz(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
