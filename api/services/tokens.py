"""API tokens: secrets are shown once and only their SHA-256 hash is stored."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.errors import Conflict, NotFound, Unprocessable
from api.models import Token
from api.models.token import ROLES

SECRET_PREFIX = "zca_"
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,199}$")


def hash_secret(secret: str) -> str:
    # Secrets are 256 random bits, so a fast hash is enough: there is nothing to brute-force.
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(session: Session, name: str, role: str, *, now: datetime) -> tuple[Token, str]:
    """Make a token; returns it with its secret, which is never stored.

    :raise Unprocessable: for a bad name or role. :raise Conflict: when the name is taken.
    """
    if not NAME_PATTERN.match(name):
        raise Unprocessable(
            "A token name is 1-200 letters, digits, '.', '_', '@' or '-'.",
            errors={"name": ["Use letters, digits, '.', '_', '@' or '-'."]},
        )
    if role not in ROLES:
        raise Unprocessable(
            f"Unknown role {role!r}.", errors={"role": [f"One of {', '.join(ROLES)}."]}
        )
    if session.scalar(select(Token.id).where(Token.name == name)) is not None:
        raise Conflict(f"A token named {name!r} exists already.")
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    token = Token(name=name, role=role, secret_hash=hash_secret(secret), created_at=now)
    session.add(token)
    session.flush()
    return token, secret


def list_tokens(session: Session) -> list[Token]:
    return list(session.scalars(select(Token).order_by(Token.name)))


def revoke_token(session: Session, name: str, *, now: datetime) -> Token:
    """Revoke a token by name; revoking twice is harmless.

    :raise NotFound: when there is no such token.
    """
    token = session.scalars(select(Token).where(Token.name == name)).first()
    if token is None:
        raise NotFound(f"There is no token named {name!r}.")
    if token.revoked_at is None:
        token.revoked_at = now
    return token


def authenticate(session: Session, secret: str) -> Token | None:
    """The live token whose secret this is, or None."""
    digest = hash_secret(secret)
    token = session.scalars(select(Token).where(Token.secret_hash == digest)).first()
    if token is None or not hmac.compare_digest(token.secret_hash, digest):
        return None
    if token.revoked_at is not None:
        return None
    return token
