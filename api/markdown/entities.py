"""Decode HTML character references as a browser does, whatever the input."""

from __future__ import annotations

import html
import re

# Python refuses to read a decimal number of more than 4300 digits (``int`` raises ValueError),
# and ``html.unescape`` reads the digits of a reference with ``int``. Shorter ones stay as written.
_LONG_DECIMAL_REFERENCE = re.compile(r"&#([0-9]{4000,})")
_BEYOND_UNICODE = "1114112"  # 0x110000: decoded as U+FFFD, like any number past U+10FFFF


def _shorten(match: re.Match[str]) -> str:
    digits = match.group(1).lstrip("0") or "0"
    return "&#" + (digits if len(digits) <= len(_BEYOND_UNICODE) else _BEYOND_UNICODE)


def shorten_references(text: str) -> str:
    """The text with every decimal reference short enough to decode, meaning the same.

    Only references of thousands of digits change (their leading zeros go; a number that is
    still longer becomes 1114112, past Unicode like it), so ordinary text is left alone.
    """
    return _LONG_DECIMAL_REFERENCE.sub(_shorten, text) if "&#" in text else text


def unescape(text: str) -> str:
    """``html.unescape`` for any text: NUL, surrogates and numbers past U+10FFFF give U+FFFD.

    Those are what HTML5 makes of such references; a NUL or a lone surrogate taken literally
    could not be stored in the database (nor encoded as UTF-8).
    """
    return html.unescape(shorten_references(text))
