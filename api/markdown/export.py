"""Write pages back as Jekyll Markdown.

An unedited page comes out byte-identical to the file it was seeded from: the front matter text
and every section's heading line, surrounding blank lines and body are kept as they were. An
edited body replaces only its own text; a changed title or slug gets a new heading line (with
``{#slug}`` when kramdown would derive another id); sections made through the API are separated
from their neighbours by one blank line.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import PurePosixPath
from typing import Protocol

from api.markdown.importer import kramdown_slug, parse_page


class ExportableSection(Protocol):
    slug: str
    title: str | None
    body: str
    source_heading: str
    source_lead: str
    source_trail: str
    heading_hash: str | None  # set when the section came from a file


def content_hash(*parts: str | None) -> str:
    """A stable hash of text parts (None differs from the empty string)."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(b"\x00" if part is None else b"\x01" + part.encode() + b"\x00")
    return digest.hexdigest()


def heading_hash(slug: str, title: str | None) -> str:
    return content_hash(slug, title)


def heading_line(slug: str, title: str, newline: str) -> str:
    """A ``## `` heading for ``title``, pinning the slug when kramdown would make another id."""
    explicit = "" if kramdown_slug(title) == slug else f" {{#{slug}}}"
    return f"## {title}{explicit}{newline}"


def export_markdown(
    front_matter_raw: str, sections: Sequence[ExportableSection], *, newline: str
) -> str:
    """The Markdown file of a page from its front matter and its exported sections in order.

    kramdown numbers duplicate heading ids by position, so an edit can shift the ids of later,
    unedited headings; those then get an explicit ``{#slug}`` so every slug reads back the same.
    """
    pinned: set[int] = set()
    # The reader always finds an intro; skip it when the page has none of its own.
    offset = 1 if sections and sections[0].title is not None else 0
    for _ in range(len(sections) + 1):
        text = _assemble(front_matter_raw, sections, newline=newline, pinned=pinned)
        read_back = [section.slug for section in parse_page(text).sections][offset:]
        if len(read_back) != len(sections):
            return text
        drifted = {
            index
            for index, section in enumerate(sections)
            if section.title is not None and read_back[index] != section.slug
        } - pinned
        if not drifted:
            return text
        pinned |= drifted
    return text


def _assemble(
    front_matter_raw: str,
    sections: Sequence[ExportableSection],
    *,
    newline: str,
    pinned: set[int],
) -> str:
    content = ""  # what follows the front matter so far
    for index, section in enumerate(sections):
        from_file = section.heading_hash is not None
        last = index == len(sections) - 1
        if section.title is None:
            heading = ""
        elif index in pinned:
            heading = f"## {section.title} {{#{section.slug}}}{newline}"
        elif from_file and section.heading_hash == heading_hash(section.slug, section.title):
            heading = section.source_heading
        else:
            heading = heading_line(section.slug, section.title, newline)
        if heading and content and not content.endswith(("\n", "\r")):
            content += newline * 2
        if from_file:
            lead, trail = section.source_lead, section.source_trail
        else:
            lead = newline if heading and section.body else ""
            trail = newline if last else newline * 2
        if heading and section.body and not (heading + lead).endswith(("\n", "\r")):
            lead = newline  # the heading ended its file; an edit gave it a body
        # Bodies go out verbatim (even LF lines in a CRLF file): Jekyll reads both.
        content += heading + lead + section.body + trail
    return front_matter_raw + content


def export_path(source_path: str | None, permalink: str | None, slug: str) -> str:
    """Where a page's file goes: where it came from, else from its permalink, else its slug."""
    if source_path:
        return source_path
    if permalink:
        clean = PurePosixPath(permalink.strip("/"))
        if clean.parts and ".." not in clean.parts and clean.name:
            if permalink.endswith("/"):
                return (clean / "index.md").as_posix()
            return clean.with_suffix(".md").as_posix()
    return f"{slug}.md"
