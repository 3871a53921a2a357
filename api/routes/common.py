"""Helpers the resource blueprints share."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import Response, current_app, g, request, url_for

from api.auth import current_token
from api.errors import PROBLEM_JSON, ApiError
from api.extensions import limiter
from api.http import cache_headers, not_modified, not_modified_response
from api.markdown.render import RenderSettings
from api.schemas.common import ProblemSchema
from api.services.content import render_settings_from
from api.services.editing import PreconditionFailed
from api.services.reading import Viewer


def current_viewer() -> Viewer:
    """Token holders may preview drafts; everyone else reads published content."""
    return Viewer(can_preview=getattr(g, "token", None) is not None)


def next_url(cursor: str | None) -> str | None:
    """The URL of the next answer: this request's query with the cursor replaced."""
    if cursor is None:
        return None
    args = request.args.to_dict()
    args["cursor"] = cursor
    return url_for(request.endpoint or "", _external=True, **(request.view_args or {}), **args)


def conditional_get(
    etag: str, last_modified: datetime | None, build: Callable[[], Any]
) -> Response | tuple[Any, dict[str, str]]:
    """Answer 304 when the client's copy is current, else build the body with its validators."""
    if not_modified(etag, last_modified):
        return not_modified_response(etag, last_modified)
    return build(), cache_headers(etag, last_modified)


def revalidated_get(
    etag: str,
    last_modified: datetime | None,
    build: Callable[[], tuple[Any, str, datetime | None]],
) -> Response | tuple[Any, dict[str, str]]:
    """Answer 304 when the client's copy is current, else load the content and answer it.

    ``etag`` and ``last_modified`` come from the cheap state of what the answer shows (ids and
    versions), so a revalidation never loads the content. ``build`` loads it and returns it
    with the validators of what it loaded: should another process have changed it in
    between, the answer still carries the validators of exactly what it shows.
    """
    if not_modified(etag, last_modified):
        return not_modified_response(etag, last_modified)
    content, built_etag, built_modified = build()
    if isinstance(content, Response):
        content.headers.update(cache_headers(built_etag, built_modified))
        return content
    return content, cache_headers(built_etag, built_modified)


def latest(stamps: list[datetime]) -> datetime | None:
    return max(stamps) if stamps else None


def if_match(current_etag: str) -> None:
    """Writes must carry the ETag of the state they change.

    :raise PreconditionRequired: without If-Match. :raise PreconditionFailed: when it is stale.
    """
    if not request.headers.get("If-Match") or request.if_match.star_tag:
        raise PreconditionRequired(
            "Send If-Match with the ETag of the current state (GET it first)."
        )
    if not request.if_match.contains_weak(current_etag.strip('"')):
        raise PreconditionFailed(
            "The resource changed since you fetched it; GET it again and reapply your change."
        )


class PreconditionRequired(ApiError):
    status = 428
    title = "Precondition Required"


def writer() -> str:
    """The name revisions record for this write."""
    return current_token().name


def render_settings() -> RenderSettings:
    return render_settings_from(current_app.config)


def problem_responses(descriptions: dict[int, str]) -> dict[int, dict[str, Any]]:
    """OpenAPI responses for error statuses, each with a problem+json body."""
    return {
        code: {"description": text, "content": {PROBLEM_JSON: {"schema": ProblemSchema}}}
        for code, text in descriptions.items()
    }


CREATE_ERRORS = {
    400: "Malformed JSON.",
    401: "Missing or invalid token.",
    403: "The token's role may not do this.",
    404: "No such resource.",
    409: "Slug already taken, or the state does not allow it.",
    413: "Body over the size limit.",
    415: "Body is not application/json.",
    422: "Invalid values, per field.",
    429: "Too many writes; see Retry-After.",
}
CREATE_RESPONSES = problem_responses(CREATE_ERRORS)
# Changes of existing resources need If-Match (documented for every operation listing 428).
WRITE_RESPONSES = problem_responses(
    {
        **CREATE_ERRORS,
        412: "If-Match does not match the current ETag.",
        428: "If-Match is missing.",
    }
)

READ_RESPONSES = problem_responses(
    {401: "The Authorization header holds no valid token (reading needs no token)."}
)
ITEM_RESPONSES = problem_responses(
    {
        401: "The Authorization header holds no valid token (reading needs no token).",
        404: "No such resource, or not visible without a token.",
    }
)


def write_limit(view: Callable[..., Any]) -> Callable[..., Any]:
    """The configured rate limit for writes, counted per token."""
    return limiter.limit(lambda: current_app.config["RATELIMIT_WRITES"], key_func=token_or_address)(
        view
    )


def token_or_address() -> str:
    token = getattr(g, "token", None)
    return f"token:{token.name}" if token is not None else f"ip:{request.remote_addr}"
