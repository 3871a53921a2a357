"""Seed, edit through the API, export: the Jekyll files change exactly where edited."""

from __future__ import annotations

import difflib
import shutil
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from tests.factories import auth, etag_of, make_token, section_by_slug
from tests.paths import PROJECT
from tests.paths import SITE as CORPUS


def markdown_files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*.md"))
        if p.read_bytes().startswith(b"---")
    }


def invoke(runner: FlaskCliRunner, *args: str) -> str:
    result = runner.invoke(args=list(args))
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("source", [CORPUS, PROJECT / "seed"], ids=["corpus", "seed"])
def test_seed_then_export_is_byte_identical(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path, source: Path
) -> None:
    invoke(runner, "seed", str(source))
    out = tmp_path / "out"
    output = invoke(runner, "export", str(out))
    expected = markdown_files(source)
    assert markdown_files(out) == expected
    assert f"{len(expected)} written, 0 unchanged" in output
    again = invoke(runner, "export", str(out))
    assert f"0 written, {len(expected)} unchanged" in again


def test_markdown_endpoint_answers_the_source_bytes(seeded: Flask, client: FlaskClient) -> None:
    response = client.get("/pages/community.md")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/markdown; charset=utf-8"
    assert response.data == (PROJECT / "seed" / "community.md").read_bytes()
    assert response.headers["ETag"]


def test_edits_show_up_in_git_diff_and_nothing_else(
    app: Flask, runner: FlaskCliRunner, client: FlaskClient, tmp_path: Path
) -> None:
    site = tmp_path / "site"
    shutil.copytree(PROJECT / "seed", site)
    original = (site / "community.md").read_text()
    invoke(runner, "seed", str(site))
    editor = make_token(app)

    meetings = section_by_slug(client, "community-meetings")
    url = f"/sections/{meetings['id']}"
    new_body = meetings["body"] + "\n\nMeetings are recorded."
    response = client.patch(
        url, json={"body": new_body}, headers=auth(editor, **{"If-Match": etag_of(client, url)})
    )
    assert response.status_code == 200

    join = section_by_slug(client, "join-the-community")
    gitter = next(link for link in join["links"] if link["url"].startswith("https://gitter.im"))
    link_url = f"/links/{gitter['id']}"
    response = client.patch(
        link_url,
        json={"url": "https://matrix.to/#/#zarr:matrix.org"},
        headers=auth(editor, **{"If-Match": etag_of(client, link_url)}),
    )
    assert response.status_code == 200, response.get_json()

    invoke(runner, "export", str(site))
    exported = (site / "community.md").read_text()
    diff = [
        line
        for line in difflib.unified_diff(
            original.splitlines(), exported.splitlines(), n=0, lineterm=""
        )
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
    assert diff == [
        "+Meetings are recorded.",
        "+",
        "-- Interact with the maintainers, contributors and users of the project; join the "
        "Gitter → [here](https://gitter.im/zarr-developers/community)",
        "+- Interact with the maintainers, contributors and users of the project; join the "
        "Gitter → [here](https://matrix.to/#/#zarr:matrix.org)",
    ]
    second = invoke(runner, "seed", str(site))
    assert "0 created, 0 updated, 1 unchanged" in second


def test_new_moved_and_trashed_sections_export_where_the_database_says(
    app: Flask, runner: FlaskCliRunner, client: FlaskClient, tmp_path: Path
) -> None:
    invoke(runner, "seed")
    editor = make_token(app)
    created = client.post(
        "/pages/community/sections",
        json={"title": "Office hours", "body": "Tuesdays.", "position": 1},
        headers=auth(editor),
    )
    assert created.status_code == 201
    join = section_by_slug(client, "join-the-community")
    url = f"/sections/{join['id']}"
    assert (
        client.delete(url, headers=auth(editor, **{"If-Match": etag_of(client, url)})).status_code
        == 204
    )
    text = client.get("/pages/community.md").get_data(as_text=True)
    assert "## Join the community" not in text
    assert text.index("## Office hours\n\nTuesdays.\n\n") < text.index("## Community meetings")
    assert text.endswith("community-calls)\n\n")
    out = tmp_path / "out"
    invoke(runner, "export", str(out))
    assert (out / "community.md").read_text() == text


def test_front_matter_edit_keeps_order_quoting_and_comments(
    app: Flask, runner: FlaskCliRunner, client: FlaskClient, tmp_path: Path
) -> None:
    site = tmp_path / "site"
    site.mkdir()
    source = (
        "---\nlayout: single  # theme layout\ntitle: 'Office Hours'\n"
        'permalink: "/office_hours/"\n---\n\nCome and chat.\n'
    )
    (site / "office_hours.md").write_text(source)
    invoke(runner, "seed", str(site))
    admin = make_token(app, "root", "admin")
    etag = etag_of(client, "/pages/office-hours")
    response = client.patch(
        "/pages/office-hours",
        json={"title": "Office hours", "status": "draft"},
        headers=auth(admin, **{"If-Match": etag}),
    )
    assert response.status_code == 200, response.get_json()
    assert list(response.get_json()["front_matter"]) == [
        "layout",
        "title",
        "permalink",
        "published",
    ]
    text = client.get("/pages/office-hours.md", headers=auth(admin)).get_data(as_text=True)
    assert text == (
        "---\nlayout: single  # theme layout\ntitle: 'Office hours'\n"
        'permalink: "/office_hours/"\npublished: false\n---\n\nCome and chat.\n'
    )
