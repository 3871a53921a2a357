"""HTML answers: the contract's fragment shapes, as zarr.dev shows the pages."""

from __future__ import annotations

from pathlib import Path

import html5lib
import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from tests.factories import section_by_slug
from tests.paths import SITE as CORPUS

GOLDEN = Path(__file__).resolve().parents[1] / "markdown" / "golden"


def test_community_page_html_matches_the_golden_rendering(
    seeded: Flask, client: FlaskClient
) -> None:
    response = client.get("/pages/community.html")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert response.get_data(as_text=True) == (GOLDEN / "community.html").read_text().rstrip("\n")
    browser = client.get("/pages/community", headers={"Accept": "text/html,*/*;q=0.8"})
    assert browser.data == response.data


def test_section_fragment_shape(seeded: Flask, client: FlaskClient) -> None:
    section = section_by_slug(client, "join-the-community")
    response = client.get(f"/sections/{section['id']}.html")
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    fragment = html5lib.parseFragment(response.get_data(as_text=True), namespaceHTMLElements=False)
    (root,) = list(fragment)
    assert root.tag == "section" and root.get("data-section") == "join-the-community"
    heading = root[0]
    assert (heading.tag, heading.get("id"), heading.text) == (
        "h2",
        "join-the-community",
        "Join the community",
    )
    hrefs = [a.get("href") for a in root.iter("a")]
    assert hrefs == [link["url"] for link in section["links"]]
    intro = section_by_slug(client, "intro")
    intro_html = client.get(f"/sections/{intro['id']}.html").get_data(as_text=True)
    assert intro_html.startswith('<section data-section="intro"><p>')
    assert "<h2" not in intro_html


@pytest.mark.parametrize("page", ["office-hours", "implementations", "adopters"])
def test_corpus_pages_render_without_liquid_noise(
    app: Flask, runner: FlaskCliRunner, client: FlaskClient, page: str
) -> None:
    assert runner.invoke(args=["seed", str(CORPUS)]).exit_code == 0
    text = client.get(f"/pages/{page}.html").get_data(as_text=True)
    assert "{{" not in text and "{%" not in text
    tree = html5lib.parseFragment(text, namespaceHTMLElements=False)
    assert not [e for e in tree.iter() if e.tag in {"script", "object", "embed", "form"}]
    assert not [name for e in tree.iter() for name in e.attrib if name.startswith("on")]
    sections = client.get(f"/sections?page={page}&limit=200").get_json()["data"]
    ids = [e.get("id") for e in tree.iter("h2")]
    assert ids == [s["slug"] for s in sections if s["title"] is not None]


def test_reads_never_render_markdown(
    seeded: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """HTML is rendered when content changes and stored; a read only serves what is stored."""
    import markdown

    section = section_by_slug(client, "join-the-community")
    stored = client.get(f"/sections/{section['id']}.html").data

    def no_rendering(*args: object, **kwargs: object) -> str:
        raise AssertionError("a read rendered Markdown")

    # Every rendering goes through a Markdown instance; patch the class, not a name.
    monkeypatch.setattr(markdown.Markdown, "convert", no_rendering)
    for url in (
        "/sections",
        f"/sections/{section['id']}",
        f"/sections/{section['id']}.html",
        "/pages/community",
        "/pages/community.html",
        "/pages/community.md",
    ):
        assert client.get(url).status_code == 200, url
    assert client.get(f"/sections/{section['id']}.html").data == stored
