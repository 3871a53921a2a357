"""Import Jekyll Markdown files as pages, idempotently and without clobbering API edits.

A section remembers a hash of the source it was last seeded from (``seeded_hash``). When the
file changes, a section whose current content still matches that hash is updated as a new
revision; one whose content differs was edited through the API since, and is reported as a
conflict and left alone unless ``force`` is set. Sections made through the API have no hash
and are never touched by seeding.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from api.markdown import importer
from api.markdown.export import content_hash, heading_hash
from api.markdown.render import RenderSettings
from api.models import Page, Section, SectionRevision
from api.models.base import MAX_SLUG, MAX_TEXT
from api.services.content import DerivedCounts, live_sections, refresh_page
from api.services.revisions import record_page_revision, record_section_revision
from api.services.webhooks import page_event, section_event

SEED_AUTHOR = "seed"
# The webhook event of each revision action seeding records (a new section is "created").
SEED_EVENTS = {
    "seed": "section.updated",
    "restore": "section.restored",
    "delete": "section.deleted",
}
MARKDOWN_SUFFIXES = (".md", ".markdown")
SKIPPED_DIRS = {"_site", "node_modules", "vendor", ".git", ".jekyll-cache", ".bundle"}
DATE_PREFIX = re.compile(r"^\d{4}-\d{2}-\d{2}-")


class SeedError(Exception):
    """A path cannot be seeded (missing, not Markdown, not UTF-8, bad front matter)."""


@dataclass
class Tally:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    conflicts: int = 0

    def absorb(self, counts: DerivedCounts) -> None:
        self.created += counts.created
        self.updated += counts.updated
        self.unchanged += counts.unchanged
        self.deleted += counts.deleted


@dataclass
class FileReport:
    """What seeding one file did (or would do, in a dry run)."""

    path: str
    page: str
    outcome: str  # "created", "updated", "unchanged", "skipped"
    sections: Tally = field(default_factory=Tally)
    links: Tally = field(default_factory=Tally)
    changes: list[str] = field(default_factory=list)  # one line per changed or conflicting section


@dataclass
class SeedReport:
    files: list[FileReport] = field(default_factory=list)
    pages: Tally = field(default_factory=Tally)
    sections: Tally = field(default_factory=Tally)
    links: Tally = field(default_factory=Tally)

    def add(self, report: FileReport) -> None:
        self.files.append(report)
        if report.outcome == "skipped":
            return
        setattr(self.pages, report.outcome, getattr(self.pages, report.outcome) + 1)
        for total, part in ((self.sections, report.sections), (self.links, report.links)):
            for name in ("created", "updated", "unchanged", "deleted", "conflicts"):
                setattr(total, name, getattr(total, name) + getattr(part, name))

    @property
    def changed(self) -> bool:
        return any(f.outcome in {"created", "updated"} for f in self.files)


LEADING_BLANK_LINES = re.compile(r"\A(?:[ \t]*\r?\n)+")


def comparable_body(body: str) -> str:
    """A body as the importer reads it back: no leading blank lines, no trailing whitespace."""
    return LEADING_BLANK_LINES.sub("", body).rstrip()


def section_source_hash(section: Section | importer.ParsedSection) -> str:
    if isinstance(section, Section):
        layout = (section.source_heading, section.source_lead, section.source_trail)
    else:
        layout = (section.heading, section.lead, section.trail)
    return content_hash(section.slug, section.title, comparable_body(section.body), *layout)


def page_source_hash(front_matter_raw: str, newline: str) -> str:
    return content_hash(front_matter_raw, newline)


def jekyll_slugify(text: str) -> str:
    """Jekyll's default ``slugify``: lower-case, runs of non-alphanumerics become one hyphen."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def page_slug_for(relative_path: str, front_matter: dict[str, Any]) -> str:
    """The page slug: front matter ``slug``, else the folder of an index file, else the name."""
    explicit = front_matter.get("slug")
    if isinstance(explicit, str) and jekyll_slugify(explicit):
        return jekyll_slugify(explicit)
    path = Path(relative_path)
    stem = path.stem
    if stem == "index":
        stem = path.parent.name or "index"
    return jekyll_slugify(stem) or "index"


def markdown_files(paths: Iterable[Path]) -> Iterator[tuple[Path, str]]:
    """Each Markdown file under the given files or folders with its path relative to its root.

    :raise SeedError: when a path does not exist or is not Markdown.
    """
    for root in paths:
        if root.is_file():
            if root.suffix.lower() not in MARKDOWN_SUFFIXES:
                raise SeedError(f"{root}: not a Markdown file (.md or .markdown)")
            yield root, root.name
        elif root.is_dir():
            for path in sorted(root.rglob("*")):
                relative = path.relative_to(root)
                if any(part in SKIPPED_DIRS or part.startswith(".") for part in relative.parts):
                    continue
                if path.is_file() and path.suffix.lower() in MARKDOWN_SUFFIXES:
                    yield path, relative.as_posix()
        else:
            raise SeedError(f"{root}: no such file or folder")


def read_source(path: Path) -> str:
    """The file's text exactly as stored (no newline translation).

    :raise SeedError: when it is not UTF-8.
    """
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as error:
        raise SeedError(f"{path}: not UTF-8 text ({error.reason} at byte {error.start})") from None


def seed_paths(
    session: Session,
    paths: Iterable[Path],
    *,
    settings: RenderSettings,
    now: datetime,
    force: bool = False,
) -> SeedReport:
    """Seed every Markdown file under ``paths``; Jekyll ignores files without front matter too.

    :raise SeedError: for a path or file that cannot be read or parsed.
    """
    report = SeedReport()
    for path, relative in markdown_files(paths):
        text = read_source(path)
        try:
            parsed = importer.parse_page(text)
        except importer.MarkdownImportError as error:
            raise SeedError(f"{path}: {error}") from None
        if not parsed.front_matter_raw:
            report.add(FileReport(relative, "", "skipped", changes=["no front matter"]))
            continue
        report.add(seed_page(session, parsed, relative, settings=settings, now=now, force=force))
    return report


def seed_page(
    session: Session,
    parsed: importer.ParsedPage,
    relative_path: str,
    *,
    settings: RenderSettings,
    now: datetime,
    force: bool = False,
) -> FileReport:
    """Create or update one page from its parsed source.

    :raise SeedError: for a slug, title or permalink longer than the database holds.
    """
    slug = page_slug_for(relative_path, parsed.front_matter)
    _check_lengths(parsed, relative_path, slug)
    page = session.scalars(select(Page).where(Page.source_path == relative_path)).first()
    if page is None:
        page = session.scalars(select(Page).where(Page.slug == slug)).first()
    if page is None:
        return _create_page(session, parsed, relative_path, slug, settings=settings, now=now)
    return _update_page(
        session, page, parsed, relative_path, settings=settings, now=now, force=force
    )


def _check_lengths(parsed: importer.ParsedPage, relative_path: str, slug: str) -> None:
    """:raise SeedError: for a value longer than its column holds (section slugs are cut)."""
    fields = _page_fields(parsed, slug)
    limits = [("page slug", slug, MAX_SLUG)]
    limits += [(name, fields[name], MAX_TEXT) for name in ("title", "permalink")]
    limits += [("heading", section.title, MAX_TEXT) for section in parsed.sections]
    too_long = [
        f"the {what} {value[:40]!r}... has {len(value)} characters (at most {limit})"
        for what, value, limit in limits
        if value is not None and len(value) > limit
    ]
    if too_long:
        raise SeedError(f"{relative_path}: too long: {'; '.join(too_long)}")


def _page_fields(parsed: importer.ParsedPage, slug: str) -> dict[str, Any]:
    front_matter = parsed.front_matter
    title = front_matter.get("title")
    permalink = front_matter.get("permalink")
    return {
        "title": str(title) if title not in (None, "") else slug.replace("-", " ").title(),
        "permalink": str(permalink) if permalink not in (None, "") else None,
        "front_matter": front_matter,
        "front_matter_raw": parsed.front_matter_raw,
        "newline": parsed.newline,
        "status": "draft" if front_matter.get("published") is False else "published",
    }


def _section_fields(parsed: importer.ParsedSection, position: int) -> dict[str, Any]:
    return {
        "slug": parsed.slug,
        "title": parsed.title,
        "position": position,
        "body": parsed.body,
        "source_heading": parsed.heading,
        "source_lead": parsed.lead,
        "source_trail": parsed.trail,
        "seeded_hash": section_source_hash(parsed),
        "heading_hash": heading_hash(parsed.slug, parsed.title),
    }


def _create_page(
    session: Session,
    parsed: importer.ParsedPage,
    relative_path: str,
    slug: str,
    *,
    settings: RenderSettings,
    now: datetime,
) -> FileReport:
    report = FileReport(relative_path, slug, "created")
    with session.no_autoflush:
        page = Page(
            slug=slug,
            source_path=relative_path,
            seeded_hash=page_source_hash(parsed.front_matter_raw, parsed.newline),
            created_at=now,
            updated_at=now,
            **_page_fields(parsed, slug),
        )
        session.add(page)
        for position, parsed_section in enumerate(parsed.sections):
            page.sections.append(
                Section(created_at=now, updated_at=now, **_section_fields(parsed_section, position))
            )
        report.links.absorb(refresh_page(page, settings))
    session.flush()
    record_page_revision(session, page, action="seed", by=SEED_AUTHOR, now=now)
    page_event(session, "page.created", page, now)
    if page.status == "published":
        page_event(session, "page.published", page, now)
    for section in page.sections:
        record_section_revision(session, section, action="seed", by=SEED_AUTHOR, now=now)
        section_event(session, "section.created", section, now)
    report.sections.created = len(page.sections)
    return report


def _update_page(
    session: Session,
    page: Page,
    parsed: importer.ParsedPage,
    relative_path: str,
    *,
    settings: RenderSettings,
    now: datetime,
    force: bool,
) -> FileReport:
    report = FileReport(relative_path, page.slug, "unchanged")
    revisions: list[tuple[Section, str]] = []
    created: set[int] = set()  # id() of the sections this seed adds
    page_changed = False
    was_published = page.status == "published"
    with session.no_autoflush:
        new_hash = page_source_hash(parsed.front_matter_raw, parsed.newline)
        current_hash = page_source_hash(page.front_matter_raw, page.newline)
        if new_hash != page.seeded_hash or page.source_path != relative_path:
            if new_hash == current_hash:
                values = {"seeded_hash": new_hash, "source_path": relative_path}
                session.execute(update(Page).where(Page.id == page.id).values(**values))
                for name, value in values.items():
                    set_committed_value(page, name, value)
            elif current_hash != page.seeded_hash and not force:
                report.changes.append("front matter: conflict (edited through the API); kept")
                report.sections.conflicts += 1
            else:
                for name, value in _page_fields(parsed, page.slug).items():
                    setattr(page, name, value)
                page.source_path = relative_path
                page.seeded_hash = new_hash
                page_changed = session.is_modified(page)
                if page_changed:
                    page.updated_at = now
                    report.changes.append("front matter: updated")

        existing = {section.slug: section for section in page.sections}
        seen: set[str] = set()
        ordered: list[Section] = []
        for parsed_section in parsed.sections:
            seen.add(parsed_section.slug)
            section = existing.get(parsed_section.slug)
            source_hash = section_source_hash(parsed_section)
            if section is None:
                section = Section(
                    created_at=now, updated_at=now, **_section_fields(parsed_section, len(ordered))
                )
                page.sections.append(section)
                revisions.append((section, "seed"))
                created.add(id(section))
                report.sections.created += 1
                report.changes.append(f"section {parsed_section.slug}: created")
            elif section.deleted_at is not None and not _trashed_by_seed(session, section):
                if source_hash == section.seeded_hash or not force:
                    report.sections.conflicts += source_hash != section.seeded_hash
                    report.sections.unchanged += source_hash == section.seeded_hash
                    report.changes.append(
                        f"section {section.slug}: kept in the trash (trashed through the API)"
                        + ("" if source_hash == section.seeded_hash else "; use --force to restore")
                    )
                else:
                    _overwrite(section, parsed_section, now)
                    revisions.append((section, "restore"))
                    report.sections.updated += 1
                    report.changes.append(f"section {section.slug}: restored and updated")
            elif section.deleted_at is None and _same_content(section, parsed_section):
                if section.seeded_hash != source_hash:
                    _adopt_layout(session, section, parsed_section)
                report.sections.unchanged += 1
            elif (
                section.deleted_at is None
                and section.seeded_hash is not None
                and section_source_hash(section) != section.seeded_hash
                and not force
            ) or (section.seeded_hash is None and not force):
                report.sections.conflicts += 1
                report.changes.append(
                    f"section {section.slug}: conflict (edited through the API since the last"
                    " seed); kept, use --force to overwrite"
                )
            else:
                restored = section.deleted_at is not None
                _overwrite(section, parsed_section, now)
                revisions.append((section, "restore" if restored else "seed"))
                report.sections.updated += 1
                report.changes.append(f"section {section.slug}: updated")
            if section.deleted_at is None:
                ordered.append(section)
        _trash_removed(page, seen, report, revisions, now=now, force=force)
        _reorder(page, ordered)
        report.links.absorb(refresh_page(page, settings))
        if page_changed or revisions:
            report.outcome = "updated"
    session.flush()
    if page_changed:
        record_page_revision(session, page, action="seed", by=SEED_AUTHOR, now=now)
        page_event(session, "page.updated", page, now)
        if page.status == "published" and not was_published:
            page_event(session, "page.published", page, now)
    for section, action in revisions:
        record_section_revision(session, section, action=action, by=SEED_AUTHOR, now=now)
        event = "section.created" if id(section) in created else SEED_EVENTS[action]
        section_event(session, event, section, now)
    return report


def _same_content(section: Section, parsed: importer.ParsedSection) -> bool:
    """Does the file say what the database says (an exported edit coming back)?"""
    current = (section.slug, section.title, comparable_body(section.body))
    return current == (parsed.slug, parsed.title, parsed.body)


def _adopt_layout(session: Session, section: Section, parsed: importer.ParsedSection) -> None:
    """Take the file's layout for content that is already the same, without a new version.

    This is what makes edit -> export -> seed a no-op: the database already holds the text.
    """
    values = _section_fields(parsed, section.position)
    del values["position"]
    del values["body"]  # equal but for surrounding whitespace; keep the editor's text
    session.execute(update(Section).where(Section.id == section.id).values(**values))
    for name, value in values.items():
        set_committed_value(section, name, value)


def _overwrite(section: Section, parsed: importer.ParsedSection, now: datetime) -> None:
    for name, value in _section_fields(parsed, section.position).items():
        setattr(section, name, value)
    section.deleted_at = None
    section.updated_at = now


def _trashed_by_seed(session: Session, section: Section) -> bool:
    """Was the section's last change a seed (its heading left the file)?"""
    author = session.scalar(
        select(SectionRevision.created_by)
        .where(SectionRevision.section_id == section.id)
        .order_by(SectionRevision.number.desc())
        .limit(1)
    )
    return author == SEED_AUTHOR


def _trash_removed(
    page: Page,
    seen: set[str],
    report: FileReport,
    revisions: list[tuple[Section, str]],
    *,
    now: datetime,
    force: bool,
) -> None:
    """Sections seeded earlier whose heading left the file go to the trash (restorable)."""
    for section in live_sections(page):
        if section.slug in seen or section.seeded_hash is None or section.status == "draft":
            continue
        if section_source_hash(section) != section.seeded_hash and not force:
            report.sections.conflicts += 1
            report.changes.append(
                f"section {section.slug}: conflict (removed from the file but edited through the"
                " API); kept"
            )
            continue
        section.deleted_at = now
        section.updated_at = now
        revisions.append((section, "delete"))
        report.sections.deleted += 1
        report.changes.append(f"section {section.slug}: moved to the trash (gone from the file)")


def _reorder(page: Page, from_file: list[Section]) -> None:
    """File order for seeded sections; sections made through the API stay after their neighbour."""
    placed = {id(section) for section in from_file}
    order = list(from_file)
    previous: Section | None = None
    for section in sorted(live_sections(page), key=lambda s: s.position):
        if id(section) in placed:
            previous = section
            continue
        index = order.index(previous) + 1 if previous is not None else 0
        order.insert(index, section)
        placed.add(id(section))
        previous = section
    for position, section in enumerate(order):
        if section.position != position:
            section.position = position
