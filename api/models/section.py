"""The content under one ``## heading`` of a page (or the page's intro)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from api.extensions import db
from api.models.base import MAX_SLUG, MAX_TEXT, UTCDateTime, utcnow

if TYPE_CHECKING:
    from api.models.link import Link
    from api.models.page import Page


class Section(db.Model):  # type: ignore[name-defined]
    __tablename__ = "sections"
    __table_args__ = (
        UniqueConstraint("page_id", "slug"),
        CheckConstraint("status IN ('draft', 'published')", name="status"),
        CheckConstraint("position >= 0", name="position"),
        Index("ix_sections_page_id_position", "page_id", "position"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    page_id: Mapped[int] = mapped_column(ForeignKey("pages.id", ondelete="CASCADE"))
    slug: Mapped[str] = mapped_column(String(MAX_SLUG))
    title: Mapped[str | None] = mapped_column(String(MAX_TEXT))
    position: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text, default="")
    html: Mapped[str] = mapped_column(Text, default="")
    # The title rendered inline and sanitized, so HTML answers never render on a read.
    heading_html: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default="published")
    version: Mapped[int] = mapped_column(Integer, default=1)
    # Hash of the source as last seeded (None if made through the API): see services.seed.
    seeded_hash: Mapped[str | None] = mapped_column(String(64))
    # Source layout around the body, kept so an unedited section exports byte-identically.
    source_heading: Mapped[str] = mapped_column(Text, default="")
    # Hash of (slug, title) the source heading gives; when they change, export writes a new one.
    heading_hash: Mapped[str | None] = mapped_column(String(64))
    source_lead: Mapped[str] = mapped_column(Text, default="")
    source_trail: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    page: Mapped[Page] = relationship(back_populates="sections")
    links: Mapped[list[Link]] = relationship(
        back_populates="section", order_by="Link.position", cascade="all, delete-orphan"
    )
    __mapper_args__ = {"version_id_col": version}

    @property
    def page_slug(self) -> str:
        return self.page.slug

    def __repr__(self) -> str:
        return f"<Section {self.id} {self.slug!r} v{self.version}>"
