"""Links found in the sections; editors change a link and the Markdown follows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask.views import MethodView

from api.auth import require_role
from api.errors import NotFound
from api.extensions import Blueprint, db
from api.http import versions_etag
from api.models import Link
from api.models.base import utcnow
from api.routes.common import (
    ITEM_RESPONSES,
    READ_RESPONSES,
    WRITE_RESPONSES,
    conditional_get,
    current_viewer,
    if_match,
    latest,
    next_url,
    render_settings,
    write_limit,
    writer,
)
from api.routes.sections import EDITORS
from api.schemas.link import LinkListSchema, LinkPatchSchema, LinkQuery, LinkSchema
from api.services import editing, reading
from api.services.linkcheck import checks_stamp

bp = Blueprint("links", __name__, description="Links found in the sections' Markdown.")


def link_etag(link: Link) -> str:
    return versions_etag("link", "json", [link_row(link)])


def link_row(link: Link) -> tuple[object, ...]:
    """What a link's JSON depends on: its section's version and its last check."""
    return (link.id, link.section.id, link.section.version, checks_stamp([link]))


def link_modified(link: Link) -> datetime:
    """Last-Modified of a link: its section's last change or its last check."""
    updated, checked = link.section.updated_at, link.checked_at
    return max(updated, checked) if checked is not None else updated


def visible_link(link_id: int) -> Link:
    """A link of a section the viewer may see.

    :raise NotFound: otherwise.
    """
    link = db.session.get(Link, link_id)
    if link is None:
        raise NotFound(f"There is no link with id {link_id}.")
    reading.get_section(db.session, link.section_id, current_viewer())
    return link


@bp.route("/links")
class LinkList(MethodView):
    @bp.arguments(LinkQuery, location="query", as_kwargs=True)
    @bp.response(200, LinkListSchema)
    @bp.alt_response(304, description="Not modified")
    @bp.doc(responses=READ_RESPONSES)
    def get(
        self,
        limit: int,
        cursor: str | None,
        page: str | None,
        host: str | None,
        broken: bool | None,
    ) -> Any:
        """List links, ordered by page, section and position; `?broken=` filters by check."""
        result = reading.list_links(
            db.session,
            current_viewer(),
            page=page,
            host=host,
            limit=limit,
            cursor=cursor,
            broken=broken,
        )
        rows = [link_row(link) for link in result.items]
        etag = versions_etag("links", "json", rows + [result.next_cursor])
        modified = latest([link_modified(link) for link in result.items])
        return conditional_get(
            etag, modified, lambda: {"data": result.items, "next": next_url(result.next_cursor)}
        )


@bp.route("/links/<int:link_id>")
class LinkItem(MethodView):
    @bp.response(200, LinkSchema)
    @bp.alt_response(304, description="Not modified")
    @bp.doc(responses=ITEM_RESPONSES)
    def get(self, link_id: int) -> Any:
        """One link."""
        link = visible_link(link_id)
        return conditional_get(link_etag(link), link_modified(link), lambda: link)

    @bp.arguments(LinkPatchSchema)
    @bp.response(200, LinkSchema)
    @bp.doc(responses=WRITE_RESPONSES, security=[{"bearerAuth": []}])
    @write_limit
    @require_role(*EDITORS)
    def patch(self, changes: dict[str, Any], link_id: int) -> Any:
        """Change the URL and/or label; the section's Markdown is rewritten (needs If-Match)."""
        link = visible_link(link_id)
        if_match(link_etag(link))
        editing.update_link(
            db.session, link, changes, by=writer(), now=utcnow(), settings=render_settings()
        )
        db.session.commit()
        db.session.refresh(link)
        return link, 200, {"ETag": link_etag(link), "Cache-Control": "no-store"}
