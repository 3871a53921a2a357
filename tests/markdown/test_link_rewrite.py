"""The link rewriter on every link of the real pages: one link changes, nothing else does."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.markdown.importer import find_links, parse_page, rewrite_link
from api.services.content import definitions_of
from tests.paths import SEED, SITE

PAGES = sorted(p for p in [*SITE.rglob("*.md"), *SEED.glob("*.md")] if p.name != "NOTICE.md")
NEW_URL = "https://rewritten.example/x"


def bodies_with_links(path: Path) -> list[tuple[str, list]]:
    sections = parse_page(path.read_text(encoding="utf-8")).sections
    definitions = definitions_of([s.body for s in sections])
    return [(s.body, find_links(s.body, definitions)) for s in sections]


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.relative_to(p.parents[1]).as_posix())
def test_every_link_of_a_real_page_can_be_changed_alone(path: Path) -> None:
    sections = bodies_with_links(path)
    definitions = definitions_of([body for body, _ in sections])
    checked = 0
    for body, links in sections:
        for index, link in enumerate(links):
            if link.kind == "reference":
                continue  # their URL lives in the definition (tests/routes/test_link_editing.py)
            changed = rewrite_link(body, link, url=NEW_URL, label=None)
            assert link.url_span is not None
            start, end = link.url_span
            assert changed == body[:start] + NEW_URL + body[end:] or (
                # an inline URL that needs it is written in <angle brackets>
                changed == body[:start] + f"<{NEW_URL}>" + body[end:]
            )
            again = find_links(changed, definitions)
            assert [x.url for x in again] == [
                NEW_URL if i == index else x.url for i, x in enumerate(links)
            ], (path.name, link.url)
            # an autolink's text is its URL; every other label stays
            assert [x.label for x in again] == [
                NEW_URL if i == index and x.kind == "autolink" else x.label
                for i, x in enumerate(links)
            ]
            checked += 1
    if path.name == "community.md":
        assert checked >= 5


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.relative_to(p.parents[1]).as_posix())
def test_every_label_of_a_real_page_can_be_changed_alone(path: Path) -> None:
    sections = bodies_with_links(path)
    definitions = definitions_of([body for body, _ in sections])
    for body, links in sections:
        for index, link in enumerate(links):
            if link.label_span is None:
                continue
            changed = rewrite_link(body, link, url=None, label="New label")
            again = find_links(changed, definitions)
            assert [x.label for x in again] == [
                "New label" if i == index else x.label for i, x in enumerate(links)
            ], (path.name, link.label)
            assert [x.url for x in again] == [x.url for x in links]
