"""PATCH /links/<id>: exactly that link changes in the Markdown, every other byte stays."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from tests.factories import auth, etag_of, make_token

INTRO = 'Welcome. See the [spec](https://zarr.dev/spec "The spec") and [Specs][specs].\n'
LINKS = """\
- Inline: read [the *docs*](https://zarr.readthedocs.io) today.
- Reference: chat on [Gitter][chat], or [again][chat].
- Autolink: <https://github.com/zarr-developers> and <hello@zarr.dev>.
- Raw: <a class="btn" href="https://zarr.dev/blog/">the <b>blog</b></a> here.
- Code `[not](https://code.example)` stays.

[chat]: https://gitter.im/zarr-developers/community
"""
DEFINITIONS = "More text.\n\n[specs]: https://zarr-specs.readthedocs.io\n"
PAGE = f"""\
---
title: Links
---
{INTRO}
## Links

{LINKS}
## Definitions

{DEFINITIONS}"""


@pytest.fixture
def editor(app: Flask, runner: FlaskCliRunner, tmp_path: Path) -> str:
    (tmp_path / "links.md").write_text(PAGE)
    result = runner.invoke(args=["seed", str(tmp_path / "links.md")])
    assert result.exit_code == 0, result.output
    return make_token(app)


def section(client: FlaskClient, slug: str) -> Any:
    for item in client.get("/sections?page=links").get_json()["data"]:
        if item["slug"] == slug:
            return item
    raise AssertionError(slug)


def link_labelled(client: FlaskClient, slug: str, label: str) -> Any:
    return next(link for link in section(client, slug)["links"] if link["label"] == label)


def patch_link(client: FlaskClient, editor: str, link: Any, **changes: str) -> Any:
    url = f"/links/{link['id']}"
    response = client.patch(
        url, json=changes, headers=auth(editor, **{"If-Match": etag_of(client, url)})
    )
    assert response.status_code == 200, response.get_json()
    return response


@pytest.mark.parametrize(
    ("label", "changes", "before", "after"),
    [
        (
            "the docs",
            {"url": "https://zarr.readthedocs.io/en/stable/"},
            "[the *docs*](https://zarr.readthedocs.io)",
            "[the *docs*](https://zarr.readthedocs.io/en/stable/)",
        ),
        (
            "the docs",
            {"label": "the manual"},
            "[the *docs*](https://zarr.readthedocs.io)",
            "[the manual](https://zarr.readthedocs.io)",
        ),
        (
            "https://github.com/zarr-developers",
            {"url": "https://github.com/zarr-developers/zarr-python"},
            "<https://github.com/zarr-developers>",
            "<https://github.com/zarr-developers/zarr-python>",
        ),
        (
            "https://github.com/zarr-developers",
            {"label": "our GitHub"},
            "<https://github.com/zarr-developers>",
            "[our GitHub](https://github.com/zarr-developers)",
        ),
        (
            "hello@zarr.dev",
            {"url": "mailto:team@zarr.dev"},
            "<hello@zarr.dev>",
            "<team@zarr.dev>",
        ),
        (
            "the blog",
            {"url": "https://zarr.dev/news/", "label": "the news"},
            '<a class="btn" href="https://zarr.dev/blog/">the <b>blog</b></a>',
            '<a class="btn" href="https://zarr.dev/news/">the news</a>',
        ),
        (
            "Gitter",
            {"label": "Matrix"},
            "[Gitter][chat]",
            "[Matrix][chat]",
        ),
    ],
    ids=[
        "inline-url",
        "inline-label",
        "autolink-url",
        "autolink-label",
        "email-autolink",
        "html-url-and-label",
        "reference-label",
    ],
)
def test_only_that_link_changes(
    client: FlaskClient,
    editor: str,
    label: str,
    changes: dict[str, str],
    before: str,
    after: str,
) -> None:
    link = link_labelled(client, "links", label)
    answer = patch_link(client, editor, link, **changes).get_json()
    assert answer["id"] == link["id"]
    for key, value in changes.items():
        assert answer[key] == value
    body = section(client, "links")["body"]
    assert LINKS.count(before) == 1
    assert body == LINKS.replace(before, after).rstrip("\n")
    assert section(client, "intro")["body"] == INTRO.rstrip("\n")
    rendered = client.get(f"/sections/{link['section_id']}.html").get_data(as_text=True)
    assert f'href="{answer["url"]}"' in rendered


def test_a_reference_url_is_changed_in_its_definition(client: FlaskClient, editor: str) -> None:
    gitter = link_labelled(client, "links", "Gitter")
    patch_link(client, editor, gitter, url="https://matrix.to/#/#zarr:matrix.org")
    body = section(client, "links")["body"]
    assert body == LINKS.replace(
        "[chat]: https://gitter.im/zarr-developers/community",
        "[chat]: https://matrix.to/#/#zarr:matrix.org",
    ).rstrip("\n")
    # Both links use the definition, so both now point there (as on the rendered site).
    urls = [
        link["url"] for link in section(client, "links")["links"] if link["kind"] == "reference"
    ]
    assert urls == ["https://matrix.to/#/#zarr:matrix.org"] * 2


def test_a_definition_in_another_section_is_rewritten_there(
    client: FlaskClient, editor: str
) -> None:
    specs = link_labelled(client, "intro", "Specs")
    before = section(client, "definitions")
    patch_link(client, editor, specs, url="https://zarr-specs.readthedocs.io/en/latest/")
    intro, definitions = section(client, "intro"), section(client, "definitions")
    assert intro["body"] == INTRO.rstrip("\n")
    assert definitions["body"] == DEFINITIONS.replace(
        "readthedocs.io\n", "readthedocs.io/en/latest/\n"
    ).rstrip("\n")
    assert definitions["version"] == before["version"] + 1
    assert intro["links"][1]["url"] == "https://zarr-specs.readthedocs.io/en/latest/"
    revisions = client.get(
        f"/sections/{definitions['id']}/revisions", headers=auth(editor)
    ).get_json()["data"]
    assert revisions[0]["created_by"] == "alice"


def test_a_link_change_is_a_revision_and_can_be_undone(client: FlaskClient, editor: str) -> None:
    link = link_labelled(client, "links", "the docs")
    before = section(client, "links")
    patch_link(client, editor, link, url="https://example.org/")
    after = section(client, "links")
    assert after["version"] == before["version"] + 1
    history = client.get(f"/sections/{after['id']}/revisions", headers=auth(editor)).get_json()
    earlier = next(r for r in history["data"] if r["data"]["body"] == before["body"])
    url = f"/sections/{after['id']}"
    response = client.post(
        f"{url}/revisions/{earlier['number']}/restore",
        headers=auth(editor, **{"If-Match": etag_of(client, url)}),
    )
    assert response.status_code == 200
    assert section(client, "links")["body"] == before["body"]


def test_links_in_code_are_not_links(client: FlaskClient, editor: str) -> None:
    urls = [link["url"] for link in section(client, "links")["links"]]
    assert "https://code.example" not in urls
    assert len(urls) == 6


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"url": ""}, "url"),
        ({"url": "https://a.example/\nb"}, "url"),
        ({"label": "  "}, "label"),
        ({"label": "two\nlines"}, "label"),
        ({"context": "x"}, "context"),
        ({"kind": "inline"}, "kind"),
    ],
)
def test_bad_changes_are_422_and_change_nothing(
    client: FlaskClient, editor: str, changes: dict[str, str], field: str
) -> None:
    link = link_labelled(client, "links", "the docs")
    before = section(client, "links")
    url = f"/links/{link['id']}"
    response = client.patch(
        url, json=changes, headers=auth(editor, **{"If-Match": etag_of(client, url)})
    )
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    assert field in response.get_json()["errors"]
    assert section(client, "links") == before


def test_link_writes_need_a_token_and_the_current_etag(client: FlaskClient, editor: str) -> None:
    link = link_labelled(client, "links", "the docs")
    url = f"/links/{link['id']}"
    etag = etag_of(client, url)
    change = {"url": "https://example.org/"}
    assert client.patch(url, json=change, headers={"If-Match": etag}).status_code == 401
    assert client.patch(url, json=change, headers=auth(editor)).status_code == 428
    other = link_labelled(client, "links", "Gitter")
    patch_link(client, editor, other, label="Chat")  # the section changed under this link
    stale = client.patch(url, json=change, headers=auth(editor, **{"If-Match": etag}))
    assert stale.status_code == 412
    assert "https://example.org/" not in section(client, "links")["body"]
