"""Editors' changes to pages, sections and links; each one is kept as a revision.

Services flush and never commit: the view commits once, so a failure leaves no trace.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.errors import ApiError, Conflict, NotFound, Unprocessable
from api.markdown import importer
from api.markdown.frontmatter import render_front_matter
from api.markdown.render import RenderSettings
from api.models import Link, Page, Section
from api.models.base import MAX_SLUG, MAX_TEXT
from api.services.content import (
    body_definitions,
    definitions_with_body,
    live_sections,
    page_definitions,
    refresh_page,
)
from api.services.revisions import (
    find_revision,
    record_page_revision,
    record_section_revision,
)
from api.services.webhooks import page_event, section_event

INTRO = "intro"
# \Z, not $: "$" also matches before a final newline, which let "slug\n" through.
SLUG_PATTERN = re.compile(r"^[\w-]{1,200}\Z")
PAGE_SLUG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,198}[a-z0-9])?\Z")


class PreconditionFailed(ApiError):
    status = 412
    title = "Precondition Failed"


def _field_error(field: str, message: str) -> Unprocessable:
    return Unprocessable(message, errors={field: [message]})


def check_body(body: str, *, intro: bool = False) -> None:
    """A body must stay one section when the page is exported and read back.

    :raise Unprocessable: when it holds a ``## `` heading, or leaves a code fence or HTML
        block open that would swallow the headings after it.
    """
    before = "---\n---\n" if intro else "---\n---\n## probe-before\n\n"
    parsed = importer.parse_page(before + body + "\n\n## probe-after\n")
    titles = [section.title for section in parsed.sections]
    if titles != ([None, "probe-after"] if intro else [None, "probe-before", "probe-after"]):
        raise _field_error(
            "body",
            "A body cannot contain a '## ' heading and must close every code fence and HTML "
            "block it opens; to add a heading, create a new section.",
        )


def _check_title(title: Any) -> str:
    if not isinstance(title, str) or not title.strip():
        raise _field_error("title", "The title cannot be empty.")
    if len(title) > MAX_TEXT:  # also for one from the front matter, which no schema checked
        raise _field_error("title", f"The title can have at most {MAX_TEXT} characters.")
    if "\n" in title or "\r" in title:
        raise _field_error("title", "The title must be a single line.")
    # Kept as sent (never trimmed): what does not survive as a heading is refused instead.
    parsed = importer.parse_page(f"## {title}\n")
    if [section.title for section in parsed.sections] != [None, title]:
        raise _field_error(
            "title",
            "The title does not survive as a Markdown heading (e.g. spaces around it, a "
            "closing '#' or {#id}).",
        )
    return title


def _permalink(front_matter: Mapping[str, Any]) -> str | None:
    permalink = front_matter.get("permalink")
    if permalink and len(str(permalink)) > MAX_TEXT:
        raise _field_error("front_matter", f"The permalink can have at most {MAX_TEXT} characters.")
    return str(permalink) if permalink else None


def _check_section_slug(page: Page, slug: str, section: Section | None = None) -> str:
    if not SLUG_PATTERN.match(slug):
        raise _field_error("slug", "Use letters, digits, '-' and '_' only (at most 200).")
    if slug == INTRO and (section is None or section.slug != INTRO):
        raise _field_error("slug", "'intro' is reserved for the text before the first heading.")
    for other in page.sections:
        if other.slug == slug and other is not section:
            where = " (in the trash)" if other.deleted_at is not None else ""
            raise Conflict(f"The page already has a section with slug {slug!r}{where}.")
    return slug


def unique_section_slug(page: Page, title: str) -> str:
    """The kramdown id of the title, made unique within the page as seeding does.

    At most ``MAX_SLUG`` characters, as the column holds (a long title's id is cut; export
    then writes the slug as an explicit ``{#id}``).
    """
    base = importer.kramdown_slug(title)[:MAX_SLUG] or "section"
    taken = {section.slug for section in page.sections} | {INTRO}
    slug, counter = base, 0
    while slug in taken:
        counter += 1
        suffix = f"-{counter}"
        slug = base[: MAX_SLUG - len(suffix)] + suffix
    return slug


def _place(page: Page, section: Section, position: int | None) -> None:
    """Put a live section at ``position`` (end when None) and renumber densely from 0."""
    others = [s for s in live_sections(page) if s is not section]
    others.sort(key=lambda s: (s.position, s.id or 0))
    has_intro = any(s.slug == INTRO for s in others) and section.slug != INTRO
    lowest = 1 if has_intro else 0
    if section.slug == INTRO:
        index = 0
    elif position is None:
        index = len(others)
    else:
        if not lowest <= position <= len(others):
            raise _field_error(
                "position", f"Must be between {lowest} and {len(others)} for this page."
            )
        index = position
    others.insert(index, section)
    for number, item in enumerate(others):
        if item.position != number:
            item.position = number


def _renumber(page: Page) -> None:
    for number, item in enumerate(sorted(live_sections(page), key=lambda s: (s.position, s.id))):
        if item.position != number:
            item.position = number


def create_page(
    session: Session,
    *,
    slug: str,
    title: str,
    front_matter: Mapping[str, Any] | None,
    status: str,
    by: str,
    now: datetime,
    settings: RenderSettings,
) -> Page:
    """A new page with an empty intro section.

    :raise Unprocessable: for a bad slug or title. :raise Conflict: when the slug is taken.
    """
    if not PAGE_SLUG_PATTERN.match(slug):
        raise _field_error("slug", "Use lower-case letters, digits and '-' (at most 200).")
    title = _check_title(title)
    if session.scalar(select(Page.id).where(Page.slug == slug)) is not None:
        raise Conflict(f"A page with slug {slug!r} exists already.")
    values = dict(front_matter or {})
    values["title"] = title
    if status == "draft":
        values["published"] = False
    page = Page(
        slug=slug,
        title=title,
        permalink=_permalink(values),
        front_matter=values,
        front_matter_raw=render_front_matter(values),
        status=status,
        created_at=now,
        updated_at=now,
    )
    page.sections.append(
        Section(slug=INTRO, title=None, position=0, body="", created_at=now, updated_at=now)
    )
    session.add(page)
    refresh_page(page, settings)
    session.flush()
    record_page_revision(session, page, action="create", by=by, now=now)
    record_section_revision(session, page.sections[0], action="create", by=by, now=now)
    page_event(session, "page.created", page, now)
    if page.status == "published":
        page_event(session, "page.published", page, now)
    return page


def update_page(
    session: Session,
    page: Page,
    changes: Mapping[str, Any],
    *,
    by: str,
    now: datetime,
    action: str = "update",
    front_matter_raw: str | None = None,
) -> Page:
    """Change title, front matter or status, keeping the front matter in step for Jekyll.

    ``title`` and front matter ``title`` are the same thing, as are status ``draft`` and
    front matter ``published: false``; the front matter text keeps its comments and order.
    ``front_matter_raw`` is the text to use when the values come out as ``changes`` gave them
    (a restored revision brings back its exact text).
    """
    was_published = page.status == "published"
    values = dict(changes.get("front_matter", page.front_matter))
    if "title" in changes:
        page.title = values["title"] = _check_title(changes["title"])
    elif "title" in values:
        page.title = _check_title(str(values["title"]))
    if "status" in changes:
        page.status = changes["status"]
    if page.status == "draft":
        values["published"] = False
    elif values.get("published") is False:
        del values["published"]
    page.permalink = _permalink(values)
    exact_text = front_matter_raw is not None and values == changes.get("front_matter")
    if exact_text and front_matter_raw != page.front_matter_raw:
        page.front_matter = values
        page.front_matter_raw = front_matter_raw
    elif values != page.front_matter:
        page.front_matter = values
        page.front_matter_raw = render_front_matter(
            values, previous_raw=page.front_matter_raw, newline=page.newline
        )
    if session.is_modified(page):
        page.updated_at = now
        session.flush()
        record_page_revision(session, page, action=action, by=by, now=now)
        page_event(session, "page.updated", page, now)
        if page.status == "published" and not was_published:
            page_event(session, "page.published", page, now)
    return page


def create_section(
    session: Session,
    page: Page,
    values: Mapping[str, Any],
    *,
    by: str,
    now: datetime,
    settings: RenderSettings,
) -> Section:
    """A new section of ``page`` (at the end unless ``position`` says otherwise).

    :raise Unprocessable: for bad values. :raise Conflict: when the slug is taken.
    """
    title = _check_title(values.get("title"))
    body = values.get("body", "")
    check_body(body)
    slug = values.get("slug")
    slug = _check_section_slug(page, slug) if slug else unique_section_slug(page, title)
    section = Section(
        slug=slug,
        title=title,
        body=body,
        status=values.get("status", "published"),
        position=0,
        created_at=now,
        updated_at=now,
    )
    with session.no_autoflush:
        page.sections.append(section)
        _place(page, section, values.get("position"))
        refresh_page(page, settings)
    session.flush()
    record_section_revision(session, section, action="create", by=by, now=now)
    section_event(session, "section.created", section, now)
    return section


def update_section(
    session: Session,
    section: Section,
    changes: Mapping[str, Any],
    *,
    by: str,
    now: datetime,
    settings: RenderSettings,
    action: str = "update",
) -> Section:
    """Apply an editor's changes; body changes re-extract links and re-render HTML."""
    page = section.page
    previous_body = section.body
    with session.no_autoflush:
        if "title" in changes:
            if section.slug == INTRO:
                if changes["title"] is not None:
                    raise _field_error("title", "The intro has no title.")
            else:
                section.title = _check_title(changes["title"])
        if "slug" in changes and changes["slug"] != section.slug:
            section.slug = _check_section_slug(page, changes["slug"], section)
        if "body" in changes:
            check_body(changes["body"], intro=section.slug == INTRO)
            section.body = changes["body"]
        if "status" in changes:
            section.status = changes["status"]
        if "position" in changes and changes["position"] != section.position:
            if section.slug == INTRO:
                raise _field_error("position", "The intro always comes first.")
            _place(page, section, changes["position"])
            refresh_page(page, settings)
        else:  # the sections stay where they were: see refresh_page
            refresh_page(page, settings, edited=section, previous_body=previous_body)
    if session.is_modified(section):
        section.updated_at = now
        session.flush()
        record_section_revision(session, section, action=action, by=by, now=now)
        section_event(session, "section.updated", section, now)
    return section


def trash_section(
    session: Session, section: Section, *, by: str, now: datetime, settings: RenderSettings
) -> None:
    """Move a section to the trash; the others close the gap."""
    if section.deleted_at is not None:
        raise Conflict("The section is in the trash already.")
    with session.no_autoflush:
        section.deleted_at = now
        section.updated_at = now
        _renumber(section.page)
        refresh_page(section.page, settings)
    session.flush()
    record_section_revision(session, section, action="delete", by=by, now=now)
    section_event(session, "section.deleted", section, now)


def restore_section(
    session: Session, section: Section, *, by: str, now: datetime, settings: RenderSettings
) -> Section:
    """Bring a section back from the trash at its old position (or the end)."""
    if section.deleted_at is None:
        raise Conflict("The section is not in the trash.")
    with session.no_autoflush:
        old_position = section.position
        section.deleted_at = None
        section.updated_at = now
        live = len(live_sections(section.page)) - 1
        _place(
            section.page,
            section,
            None
            if section.slug == "intro"
            else min(max(old_position, 1 if live and section.slug != INTRO else 0), live),
        )
        refresh_page(section.page, settings)
    session.flush()
    record_section_revision(session, section, action="restore", by=by, now=now)
    section_event(session, "section.restored", section, now)
    return section


def restore_page_revision(
    session: Session, page: Page, number: int, *, by: str, now: datetime
) -> Page:
    """Make revision ``number`` the page's title, front matter and status, as a new revision.

    :raise NotFound: for an unknown revision.
    """
    revision = find_revision(session, page, number)
    if revision is None:
        raise NotFound(f"Page {page.slug!r} has no revision {number}.")
    data = revision.data
    changes = {key: data[key] for key in ("title", "front_matter", "status")}
    return update_page(
        session,
        page,
        changes,
        by=by,
        now=now,
        action="revert",
        front_matter_raw=data.get("front_matter_raw"),
    )


def restore_revision(
    session: Session,
    section: Section,
    number: int,
    *,
    by: str,
    now: datetime,
    settings: RenderSettings,
) -> Section:
    """Make revision ``number`` the current content, as a new revision.

    :raise NotFound: for an unknown revision. :raise Conflict: for a section in the trash.
    """
    revision = find_revision(session, section, number)
    if revision is None:
        raise NotFound(f"Section {section.id} has no revision {number}.")
    if section.deleted_at is not None:
        raise Conflict("Restore the section from the trash before restoring a revision.")
    data = revision.data
    changes = {key: data[key] for key in ("title", "body", "status", "slug") if key in data}
    if section.slug == INTRO:
        changes.pop("title", None)
    return update_section(
        session, section, changes, by=by, now=now, settings=settings, action="revert"
    )


def update_link(
    session: Session,
    link: Link,
    changes: Mapping[str, Any],
    *,
    by: str,
    now: datetime,
    settings: RenderSettings,
) -> Link:
    """Rewrite exactly this link's URL and/or label in the Markdown it comes from."""
    url = changes.get("url")
    label = changes.get("label")
    if url is not None and (not url.strip() or any(c in url for c in "\r\n")):
        raise _field_error("url", "The URL cannot be empty or span lines.")
    if label is not None and (not label.strip() or any(c in label for c in "\r\n")):
        raise _field_error("label", "The label cannot be empty or span lines.")
    section = link.section
    page = section.page
    definitions = page_definitions(live_sections(page))
    found = importer.find_links(section.body, definitions)
    if link.position >= len(found):
        raise Conflict("The link no longer matches the section's Markdown; reload it.")
    target = found[link.position]
    body = section.body
    if target.kind == "reference" and url is not None:
        # As in kramdown, the last definition of a name is the one in effect.
        owner = [s for s in live_sections(page) if target.ref in body_definitions(s.body)][-1]
        definition = body_definitions(owner.body)[target.ref or ""]
        new_owner_body = importer.rewrite_definition(owner.body, definition, url)
        if owner is section:
            body = new_owner_body
            found_again = importer.find_links(body, definitions_with_body(page, section, body))
            target = found_again[link.position]
        else:
            update_section(
                session, owner, {"body": new_owner_body}, by=by, now=now, settings=settings
            )
        url = None
    if url is not None or label is not None:
        body = importer.rewrite_link(body, target, url=url, label=label)
    _check_link_reads_back(page, section, body, link.position, changes)
    if body != section.body:
        update_section(session, section, {"body": body}, by=by, now=now, settings=settings)
    session.flush()
    return link


def _check_link_reads_back(
    page: Page, section: Section, body: str, position: int, changes: Mapping[str, Any]
) -> None:
    """The rewritten Markdown must give back this link with exactly the values asked for.

    :raise Unprocessable: for a value Markdown cannot hold as sent (a URL with ``|``, which
        makes its line a table row, or ``<``; a label with runs of spaces), naming the field.
    """
    found = importer.find_links(body, definitions_with_body(page, section, body))
    link = found[position] if position < len(found) else None
    for field, hint in (
        ("url", "percent-encode characters such as '|', '<', '>' or '\"'"),
        ("label", "link text reads as plain text, with single spaces"),
    ):
        if field in changes and (link is None or getattr(link, field) != changes[field]):
            raise _field_error(field, f"The {field} cannot be written in Markdown as sent: {hint}.")
