"""Read pages with their sections, as JSON or HTML."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Response, url_for
from flask.views import MethodView

from api.auth import require_role
from api.extensions import Blueprint, db
from api.http import (
    HTML,
    cache_headers,
    not_modified,
    not_modified_response,
    versions_etag,
    wants_html,
)
from api.models import Page, Section
from api.models.base import utcnow
from api.routes.common import (
    CREATE_RESPONSES,
    ITEM_RESPONSES,
    READ_RESPONSES,
    WRITE_RESPONSES,
    conditional_get,
    current_viewer,
    if_match,
    latest,
    next_url,
    render_settings,
    revalidated_get,
    write_limit,
    writer,
)
from api.routes.sections import (
    EDITORS,
    REVISIONS_RESPONSES,
    section_fragment,
    section_row,
    written,
)
from api.schemas.page import (
    PageCreateSchema,
    PageListSchema,
    PagePatchSchema,
    PageQuery,
    PageSchema,
)
from api.schemas.section import RevisionListSchema, SectionCreateSchema, SectionSchema
from api.services import editing, reading
from api.services.exporting import page_markdown
from api.services.revisions import history

ADMINS = "admin"  # page structure is for admins; editors change sections and links

bp = Blueprint("pages", __name__, description="Pages: one Jekyll page each, with its sections.")


def page_view(page: Page, sections: list[Section]) -> dict[str, Any]:
    """The page's fields with only the sections this viewer may see."""
    return {
        "slug": page.slug,
        "title": page.title,
        "permalink": page.permalink,
        "front_matter": page.front_matter,
        "status": page.status,
        "version": page.version,
        "created_at": page.created_at,
        "updated_at": page.updated_at,
        "sections": sections,
    }


def page_state(slug: str) -> tuple[Page, list[Section]]:
    page = reading.get_page(db.session, slug, current_viewer())
    return page, reading.visible_sections_of(db.session, page, current_viewer())


def page_states(slug: str) -> tuple[Page, list[reading.SectionState]]:
    """The page and the states of its visible sections: enough for validators, and cheap."""
    page = reading.get_page(db.session, slug, current_viewer())
    return page, reading.section_states_of(db.session, page, current_viewer())


def page_etag(
    page: Page, sections: list[Section] | list[reading.SectionState], representation: str
) -> str:
    rows = [(page.id, page.version)] + [section_row(s, representation) for s in sections]
    return versions_etag("page", representation, rows)


def page_modified(page: Page, sections: list[Section] | list[reading.SectionState]) -> Any:
    return latest([page.updated_at] + [section.updated_at for section in sections])


def page_html_answer(page: Page, states: list[reading.SectionState]) -> Any:
    def build() -> tuple[Response, str, datetime | None]:
        sections = reading.visible_sections_of(db.session, page, current_viewer())
        html = "\n".join(section_fragment(s) for s in sections)
        return (
            Response(html, content_type=HTML),
            page_etag(page, sections, "html"),
            page_modified(page, sections),
        )

    return revalidated_get(page_etag(page, states, "html"), page_modified(page, states), build)


@bp.route("/pages")
class PageList(MethodView):
    @bp.arguments(PageQuery, location="query", as_kwargs=True)
    @bp.response(200, PageListSchema)
    @bp.alt_response(304, description="Not modified")
    @bp.doc(responses=READ_RESPONSES)
    def get(self, limit: int, cursor: str | None) -> Any:
        """List pages, ordered by slug (without their sections)."""
        result = reading.list_pages(db.session, current_viewer(), limit=limit, cursor=cursor)
        etag = versions_etag(
            "pages", "json", [(p.id, p.version) for p in result.items] + [result.next_cursor]
        )
        modified = latest([page.updated_at for page in result.items])
        return conditional_get(
            etag, modified, lambda: {"data": result.items, "next": next_url(result.next_cursor)}
        )

    @bp.arguments(PageCreateSchema)
    @bp.response(201, PageSchema)
    @bp.doc(responses=CREATE_RESPONSES, security=[{"bearerAuth": []}])
    @write_limit
    @require_role(ADMINS)
    def post(self, values: dict[str, Any]) -> Any:
        """Create a page (with an empty intro section)."""
        page = editing.create_page(
            db.session,
            slug=values["slug"],
            title=values["title"],
            front_matter=values.get("front_matter"),
            status=values.get("status", "published"),
            by=writer(),
            now=utcnow(),
            settings=render_settings(),
        )
        db.session.commit()
        return page_written(page, 201)


def page_written(page: Page, status: int = 200) -> tuple[Any, int, dict[str, str]]:
    """A page write's answer: the new state with its new ETag."""
    sections = reading.visible_sections_of(db.session, page, reading.Viewer(can_preview=True))
    headers = {"ETag": page_etag(page, sections, "json"), "Cache-Control": "no-store"}
    if status == 201:
        headers["Location"] = url_for("pages.PageItem", slug=page.slug)
    return page_view(page, sections), status, headers


@bp.route("/pages/<page_slug:slug>")
class PageItem(MethodView):
    @bp.response(200, PageSchema)
    @bp.alt_response(
        200,
        description="The page as an HTML fragment for Accept: text/html",
        content_type="text/html",
    )
    @bp.alt_response(304, description="Not modified")
    @bp.doc(responses=ITEM_RESPONSES)
    def get(self, slug: str) -> Any:
        """One page with its sections (JSON, or HTML for Accept: text/html)."""
        page, states = page_states(slug)
        if wants_html():
            return page_html_answer(page, states)

        def build() -> tuple[dict[str, Any], str, datetime | None]:
            sections = reading.visible_sections_of(db.session, page, current_viewer())
            return (
                page_view(page, sections),
                page_etag(page, sections, "json"),
                page_modified(page, sections),
            )

        return revalidated_get(page_etag(page, states, "json"), page_modified(page, states), build)

    @bp.arguments(PagePatchSchema)
    @bp.response(200, PageSchema)
    @bp.doc(responses=WRITE_RESPONSES, security=[{"bearerAuth": []}])
    @write_limit
    @require_role(ADMINS)
    def patch(self, changes: dict[str, Any], slug: str) -> Any:
        """Change title, front matter or status (needs If-Match)."""
        page, sections = page_state(slug)
        if_match(page_etag(page, sections, "json"))
        editing.update_page(db.session, page, changes, by=writer(), now=utcnow())
        db.session.commit()
        return page_written(page)


@bp.route("/pages/<page_slug:slug>/revisions")
@bp.response(200, RevisionListSchema)
@bp.doc(responses=REVISIONS_RESPONSES, security=[{"bearerAuth": []}])
@require_role(*EDITORS)
def page_revisions(slug: str) -> Any:
    """Every stored state of the page (title, front matter, status), newest first."""
    page, sections = page_state(slug)
    revisions = history(db.session, page)
    return {"data": revisions, "next": None}, {
        "Cache-Control": "private, no-store",
        "ETag": page_etag(page, sections, "revisions"),
    }


@bp.route("/pages/<page_slug:slug>/revisions/<int:number>/restore", methods=["POST"])
@bp.response(200, PageSchema)
@bp.doc(responses=WRITE_RESPONSES, security=[{"bearerAuth": []}])
@write_limit
@require_role(ADMINS)
def restore_page_revision(slug: str, number: int) -> Any:
    """Make revision ``number`` the page's title, front matter and status (needs If-Match)."""
    page, sections = page_state(slug)
    if_match(page_etag(page, sections, "json"))
    editing.restore_page_revision(db.session, page, number, by=writer(), now=utcnow())
    db.session.commit()
    return page_written(page)


@bp.route("/pages/<page_slug:slug>/sections", methods=["POST"])
@bp.arguments(SectionCreateSchema)
@bp.response(201, SectionSchema)
@bp.doc(responses=CREATE_RESPONSES, security=[{"bearerAuth": []}])
@write_limit
@require_role(*EDITORS)
def create_section(values: dict[str, Any], slug: str) -> Any:
    """Add a section to the page (at the end unless `position` is given)."""
    page = reading.get_page(db.session, slug, current_viewer())
    section = editing.create_section(
        db.session, page, values, by=writer(), now=utcnow(), settings=render_settings()
    )
    db.session.commit()
    return written(section, 201)


@bp.route("/pages/<page_slug:slug>.html")
@bp.response(200, content_type="text/html", description="The page as one HTML fragment.")
@bp.alt_response(304, description="Not modified")
@bp.doc(responses=ITEM_RESPONSES)
def page_as_html(slug: str) -> Response:
    """The whole page as one HTML fragment: intro, then each section."""
    return page_html_answer(*page_states(slug))


@bp.route("/pages/<page_slug:slug>.md")
@bp.response(200, content_type="text/markdown", description="The page as a Jekyll Markdown file.")
@bp.alt_response(304, description="Not modified")
@bp.doc(responses=ITEM_RESPONSES)
def page_as_markdown(slug: str) -> Response:
    """The page exported as a Jekyll Markdown file (byte-identical to its source if unedited)."""
    page, sections = page_state(slug)
    etag = page_etag(page, sections, "markdown")
    modified = page_modified(page, sections)
    if not_modified(etag, modified):
        return not_modified_response(etag, modified)
    return Response(
        page_markdown(page),
        content_type="text/markdown; charset=utf-8",
        headers=cache_headers(etag, modified),
    )
