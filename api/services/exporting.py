"""Export pages back to Jekyll Markdown files."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.markdown.export import export_markdown, export_path
from api.models import Page, Section
from api.services.content import live_sections


class ExportError(Exception):
    """The target folder cannot be written."""


def exported_sections(page: Page) -> list[Section]:
    """What a reader of the Jekyll site sees: live, published sections in order."""
    return [
        s for s in sorted(live_sections(page), key=lambda s: s.position) if s.status == "published"
    ]


def page_markdown(page: Page) -> str:
    """The page as a Jekyll Markdown file."""
    return export_markdown(page.front_matter_raw, exported_sections(page), newline=page.newline)


@dataclass
class ExportReport:
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def export_pages(session: Session, folder: Path) -> ExportReport:
    """Write every page under ``folder``; files whose bytes already match are left alone.

    :raise ExportError: when a path would leave the folder or cannot be written.
    """
    report = ExportReport()
    root = folder.resolve()
    for page in session.scalars(select(Page).order_by(Page.slug)):
        relative = export_path(page.source_path, page.permalink, page.slug)
        target = (root / relative).resolve()
        if root not in target.parents:
            raise ExportError(f"page {page.slug}: path {relative!r} leaves the export folder")
        data = page_markdown(page).encode("utf-8")
        if target.is_file() and target.read_bytes() == data:
            report.unchanged.append(relative)
            continue
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        except OSError as error:
            raise ExportError(f"{target}: {error.strerror}") from None
        report.written.append(relative)
    return report
