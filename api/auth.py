"""Bearer tokens: who is asking, and whether they may write."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, g, request

from api.errors import ApiError
from api.extensions import db
from api.models import Token
from api.services.tokens import authenticate

F = TypeVar("F", bound=Callable[..., Any])
CHALLENGE = 'Bearer realm="zarr-content"'


class Unauthorized(ApiError):
    status = 401
    title = "Unauthorized"


class Forbidden(ApiError):
    status = 403
    title = "Forbidden"


def load_token() -> None:
    """Resolve ``Authorization: Bearer`` before every request; a wrong token is refused."""
    g.token = None
    header = request.headers.get("Authorization")
    if not header:
        return
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise Unauthorized(
            "Use 'Authorization: Bearer <token>'.",
            headers={"WWW-Authenticate": f'{CHALLENGE}, error="invalid_request"'},
        )
    token = authenticate(db.session, secret.strip())
    if token is None:
        raise Unauthorized(
            "The token is not valid (unknown or revoked).",
            headers={"WWW-Authenticate": f'{CHALLENGE}, error="invalid_token"'},
        )
    g.token = token


def current_token() -> Token:
    """The token of this write request.

    :raise Unauthorized: when none was sent.
    """
    token: Token | None = g.get("token")
    if token is None:
        raise Unauthorized(
            "This request needs a token: 'Authorization: Bearer <token>'.",
            headers={"WWW-Authenticate": CHALLENGE},
        )
    return token


def require_role(*roles: str) -> Callable[[F], F]:
    """Only tokens with one of ``roles`` may call the view."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            token = current_token()
            if token.role not in roles:
                raise Forbidden(f"A token with role {' or '.join(roles)} is needed for this.")
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def init_auth(app: Flask) -> None:
    app.before_request(load_token)
