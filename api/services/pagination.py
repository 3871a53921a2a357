"""Opaque cursors for keyset pagination."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from api.database import MAX_INTEGER
from api.errors import Unprocessable

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


def encode_cursor(values: dict[str, Any]) -> str:
    """Pack the keyset position into a URL-safe token clients treat as opaque."""
    raw = json.dumps(values, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, expected: dict[str, type]) -> dict[str, Any]:
    """Unpack a cursor made by ``encode_cursor``.

    :raise Unprocessable: when the cursor was not made by us or for another list.
    """
    invalid = Unprocessable(
        "The cursor is not valid; use the `next` URL of a previous answer.",
        errors={"cursor": ["Not a valid cursor."]},
    )
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, UnicodeError, binascii.Error):
        raise invalid from None
    if not isinstance(values, dict) or set(values) != set(expected):
        raise invalid
    for key, kind in expected.items():
        if not isinstance(values[key], kind) or isinstance(values[key], bool):
            raise invalid
        if kind is str and "\x00" in values[key]:  # no database compares text with a NUL
            raise invalid
        # A forged number past the columns' range would fail in the database, not here.
        if kind is int and not 0 <= values[key] <= MAX_INTEGER:
            raise invalid
    return values
