"""Revisions: every change of a section or page keeps the full state it produced."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.models import Page, PageRevision, Section, SectionRevision


def _revisions(owner: Page | Section) -> Any:
    """The revision model of a page or section, and the select of the owner's revisions."""
    if isinstance(owner, Page):
        return PageRevision, select(PageRevision).where(PageRevision.page_id == owner.id)
    return SectionRevision, select(SectionRevision).where(SectionRevision.section_id == owner.id)


def history(session: Session, owner: Page | Section) -> list[Any]:
    """Every stored state of a page or section, newest first."""
    model, query = _revisions(owner)
    return list(session.scalars(query.order_by(model.number.desc())))


def find_revision(session: Session, owner: Page | Section, number: int) -> Any:
    """Revision ``number`` of a page or section, or None."""
    model, query = _revisions(owner)
    return session.scalars(query.where(model.number == number)).first()


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
    revision = SectionRevision(section_id=section.id, data=section_snapshot(section))
    return _add(session, section, revision, action=action, by=by, now=now)


def record_page_revision(
    session: Session, page: Page, *, action: str, by: str, now: datetime
) -> PageRevision:
    """Store the page's current (flushed) state as its next revision."""
    session.flush()
    revision = PageRevision(page_id=page.id, data=page_snapshot(page))
    return _add(session, page, revision, action=action, by=by, now=now)


def _add(
    session: Session, owner: Page | Section, revision: Any, *, action: str, by: str, now: datetime
) -> Any:
    """Number the revision after the owner's last one and add it to the session."""
    model, query = _revisions(owner)
    last = session.scalar(query.with_only_columns(func.max(model.number)))
    revision.number = (last or 0) + 1
    revision.action, revision.created_by, revision.created_at = action, by, now
    session.add(revision)
    return revision
