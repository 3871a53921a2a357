"""Front matter as Jekyll reads it, edited without disturbing what was not changed.

Edits go through ruamel.yaml's round-trip mode, so keys keep their order, quoting and comments.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap

DELIMITER = "---"


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap long values
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def _split(raw: str) -> tuple[str, str, str]:
    """The opening line, the YAML text and the closing line of a front matter block."""
    first_end = raw.index("\n") + 1
    body_and_close = raw[first_end:]
    lines = body_and_close.splitlines(keepends=True)
    for index in range(len(lines) - 1, -1, -1):
        if lines[index].rstrip("\r\n").rstrip() == DELIMITER:
            return raw[:first_end], "".join(lines[:index]), "".join(lines[index:])
    raise ValueError("front matter has no closing --- line")


def _merge(target: CommentedMap, values: Mapping[str, Any]) -> None:
    for key in [key for key in target if key not in values]:
        del target[key]
    for key, value in values.items():
        current = target.get(key)
        if isinstance(current, CommentedMap) and isinstance(value, Mapping):
            _merge(current, value)
        elif key not in target or _plain(current) != value:
            target[key] = value


def _plain(value: Any) -> Any:
    """ruamel's round-trip containers and scalars as plain Python values."""
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, str):
        return str(value)
    return value


def render_front_matter(
    values: Mapping[str, Any], *, previous_raw: str = "", newline: str = "\n"
) -> str:
    """Front matter text for ``values``, keeping everything of ``previous_raw`` still true."""
    if previous_raw and _plain(load_front_matter(previous_raw)) == dict(values):
        return previous_raw
    yaml = _yaml()
    if "\r\n" in previous_raw:
        newline = "\r\n"
    if previous_raw:
        opening, text, closing = _split(previous_raw)
        document = yaml.load(text) or CommentedMap()
    else:
        opening, closing = DELIMITER + newline, DELIMITER + newline
        document = CommentedMap()
    _merge(document, values)
    stream = io.StringIO()
    if document:
        yaml.dump(document, stream)
    text = stream.getvalue()
    if newline != "\n":
        text = text.replace("\r\n", "\n").replace("\n", newline)
    return opening + text + closing


def load_front_matter(raw: str) -> Any:
    """The values of a front matter block, in round-trip containers."""
    if not raw:
        return CommentedMap()
    _, text, _ = _split(raw)
    return _yaml().load(text) or CommentedMap()
