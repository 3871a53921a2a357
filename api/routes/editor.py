"""The editor's web page, and the Markdown preview it (or any editor tool) uses."""

from __future__ import annotations

import secrets
from typing import Any

from flask import Response
from marshmallow import fields, validate

from api.auth import require_role
from api.editor_page import editor_html
from api.extensions import Blueprint
from api.markdown.render import render_body
from api.routes.common import problem_responses, render_settings
from api.routes.sections import EDITORS, editable_section
from api.schemas.common import StrictSchema
from api.services.content import definitions_markdown, definitions_with_body

bp = Blueprint(
    "editor", __name__, description="A web page for editors, and a Markdown preview for tools."
)


class PreviewSchema(StrictSchema):
    body = fields.String(
        required=True, metadata={"description": "Markdown to render, as a section body."}
    )
    section_id = fields.Integer(
        load_default=None,
        validate=validate.Range(min=1),
        metadata={
            "description": "Render as the body of this section, so reference-style links "
            "defined elsewhere on its page resolve."
        },
    )


class PreviewResultSchema(StrictSchema):
    html = fields.String(
        dump_only=True, metadata={"description": "The body rendered and sanitized."}
    )


def editor_csp(nonce: str) -> str:
    """Only this response's inline script and style run; data comes from this origin."""
    return (
        f"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; "
        "connect-src 'self'; img-src 'self' https: data:; frame-src https:; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )


@bp.route("/editor")
@bp.response(
    200,
    content_type="text/html",
    description="A self-contained page: sign in with a token, edit sections with a live "
    "preview, save with If-Match, browse and restore revisions.",
)
def editor() -> Response:
    """The editor's web page (no token needed to load it; every action needs one)."""
    nonce = secrets.token_urlsafe(18)
    return Response(
        editor_html(nonce),
        content_type="text/html; charset=utf-8",
        headers={
            "Content-Security-Policy": editor_csp(nonce),
            "Cache-Control": "no-store",
            "Referrer-Policy": "no-referrer",
            "X-Frame-Options": "DENY",
        },
    )


@bp.route("/preview", methods=["POST"])
@bp.arguments(PreviewSchema)
@bp.response(200, PreviewResultSchema)
@bp.doc(
    responses=problem_responses(
        {
            400: "Malformed JSON.",
            401: "Missing or invalid token.",
            403: "The token's role may not do this.",
            404: "No such section.",
            413: "Body over the size limit.",
            415: "Body is not application/json.",
            422: "Invalid values, per field.",
        }
    ),
    security=[{"bearerAuth": []}],
)
@require_role(*EDITORS)
def preview(values: dict[str, Any]) -> Any:
    """Render Markdown to sanitized HTML as a section would be; nothing is stored."""
    body: str = values["body"]
    references = ""
    if values.get("section_id") is not None:
        section = editable_section(values["section_id"])
        definitions = definitions_with_body(section.page, section, body)
        references = definitions_markdown(definitions.values())
    html = render_body(body, references=references, settings=render_settings())
    return {"html": html}, {"Cache-Control": "no-store"}
