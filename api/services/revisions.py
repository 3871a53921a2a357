"""Revisions: every change of a section or page keeps the full state it produced."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.models import Page, PageRevision, Section, SectionRevision


def section_snapshot(section: Section) -> dict[str, Any]:
    """Everything needed to bring a section back to this state."""
    return {
        "slug": section.slug,
        "title": section.title,
        "position": section.position,
        "body": section.body,
        "status": section.status,
        "deleted": section.deleted_at is not None,
        "version": section.version,
    }


def page_snapshot(page: Page) -> dict[str, Any]:
    return {
        "slug": page.slug,
        "title": page.title,
        "permalink": page.permalink,
        "front_matter": page.front_matter,
        "front_matter_raw": page.front_matter_raw,
        "status": page.status,
        "version": page.version,
    }


def record_section_revision(
    session: Session, section: Section, *, action: str, by: str, now: datetime
) -> SectionRevision:
    """Store the section's current (flushed) state as its next revision."""
    session.flush()
    number = (
        session.scalar(
            select(func.max(SectionRevision.number)).where(SectionRevision.section_id == section.id)
        )
        or 0
    ) + 1
    revision = SectionRevision(
        section_id=section.id,
        number=number,
        action=action,
        data=section_snapshot(section),
        created_by=by,
        created_at=now,
    )
    session.add(revision)
    return revision


def record_page_revision(
    session: Session, page: Page, *, action: str, by: str, now: datetime
) -> PageRevision:
    """Store the page's current (flushed) state as its next revision."""
    session.flush()
    number = (
        session.scalar(select(func.max(PageRevision.number)).where(PageRevision.page_id == page.id))
        or 0
    ) + 1
    revision = PageRevision(
        page_id=page.id,
        number=number,
        action=action,
        data=page_snapshot(page),
        created_by=by,
        created_at=now,
    )
    session.add(revision)
    return revision
