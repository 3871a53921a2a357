"""Differential tests: seeding finds the sections, slugs and links that the real kramdown does.

``fixtures/*.json`` hold what Ruby kramdown (GFM input, as Jekyll runs it for zarr.dev) makes of
every corpus page, the seed page and a set of tricky documents; ``kramdown_reference`` makes
them. Where Ruby kramdown is installed (CI installs it) the fixtures are checked against a fresh
rendering too, so they cannot go stale.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from tests.environment import unavailable
from tests.markdown.kramdown_reference import (
    FIXTURES,
    TRICKY_CASES,
    all_bodies,
    body_of,
    corpus_documents,
    have_kramdown,
    reference,
)

CORPUS_FIXTURES = json.loads((FIXTURES / "corpus.json").read_text(encoding="utf-8"))
CASE_FIXTURES = json.loads((FIXTURES / "cases.json").read_text(encoding="utf-8"))
DOCUMENTS = corpus_documents()
# Tricky cases are bodies; as pages they need front matter (which kramdown never sees).
PAGES = {
    **{name: text for name, text in DOCUMENTS.items() if text.startswith("---")},
    **{name: f"---\ntitle: {name}\n---\n{body}" for name, body in TRICKY_CASES.items()},
}
EXPECTED = {**CORPUS_FIXTURES, **CASE_FIXTURES}
# kramdown turns ' and " into curly quotes in link text and keeps the source's line breaks;
# labels keep the source's characters with whitespace collapsed (they are written back).
TYPOGRAPHY = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"'})


def test_fixtures_describe_the_current_documents() -> None:
    corpus, cases = all_bodies()
    for bodies, fixtures in ((corpus, CORPUS_FIXTURES), (cases, CASE_FIXTURES)):
        assert sorted(bodies) == sorted(fixtures), "run python -m tests.markdown.kramdown_reference"
        for name, body in bodies.items():
            digest = hashlib.sha256(body.encode("utf-8")).hexdigest()
            assert fixtures[name]["sha256"] == digest, f"{name} changed: regenerate the fixtures"


def test_fixtures_are_what_kramdown_renders() -> None:
    if not have_kramdown():
        unavailable("ruby with kramdown and kramdown-parser-gfm is not installed")
    corpus, cases = all_bodies()
    assert reference(corpus) == CORPUS_FIXTURES
    assert reference(cases) == CASE_FIXTURES


def kramdown_sections(name: str) -> list[tuple[str | None, list[tuple[str, str]]]]:
    """(heading id, links) per section as kramdown sees the page.

    A setext level-2 heading is not a section of ours (only ``## `` lines are), so its part
    joins the section before it.
    """
    sections: list[tuple[str | None, list[tuple[str, str]]]] = []
    for part in EXPECTED[name]["sections"]:
        links = [(href, normalized(text)) for href, text in part["links"]]
        if part["atx"] or not sections:
            # kramdown numbers headings without text "-1", "-2": they have no id of their own.
            sections.append((part["id"] if part["base"] != "" else "", links))
        else:
            sections[-1][1].extend(links)
    return sections


def normalized(label: str) -> str:
    return " ".join(label.translate(TYPOGRAPHY).split())


def seeded_sections(
    client: FlaskClient, runner: FlaskCliRunner, folder: Path, name: str
) -> list[dict[str, Any]]:
    """Seed one page from its text and read its sections back through the API."""
    path = folder / (name if name.endswith(".md") else f"{name}.md")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(PAGES[name].encode("utf-8"))
    result = runner.invoke(args=["seed", str(path)])
    assert result.exit_code == 0, result.output
    (page,) = client.get("/pages").get_json()["data"]
    answer = client.get(f"/sections?page={page['slug']}&limit=200").get_json()
    assert answer["next"] is None
    return answer["data"]


@pytest.mark.parametrize("name", sorted(PAGES))
def test_sections_slugs_and_links_match_kramdown(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner, tmp_path: Path, name: str
) -> None:
    ours = seeded_sections(client, runner, tmp_path, name)
    theirs = kramdown_sections(name)
    assert len(ours) == len(theirs), ([s["slug"] for s in ours], [t[0] for t in theirs])
    seen: set[str] = set()
    for section, (kramdown_id, links) in zip(ours, theirs, strict=True):
        slug = section["slug"]
        if kramdown_id is None:
            assert slug == "intro"
        elif kramdown_id and kramdown_id not in seen | {"intro"}:
            assert slug == kramdown_id
        else:
            # kramdown repeats an id ("Blog", "Blog", "Blog 1") or gives none ("## !!!"); our
            # slugs stay unique: the id with the next free "-N", or "section-N" without an id.
            assert re.fullmatch(rf"{re.escape(kramdown_id or 'section')}-\d+", slug), slug
        assert slug not in seen
        seen.add(slug)
        found = [(link["url"], normalized(link["label"])) for link in section["links"]]
        assert found == links, slug


def test_bodies_the_fixtures_cover_are_the_seeded_bodies() -> None:
    """The tricky cases reach kramdown exactly as the seeded pages' bodies (no front matter)."""
    for name, body in TRICKY_CASES.items():
        assert body_of(PAGES[name]) == body
