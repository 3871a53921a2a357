"""Every error leaves as ``application/problem+json`` (RFC 9457)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from flask import Flask, Response, current_app, json
from marshmallow import ValidationError
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger(__name__)


class ApiError(Exception):
    """A domain error with its HTTP status; subclasses set ``status`` and ``title``."""

    status: int = 400
    title: str = "Bad Request"

    def __init__(
        self,
        detail: str,
        *,
        errors: Mapping[str, list[str]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = dict(errors) if errors else None
        self.headers = dict(headers or {})


class NotFound(ApiError):
    status = 404
    title = "Not Found"


class Conflict(ApiError):
    status = 409
    title = "Conflict"


class Unprocessable(ApiError):
    status = 422
    title = "Unprocessable Content"


class ServiceUnavailable(ApiError):
    status = 503
    title = "Service Unavailable"


def problem(
    status: int,
    detail: str,
    *,
    title: str | None = None,
    errors: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """Build a problem+json response."""
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    if errors:
        body["errors"] = errors
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_JSON)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def flatten_messages(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """Turn marshmallow/webargs nested messages into ``{"field": ["message", ...]}``."""
    if isinstance(messages, str):
        return {prefix or "_schema": [messages]}
    if isinstance(messages, list):
        if all(isinstance(item, str) for item in messages):
            return {prefix or "_schema": list(messages)}
        merged: dict[str, list[str]] = {}
        for item in messages:
            for key, value in flatten_messages(item, prefix).items():
                merged.setdefault(key, []).extend(value)
        return merged
    flat: dict[str, list[str]] = {}
    for key, value in dict(messages).items():
        name = f"{prefix}.{key}" if prefix else str(key)
        for field, texts in flatten_messages(value, name).items():
            flat.setdefault(field, []).extend(texts)
    return flat


LOCATIONS = ("query", "json", "headers", "form", "files", "view_args", "path", "querystring")


def validation_errors(messages: Any) -> dict[str, list[str]]:
    """Field errors without webargs' location level (``{"query": {"limit": ...}}``)."""
    if isinstance(messages, Mapping) and messages and set(messages) <= set(LOCATIONS):
        flat: dict[str, list[str]] = {}
        for inner in messages.values():
            for field, texts in flatten_messages(inner).items():
                flat.setdefault(field, []).extend(texts)
        return flat
    return flatten_messages(messages)


def handle_http_exception(error: HTTPException) -> Response:
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    messages = data.get("messages")
    headers = dict(data.get("headers") or {})
    if error.response is not None:
        for name in ("Allow", "Retry-After"):
            if name in error.response.headers:
                headers.setdefault(name, error.response.headers[name])
    if status == 405 and getattr(error, "valid_methods", None):
        headers["Allow"] = ", ".join(sorted(error.valid_methods))  # type: ignore[attr-defined]
    if messages is not None and status == 422:
        errors = validation_errors(messages)
        fields = ", ".join(sorted(errors))
        return problem(
            422, f"The request has invalid values: {fields}.", errors=errors, headers=headers
        )
    if messages is not None and status == 400:
        return problem(400, "The request body is not valid JSON.", headers=headers)
    detail = error.description or HTTPStatus(status).description
    return problem(status, detail, headers=headers)


def handle_stale_data(error: StaleDataError) -> Response:
    return problem(
        412,
        "Someone else changed this resource first; fetch it again and reapply your change.",
    )


def handle_integrity_error(error: IntegrityError) -> Response:
    log.info("integrity error: %s", error.orig)
    return problem(409, "The change conflicts with existing content (a slug already taken?).")


def handle_api_error(error: ApiError) -> Response:
    return problem(
        error.status, error.detail, title=error.title, errors=error.errors, headers=error.headers
    )


def handle_validation_error(error: ValidationError) -> Response:
    errors = flatten_messages(error.messages)
    return problem(
        422, "The request has invalid values: " + ", ".join(sorted(errors)) + ".", errors=errors
    )


def handle_database_error(error: SQLAlchemyError) -> Response:
    log.exception("database error")
    if isinstance(error, OperationalError | DBAPIError) and _is_connection_error(error):
        return problem(
            503,
            "The database is not reachable right now; try again shortly.",
            headers={"Retry-After": "5"},
        )
    detail = str(error) if current_app.debug else "The database could not complete the request."
    return problem(500, detail)


def _is_connection_error(error: DBAPIError) -> bool:
    if error.connection_invalidated:
        return True
    text = str(error.orig).lower() if error.orig is not None else ""
    markers = (
        "connection",
        "could not connect",
        "server closed",
        "terminating",
        "timeout",
        "database is locked",
        "no route",
        "refused",
        "unable to open database",  # SQLite: the file or its volume is not there
    )
    return any(marker in text for marker in markers)


def handle_unexpected(error: Exception) -> Response:
    log.exception("unhandled error")
    detail = repr(error) if current_app.debug else "Something went wrong on our side."
    return problem(500, detail)


def register_error_handlers(app: Flask) -> None:
    """Install the problem+json handlers; called after flask-smorest registers its own."""
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(ApiError, handle_api_error)
    app.register_error_handler(ValidationError, handle_validation_error)
    app.register_error_handler(StaleDataError, handle_stale_data)
    app.register_error_handler(IntegrityError, handle_integrity_error)
    app.register_error_handler(SQLAlchemyError, handle_database_error)
    app.register_error_handler(Exception, handle_unexpected)
