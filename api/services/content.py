"""Derived content of sections: links and HTML, recomputed whenever Markdown changes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from api.markdown import importer, render
from api.models import Link, Page, Section


@dataclass
class DerivedCounts:
    """How many link rows a refresh created, updated, left unchanged or removed."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0

    def add(self, other: DerivedCounts) -> None:
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.deleted += other.deleted


def render_settings_from(config: Mapping[str, Any]) -> render.RenderSettings:
    """Render settings from the app configuration (site URL, base URL, embed hosts)."""
    return render.RenderSettings(
        site_url=config["SITE_URL"],
        baseurl=config["SITE_BASEURL"],
        embed_hosts=frozenset(config["EMBED_HOSTS"]),
    )


def link_host(url: str) -> str | None:
    """The lower-cased host of an absolute URL, None for site-relative ones.

    None too past 253 characters, the longest name DNS has (the column holds 255).
    """
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    return host if host is None or len(host) <= 253 else None


def live_sections(page: Page) -> list[Section]:
    """The page's sections that are not in the trash, in order."""
    return [section for section in page.sections if section.deleted_at is None]


def page_definitions(sections: Iterable[Section]) -> dict[str, importer.Definition]:
    """Reference definitions of the whole page; as in kramdown, the last one of a name wins."""
    return definitions_of(section.body for section in sections)


def definitions_with_body(
    page: Page, section: Section, body: str
) -> dict[str, importer.Definition]:
    """The page's reference definitions as if ``section`` held ``body`` (a text not saved yet)."""
    return definitions_of(body if other is section else other.body for other in live_sections(page))


def definitions_of(bodies: Iterable[str]) -> dict[str, importer.Definition]:
    """The reference definitions of these bodies read as one page (the last one wins)."""
    return _merged(body_definitions(body) for body in bodies)


def body_definitions(body: str) -> dict[str, importer.Definition]:
    """``importer.find_definitions``, remembered: every edit needs those of the whole page."""
    return dict(_remembered_definitions(body))


@lru_cache(maxsize=1024)
def _remembered_definitions(body: str) -> tuple[tuple[str, importer.Definition], ...]:
    return tuple(importer.find_definitions(body).items())


def definitions_markdown(definitions: Iterable[importer.Definition]) -> str:
    """Definition lines for rendering a section whose references are defined elsewhere."""
    lines = []
    for definition in definitions:
        title = f' "{definition.title}"' if definition.title else ""
        lines.append(f"[{definition.name}]: <{definition.url}>{title}")
    return "\n".join(lines)


def refresh_page(
    page: Page,
    settings: render.RenderSettings,
    *,
    edited: Section | None = None,
    previous_body: str | None = None,
) -> DerivedCounts:
    """Recompute links and HTML of every live section; rows change only where output differs.

    ``edited``: the one section whose body (from ``previous_body``), title, slug or status was
    just changed, the page's sections staying where they were. Another section's HTML and
    links depend only on its own Markdown and on the page's reference definitions, so when
    those read as before, only ``edited`` is rendered again: an edit then costs one section's
    rendering instead of the whole page's (200 ms for a page of 20 sections).
    """
    sections = live_sections(page)
    found = [body_definitions(section.body) for section in sections]
    definitions = _merged(found)
    references = definitions_markdown(definitions.values())
    if edited is not None and previous_body is not None and edited in sections:
        before = [
            body_definitions(previous_body) if section is edited else defs
            for section, defs in zip(sections, found, strict=True)
        ]
        if definitions_markdown(_merged(before).values()) == references:
            sections = [edited]
    counts = DerivedCounts()
    for section in sections:
        counts.add(refresh_section(section, definitions, references, settings))
    return counts


def _merged(found: Iterable[dict[str, importer.Definition]]) -> dict[str, importer.Definition]:
    definitions: dict[str, importer.Definition] = {}
    for each in found:
        definitions.update(each)
    return definitions


def refresh_section(
    section: Section,
    definitions: dict[str, importer.Definition],
    references: str,
    settings: render.RenderSettings,
) -> DerivedCounts:
    """Bring one section's html, heading html and links in line with its Markdown."""
    html = render.render_body(section.body, references=references, settings=settings)
    if section.html != html:
        section.html = html
    heading_html = render.render_title(section.title, settings) if section.title else ""
    if section.heading_html != heading_html:
        section.heading_html = heading_html
    found = importer.find_links(section.body, definitions)
    return sync_links(section, found)


def sync_links(section: Section, found: list[importer.FoundLink]) -> DerivedCounts:
    """Update link rows in place by position so ids stay stable while links stay put."""
    counts = DerivedCounts()
    existing = list(section.links)
    for position, link in enumerate(found):
        values = {
            "position": position,
            "kind": link.kind,
            "label": link.label,
            "url": link.url,
            "host": link_host(link.url),
            "context": link.context,
            "ref": link.ref[:500] if link.ref else link.ref,  # as the column holds; never read
        }
        if position < len(existing):
            row = existing[position]
            changed = {key: value for key, value in values.items() if getattr(row, key) != value}
            for key, value in changed.items():
                setattr(row, key, value)
            if "url" in changed:  # the last check was of the old URL
                row.check_status = row.check_error = row.redirect_to = row.checked_at = None
            if changed:
                counts.updated += 1
            else:
                counts.unchanged += 1
        else:
            section.links.append(Link(**values))
            counts.created += 1
    for row in existing[len(found) :]:
        section.links.remove(row)
        counts.deleted += 1
    return counts
