"""HTTP plumbing shared by the views: validators, conditional GETs and content negotiation."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime

from flask import Flask, Request, Response, current_app, g, request
from flask.sessions import SessionInterface
from werkzeug.http import http_date
from werkzeug.routing import BaseConverter, IntegerConverter, Map

from api.database import MAX_INTEGER

HTML = "text/html; charset=utf-8"


class IdConverter(IntegerConverter):
    """``<int:...>`` for ids: a number past the column's range matches no route (404).

    Without the bound, such a number reaches the database and fails there (SQLite cannot bind
    it, PostgreSQL reports it out of range): a 500 for what is only an unknown id.
    """

    def __init__(
        self,
        map: Map,
        fixed_digits: int = 0,
        min: int | None = None,
        max: int | None = MAX_INTEGER,
        signed: bool = False,
    ) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


class PageSlugConverter(BaseConverter):
    """``<page_slug:...>``: page slugs never hold a dot, so ``/pages/x.html`` is never page x.html.

    With the default converter ``/pages/<slug>`` also matched ``/pages/x.html``, so the methods
    of a page (PATCH) were offered there too (``Allow``) and reached the page view.
    """

    regex = r"[^/.\x00]+"  # nor a NUL, which no database compares: 404 rather than 500


def page_slug_schema(converter: BaseConverter) -> dict[str, str]:
    """The OpenAPI schema of a page slug path parameter."""
    return {"type": "string", "pattern": r"^[^/.\x00]+$"}


def make_etag(*parts: object) -> str:
    """A strong ETag from the values that determine a representation."""
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=12).hexdigest()
    return f'"{digest}"'


def versions_etag(kind: str, representation: str, rows: Iterable[tuple[object, ...]]) -> str:
    """ETag of a representation built from rows identified by (id, version, ...) tuples.

    The rows determine the content, so readers who see different rows (drafts) get different
    ETags without the viewer being part of it, and an editor's If-Match matches a public GET.
    """
    return make_etag(kind, representation, tuple(rows))


def viewer_key() -> str:
    """Token holders may see drafts, so their answers have validators of their own."""
    return "preview" if getattr(g, "token", None) is not None else "public"


def wants_html() -> bool:
    """True when the client prefers HTML over JSON (a browser, or Accept: text/html)."""
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return (
        best == "text/html"
        and request.accept_mimetypes["application/json"] < (request.accept_mimetypes["text/html"])
    )


def not_modified(etag: str, last_modified: datetime | None) -> bool:
    """Does the request's If-None-Match (or, without it, If-Modified-Since) match?"""
    if request.if_none_match:
        return request.if_none_match.contains_weak(etag.strip('"'))
    if last_modified is not None and request.if_modified_since is not None:
        return last_modified.replace(microsecond=0) <= request.if_modified_since
    return False


def cache_headers(etag: str, last_modified: datetime | None) -> dict[str, str]:
    """Validators and Cache-Control for a successful GET."""
    headers = {"ETag": etag, "Vary": "Accept, Authorization"}
    if last_modified is not None:
        headers["Last-Modified"] = http_date(last_modified)
    if viewer_key() == "public":
        headers["Cache-Control"] = (
            f"public, max-age={current_app.config['CACHE_MAX_AGE']}, "
            f"stale-while-revalidate={current_app.config['CACHE_STALE_WHILE_REVALIDATE']}"
        )
    else:
        headers["Cache-Control"] = "private, no-store"
    return headers


def not_modified_response(etag: str, last_modified: datetime | None) -> Response:
    """An empty 304 carrying the same validators as the full answer."""
    return Response(status=304, headers=cache_headers(etag, last_modified))


def html_response(html: str, etag: str, last_modified: datetime | None) -> Response:
    """An HTML fragment with its validators."""
    return Response(html, content_type=HTML, headers=cache_headers(etag, last_modified))


class NoCookieSessions(SessionInterface):
    """The API keeps no cookie sessions (tokens travel in the Authorization header).

    Flask's default interface still builds a signing serializer and looks for the cookie on
    every request; this one hands Flask its null session at once, which refuses writes.
    """

    def open_session(self, app: Flask, request: Request) -> None:
        return None

    def save_session(self, app: Flask, session: object, response: Response) -> None:
        return None
