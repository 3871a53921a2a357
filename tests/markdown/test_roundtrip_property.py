"""Property: any Jekyll document survives import -> export byte for byte, and edits survive
export -> re-import."""

from __future__ import annotations

import os
from types import SimpleNamespace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.markdown.export import export_markdown, heading_hash
from api.markdown.importer import parse_page

WORDS = st.sampled_from(
    [
        "zarr",
        "array",
        "chunk",
        "Community",
        "meetings",
        "data",
        "v3",
        "ÄÖÜ",
        "naïve",
        "🙂",
        "x_y",
        "a-b",
        "C++",
        "&amp;",
        "`code`",
        "*em*",
        "**strong**",
        "'quote'",
        '"dq"',
    ]
)
URLS = st.sampled_from(
    [
        "https://zarr.dev",
        "https://github.com/zarr-developers",
        "/community/",
        "https://example.org/a_(b)",
        "mailto:hi@zarr.dev",
        "https://gitter.im/zarr",
    ]
)
TEXT = st.lists(WORDS, min_size=1, max_size=6).map(" ".join)


@st.composite
def link(draw: st.DrawFn) -> tuple[str, list[str]]:
    """A link in one of the four kinds, and any definition lines it needs."""
    label, url = draw(TEXT), draw(URLS)
    kind = draw(st.sampled_from(["inline", "reference", "autolink", "html"]))
    if kind == "inline":
        return f"[{label}]({url})", []
    if kind == "reference":
        ref = draw(st.sampled_from(["ref1", "Ref 2", "zarr"]))
        return f"[{label}][{ref}]", [f"[{ref}]: {url}"]
    if kind == "autolink":
        return f"<{url if ':' in url else 'https://zarr.dev' + url}>", []
    return f'<a href="{url}">{label}</a>', []


@st.composite
def block(draw: st.DrawFn) -> tuple[str, list[str]]:
    kind = draw(st.sampled_from(["paragraph", "list", "table", "fence", "h3", "quote"]))
    if kind == "paragraph":
        pieces = draw(
            st.lists(st.one_of(TEXT.map(lambda t: (t, [])), link()), min_size=1, max_size=4)
        )
        return " ".join(p for p, _ in pieces), [d for _, defs in pieces for d in defs]
    if kind == "list":
        items = draw(
            st.lists(st.one_of(TEXT.map(lambda t: (t, [])), link()), min_size=1, max_size=4)
        )
        return "\n".join(f"- {p}" for p, _ in items), [d for _, defs in items for d in defs]
    if kind == "table":
        rows = draw(st.lists(st.tuples(TEXT, TEXT), min_size=1, max_size=3))
        lines = ["| a | b |", "|---|---|"] + [f"| {x} | {y} |" for x, y in rows]
        return "\n".join(lines), []
    if kind == "fence":
        inner = draw(
            st.sampled_from(["## not a heading", "| a | b |", "[x](https://no.link)", "code()"])
        )
        return f"```\n{inner}\n```", []
    if kind == "h3":
        return f"### {draw(TEXT)}", []
    return f"> {draw(TEXT)}", []


@st.composite
def document(draw: st.DrawFn) -> str:
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    title = draw(TEXT).replace('"', "")
    front = f'---{newline}layout: single{newline}title: "{title}"{newline}---{newline}'
    headings = st.sampled_from(
        [
            "Join the community",
            "Blog",
            "Blog",
            "Blog 1",
            "Ünïcode Title",
            "Links & more",
            "`code` head",
        ]
    )
    parts: list[str] = []
    definitions: list[str] = []
    for index in range(draw(st.integers(0, 4)) + 1):
        if index:
            parts.append(f"## {draw(headings)}")
        for _ in range(draw(st.integers(0, 3))):
            text, defs = draw(block())
            parts.append(text)
            definitions.extend(defs)
    parts.extend(dict.fromkeys(definitions))
    blank = draw(st.sampled_from(["\n\n", "\n\n\n"]))
    body = blank.join(parts)
    if draw(st.booleans()):
        body += "\n"
    return front + body.replace("\n", newline)


def as_stored(section: object) -> SimpleNamespace:
    """A section as the database keeps it right after seeding."""
    return SimpleNamespace(
        slug=section.slug,
        title=section.title,
        body=section.body,  # type: ignore[attr-defined]
        source_heading=section.heading,
        source_lead=section.lead,  # type: ignore[attr-defined]
        source_trail=section.trail,  # type: ignore[attr-defined]
        heading_hash=heading_hash(section.slug, section.title),  # type: ignore[attr-defined]
    )


# ROUNDTRIP_EXAMPLES raises the number of documents for a longer hunt.
SETTINGS = settings(
    max_examples=int(os.environ.get("ROUNDTRIP_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@SETTINGS
@given(document())
def test_import_then_export_is_identity(text: str) -> None:
    parsed = parse_page(text)
    sections = [as_stored(s) for s in parsed.sections]
    assert export_markdown(parsed.front_matter_raw, sections, newline=parsed.newline) == text
    assert len({s.slug for s in parsed.sections}) == len(parsed.sections)


@SETTINGS
@given(document(), st.data())
def test_edit_then_export_then_reimport_gives_the_edit(text: str, data: st.DataObject) -> None:
    parsed = parse_page(text)
    sections = [as_stored(s) for s in parsed.sections]
    index = data.draw(st.integers(0, len(sections) - 1))
    new_body, _ = data.draw(block())
    sections[index].body = new_body
    if sections[index].title is not None and data.draw(st.booleans()):
        sections[index].title = "Renamed " + data.draw(TEXT).replace("`", "")
    exported = export_markdown(parsed.front_matter_raw, sections, newline=parsed.newline)
    again = parse_page(exported)
    assert [(s.slug, s.title) for s in again.sections] == [(s.slug, s.title) for s in sections]
    assert again.sections[index].body == new_body
    for number, section in enumerate(again.sections):
        if number != index:
            assert section.body == parsed.sections[number].body
