"""The Zarr community content API: ``create_app`` builds the Flask application."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, request
from flask_cors import CORS
from sqlalchemy.exc import SQLAlchemyError

from api.config import load_config
from api.errors import ApiError, register_error_handlers
from api.extensions import api, db, limiter, migrate
from api.http import IdConverter, NoCookieSessions, PageSlugConverter

MIGRATIONS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "migrations")
JSON_TYPES = ("application/json", "application/merge-patch+json")
log = logging.getLogger(__name__)
EXPOSED_HEADERS = ["ETag", "Location", "Link", "Last-Modified", "Retry-After"]

OPENAPI_SETTINGS = {
    "API_TITLE": "Zarr community content API",
    "API_VERSION": "1.0.0",
    "OPENAPI_VERSION": "3.1.0",
    "OPENAPI_URL_PREFIX": "/",
    "OPENAPI_JSON_PATH": "openapi.json",
    "OPENAPI_REDOC_PATH": None,
    "OPENAPI_SWAGGER_UI_PATH": None,
    "API_SPEC_OPTIONS": {
        "info": {
            "description": "Pages, sections and links of the Zarr community websites, "
            "as JSON and sanitized HTML. Errors are application/problem+json (RFC 9457).",
        },
        "components": {
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer"},
            }
        },
    },
}


class UnsupportedMediaType(ApiError):
    status = 415
    title = "Unsupported Media Type"


def require_json_body() -> None:
    """Write requests with a body must send JSON."""
    if request.method not in {"POST", "PATCH", "PUT"}:
        return
    if not request.content_length and not request.headers.get("Transfer-Encoding"):
        if request.mimetype in JSON_TYPES or not request.mimetype:
            return
    if request.mimetype not in JSON_TYPES:
        raise UnsupportedMediaType(
            f"Send the body as application/json, not {request.mimetype or 'an unnamed type'}."
        )


def security_headers(response: Response) -> Response:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    if response.mimetype == "text/html":
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'none'; img-src https: data:; style-src 'unsafe-inline'; "
            "frame-src https:; frame-ancestors *; base-uri 'none'; form-action 'none'",
        )
    else:  # JSON, problem+json, Markdown, empty answers: nothing in them may load or run
        response.headers.setdefault(
            "Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"
        )
    return response


def close_session(error: BaseException | None = None) -> None:
    """End the request's session, even on a connection the database dropped meanwhile.

    Closing rolls back the read transaction left open after the answer was made; when the
    server went away in between, that ROLLBACK raises, and Flask would replace an answer
    already made (a read that succeeded, a write already committed) by a bare 500.
    """
    try:
        db.session.remove()
    except SQLAlchemyError:
        log.warning("database connection lost while closing the session", exc_info=True)
        db.session().invalidate()  # discard the connection without talking to the server
        db.session.remove()


def create_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    """Build the application; ``overrides`` replace settings read from the environment.

    :raise ConfigError: when a setting is missing or wrong.
    """
    app = Flask(__name__, instance_relative_config=True, static_folder=None)
    app.url_map.converters["int"] = IdConverter
    app.url_map.converters["page_slug"] = PageSlugConverter
    app.config.update(OPENAPI_SETTINGS)
    app.config.update(load_config(app.instance_path, os.environ, overrides))
    os.makedirs(app.instance_path, exist_ok=True)
    app.json.sort_keys = False  # type: ignore[attr-defined]

    from api import models  # noqa: F401  (registers the tables for Alembic)
    from api.database import configure_engine_events

    db.init_app(app)
    app.teardown_appcontext(close_session)  # runs before Flask-SQLAlchemy's own teardown
    migrate.init_app(app, db, directory=MIGRATIONS)
    limiter.init_app(app)
    api.init_app(app)
    CORS(
        app,
        origins="*",
        send_wildcard=True,
        expose_headers=EXPOSED_HEADERS,
        max_age=600,
        allow_headers=["Authorization", "Content-Type", "If-Match", "If-None-Match"],
        methods=["GET", "HEAD", "POST", "PATCH", "DELETE", "OPTIONS"],
    )
    with app.app_context():
        configure_engine_events(db.engine)

    from api.auth import init_auth
    from api.dispatch import init_webhooks
    from api.routes import editor, health, links, pages, sections, webhooks

    for blueprint in (pages.bp, sections.bp, links.bp, webhooks.bp, editor.bp, health.bp):
        api.register_blueprint(blueprint)

    from api.cache import init_response_cache

    init_response_cache(app)  # the first hook: an unchanged read is answered from memory
    app.session_interface = NoCookieSessions()
    app.before_request(require_json_body)
    init_auth(app)
    init_webhooks(app)
    app.after_request(security_headers)
    register_error_handlers(app)

    from api.cli import register_commands

    register_commands(app)
    return app
