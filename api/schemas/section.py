"""Section schemas."""

from __future__ import annotations

from marshmallow import fields, validate

from api.schemas.common import NO_NUL, STATUS_FIELD, ListEnvelope, ListQuery, StrictSchema
from api.schemas.link import LinkSchema


class SectionSchema(StrictSchema):
    id = fields.Integer(dump_only=True)
    page = fields.String(attribute="page_slug", dump_only=True)
    slug = fields.String(metadata={"description": "Anchor id, unique within its page."})
    title = fields.String(allow_none=True, metadata={"description": "Null for the intro."})
    position = fields.Integer(metadata={"description": "0-based order in its page."})
    body = fields.String(metadata={"description": "Markdown source without its heading line."})
    html = fields.String(
        dump_only=True, metadata={"description": "The body, rendered and sanitized."}
    )
    links = fields.List(fields.Nested(LinkSchema), dump_only=True)
    status = STATUS_FIELD
    version = fields.Integer(dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)
    deleted_at = fields.DateTime(
        dump_only=True,
        allow_none=True,
        metadata={"description": "When it went to the trash; null when live."},
    )


class SectionListSchema(ListEnvelope):
    data = fields.List(fields.Nested(SectionSchema), required=True)


class SectionQuery(ListQuery):
    page = fields.String(
        load_default=None,
        validate=[validate.Length(min=1, max=200), NO_NUL],
        metadata={"description": "Only sections of this page (slug)."},
    )
    q = fields.String(
        load_default=None,
        validate=[validate.Length(min=1, max=200), NO_NUL],
        metadata={"description": "Search the title and body."},
    )


class SectionCreateSchema(StrictSchema):
    title = fields.String(required=True, validate=[validate.Length(min=1, max=500), NO_NUL])
    body = fields.String(load_default="", validate=NO_NUL)
    position = fields.Integer(validate=validate.Range(min=0))
    slug = fields.String(validate=[validate.Length(min=1, max=200), NO_NUL])
    status = STATUS_FIELD


class SectionPatchSchema(StrictSchema):
    title = fields.String(allow_none=True, validate=[validate.Length(min=1, max=500), NO_NUL])
    body = fields.String(validate=NO_NUL)
    position = fields.Integer(validate=validate.Range(min=0))
    slug = fields.String(validate=[validate.Length(min=1, max=200), NO_NUL])
    status = STATUS_FIELD


class RevisionSchema(StrictSchema):
    number = fields.Integer(dump_only=True)
    action = fields.String(
        dump_only=True,
        metadata={"description": "`seed`, `create`, `update`, `delete`, `restore` or `revert`."},
    )
    created_by = fields.String(dump_only=True, metadata={"description": "Token name or `seed`."})
    created_at = fields.DateTime(dump_only=True)
    data = fields.Dict(dump_only=True, metadata={"description": "The full state at this revision."})


class RevisionListSchema(ListEnvelope):
    data = fields.List(fields.Nested(RevisionSchema), required=True)
