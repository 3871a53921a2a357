"""A Jekyll page: front matter plus ordered sections."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, CheckConstraint, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from api.extensions import db
from api.models.base import MAX_SLUG, MAX_TEXT, UTCDateTime, utcnow

if TYPE_CHECKING:
    from api.models.section import Section


class Page(db.Model):  # type: ignore[name-defined]
    __tablename__ = "pages"
    __table_args__ = (CheckConstraint("status IN ('draft', 'published')", name="status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(MAX_SLUG), unique=True)
    title: Mapped[str] = mapped_column(String(MAX_TEXT))
    permalink: Mapped[str | None] = mapped_column(String(MAX_TEXT))
    front_matter: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The exact front matter text as seeded, so an unedited page exports byte-identically.
    front_matter_raw: Mapped[str] = mapped_column(Text, default="")
    newline: Mapped[str] = mapped_column(String(2), default="\n")
    source_path: Mapped[str | None] = mapped_column(String(1000))
    status: Mapped[str] = mapped_column(String(20), default="published")
    version: Mapped[int] = mapped_column(Integer, default=1)
    # Hash of the front matter as last seeded: a different current hash means an API edit.
    seeded_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    sections: Mapped[list[Section]] = relationship(
        back_populates="page", order_by="Section.position", cascade="all, delete-orphan"
    )
    __mapper_args__ = {"version_id_col": version}

    def __repr__(self) -> str:
        return f"<Page {self.slug!r} v{self.version}>"
