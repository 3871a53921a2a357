"""Sections: read as JSON or HTML; editors change, trash, restore and revert them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Response, url_for
from flask.views import MethodView

from api.auth import require_role
from api.errors import NotFound
from api.extensions import Blueprint, db
from api.http import html_response, not_modified, not_modified_response, versions_etag, wants_html
from api.markdown.render import wrap_section
from api.models import Section
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
    problem_responses,
    render_settings,
    revalidated_get,
    write_limit,
    writer,
)
from api.schemas.section import (
    RevisionListSchema,
    SectionListSchema,
    SectionPatchSchema,
    SectionQuery,
    SectionSchema,
)
from api.services import editing, reading
from api.services.linkcheck import checks_stamp
from api.services.revisions import history

bp = Blueprint(
    "sections", __name__, description="Sections of pages: the content under each heading."
)
EDITORS = ("editor", "admin")
REVISIONS_RESPONSES = problem_responses(
    {
        401: "Missing or invalid token.",
        403: "The token's role may not do this.",
        404: "No such section.",
    }
)


def section_etag(section: Section, representation: str = "json") -> str:
    return versions_etag("section", representation, [section_row(section, representation)])


def section_row(
    section: Section | reading.SectionState, representation: str = "json"
) -> tuple[object, ...]:
    """What a representation depends on; JSON also shows the links' last check results.

    The same for a loaded section and for its state read without loading it, so validators
    computed either way match.
    """
    if representation != "json":
        return (section.id, section.version)
    if isinstance(section, reading.SectionState):
        stamp = section.checked_at.isoformat() if section.checked_at is not None else None
    else:
        stamp = checks_stamp(section.links)
    return (section.id, section.version, stamp)


def sections_etag(rows: list[Section] | list[reading.SectionState], cursor: str | None) -> str:
    return versions_etag("sections", "json", [section_row(s) for s in rows] + [cursor])


def section_fragment(section: Section) -> str:
    """The stored HTML of one section wrapped as the contract's <section> fragment."""
    return wrap_section(
        slug=section.slug,
        heading_html=section.heading_html if section.title is not None else None,
        body_html=section.html,
    )


def section_html_answer(section: Section) -> Response:
    etag = section_etag(section, "html")
    if not_modified(etag, section.updated_at):
        return not_modified_response(etag, section.updated_at)
    return html_response(section_fragment(section), etag, section.updated_at)


def written(section: Section, status: int = 200) -> tuple[Section, int, dict[str, str]]:
    """A write's answer: the new state with its new ETag."""
    headers = {"ETag": section_etag(section), "Cache-Control": "no-store"}
    if status == 201:
        headers["Location"] = url_for("sections.SectionItem", section_id=section.id)
    return section, status, headers


def editable_section(section_id: int) -> Section:
    """A section by id for a write, including one in the trash.

    :raise NotFound: when there is no such section.
    """
    section = reading.get_section(
        db.session, section_id, reading.Viewer(can_preview=True), include_trashed=True
    )
    return section


@bp.route("/sections")
class SectionList(MethodView):
    @bp.arguments(SectionQuery, location="query", as_kwargs=True)
    @bp.response(200, SectionListSchema)
    @bp.alt_response(304, description="Not modified")
    @bp.doc(responses=READ_RESPONSES)
    def get(self, limit: int, cursor: str | None, page: str | None, q: str | None) -> Any:
        """List sections, ordered by page, then position."""
        viewer = current_viewer()
        states = reading.list_section_states(
            db.session, viewer, page=page, q=q, limit=limit, cursor=cursor
        )

        def build() -> tuple[dict[str, Any], str, datetime | None]:
            items = reading.load_sections(db.session, viewer, [state.id for state in states.items])
            return (
                {"data": items, "next": next_url(states.next_cursor)},
                sections_etag(items, states.next_cursor),
                latest([section.updated_at for section in items]),
            )

        return revalidated_get(
            sections_etag(states.items, states.next_cursor),
            latest([state.updated_at for state in states.items]),
            build,
        )


@bp.route("/sections/<int:section_id>")
class SectionItem(MethodView):
    @bp.response(200, SectionSchema)
    @bp.alt_response(
        200,
        description="The section as an HTML fragment for Accept: text/html",
        content_type="text/html",
    )
    @bp.alt_response(304, description="Not modified")
    @bp.doc(responses=ITEM_RESPONSES)
    def get(self, section_id: int) -> Any:
        """One section (JSON, or HTML for Accept: text/html)."""
        section = reading.get_section(
            db.session, section_id, current_viewer(), include_trashed=current_viewer().can_preview
        )
        if wants_html():
            return section_html_answer(section)
        return conditional_get(section_etag(section), section.updated_at, lambda: section)

    @bp.arguments(SectionPatchSchema)
    @bp.response(200, SectionSchema)
    @bp.doc(responses=WRITE_RESPONSES, security=[{"bearerAuth": []}])
    @write_limit
    @require_role(*EDITORS)
    def patch(self, changes: dict[str, Any], section_id: int) -> Any:
        """Change title, body, position, slug or status (needs If-Match)."""
        section = editable_section(section_id)
        if_match(section_etag(section))
        if section.deleted_at is not None:
            raise NotFound(f"Section {section_id} is in the trash; restore it first.")
        editing.update_section(
            db.session, section, changes, by=writer(), now=utcnow(), settings=render_settings()
        )
        db.session.commit()
        return written(section)

    @bp.response(204)
    @bp.doc(responses=WRITE_RESPONSES, security=[{"bearerAuth": []}])
    @write_limit
    @require_role(*EDITORS)
    def delete(self, section_id: int) -> Any:
        """Move the section to the trash (needs If-Match)."""
        section = editable_section(section_id)
        if_match(section_etag(section))
        editing.trash_section(
            db.session, section, by=writer(), now=utcnow(), settings=render_settings()
        )
        db.session.commit()
        return "", 204, {"ETag": section_etag(section)}


@bp.route("/sections/<int:section_id>/restore", methods=["POST"])
@bp.response(200, SectionSchema)
@bp.doc(responses=WRITE_RESPONSES, security=[{"bearerAuth": []}])
@write_limit
@require_role(*EDITORS)
def restore_section(section_id: int) -> Any:
    """Bring a section back from the trash (needs If-Match)."""
    section = editable_section(section_id)
    if_match(section_etag(section))
    editing.restore_section(
        db.session, section, by=writer(), now=utcnow(), settings=render_settings()
    )
    db.session.commit()
    return written(section)


@bp.route("/sections/<int:section_id>/revisions")
@bp.response(200, RevisionListSchema)
@bp.doc(responses=REVISIONS_RESPONSES, security=[{"bearerAuth": []}])
@require_role(*EDITORS)
def section_revisions(section_id: int) -> Any:
    """Every stored state of the section, newest first, with who made it and when."""
    section = editable_section(section_id)
    revisions = history(db.session, section)
    return {"data": revisions, "next": None}, {
        "Cache-Control": "private, no-store",
        "ETag": section_etag(section, "revisions"),
    }


@bp.route("/sections/<int:section_id>/revisions/<int:number>/restore", methods=["POST"])
@bp.response(200, SectionSchema)
@bp.doc(responses=WRITE_RESPONSES, security=[{"bearerAuth": []}])
@write_limit
@require_role(*EDITORS)
def restore_revision(section_id: int, number: int) -> Any:
    """Make revision ``number`` the current state, as a new revision (needs If-Match)."""
    section = editable_section(section_id)
    if_match(section_etag(section))
    editing.restore_revision(
        db.session, section, number, by=writer(), now=utcnow(), settings=render_settings()
    )
    db.session.commit()
    return written(section)


@bp.route("/sections/<int:section_id>.html")
@bp.response(200, content_type="text/html", description="The section as an HTML fragment.")
@bp.alt_response(304, description="Not modified")
@bp.doc(responses=ITEM_RESPONSES)
def section_as_html(section_id: int) -> Response:
    """One section as an HTML fragment."""
    return section_html_answer(reading.get_section(db.session, section_id, current_viewer()))
