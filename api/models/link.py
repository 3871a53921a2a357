"""A hyperlink found in a section's Markdown."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from api.extensions import db
from api.models.base import UTCDateTime

if TYPE_CHECKING:
    from api.models.section import Section


class Link(db.Model):  # type: ignore[name-defined]
    __tablename__ = "links"
    __table_args__ = (Index("ix_links_section_id_position", "section_id", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("sections.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    label: Mapped[str] = mapped_column(Text)
    url: Mapped[str] = mapped_column(Text)
    host: Mapped[str | None] = mapped_column(String(255), index=True)
    context: Mapped[str] = mapped_column(Text, default="")
    ref: Mapped[str | None] = mapped_column(String(500))
    # What `links check` found last (all null until checked, and again when the URL changes).
    check_status: Mapped[int | None] = mapped_column(Integer)
    check_error: Mapped[str | None] = mapped_column(Text)
    redirect_to: Mapped[str | None] = mapped_column(Text)
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    section: Mapped[Section] = relationship(back_populates="links")

    @property
    def page_slug(self) -> str:
        return self.section.page.slug

    def __repr__(self) -> str:
        return f"<Link {self.id} {self.url!r}>"
