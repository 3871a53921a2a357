"""Pieces shared by the resource schemas."""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate

from api.services.pagination import DEFAULT_LIMIT, MAX_LIMIT


class StrictSchema(Schema):
    """Refuse unknown fields and query parameters instead of ignoring them."""

    class Meta:
        unknown = RAISE


class ListQuery(StrictSchema):
    limit = fields.Integer(
        load_default=DEFAULT_LIMIT,
        validate=validate.Range(min=1, max=MAX_LIMIT),
        metadata={"description": f"Items per answer, 1 to {MAX_LIMIT}."},
    )
    cursor = fields.String(
        load_default=None,
        validate=validate.Length(min=1, max=500),
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
