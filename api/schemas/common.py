"""Pieces shared by the resource schemas."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, pre_load, validate

from api.services.pagination import DEFAULT_LIMIT, MAX_LIMIT

NUL_MESSAGE = "Text cannot contain the NUL character (U+0000)."
# What StrictSchema.refuse_nul enforces, for the fields' OpenAPI descriptions ("pattern").
NO_NUL = validate.Regexp(r"^[^\x00]*$", error=NUL_MESSAGE)


class StrictSchema(Schema):
    """Refuse unknown fields and query parameters instead of ignoring them, and NUL in text."""

    class Meta:
        unknown = RAISE

    @pre_load
    def refuse_nul(self, data: Any, **kwargs: Any) -> Any:
        """No database text column takes U+0000 (PostgreSQL refuses it): a 422, not a 500.

        :raise ValidationError: naming each field (or front matter key) that holds one.
        """
        if isinstance(data, Mapping):
            fields_with_nul = sorted(
                str(k) for k, v in data.items() if _holds_nul(k) or _holds_nul(v)
            )
            if fields_with_nul:
                raise ValidationError({name: [NUL_MESSAGE] for name in fields_with_nul})
        return data


def _holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, Mapping):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_holds_nul(item) for item in value)
    return False


class ListQuery(StrictSchema):
    limit = fields.Integer(
        load_default=DEFAULT_LIMIT,
        validate=validate.Range(min=1, max=MAX_LIMIT),
        metadata={"description": f"Items per answer, 1 to {MAX_LIMIT}."},
    )
    cursor = fields.String(
        load_default=None,
        validate=[validate.Length(min=1, max=500), NO_NUL],
        metadata={"description": "Opaque cursor from the `next` URL of a previous answer."},
    )


class ListEnvelope(Schema):
    next = fields.String(
        allow_none=True,
        required=True,
        metadata={"description": "URL of the next answer, null on the last one."},
    )


class ProblemSchema(Schema):
    """RFC 9457 problem details."""

    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String(required=True)
    errors = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata={"description": "Messages per field, for validation failures (422)."},
    )


STATUS_FIELD = fields.String(
    validate=validate.OneOf(["draft", "published"]),
    metadata={"description": "`draft` is visible only with a token."},
)
