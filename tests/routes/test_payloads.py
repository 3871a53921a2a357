"""Every XSS payload and naughty string, imported through ``seed``, is served safely and intact.

The payloads (every line of ``tests/corpus/xss/**/*.txt`` read as their NOTICE says, and every
string of ``blns.txt``) are seeded as Jekyll files by ``tests.payload_corpus``: each payload
alone as a section body, and inside ordinary Markdown (a list item, a link text, a table cell;
payload N in the wrapper N mod 3, or in all three with ``PAYLOAD_WRAPPERS=all``). Then:

* the JSON ``body`` of its section is the payload, except for whitespace ending the body,
  which the importer keeps as layout (``GET /pages/<slug>.md`` gives it back byte for byte);
* a payload that swallows the sections after it (an HTML block or comment left open runs to the
  end of the file, on zarr.dev too) holds them in its body, and alone in a file it comes back
  exactly; every page's Markdown export is its source, byte for byte;
* ``GET /pages/<slug>.html`` of every batch page and the ``html`` field of every section hold
  nothing executable, judged on the tree an HTML5 parser builds (``tests.html_safety.problems``);
  so does ``GET /sections/<id>.html`` for every section of a sample of pages, where it and
  ``GET /sections/<id>`` are also checked to be what the page and the list serve.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.html_safety import elements, parse, problems
from tests.payload_corpus import (
    CorpusPage,
    PayloadCorpus,
    corpus_payloads,
    imported_body,
    shared_payload_corpus,
)

# Every page of these kinds has each section's .html and JSON item fetched one by one; the
# others are checked through the page's .html and the list's html fields only.
SAMPLE_EVERY = {"alone": 30, "isolated": 25, "wrapped": 10}


@pytest.fixture(scope="session")
def payload_corpus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PayloadCorpus]:
    with shared_payload_corpus(tmp_path_factory) as corpus:
        yield corpus


def homes(corpus: PayloadCorpus) -> dict[int, tuple[str, str | None]]:
    """Where each payload should come back whole: its file of its own, else its batch."""
    home: dict[int, tuple[str, str | None]] = {}
    for page in corpus.of_kind("alone"):
        for title, number in page.numbers.items():
            home[number] = (page.slug, title)
    for page in corpus.of_kind("isolated"):
        home[page.numbers[None]] = (page.slug, None)
    return home


def bodies_of(corpus: PayloadCorpus) -> dict[tuple[str, str | None], str]:
    return {(s["page"], s["title"]): s["body"] for s in corpus.sections()}


def test_every_payload_comes_back_as_its_section_body(payload_corpus: PayloadCorpus) -> None:
    payloads = corpus_payloads()
    assert payload_corpus.payloads == payloads and len(payloads) > 8_500
    bodies = bodies_of(payload_corpus)
    home = homes(payload_corpus)
    assert sorted(home) == list(range(len(payloads))), "a payload was never imported"
    wrong = [
        f"{n} {payloads[n]!r}: {bodies.get(home[n])!r}"
        for n in range(len(payloads))
        if bodies.get(home[n]) != imported_body(payloads[n])
    ]
    assert not wrong, f"{len(wrong)} payloads changed on import, e.g.\n" + "\n".join(wrong[:10])


def test_payloads_inside_ordinary_markdown_come_back_unchanged(
    payload_corpus: PayloadCorpus,
) -> None:
    bodies = bodies_of(payload_corpus)
    pages = payload_corpus.of_kind("wrapped")
    wrong = [
        f"{page.slug} {title!r}"
        for page in pages
        for title, body in page.expected.items()
        if bodies.get((page.slug, title)) != body
    ]
    assert not wrong, wrong[:10]


def test_a_payload_that_swallows_what_follows_holds_it_in_its_body(
    payload_corpus: PayloadCorpus,
) -> None:
    """In its batch, a payload is missing only because an earlier section swallowed its
    heading, or it swallowed what follows it itself; either way its heading is in a body."""
    by_page = payload_corpus.sections_by_page()
    isolated = {page.numbers[None] for page in payload_corpus.of_kind("isolated")}
    unexplained, swallowers = [], 0
    for page in payload_corpus.of_kind("alone"):
        sections = {s["title"]: s["body"] for s in by_page[page.slug]}
        titles = list(page.expected)
        for index, title in enumerate(titles):
            number = page.numbers[title]
            if sections.get(title) == page.expected[title]:
                assert number not in isolated, f"{number} came back but was isolated"
                continue
            assert number in isolated, f"{number} did not come back and was not isolated"
            if title in sections:
                following = f"\n\n## {titles[index + 1]}" if index + 1 < len(titles) else None
                payload = payload_corpus.payloads[number]
                if following and sections[title].startswith(payload + following):
                    swallowers += 1
                    continue
            elif any(f"\n## {title}\n" in f"\n{body}\n" for body in sections.values()):
                continue
            unexplained.append(f"{page.slug}: {title}: {sections.get(title)!r}"[:300])
    assert not unexplained, "\n".join(unexplained[:10])
    assert swallowers > 0, "the corpus has payloads that leave an HTML block open"


def changed_structure(corpus: PayloadCorpus) -> list[CorpusPage]:
    """Pages whose sections are not just their payloads: swallowed, or whitespace trimmed."""
    bodies = bodies_of(corpus)
    return [
        page
        for page in corpus.pages
        if page.kind != "wrapped"
        and any(
            bodies.get((page.slug, title)) != corpus.payloads[number]
            for title, number in page.numbers.items()
        )
    ]


def test_pages_that_changed_shape_export_their_source_byte_for_byte(
    payload_corpus: PayloadCorpus,
) -> None:
    """The Markdown of a page whose payload swallowed the sections after it, or ended with
    whitespace, is still exactly its source; so is that of every sampled page."""
    client = payload_corpus.client()
    pages = {page.slug: page for page in changed_structure(payload_corpus)}
    assert len(pages) > 50
    pages |= {page.slug: page for page in sampled_pages(payload_corpus)}
    different = []
    for slug, page in pages.items():
        response = client.get(f"/pages/{slug}.md")
        assert response.status_code == 200, slug
        assert response.mimetype == "text/markdown"
        if response.get_data() != page.source:
            different.append(slug)
    assert not different, f"{len(different)} pages export other bytes, e.g. {different[:5]}"


def section_slugs_in(fragment: str) -> list[str]:
    """The ``data-section`` of each top-level ``<section>`` of a page fragment, in order."""
    root = parse(fragment)
    return [child.get("data-section", "") for child in root if child.tag == "section"]


def test_html_answers_hold_nothing_executable(payload_corpus: PayloadCorpus) -> None:
    client = payload_corpus.client()
    unsafe: list[str] = []
    by_page = payload_corpus.sections_by_page()
    for section in payload_corpus.sections():
        unsafe += [f"section {section['id']} html: {issue}" for issue in problems(section["html"])]
    # Each payload stands in a batch page (swallowed ones inside another section's body); its
    # page of its own is checked through the html fields, and its .html for the sampled pages.
    pages = payload_corpus.of_kind("alone") + payload_corpus.of_kind("wrapped")
    for page in pages + sampled_pages(payload_corpus):
        response = client.get(f"/pages/{page.slug}.html")
        assert response.status_code == 200, page.slug
        assert response.mimetype == "text/html"
        fragment = response.get_data(as_text=True)
        unsafe += [f"/pages/{page.slug}.html: {issue}" for issue in problems(fragment)]
        # No payload breaks out of its <section>: the page is exactly its sections, in order.
        slugs = [s["slug"] for s in by_page[page.slug]]
        assert section_slugs_in(fragment) == slugs, page.slug
    assert not unsafe, f"{len(unsafe)} executable constructs, e.g.\n" + "\n".join(unsafe[:10])


def sampled_pages(corpus: PayloadCorpus) -> list[CorpusPage]:
    return [page for kind, every in SAMPLE_EVERY.items() for page in corpus.of_kind(kind)[::every]]


def fetch_section(client: FlaskClient, section: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    fragment = client.get(f"/sections/{section['id']}.html")
    item = client.get(f"/sections/{section['id']}")
    assert fragment.status_code == item.status_code == 200, section["id"]
    assert fragment.mimetype == "text/html"
    return fragment.get_data(as_text=True), item.get_json()


def test_each_section_alone_is_served_the_same_and_safely(payload_corpus: PayloadCorpus) -> None:
    client = payload_corpus.client()
    by_page = payload_corpus.sections_by_page()
    unsafe: list[str] = []
    pages = sampled_pages(payload_corpus)
    assert len(pages) > 50
    for page in pages:
        fragments = []
        for section in by_page[page.slug]:
            fragment, item = fetch_section(client, section)
            assert item == section, section["id"]
            unsafe += [f"/sections/{section['id']}.html: {issue}" for issue in problems(fragment)]
            fragments.append(fragment)
        whole = client.get(f"/pages/{page.slug}", headers={"Accept": "text/html"})
        assert whole.get_data(as_text=True) == "\n".join(fragments), page.slug
    assert not unsafe, "\n".join(unsafe[:10])


@pytest.mark.parametrize(
    ("fragment", "issue"),
    [
        ('<section data-section="x"><img src="x" onerror="alert(1)"></section>', "onerror"),
        ("<section><a href='&#106;avascript:alert(1)'>x</a></section>", "href"),
        ('<section><iframe src="https://evil.example/"></iframe></section>', "iframe"),
        ('<section><p style="background:url(javascript:alert(1))">x</p></section>', "style"),
        ('<section><meta http-equiv="refresh" content="0;url=x"></section>', "meta"),
        ("<section><svg><script>alert(1)</script></svg></section>", "script"),
    ],
)
def test_the_detector_sees_executable_markup(fragment: str, issue: str) -> None:
    assert any(issue in found for found in problems(fragment)), problems(fragment)


def test_a_section_breaking_out_of_its_element_would_be_seen() -> None:
    assert section_slugs_in('<section data-section="a"></section>\n<section data-section="b">') == [
        "a",
        "b",
    ]
    escaped = '<section data-section="a"></section></section><section data-section="x"></section>'
    assert section_slugs_in(escaped) == ["a", "x"]
    assert [tag for tag, _ in elements(parse("<section><p>x</p></section>"))] == ["section", "p"]
